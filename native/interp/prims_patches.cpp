// Colors, measures of grids and patches, and index sets (dsl/primitives.py "colors",
// "measures of grids and patches", "index sets").
#include "prim_util.hpp"

namespace codeit {

Value first_of(const Value& v);
Value shift_value(Ctx& c, const Value& patch, const Value& directions);

// ---- helpers shared with other primitive files --------------------------------------------

int64_t piece_height(Ctx& c, const Value& piece) {
  want_container(piece);
  int64_t n = length(piece);
  if (n == 0) return 0;
  if (piece.kind == GRID) return piece.grid()->h;
  if (piece.is_tuple()) return n;
  Extent e = extent(c, piece);
  return add64(sub64(e.bottom, e.top), 1);
}

int64_t piece_width(Ctx& c, const Value& piece) {
  want_container(piece);
  int64_t n = length(piece);
  if (n == 0) return 0;
  if (piece.kind == GRID) return piece.grid()->w;
  if (piece.is_tuple()) return py_len(elem(piece, 0));
  Extent e = extent(c, piece);
  return add64(sub64(e.right, e.left), 1);
}

// center(patch): (uppermost + height // 2, leftmost + width // 2), in that order of evaluation.
void patch_center(Ctx& c, const Value& patch, int64_t& ci, int64_t& cj) {
  int64_t top = extent(c, patch).top;
  int64_t h = piece_height(c, patch);
  int64_t left = extent(c, patch).left;
  int64_t w = piece_width(c, patch);
  ci = add64(top, floordiv(h, 2));
  cj = add64(left, floordiv(w, 2));
}

// The distinct rows (columns when `cols`) of a container of locations.
static void collect_axis(const Value& locs, bool cols, ABuf<int64_t>& out) {
  for_each_location(locs, [&](int64_t i, int64_t j) { out.push(cols ? j : i); });
  std::sort(out.data, out.data + out.n);
  out.n = std::unique(out.data, out.data + out.n) - out.data;
}

bool patches_match(Ctx& c, const Value& a, const Value& b, bool cols) {
  Value la = indices_of(c, a);
  ABuf<int64_t> axis(c, length(la) + 1);
  collect_axis(la, cols, axis);
  Value lb = indices_of(c, b);
  bool hit = false;
  for_each_location(lb, [&](int64_t i, int64_t j) {
    if (!hit) hit = std::binary_search(axis.data, axis.data + axis.n, cols ? j : i);
  });
  return hit;
}

int64_t patch_manhattan(Ctx& c, const Value& a, const Value& b) {
  Value la = indices_of(c, a);
  Value lb = indices_of(c, b);
  int64_t na = length(la), nb = length(lb);
  if (na == 0 || nb == 0) runtime_error();
  if (la.kind == IDX && lb.kind == IDX) {
    int64_t best = INT64_MAX;
    const PairRec *x = la.pairs(), *y = lb.pairs();
    for (int64_t p = 0; p < na; ++p) {
      c.tick(nb);
      for (int64_t q = 0; q < nb; ++q) {
        int64_t d = std::llabs(int64_t(x[p].i) - y[q].i) + std::llabs(int64_t(x[p].j) - y[q].j);
        if (d < best) best = d;
      }
    }
    return best;
  }
  int64_t best = INT64_MAX;
  int64_t* bi = c.alloc_array<int64_t>(size_t(nb));
  int64_t* bj = c.alloc_array<int64_t>(size_t(nb));
  int64_t m = 0;
  for_each_location(lb, [&](int64_t i, int64_t j) { bi[m] = i; bj[m] = j; ++m; });
  for_each_location(la, [&](int64_t i, int64_t j) {
    c.tick(nb);
    for (int64_t q = 0; q < nb; ++q) {
      int64_t d = add64(abs64(sub64(i, bi[q])), abs64(sub64(j, bj[q])));
      if (d < best) best = d;
    }
  });
  return best;
}

// ---- colors ---------------------------------------------------------------------------------

PRIM(mostcolor) { return mostcolor_value(c, a[0], false); }
PRIM(leastcolor) { return mostcolor_value(c, a[0], true); }

PRIM(colorcount) {
  const Value& e = a[0];
  const Value& v = a[1];
  if (e.kind == GRID) {
    if (v.kind != INT || !fits_i8(v.i)) return Value::integer(0);
    int8_t x = int8_t(v.i);
    const GridHdr* g = e.grid();
    int64_t n = 0;
    for (int64_t k = 0, m = int64_t(g->h) * g->w; k < m; ++k) n += g->data()[k] == x;
    return Value::integer(n);
  }
  if (e.is_tuple()) {
    int64_t n = 0;
    for (int64_t k = 0, h = length(e); k < h; ++k) {
      Value row = elem(e, k);
      want_tuple(row);
      for (int64_t q = 0, w = length(row); q < w; ++q) n += eq(elem(row, q), v);
    }
    return Value::integer(n);
  }
  if (e.kind == OBJ) {
    if (v.kind != INT) return Value::integer(0);
    int64_t n = 0;
    for (int32_t k = 0; k < e.n; ++k) n += e.cells()[k].c == v.i;
    return Value::integer(n);
  }
  if (e.is_set()) {
    int64_t n = 0;
    for (int64_t k = 0; k < e.n; ++k) n += eq(cell_color(elem(e, k)), v);
    return Value::integer(n);
  }
  type_error();
}

PRIM(colorfilter) {
  want_container(a[0]);
  const Value& objs = a[0];
  int64_t n = length(objs);
  Value* kept = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k) {
    Value obj = elem(objs, k);
    bool keep;
    if (obj.kind == OBJ) {
      keep = a[1].kind == INT && obj.cells()[0].c == a[1].i;
    } else {
      Value f = first_of(obj);
      keep = eq(py_index(f, 0), a[1]);
    }
    if (keep) kept[m++] = obj;
  }
  if (objs.is_set()) {
    if (m == n) return objs;
    return make_set_sorted(c, kept, m);
  }
  return make_set(c, kept, m);
}

