// Container primitives (dsl/primitives.py "containers").
#include <type_traits>

#include "prim_util.hpp"

namespace codeit {

namespace {

// Elements of a tuple or set, in iteration order, copied into a fresh array.
Value* copy_elements(Ctx& c, const Value& v, int64_t extra = 0) {
  int64_t n = length(v);
  Value* e = c.alloc_array<Value>(size_t(n + extra > 0 ? n + extra : 1));
  for (int64_t k = 0; k < n; ++k) e[k] = elem(v, k);
  return e;
}

Value canonical_first(const Value& v) {
  if (v.is_tuple()) {
    if (length(v) == 0) runtime_error();
    return elem(v, 0);
  }
  if (!v.is_set()) type_error();
  if (v.n == 0) runtime_error();
  return elem(v, 0);
}

Value remove_value(Ctx& c, const Value& value, const Value& container) {
  want_container(container);
  int64_t n = length(container);
  if (container.is_tuple()) {
    Value* e = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
    int64_t m = 0;
    for (int64_t k = 0; k < n; ++k) {
      Value x = elem(container, k);
      if (!eq(x, value)) e[m++] = x;
    }
    if (m == n) return container;
    return make_tuple(c, e, m);
  }
  if (!contains(container, value)) return container;
  Value* e = c.alloc_array<Value>(size_t(n));
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k) {
    Value x = elem(container, k);
    if (!eq(x, value)) e[m++] = x;
  }
  return make_set_sorted(c, e, m);
}

// The union of the sorted record arrays of a set's elements (all OBJ or all IDX): runs
// merged pairwise, O(total log runs), duplicates dropped.
template <class Rec, class Get>
Value union_of_runs(Ctx& c, const Value& containers, int64_t total, Get get) {
  const int64_t n = containers.n;
  if (n > 8) {
    Rec* all = c.alloc_array<Rec>(size_t(total > 0 ? total : 1));
    int64_t m = 0;
    for (int64_t k = 0; k < n; ++k) {
      const Value& x = containers.elems()[k];
      std::memcpy(static_cast<void*>(all + m), get(x), size_t(x.n) * sizeof(Rec));
      m += x.n;
    }
    if constexpr (std::is_same_v<Rec, CellRec>) return make_obj(c, all, m);
    else return make_idx(c, all, m);
  }
  Rec* buf = c.alloc_array<Rec>(size_t(total));
  Rec* tmp = c.alloc_array<Rec>(size_t(total));
  int64_t* bounds = c.alloc_array<int64_t>(size_t(n + 1));
  int64_t m = 0;
  bounds[0] = 0;
  for (int64_t k = 0; k < n; ++k) {
    const Value& x = containers.elems()[k];
    std::memcpy(static_cast<void*>(buf + m), get(x), size_t(x.n) * sizeof(Rec));
    m += x.n;
    bounds[k + 1] = m;
  }
  int64_t runs = n;
  while (runs > 1) {
    int64_t out = 0, r = 0;
    for (; r + 1 < runs; r += 2) {
      Rec* end = std::merge(buf + bounds[r], buf + bounds[r + 1], buf + bounds[r + 1], buf + bounds[r + 2],
                            tmp + bounds[r]);
      (void)end;
      bounds[out++] = bounds[r];
    }
    if (r < runs) {
      std::memcpy(static_cast<void*>(tmp + bounds[r]), buf + bounds[r], size_t(bounds[r + 1] - bounds[r]) * sizeof(Rec));
      bounds[out++] = bounds[r];
    }
    bounds[out] = m;
    runs = out;
    std::swap(buf, tmp);
  }
  int64_t u = std::unique(buf, buf + m) - buf;
  if constexpr (std::is_same_v<Rec, CellRec>) return make_obj_sorted(buf, u);
  else return make_idx_sorted(buf, u);
}

// merge(containers) of dsl/primitives.py.
Value merge_value(Ctx& c, const Value& containers) {
  int64_t n = length(containers);
  if (containers.is_set()) {
    bool all_obj = true, all_idx = true;
    int64_t total = 0;
    for (int64_t k = 0; k < n; ++k) {
      Value x = elem(containers, k);
      want_container(x);
      if (x.kind != OBJ) all_obj = false;
      if (x.kind != IDX) all_idx = false;
      total += length(x);
    }
    c.tick(total);
    if (n == 0) return empty_set();
    if (all_obj) return union_of_runs<CellRec>(c, containers, total, [](const Value& x) { return x.cells(); });
    if (all_idx) return union_of_runs<PairRec>(c, containers, total, [](const Value& x) { return x.pairs(); });
    Value* e = c.alloc_array<Value>(size_t(total > 0 ? total : 1));
    int64_t m = 0;
    for (int64_t k = 0; k < n; ++k) {
      Value x = elem(containers, k);
      for (int64_t q = 0, nx = length(x); q < nx; ++q) e[m++] = elem(x, q);
    }
    return make_set(c, e, m);
  }
  if (containers.is_tuple()) {
    int64_t total = 0;
    for (int64_t k = 0; k < n; ++k) {
      Value x = elem(containers, k);
      want_container(x);
      total += length(x);
    }
    c.tick(total);
    Value* e = c.alloc_array<Value>(size_t(total > 0 ? total : 1));
    int64_t m = 0;
    for (int64_t k = 0; k < n; ++k) {
      Value x = elem(containers, k);
      for (int64_t q = 0, nx = length(x); q < nx; ++q) e[m++] = elem(x, q);
    }
    return make_tuple(c, e, m);
  }
  type_error();
}

}  // namespace

