#include "prim_util.hpp"

namespace codeit {

bool patch_is_object(const Value& patch) {
  if (patch.kind == OBJ) return true;
  if (patch.kind == IDX) return false;
  int64_t n = length(patch);
  Value e = elem(patch, 0);
  int64_t i = 0, j = 0;
  if (e.is_tuple() && length(e) == 2 && elem(e, 1).is_tuple()) {
    for (int64_t k = 0; k < n; ++k) {
      Value cell = elem(patch, k);
      if (!cell.is_tuple() || length(cell) != 2) type_error();
    }
    for (int64_t k = 0; k < n; ++k)
      if (!location(elem(elem(patch, k), 1), i, j)) type_error();
    return true;
  }
  for (int64_t k = 0; k < n; ++k)
    if (!location(elem(patch, k), i, j)) type_error();
  return false;
}

Value indices_of(Ctx& c, const Value& patch) {
  if (patch.kind == IDX) return patch;
  if (!patch.is_container()) type_error();
  int64_t n = length(patch);
  if (n == 0) return empty_set();
  if (patch.kind == OBJ) {
    PairRec* d = c.alloc_array<PairRec>(size_t(n));
    const CellRec* cells = patch.cells();
    for (int64_t k = 0; k < n; ++k) d[k] = PairRec{cells[k].i, cells[k].j};
    return make_idx(c, d, n);
  }
  if (!patch_is_object(patch)) return patch;
  Value* locs = c.alloc_array<Value>(size_t(n));
  for (int64_t k = 0; k < n; ++k) locs[k] = elem(elem(patch, k), 1);
  return make_set(c, locs, n);
}

void want_cells(const Value& obj) {
  if (!obj.is_container()) type_error();
  if (length(obj) && !patch_is_object(obj)) type_error();
}

Extent extent(Ctx& c, const Value& patch) {
  Extent e{0, 0, 0, 0};
  if (patch.kind == OBJ || patch.kind == IDX) {
    bool obj = patch.kind == OBJ;
    int32_t n = patch.n;
    int64_t top = INT64_MAX, left = INT64_MAX, bottom = INT64_MIN, right = INT64_MIN;
    for (int32_t k = 0; k < n; ++k) {
      int64_t i = obj ? patch.cells()[k].i : patch.pairs()[k].i;
      int64_t j = obj ? patch.cells()[k].j : patch.pairs()[k].j;
      if (i < top) top = i;
      if (i > bottom) bottom = i;
      if (j < left) left = j;
      if (j > right) right = j;
    }
    return Extent{top, left, bottom, right};
  }
  Value locs = indices_of(c, patch);
  if (length(locs) == 0) runtime_error();
  bool first = true;
  for_each_location(locs, [&](int64_t i, int64_t j) {
    if (first) {
      e = Extent{i, j, i, j};
      first = false;
      return;
    }
    if (i < e.top) e.top = i;
    if (i > e.bottom) e.bottom = i;
    if (j < e.left) e.left = j;
    if (j > e.right) e.right = j;
  });
  return e;
}

Value tuple_slice(Ctx& c, const Value& t, int64_t lo, int64_t hi) {
  int64_t n = hi - lo;
  if (n <= 0) return empty_tuple();
  if (lo == 0 && hi == length(t)) return t;
  if (t.kind == GRID) {
    const GridHdr* g = t.grid();
    GridHdr* out = new_grid(c, n, g->w);
    std::memcpy(out->data(), g->data() + lo * g->w, size_t(n * g->w));
    return grid_value(out);
  }
  if (t.kind == ITUP && n != 2) return Value::container(ITUP, int32_t(n), t.bytes() + lo);
  if (t.kind == TUP) return make_tuple(c, t.elems() + lo, n);
  Value* e = c.alloc_array<Value>(size_t(n));
  for (int64_t k = 0; k < n; ++k) e[k] = elem(t, lo + k);
  return make_tuple(c, e, n);
}

Value tuple_reversed(Ctx& c, const Value& t) {
  int64_t n = length(t);
  if (n == 0) return t;
  if (t.kind == GRID) {
    const GridHdr* g = t.grid();
    GridHdr* out = new_grid(c, g->h, g->w);
    for (int32_t r = 0; r < g->h; ++r)
      std::memcpy(out->data() + int64_t(r) * g->w, g->data() + int64_t(g->h - 1 - r) * g->w, size_t(g->w));
    return grid_value(out);
  }
  if (t.kind == ITUP) {
    int8_t* d = c.alloc_array<int8_t>(size_t(n));
    for (int64_t k = 0; k < n; ++k) d[k] = t.bytes()[n - 1 - k];
    return Value::container(ITUP, int32_t(n), d);
  }
  Value* e = c.alloc_array<Value>(size_t(n));
  for (int64_t k = 0; k < n; ++k) e[k] = elem(t, n - 1 - k);
  return make_tuple(c, e, n);
}

Value tuple_concat(Ctx& c, const Value& a, const Value& b) {
  int64_t na = length(a), nb = length(b);
  if (nb == 0) return a;
  if (na == 0) return b;
  if (a.kind == GRID && b.kind == GRID && a.grid()->w == b.grid()->w) {
    const GridHdr *x = a.grid(), *y = b.grid();
    GridHdr* out = new_grid(c, na + nb, x->w);
    std::memcpy(out->data(), x->data(), size_t(na * x->w));
    std::memcpy(out->data() + na * x->w, y->data(), size_t(nb * y->w));
    return grid_value(out);
  }
  c.tick(na + nb);
  Value* e = c.alloc_array<Value>(size_t(na + nb));
  for (int64_t k = 0; k < na; ++k) e[k] = elem(a, k);
  for (int64_t k = 0; k < nb; ++k) e[na + k] = elem(b, k);
  return make_tuple(c, e, na + nb);
}

Value set_union(Ctx& c, const Value& a, const Value& b) {
  int64_t na = length(a), nb = length(b);
  if (nb == 0) return a;
  if (a.kind == OBJ && b.kind == OBJ) {
    CellRec* d = c.alloc_array<CellRec>(size_t(na + nb));
    CellRec* end = std::set_union(a.cells(), a.cells() + na, b.cells(), b.cells() + nb, d);
    return make_obj_sorted(d, end - d);
  }
  if (a.kind == IDX && b.kind == IDX) {
    PairRec* d = c.alloc_array<PairRec>(size_t(na + nb));
    PairRec* end = std::set_union(a.pairs(), a.pairs() + na, b.pairs(), b.pairs() + nb, d);
    return make_idx_sorted(d, end - d);
  }
  if (na == 0 && b.is_set()) return b;
  c.tick(na + nb);
  Value* e = c.alloc_array<Value>(size_t(na + nb));
  for (int64_t k = 0; k < na; ++k) e[k] = elem(a, k);
  for (int64_t k = 0; k < nb; ++k) e[na + k] = elem(b, k);
  return make_set(c, e, na + nb);
}

Value set_difference(Ctx& c, const Value& a, const Value& b) {
  int64_t na = length(a);
  if (na == 0 || length(b) == 0) return a;
  if (a.kind == OBJ && b.kind == OBJ) {
    CellRec* d = c.alloc_array<CellRec>(size_t(na));
    CellRec* end = std::set_difference(a.cells(), a.cells() + na, b.cells(), b.cells() + b.n, d);
    return make_obj_sorted(d, end - d);
  }
  if (a.kind == IDX && b.kind == IDX) {
    PairRec* d = c.alloc_array<PairRec>(size_t(na));
    PairRec* end = std::set_difference(a.pairs(), a.pairs() + na, b.pairs(), b.pairs() + b.n, d);
    return make_idx_sorted(d, end - d);
  }
  Value* e = c.alloc_array<Value>(size_t(na));
  int64_t m = 0;
  const int64_t probe = b.is_tuple() ? length(b) : 8;
  for (int64_t k = 0; k < na; ++k) {
    c.tick(probe);
    Value x = elem(a, k);
    if (!contains(b, x)) e[m++] = x;
  }
  if (m == na) return a;
  return make_set_sorted(c, e, m);
}

Value most_frequent(Ctx& c, Value* vals, int64_t n, bool least) {
  if (n == 0) runtime_error();
  c.tick(n * 4);
  std::stable_sort(vals, vals + n, [](const Value& x, const Value& y) { return cmp(x, y) < 0; });
  Value best = vals[0];
  int64_t best_count = -1;
  for (int64_t k = 0; k < n;) {
    int64_t q = k + 1;
    while (q < n && cmp(vals[q], vals[k]) == 0) ++q;
    int64_t count = q - k;
    if (best_count < 0 || (least ? count < best_count : count > best_count)) {
      best = vals[k];
      best_count = count;
    }
    k = q;
  }
  return best;
}

int64_t most_frequent_byte(const int64_t* counts, bool least) {
  int64_t best = -1000, best_count = -1;
  for (int v = 0; v < 256; ++v) {
    int64_t n = counts[v];
    if (n == 0) continue;
    if (best_count < 0 || (least ? n < best_count : n > best_count)) {
      best = v - 128;
      best_count = n;
    }
  }
  if (best_count < 0) runtime_error();
  return best;
}

Value mostcolor_value(Ctx& c, const Value& element, bool least) {
  if (element.kind == GRID) {
    int64_t counts[256] = {};
    const GridHdr* g = element.grid();
    const int8_t* d = g->data();
    for (int64_t k = 0, n = int64_t(g->h) * g->w; k < n; ++k) counts[d[k] + 128]++;
    return Value::integer(most_frequent_byte(counts, least));
  }
  if (element.kind == OBJ) {
    // Colors are int32: count small ones in a histogram, fall back when any is large.
    const CellRec* cells = element.cells();
    bool small = true;
    for (int32_t k = 0; k < element.n && small; ++k) small = fits_i8(cells[k].c);
    if (small) {
      int64_t counts[256] = {};
      for (int32_t k = 0; k < element.n; ++k) counts[cells[k].c + 128]++;
      return Value::integer(most_frequent_byte(counts, least));
    }
  }
  ABuf<Value> vals(c, 64);
  if (element.is_tuple()) {
    int64_t n = length(element);
    for (int64_t k = 0; k < n; ++k) {
      Value row = elem(element, k);
      if (!row.is_container()) type_error();
      for (int64_t q = 0, m = length(row); q < m; ++q) vals.push(elem(row, q));
    }
  } else if (element.is_set()) {
    int64_t n = length(element);
    for (int64_t k = 0; k < n; ++k) vals.push(cell_color(elem(element, k)));
  } else {
    type_error();
  }
  return most_frequent(c, vals.data, vals.n, least);
}

}  // namespace codeit