PRIM(sizefilter) {
  want_container(a[0]);
  const Value& items = a[0];
  int64_t n = length(items);
  Value* kept = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k) {
    Value x = elem(items, k);
    int64_t len = py_len(x);
    if (a[1].kind == INT && len == a[1].i) kept[m++] = x;
  }
  if (items.is_set()) {
    if (m == n) return items;
    return make_set_sorted(c, kept, m);
  }
  return make_set(c, kept, m);
}

namespace {

Value palette_value(Ctx& c, const Value& e) {
  bool seen[256] = {};
  bool small = false;
  if (e.kind == GRID) {
    const GridHdr* g = e.grid();
    for (int64_t k = 0, m = int64_t(g->h) * g->w; k < m; ++k) seen[g->data()[k] + 128] = true;
    small = true;
  } else if (e.kind == OBJ) {
    small = true;
    for (int32_t k = 0; k < e.n && small; ++k) small = fits_i8(e.cells()[k].c);
    if (small)
      for (int32_t k = 0; k < e.n; ++k) seen[e.cells()[k].c + 128] = true;
  }
  if (small) {
    Value out[256];
    int64_t m = 0;
    for (int v = 0; v < 256; ++v)
      if (seen[v]) out[m++] = Value::integer(v - 128);
    return make_set_sorted(c, out, m);
  }
  ABuf<Value> vals(c, 64);
  if (e.is_tuple()) {
    for (int64_t k = 0, h = length(e); k < h; ++k) {
      Value row = elem(e, k);
      if (!row.is_container()) type_error();
      for (int64_t q = 0, w = length(row); q < w; ++q) vals.push(elem(row, q));
    }
  } else if (e.is_set()) {
    for (int64_t k = 0; k < e.n; ++k) vals.push(cell_color(elem(e, k)));
  } else {
    type_error();
  }
  return make_set(c, vals.data, vals.n);
}

}  // namespace

PRIM(palette) { return palette_value(c, a[0]); }
PRIM(numcolors) { return Value::integer(length(palette_value(c, a[0]))); }

PRIM(color) {
  want_container(a[0]);
  if (a[0].kind == OBJ) return Value::integer(a[0].cells()[0].c);
  return py_index(first_of(a[0]), 0);
}