Value merge_containers(Ctx& c, const Value& containers) { return merge_value(c, containers); }
Value remove_from(Ctx& c, const Value& value, const Value& container) {
  return remove_value(c, value, container);
}
Value first_of(const Value& v) { return canonical_first(v); }

PRIM(contained) {
  want_container(a[1]);
  return Value::boolean(contains(a[1], a[0]));
}

PRIM(combine) {
  want_container(a[1]);
  if (a[0].is_tuple()) {
    if (a[1].is_tuple()) return tuple_concat(c, a[0], a[1]);
    int64_t na = length(a[0]), nb = length(a[1]);
    Value* e = c.alloc_array<Value>(size_t(na + nb > 0 ? na + nb : 1));
    for (int64_t k = 0; k < na; ++k) e[k] = elem(a[0], k);
    for (int64_t k = 0; k < nb; ++k) e[na + k] = elem(a[1], k);
    return make_tuple(c, e, na + nb);
  }
  if (a[0].is_set()) return set_union(c, a[0], a[1]);
  type_error();
}

PRIM(intersection) {
  want_set(a[0]);
  want_set(a[1]);
  const Value &x = a[0], &y = a[1];
  if (x.n == 0 || y.n == 0) return empty_set();
  if (x.kind == OBJ && y.kind == OBJ) {
    CellRec* d = c.alloc_array<CellRec>(size_t(std::min(x.n, y.n)));
    CellRec* end = std::set_intersection(x.cells(), x.cells() + x.n, y.cells(), y.cells() + y.n, d);
    return make_obj_sorted(d, end - d);
  }
  if (x.kind == IDX && y.kind == IDX) {
    PairRec* d = c.alloc_array<PairRec>(size_t(std::min(x.n, y.n)));
    PairRec* end = std::set_intersection(x.pairs(), x.pairs() + x.n, y.pairs(), y.pairs() + y.n, d);
    return make_idx_sorted(d, end - d);
  }
  Value* e = c.alloc_array<Value>(size_t(x.n));
  int64_t m = 0;
  for (int64_t k = 0; k < x.n; ++k) {
    Value v = elem(x, k);
    if (contains(y, v)) e[m++] = v;
  }
  return make_set_sorted(c, e, m);
}

PRIM(difference) {
  want_container(a[1]);
  if (a[0].is_set()) return set_difference(c, a[0], a[1]);
  if (a[0].is_tuple()) {
    int64_t n = length(a[0]);
    Value* e = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
    int64_t m = 0;
    const int64_t probe = a[1].is_tuple() ? length(a[1]) : 8;
    for (int64_t k = 0; k < n; ++k) {
      c.tick(probe);
      Value v = elem(a[0], k);
      if (!contains(a[1], v)) e[m++] = v;
    }
    if (m == n) return a[0];
    return make_tuple(c, e, m);
  }
  type_error();
}

