// Function builders and the primitives that call function arguments. Function arguments are
// called in canonical order (the reference's observable order, dsl/primitives.py _map_calls).
// Where a call's result is only inspected (a predicate, an int key) the arena is rolled back
// after it, so long HOF loops do not accumulate garbage.
#include "prim_util.hpp"

namespace codeit {

Value merge_containers(Ctx& c, const Value& containers);

namespace {

inline bool is_inline(const Value& v) {
  return v.kind == INT || v.kind == NONE || v.kind == PAIR || v.kind == CELL;
}

// Calls f on every element; the results in order.
Value* map_calls(Ctx& c, const Value& f, const Value& container) {
  int64_t n = length(container);
  const Value* items = ordered(c, container);
  Value* out = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) out[k] = call1(c, f, items[k]);
  return out;
}

Value rebuild(Ctx& c, const Value& like, Value* items, int64_t n) {
  return like.is_tuple() ? make_tuple(c, items, n) : make_set(c, items, n);
}

Value sfilter_value(Ctx& c, const Value& container, const Value& condition) {
  want_container(container);
  int64_t n = length(container);
  const Value* items = ordered(c, container);
  Value* kept = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k) {
    Arena::Mark mark = c.arena.mark();
    bool keep = truthy(call1(c, condition, items[k]));
    c.arena.release(mark);
    if (keep) kept[m++] = items[k];
  }
  if (m == n) return container;
  if (container.is_tuple()) return make_tuple(c, kept, m);
  return make_set_sorted(c, kept, m);
}

Value apply_value(Ctx& c, const Value& f, const Value& container) {
  want_container(container);
  int64_t n = length(container);
  return rebuild(c, container, map_calls(c, f, container), n);
}

// Index of the first largest (smallest) key of f over the items; -1 when there are none.
int64_t best_index(Ctx& c, const Value& f, const Value* items, int64_t n, bool largest) {
  if (n == 0) return -1;
  Value best_key = Value::none();
  int64_t best = -1;
  for (int64_t k = 0; k < n; ++k) {
    Arena::Mark mark = c.arena.mark();
    Value key = call1(c, f, items[k]);
    bool better;
    if (best < 0) {
      better = true;
    } else if (key.kind == INT && best_key.kind == INT) {
      better = largest ? key.i > best_key.i : key.i < best_key.i;
    } else {
      int r = cmp(key, best_key);
      better = largest ? r > 0 : r < 0;
    }
    if (better) {
      best = k;
      best_key = key;
      if (is_inline(key)) c.arena.release(mark);
    } else {
      c.arena.release(mark);
    }
  }
  return best;
}

Value val_best(Ctx& c, const Value* a, bool largest) {
  want_container(a[0]);
  int64_t n = length(a[0]);
  const Value* items = ordered(c, a[0]);
  int64_t best = best_index(c, a[1], items, n, largest);
  return call1(c, a[1], best < 0 ? Value::integer(0) : items[best]);
}

Value arg_best(Ctx& c, const Value* a, bool largest) {
  want_container(a[0]);
  int64_t n = length(a[0]);
  const Value* items = ordered(c, a[0]);
  int64_t best = best_index(c, a[1], items, n, largest);
  if (best < 0) runtime_error();
  return items[best];
}

}  // namespace

PRIM(compose) { return make_func(c, FK_COMPOSE, a[0], a[1], Value::none(), 0); }
PRIM(chain) { return make_func(c, FK_CHAIN, a[0], a[1], a[2], 0); }
PRIM(matcher) { return make_func(c, FK_MATCHER, a[0], a[1], Value::none(), 0); }
PRIM(rbind) {
  if (a[0].kind != FUNC) type_error();
  return make_func(c, FK_RBIND, a[0], a[1], Value::none(), 0);
}
PRIM(lbind) {
  if (a[0].kind != FUNC) type_error();
  return make_func(c, FK_LBIND, a[0], a[1], Value::none(), 0);
}
PRIM(power) {
  int64_t n = want_int(a[1]);
  if (n == 1) return a[0];
  if (n < 1) runtime_error();
  return make_func(c, FK_POWER, a[0], Value::none(), Value::none(), n);
}
PRIM(fork) { return make_func(c, FK_FORK, a[0], a[1], a[2], 0); }

PRIM(apply) { return apply_value(c, a[0], a[1]); }

PRIM(rapply) {
  want_container(a[0]);
  int64_t n = length(a[0]);
  const Value* fs = ordered(c, a[0]);
  Value* out = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) out[k] = call1(c, fs[k], a[1]);
  return rebuild(c, a[0], out, n);
}

PRIM(mapply) { return merge_containers(c, apply_value(c, a[0], a[1])); }

namespace {

Value papply_value(Ctx& c, const Value* a) {
  want_container(a[1]);
  want_container(a[2]);
  int64_t n = std::min(length(a[1]), length(a[2]));
  Value* out = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) out[k] = call2(c, a[0], elem(a[1], k), elem(a[2], k));
  return make_tuple(c, out, n);
}

}  // namespace

PRIM(papply) { return papply_value(c, a); }
PRIM(mpapply) { return merge_containers(c, papply_value(c, a)); }

PRIM(prapply) {
  want_container(a[1]);
  want_container(a[2]);
  int64_t na = length(a[1]), nb = length(a[2]);
  if (__int128(na) * nb > c.max_size) fail(SIZE_LIMIT);
  const Value* ea = ordered(c, a[1]);
  const Value* eb = ordered(c, a[2]);
  Value* out = c.alloc_array<Value>(size_t(na * nb > 0 ? na * nb : 1));
  int64_t m = 0;
  for (int64_t q = 0; q < nb; ++q)
    for (int64_t p = 0; p < na; ++p) out[m++] = call2(c, a[0], ea[p], eb[q]);
  return make_set(c, out, m);
}

PRIM(sfilter) { return sfilter_value(c, a[0], a[1]); }
PRIM(mfilter) { return merge_containers(c, sfilter_value(c, a[0], a[1])); }

PRIM(extract) {
  want_container(a[0]);
  int64_t n = length(a[0]);
  const Value* items = ordered(c, a[0]);
  for (int64_t k = 0; k < n; ++k) {
    Arena::Mark mark = c.arena.mark();
    bool hit = truthy(call1(c, a[1], items[k]));
    c.arena.release(mark);
    if (hit) return items[k];
  }
  runtime_error();
}

PRIM(order) {
  want_container(a[0]);
  int64_t n = length(a[0]);
  const Value* items = ordered(c, a[0]);
  Value* keys = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) {
    Arena::Mark mark = c.arena.mark();
    keys[k] = call1(c, a[1], items[k]);
    if (is_inline(keys[k])) c.arena.release(mark);
  }
  int64_t* idx = c.alloc_array<int64_t>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) idx[k] = k;
  std::stable_sort(idx, idx + n, [&](int64_t x, int64_t y) { return cmp(keys[x], keys[y]) < 0; });
  Value* out = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) out[k] = items[idx[k]];
  return make_tuple(c, out, n);
}

PRIM(valmax) { return val_best(c, a, true); }
PRIM(valmin) { return val_best(c, a, false); }
PRIM(argmax) { return arg_best(c, a, true); }
PRIM(argmin) { return arg_best(c, a, false); }

}  // namespace codeit