// ---- measures ---------------------------------------------------------------------------

PRIM(height) { return Value::integer(piece_height(c, a[0])); }
PRIM(width) { return Value::integer(piece_width(c, a[0])); }
PRIM(shape) {
  int64_t h = piece_height(c, a[0]);
  int64_t w = piece_width(c, a[0]);
  return make_pair(c, h, w);
}
PRIM(portrait) {
  int64_t h = piece_height(c, a[0]);
  int64_t w = piece_width(c, a[0]);
  return Value::boolean(h > w);
}

PRIM(uppermost) { return Value::integer(extent(c, a[0]).top); }
PRIM(lowermost) { return Value::integer(extent(c, a[0]).bottom); }
PRIM(leftmost) { return Value::integer(extent(c, a[0]).left); }
PRIM(rightmost) { return Value::integer(extent(c, a[0]).right); }

namespace {

Value corner(Ctx& c, const Value& patch, bool bottom, bool right) {
  if (length(indices_of(c, patch)) == 0) return empty_tuple();
  Extent e = extent(c, patch);
  return make_pair(c, bottom ? e.bottom : e.top, right ? e.right : e.left);
}

}  // namespace

PRIM(ulcorner) { return corner(c, a[0], false, false); }
PRIM(urcorner) { return corner(c, a[0], false, true); }
PRIM(llcorner) { return corner(c, a[0], true, false); }
PRIM(lrcorner) { return corner(c, a[0], true, true); }

PRIM(square) {
  const Value& p = a[0];
  want_container(p);
  if (p.is_tuple()) {
    if (length(p) == 0) runtime_error();
    return Value::boolean(length(p) == py_len(elem(p, 0)));
  }
  int64_t h = piece_height(c, p);
  int64_t w = piece_width(c, p);
  return Value::boolean(mul64(h, w) == length(p) && h == w);
}

PRIM(vline) {
  if (piece_height(c, a[0]) != length(a[0])) return Value::boolean(false);
  return Value::boolean(piece_width(c, a[0]) == 1);
}
PRIM(hline) {
  if (piece_width(c, a[0]) != length(a[0])) return Value::boolean(false);
  return Value::boolean(piece_height(c, a[0]) == 1);
}

PRIM(hmatching) { return Value::boolean(patches_match(c, a[0], a[1], false)); }
PRIM(vmatching) { return Value::boolean(patches_match(c, a[0], a[1], true)); }
PRIM(manhattan) { return Value::integer(patch_manhattan(c, a[0], a[1])); }
PRIM(adjacent) { return Value::boolean(patch_manhattan(c, a[0], a[1]) == 1); }

PRIM(bordering) {
  const Value& patch = a[0];
  const Value& grid = a[1];
  Extent e = extent(c, patch);
  if (e.top == 0 || e.left == 0) return Value::boolean(true);
  want_tuple(grid);
  if (e.bottom == length(grid) - 1) return Value::boolean(true);
  if (length(grid) == 0) runtime_error();
  return Value::boolean(e.right == py_len(elem(grid, 0)) - 1);
}

PRIM(centerofmass) {
  Value locs = indices_of(c, a[0]);
  if (length(locs) == 0) return empty_tuple();
  int64_t n = length(a[0]);
  int64_t si = 0, sj = 0;
  for_each_location(locs, [&](int64_t i, int64_t j) {
    si = add64(si, i);
    sj = add64(sj, j);
  });
  return make_pair(c, floordiv(si, n), floordiv(sj, n));
}

PRIM(center) {
  int64_t ci, cj;
  patch_center(c, a[0], ci, cj);
  return make_pair(c, ci, cj);
}

PRIM(position) {
  int64_t ia, ja, ib, jb;
  patch_center(c, indices_of(c, a[0]), ia, ja);
  patch_center(c, indices_of(c, a[1]), ib, jb);
  if (ia == ib) return Value::pair(0, ja < jb ? 1 : -1);
  if (ja == jb) return Value::pair(ia < ib ? 1 : -1, 0);
  return Value::pair(ia < ib ? 1 : -1, ja < jb ? 1 : -1);
}