PRIM(dedupe) {
  want_tuple(a[0]);
  int64_t n = length(a[0]);
  Value* e = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  int64_t m = 0;
  if (n <= 32) {
    for (int64_t k = 0; k < n; ++k) {
      Value v = elem(a[0], k);
      bool seen = false;
      for (int64_t q = 0; q < m && !seen; ++q) seen = eq(e[q], v);
      if (!seen) e[m++] = v;
    }
  } else {
    // Keep the first of every run of equal values (a stable sort keeps them in index order).
    c.tick(n * 8);
    int64_t* idx = c.alloc_array<int64_t>(size_t(n));
    Value* all = copy_elements(c, a[0]);
    for (int64_t k = 0; k < n; ++k) idx[k] = k;
    std::stable_sort(idx, idx + n, [&](int64_t x, int64_t y) { return cmp(all[x], all[y]) < 0; });
    bool* keep = c.alloc_array<bool>(size_t(n));
    for (int64_t k = 0; k < n; ++k) keep[idx[k]] = k == 0 || cmp(all[idx[k - 1]], all[idx[k]]) != 0;
    for (int64_t k = 0; k < n; ++k)
      if (keep[k]) e[m++] = all[k];
  }
  if (m == n) return a[0];
  return make_tuple(c, e, m);
}

PRIM(repeat) {
  int64_t n = want_int(a[1]);
  c.check_size(n);
  if (n <= 0) return empty_tuple();
  const Value& item = a[0];
  if (item.kind == INT && fits_i8(item.i) && n != 2) {
    int8_t* d = c.alloc_array<int8_t>(size_t(n));
    std::memset(d, int(int8_t(item.i)), size_t(n));
    return Value::container(ITUP, int32_t(n), d);
  }
  Value* e = c.alloc_array<Value>(size_t(n));
  for (int64_t k = 0; k < n; ++k) e[k] = item;
  return make_tuple(c, e, n);
}

PRIM(size) {
  return Value::integer(py_len(a[0]));
}

PRIM(merge) { return merge_value(c, a[0]); }

namespace {

Value extreme(const Value& v, bool largest) {
  want_container(v);
  int64_t n = length(v);
  if (n == 0) return Value::integer(0);
  if (v.is_set()) return elem(v, largest ? n - 1 : 0);
  if (v.kind == ITUP) {
    int8_t best = v.bytes()[0];
    for (int64_t k = 1; k < n; ++k) {
      int8_t x = v.bytes()[k];
      if (largest ? x > best : x < best) best = x;
    }
    return Value::integer(best);
  }
  Value best = elem(v, 0);
  for (int64_t k = 1; k < n; ++k) {
    Value x = elem(v, k);
    int r = cmp(x, best);
    if (largest ? r > 0 : r < 0) best = x;
  }
  return best;
}

}  // namespace

PRIM(maximum) {
  return extreme(a[0], true);
}
PRIM(minimum) {
  return extreme(a[0], false);
}

PRIM(mostcommon) {
  want_tuple(a[0]);
  int64_t n = length(a[0]);
  return most_frequent(c, copy_elements(c, a[0]), n, false);
}
PRIM(leastcommon) {
  want_tuple(a[0]);
  int64_t n = length(a[0]);
  return most_frequent(c, copy_elements(c, a[0]), n, true);
}

PRIM(initset) {
  Value e = a[0];
  return make_set(c, &e, 1);
}

PRIM(totuple) {
  want_container(a[0]);
  if (a[0].is_tuple()) return a[0];
  int64_t n = length(a[0]);
  if (n == 0) return empty_tuple();
  if (a[0].kind == SET) return make_tuple(c, a[0].elems(), n);
  return make_tuple(c, copy_elements(c, a[0]), n);
}

PRIM(first) {
  return canonical_first(a[0]);
}

PRIM(last) {
  const Value& v = a[0];
  if (v.is_tuple()) {
    if (length(v) == 0) runtime_error();
    return elem(v, length(v) - 1);
  }
  if (!v.is_set()) type_error();
  if (v.n == 0) runtime_error();
  return elem(v, v.n - 1);
}

PRIM(insert) {
  want_set(a[1]);
  const Value& s = a[1];
  const Value& x = a[0];
  if (s.kind == OBJ && x.kind == CELL) {
    CellRec r{x.n, x.p.a, x.p.b};
    const CellRec* cells = s.cells();
    const CellRec* at = std::lower_bound(cells, cells + s.n, r);
    if (at != cells + s.n && *at == r) return s;
    CellRec* d = c.alloc_array<CellRec>(size_t(s.n) + 1);
    int64_t pos = at - cells;
    std::memcpy(d, cells, size_t(pos) * sizeof(CellRec));
    d[pos] = r;
    std::memcpy(d + pos + 1, cells + pos, size_t(s.n - pos) * sizeof(CellRec));
    return make_obj_sorted(d, s.n + 1);
  }
  if (s.kind == IDX && x.kind == PAIR) {
    PairRec r{x.p.a, x.p.b};
    const PairRec* pairs = s.pairs();
    const PairRec* at = std::lower_bound(pairs, pairs + s.n, r);
    if (at != pairs + s.n && *at == r) return s;
    PairRec* d = c.alloc_array<PairRec>(size_t(s.n) + 1);
    int64_t pos = at - pairs;
    std::memcpy(d, pairs, size_t(pos) * sizeof(PairRec));
    d[pos] = r;
    std::memcpy(d + pos + 1, pairs + pos, size_t(s.n - pos) * sizeof(PairRec));
    return make_idx_sorted(d, s.n + 1);
  }
  if (contains(s, x)) return s;
  Value* e = copy_elements(c, s, 1);
  e[s.n] = x;
  return make_set(c, e, s.n + 1);
}

PRIM(remove) { return remove_value(c, a[0], a[1]); }

PRIM(other) { return canonical_first(remove_value(c, a[1], a[0])); }

PRIM(interval) {
  int64_t step = want_int(a[2]);
  if (step == 0) runtime_error();
  int64_t start = want_int(a[0]);
  int64_t stop = want_int(a[1]);
  __int128 n;
  if (step > 0) n = stop > start ? (__int128(stop) - start + step - 1) / step : 0;
  else n = start > stop ? (__int128(start) - stop - step - 1) / (-__int128(step)) : 0;
  if (n > c.max_size) fail(SIZE_LIMIT);
  int64_t m = int64_t(n);
  if (m == 0) return empty_tuple();
  Value* e = c.alloc_array<Value>(size_t(m));
  for (int64_t k = 0; k < m; ++k) e[k] = Value::integer(int64_t(start + __int128(step) * k));
  return make_tuple(c, e, m);
}

PRIM(product) {
  want_container(a[0]);
  want_container(a[1]);
  int64_t na = length(a[0]), nb = length(a[1]);
  if (__int128(na) * nb > c.max_size) fail(SIZE_LIMIT);
  int64_t n = na * nb;
  if (n == 0) return empty_set();
  // Each pair holds an element of a and one of b: what the elements hold beyond themselves
  // (rows of a grid, say) is repeated nb (na) times, checked as in the reference. Two big
  // grids' rows make a million pairs within the element cap that take seconds to sort.
  const __int128 held = __int128(nb) * (value_size(a[0]) - 1 - na) + __int128(na) * (value_size(a[1]) - 1 - nb);
  if (held > c.max_size) fail(SIZE_LIMIT);
  c.tick(n);
  const Value* ea = ordered(c, a[0]);
  const Value* eb = ordered(c, a[1]);
  bool ints = true;
  for (int64_t k = 0; k < na && ints; ++k) ints = ea[k].kind == INT && fits_i32(ea[k].i);
  for (int64_t k = 0; k < nb && ints; ++k) ints = eb[k].kind == INT && fits_i32(eb[k].i);
  if (ints) {
    PairRec* d = c.alloc_array<PairRec>(size_t(n));
    int64_t m = 0;
    for (int64_t p = 0; p < na; ++p)
      for (int64_t q = 0; q < nb; ++q) d[m++] = PairRec{int32_t(ea[p].i), int32_t(eb[q].i)};
    // Two frozensets of ints iterate in increasing order: the pairs already are canonical.
    if (a[0].is_set() && a[1].is_set()) return make_idx_sorted(d, n);
    return make_idx(c, d, n);
  }
  Value* e = c.alloc_array<Value>(size_t(n));
  int64_t m = 0;
  for (int64_t p = 0; p < na; ++p)
    for (int64_t q = 0; q < nb; ++q) e[m++] = make_2tuple(c, ea[p], eb[q]);
  return make_set(c, e, n);
}

PRIM(pair) {
  want_container(a[0]);
  want_container(a[1]);
  int64_t n = std::min(length(a[0]), length(a[1]));
  if (n == 0) return empty_tuple();
  Value* e = c.alloc_array<Value>(size_t(n));
  for (int64_t k = 0; k < n; ++k) e[k] = make_2tuple(c, elem(a[0], k), elem(a[1], k));
  return make_tuple(c, e, n);
}

}  // namespace codeit