PRIM(index) {
  int64_t i = 0, j = 0;
  want_pair(a[1], i, j);
  int64_t h = 0, w = 0;
  grid_dims(a[0], h, w);
  if (!(0 <= i && i < h && 0 <= j && j < w)) return Value::none();
  if (a[0].kind == GRID) return Value::integer(a[0].grid()->data()[i * w + j]);
  return py_index(elem(a[0], i), j);
}

// ---- index sets -------------------------------------------------------------------------

PRIM(asindices) {
  // arc-dsl reads the first row only once it has a row to index: an empty grid (tophalf of a
  // one-row grid) has no indices rather than no first row.
  if (a[0].is_tuple() && length(a[0]) == 0) return empty_set();
  int64_t h = 0, w = 0;
  grid_dims(a[0], h, w);
  if (h * w == 0) return empty_set();
  c.tick(h * w);
  if (!fits_i32(h) || !fits_i32(w)) fail(SIZE_LIMIT);
  PairRec* d = c.alloc_array<PairRec>(size_t(h * w));
  int64_t m = 0;
  for (int32_t i = 0; i < h; ++i)
    for (int32_t j = 0; j < w; ++j) d[m++] = PairRec{i, j};
  return make_idx_sorted(d, m);
}

PRIM(ofcolor) {
  const Value& g = a[0];
  const Value& v = a[1];
  if (g.kind == GRID) {
    const GridHdr* gh = g.grid();
    if (v.kind != INT || !fits_i8(v.i)) return empty_set();
    int8_t x = int8_t(v.i);
    PairRec* d = c.alloc_array<PairRec>(size_t(gh->h) * size_t(gh->w));
    int64_t m = 0;
    const int8_t* p = gh->data();
    for (int32_t i = 0; i < gh->h; ++i)
      for (int32_t j = 0; j < gh->w; ++j, ++p)
        if (*p == x) d[m++] = PairRec{i, j};
    return make_idx_sorted(d, m);
  }
  want_tuple(g);
  LocSetBuilder out(c);
  for (int64_t i = 0, h = length(g); i < h; ++i) {
    Value row = elem(g, i);
    want_tuple(row);
    for (int64_t j = 0, w = length(row); j < w; ++j)
      if (eq(elem(row, j), v)) out.add(i, j);
  }
  return out.finish();
}

PRIM(toindices) { return indices_of(c, a[0]); }

PRIM(recolor) {
  Value locs = indices_of(c, a[1]);
  const Value& v = a[0];
  int64_t n = length(locs);
  if (n == 0) return empty_set();
  if (locs.kind == IDX && v.kind == INT && fits_i32(v.i)) {
    CellRec* d = c.alloc_array<CellRec>(size_t(n));
    for (int64_t k = 0; k < n; ++k) d[k] = CellRec{int32_t(v.i), locs.pairs()[k].i, locs.pairs()[k].j};
    return make_obj_sorted(d, n);
  }
  CellSetBuilder out(c, n);
  for_each_location(locs, [&](int64_t i, int64_t j) { out.add_value(v, i, j); });
  return out.finish();
}

Value shift_value(Ctx& c, const Value& patch, const Value& directions) {
  if (!patch.is_container()) type_error();
  int64_t n = length(patch);
  if (n == 0) return patch;
  int64_t di, dj;
  want_pair(directions, di, dj);
  if (patch.kind == OBJ || patch.kind == IDX) {
    bool obj = patch.kind == OBJ;
    bool fits = true;
    for (int64_t k = 0; k < n && fits; ++k) {
      int64_t i = obj ? patch.cells()[k].i : patch.pairs()[k].i;
      int64_t j = obj ? patch.cells()[k].j : patch.pairs()[k].j;
      fits = fits_i32(i + di) && fits_i32(j + dj);
    }
    if (fits && fits_i32(di) && fits_i32(dj)) {
      // A shift keeps the canonical order.
      if (obj) {
        CellRec* d = c.alloc_array<CellRec>(size_t(n));
        for (int64_t k = 0; k < n; ++k) {
          const CellRec& r = patch.cells()[k];
          d[k] = CellRec{r.c, int32_t(r.i + di), int32_t(r.j + dj)};
        }
        return make_obj_sorted(d, n);
      }
      PairRec* d = c.alloc_array<PairRec>(size_t(n));
      for (int64_t k = 0; k < n; ++k) {
        const PairRec& r = patch.pairs()[k];
        d[k] = PairRec{int32_t(r.i + di), int32_t(r.j + dj)};
      }
      return make_idx_sorted(d, n);
    }
  }
  if (patch_is_object(patch)) {
    CellSetBuilder out(c, n);
    for (int64_t k = 0; k < n; ++k) {
      Value cell = elem(patch, k);
      int64_t i = 0, j = 0;
      location(elem(cell, 1), i, j);
      out.add_value(elem(cell, 0), add64(i, di), add64(j, dj));
    }
    return out.finish();
  }
  LocSetBuilder out(c, n);
  for_each_location(patch, [&](int64_t i, int64_t j) { out.add(add64(i, di), add64(j, dj)); });
  return out.finish();
}

PRIM(shift) { return shift_value(c, a[0], a[1]); }

Value normalize_value(Ctx& c, const Value& patch) {
  want_container(patch);
  if (length(patch) == 0) return patch;
  Extent e = extent(c, patch);
  Value d = make_pair(c, sub64(0, e.top), sub64(0, e.left));
  return shift_value(c, patch, d);
}

PRIM(normalize) { return normalize_value(c, a[0]); }

namespace {

Value neighbors_of(Ctx& c, const Value& loc, bool direct, bool diagonal) {
  int64_t i = 0, j = 0;
  want_pair(loc, i, j);
  LocSetBuilder out(c, 8);
  for (int64_t di = -1; di <= 1; ++di)
    for (int64_t dj = -1; dj <= 1; ++dj) {
      if (di == 0 && dj == 0) continue;
      bool is_diag = di != 0 && dj != 0;
      if (is_diag ? diagonal : direct) out.add(add64(i, di), add64(j, dj));
    }
  return out.finish();
}

}  // namespace

PRIM(dneighbors) { return neighbors_of(c, a[0], true, false); }
PRIM(ineighbors) { return neighbors_of(c, a[0], false, true); }
PRIM(neighbors) { return neighbors_of(c, a[0], true, true); }

PRIM(corners) {
  Value e[4] = {corner(c, a[0], false, false), corner(c, a[0], false, true),
                corner(c, a[0], true, false), corner(c, a[0], true, true)};
  return make_set(c, e, 4);
}

Value connect_points(Ctx& c, int64_t ai, int64_t aj, int64_t bi, int64_t bj) {
  int64_t si = std::min(ai, bi), ei = add64(std::max(ai, bi), 1);
  int64_t sj = std::min(aj, bj), ej = add64(std::max(aj, bj), 1);
  // Differences of any two int64 coordinates fit 128 bits (Python's are exact); past the size
  // check below they fit 64.
  const __int128 di = __int128(bi) - ai, dj = __int128(bj) - aj;
  if (ai == bi || aj == bj || di == dj || di == -dj) {
    const __int128 span = std::max(__int128(ei) - si, __int128(ej) - sj);
    c.check_size(span > INT64_MAX ? INT64_MAX : int64_t(span));
  }
  LocSetBuilder out(c, 32);
  if (ai == bi) {
    c.tick(ej - sj);
    for (int64_t j = sj; j < ej; ++j) out.add(ai, j);
  } else if (aj == bj) {
    c.tick(ei - si);
    for (int64_t i = si; i < ei; ++i) out.add(i, aj);
  } else if (di == dj) {
    c.tick(ei - si);
    for (int64_t k = 0; si + k < ei && sj + k < ej; ++k) out.add(si + k, sj + k);
  } else if (di == -dj) {
    c.tick(ei - si);
    for (int64_t k = 0; si + k < ei && ej - 1 - k > sj - 1; ++k) out.add(si + k, ej - 1 - k);
  }
  return out.finish();
}

PRIM(connect) {
  // arc-dsl unpacks both points before it looks at either (`ai, aj = a` then `bi, bj = b`), so
  // a container of the wrong size fails as its unpacking does, before any kind check.
  Value first, second;
  unpack2(a[0], first, second);
  unpack2(a[1], first, second);
  int64_t ai = 0, aj = 0, bi = 0, bj = 0;
  want_pair(a[0], ai, aj);
  want_pair(a[1], bi, bj);
  return connect_points(c, ai, aj, bi, bj);
}

PRIM(vfrontier) {
  int64_t i = 0, j = 0;
  want_pair(a[0], i, j);
  LocSetBuilder out(c, 30);
  for (int64_t k = 0; k < 30; ++k) out.add(k, j);
  return out.finish();
}
PRIM(hfrontier) {
  int64_t i = 0, j = 0;
  want_pair(a[0], i, j);
  LocSetBuilder out(c, 30);
  for (int64_t k = 0; k < 30; ++k) out.add(i, k);
  return out.finish();
}

Value backdrop_value(Ctx& c, const Value& patch) {
  want_container(patch);
  if (length(patch) == 0) return empty_set();
  Extent e = extent(c, patch);
  __int128 cells = (__int128(e.bottom) - e.top + 1) * (__int128(e.right) - e.left + 1);
  if (cells > c.max_size) fail(SIZE_LIMIT);
  LocSetBuilder out(c, int64_t(cells));
  c.tick(int64_t(cells));
  for (int64_t i = e.top; i <= e.bottom; ++i)
    for (int64_t j = e.left; j <= e.right; ++j) out.add(i, j);
  return out.finish();
}

PRIM(backdrop) { return backdrop_value(c, a[0]); }

PRIM(delta) {
  want_container(a[0]);
  if (length(a[0]) == 0) return empty_set();
  Value box = backdrop_value(c, a[0]);
  return set_difference(c, box, indices_of(c, a[0]));
}

namespace {

Value box_outline(Ctx& c, int64_t si, int64_t sj, int64_t ei, int64_t ej) {
  c.check_size(2 * (std::max<int64_t>(ei - si, 0) + std::max<int64_t>(ej - sj, 0) + 2));
  LocSetBuilder out(c, 64);
  c.tick((ei - si) + (ej - sj));
  for (int64_t i = si; i <= ei; ++i) {
    out.add(i, sj);
    out.add(i, ej);
  }
  for (int64_t j = sj; j <= ej; ++j) {
    out.add(si, j);
    out.add(ei, j);
  }
  return out.finish();
}

}  // namespace

PRIM(inbox) {
  Extent e = extent(c, a[0]);
  int64_t ai = e.top + 1, aj = e.left + 1, bi = e.bottom - 1, bj = e.right - 1;
  return box_outline(c, std::min(ai, bi), std::min(aj, bj), std::max(ai, bi), std::max(aj, bj));
}
PRIM(outbox) {
  Extent e = extent(c, a[0]);
  return box_outline(c, e.top - 1, e.left - 1, e.bottom + 1, e.right + 1);
}
PRIM(box) {
  want_container(a[0]);
  if (length(a[0]) == 0) return a[0];
  Extent e = extent(c, a[0]);
  return box_outline(c, e.top, e.left, e.bottom, e.right);
}

PRIM(shoot) {
  int64_t si = 0, sj = 0, di = 0, dj = 0;
  want_pair(a[0], si, sj);
  want_pair(a[1], di, dj);
  return connect_points(c, si, sj, add64(si, mul64(42, di)), add64(sj, mul64(42, dj)));
}

PRIM(gravitate) {
  Value source = a[0];
  const Value& destination = a[1];
  int64_t si = 0, sj = 0, di = 0, dj = 0;
  patch_center(c, source, si, sj);
  patch_center(c, destination, di, dj);
  int64_t i = 0, j = 0;
  if (patches_match(c, source, destination, true)) i = si < di ? 1 : -1;
  else j = sj < dj ? 1 : -1;
  int64_t moved_i = 0, moved_j = 0;
  Value step = Value::pair(int32_t(i), int32_t(j));
  for (int steps = 0; steps < 42; ++steps) {
    if (patch_manhattan(c, source, destination) == 1) break;
    moved_i += i;
    moved_j += j;
    source = shift_value(c, source, step);
  }
  return make_pair(c, moved_i, moved_j);
}

}  // namespace codeit
