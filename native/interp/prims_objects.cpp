// Object primitives (dsl/primitives.py "objects"): connected components, partitions,
// object <-> grid conversions, occurrences, frontiers and periods.
#include "prim_util.hpp"

namespace codeit {

Value normalize_value(Ctx& c, const Value& patch);
int64_t piece_height(Ctx& c, const Value& piece);
int64_t piece_width(Ctx& c, const Value& piece);

namespace {

constexpr int kDirect[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
constexpr int kAll[8][2] = {{-1, -1}, {-1, 0}, {-1, 1}, {0, -1}, {0, 1}, {1, -1}, {1, 0}, {1, 1}};

Value objects_grid(Ctx& c, const GridHdr* g, bool univalued, bool diagonal, bool has_bg, int bg) {
  const int64_t h = g->h, w = g->w, n = h * w;
  const int8_t* d = g->data();
  // Label the components (the reference's flood fill), then emit every component's cells in
  // one row-major pass: within a component they come out sorted by (i, j), which is the
  // canonical order of a one-colored object; only multi-colored ones need a sort.
  int32_t* label = c.alloc_array<int32_t>(size_t(n));
  std::fill(label, label + n, -1);
  int32_t* stack = c.alloc_array<int32_t>(size_t(n));
  ABuf<int32_t> sizes(c, 16);
  ABuf<uint8_t> multicolor(c, 16);
  const int (*steps)[2] = diagonal ? kAll : kDirect;
  const int nsteps = diagonal ? 8 : 4;
  c.tick(n * 4);
  for (int64_t s = 0; s < n; ++s) {
    if (label[s] >= 0) continue;
    int val = d[s];
    if (has_bg && val == bg) continue;
    const int32_t id = int32_t(sizes.n);
    label[s] = id;
    int32_t size = 1, top = 0;
    bool mixed = false;
    stack[top++] = int32_t(s);
    while (top > 0) {
      int32_t cur = stack[--top];
      int64_t ci = cur / w, cj = cur % w;
      for (int k = 0; k < nsteps; ++k) {
        int64_t ni = ci + steps[k][0], nj = cj + steps[k][1];
        if (ni < 0 || ni >= h || nj < 0 || nj >= w) continue;
        int64_t q = ni * w + nj;
        if (label[q] >= 0) continue;
        int v = d[q];
        if (univalued ? v == val : (!has_bg || v != bg)) {
          label[q] = id;
          ++size;
          mixed = mixed || v != val;
          stack[top++] = int32_t(q);
        }
      }
    }
    sizes.push(size);
    multicolor.push(mixed ? 1 : 0);
  }
  const int64_t m = sizes.n;
  int64_t* pos = c.alloc_array<int64_t>(size_t(m + 1));
  int64_t total = 0;
  for (int64_t k = 0; k < m; ++k) {
    pos[k] = total;
    total += sizes[k];
  }
  CellRec* cells = c.alloc_array<CellRec>(size_t(total > 0 ? total : 1));
  for (int64_t q = 0; q < n; ++q)
    if (label[q] >= 0) cells[pos[label[q]]++] = CellRec{d[q], int32_t(q / w), int32_t(q % w)};
  Value* objs = c.alloc_array<Value>(size_t(m > 0 ? m : 1));
  for (int64_t k = 0; k < m; ++k) {
    CellRec* obj = cells + (pos[k] - sizes[k]);
    if (multicolor[k]) sort_cells(c, obj, sizes[k]);
    objs[k] = make_obj_sorted(obj, sizes[k]);
  }
  return make_set(c, objs, m);
}

// objects() on any tuple of tuples: cells are Values; rows shorter than the first one fail as
// the reference's list indexing does.
Value objects_generic(Ctx& c, const Value& grid, int64_t h, int64_t w, bool univalued, bool diagonal,
                      bool has_bg, const Value& bg) {
  const Value** rows = c.alloc_array<const Value*>(size_t(h));
  for (int64_t i = 0; i < h; ++i) {
    Value row = elem(grid, i);
    want_tuple(row);
    rows[i] = ordered(c, row);
  }
  for (int64_t i = 0; i < h; ++i)
    if (length(elem(grid, i)) < w) runtime_error();
  uint8_t* seen = c.alloc_array<uint8_t>(size_t(h * w > 0 ? h * w : 1));
  std::memset(seen, 0, size_t(h * w));
  int64_t* stack = c.alloc_array<int64_t>(size_t(h * w > 0 ? h * w : 1));
  ABuf<Value> found(c, 16);
  const int (*steps)[2] = diagonal ? kAll : kDirect;
  const int nsteps = diagonal ? 8 : 4;
  for (int64_t si = 0; si < h; ++si)
    for (int64_t sj = 0; sj < w; ++sj) {
      if (seen[si * w + sj]) continue;
      Value val = rows[si][sj];
      if (has_bg && eq(val, bg)) continue;
      seen[si * w + sj] = 1;
      CellSetBuilder obj(c, 16);
      obj.add_value(val, si, sj);
      int64_t top = 0;
      stack[top++] = si * w + sj;
      while (top > 0) {
        int64_t cur = stack[--top];
        int64_t ci = cur / w, cj = cur % w;
        for (int k = 0; k < nsteps; ++k) {
          int64_t ni = ci + steps[k][0], nj = cj + steps[k][1];
          if (ni < 0 || ni >= h || nj < 0 || nj >= w || seen[ni * w + nj]) continue;
          Value v = rows[ni][nj];
          if (univalued ? eq(v, val) : (!has_bg || !eq(v, bg))) {
            seen[ni * w + nj] = 1;
            obj.add_value(v, ni, nj);
            stack[top++] = ni * w + nj;
          }
        }
      }
      found.push(obj.finish());
    }
  return make_set(c, found.data, found.n);
}

// The cells of a grid grouped by color (_color_groups): one object per distinct value.
Value color_groups(Ctx& c, const Value& grid, bool drop_bg, const Value* bg_out) {
  (void)bg_out;
  want_tuple(grid);
  if (grid.kind == GRID) {
    const GridHdr* g = grid.grid();
    int64_t n = int64_t(g->h) * g->w;
    int64_t counts[256] = {};
    for (int64_t k = 0; k < n; ++k) counts[g->data()[k] + 128]++;
    int64_t bg = drop_bg ? most_frequent_byte(counts, false) : 1000;
    int64_t start[257];
    start[0] = 0;
    for (int v = 0; v < 256; ++v) start[v + 1] = start[v] + counts[v];
    CellRec* cells = c.alloc_array<CellRec>(size_t(n));
    int64_t pos[256];
    for (int v = 0; v < 256; ++v) pos[v] = start[v];
    const int8_t* d = g->data();
    for (int32_t i = 0; i < g->h; ++i)
      for (int32_t j = 0; j < g->w; ++j, ++d) cells[pos[*d + 128]++] = CellRec{*d, i, j};
    Value objs[256];
    int64_t m = 0;
    for (int v = 0; v < 256; ++v) {
      if (counts[v] == 0 || v - 128 == bg) continue;
      objs[m++] = make_obj_sorted(cells + start[v], counts[v]);
    }
    return make_set(c, objs, m);
  }
  // Generic: sort (value, i, j) triples by value to group them.
  struct Item {
    Value v;
    int64_t i = 0, j = 0;
  };
  ABuf<Item> items(c, 64);
  for (int64_t i = 0, h = length(grid); i < h; ++i) {
    Value row = elem(grid, i);
    want_tuple(row);
    for (int64_t j = 0, w = length(row); j < w; ++j) items.push(Item{elem(row, j), i, j});
  }
  Value bg = Value::none();
  if (drop_bg) bg = mostcolor_value(c, grid, false);
  std::stable_sort(items.data, items.data + items.n, [](const Item& x, const Item& y) { return cmp(x.v, y.v) < 0; });
  ABuf<Value> objs(c, 16);
  for (int64_t k = 0; k < items.n;) {
    int64_t q = k;
    while (q < items.n && cmp(items[q].v, items[k].v) == 0) ++q;
    if (!(drop_bg && eq(items[k].v, bg))) {
      CellSetBuilder obj(c, q - k);
      for (int64_t t = k; t < q; ++t) obj.add_value(items[t].v, items[t].i, items[t].j);
      objs.push(obj.finish());
    }
    k = q;
  }
  return make_set(c, objs.data, objs.n);
}

}  // namespace

PRIM(objects) {
  int64_t h = 0, w = 0;
  grid_dims(a[0], h, w);
  bool without_bg = truthy(a[3]);
  Value bg = without_bg ? mostcolor_value(c, a[0], false) : Value::none();
  bool univalued = truthy(a[1]), diagonal = truthy(a[2]);
  if (a[0].kind == GRID) {
    // A bg outside int8 matches no cell: the same as no background.
    bool has_bg = without_bg && bg.kind == INT && fits_i8(bg.i);
    return objects_grid(c, a[0].grid(), univalued, diagonal, has_bg, has_bg ? int(bg.i) : 0);
  }
  return objects_generic(c, a[0], h, w, univalued, diagonal, without_bg, bg);
}

PRIM(partition) { return color_groups(c, a[0], false, nullptr); }
PRIM(fgpartition) { return color_groups(c, a[0], true, nullptr); }

PRIM(toobject) {
  int64_t h = 0, w = 0;
  grid_dims(a[1], h, w);
  Value locs = indices_of(c, a[0]);
  const Value& grid = a[1];
  if (grid.kind == GRID && locs.kind == IDX) {
    const GridHdr* g = grid.grid();
    CellRec* cells = c.alloc_array<CellRec>(size_t(locs.n));
    int64_t m = 0;
    for (int32_t k = 0; k < locs.n; ++k) {
      const PairRec& p = locs.pairs()[k];
      if (0 <= p.i && p.i < h && 0 <= p.j && p.j < w) cells[m++] = CellRec{g->data()[p.i * w + p.j], p.i, p.j};
    }
    return make_obj(c, cells, m);
  }
  CellSetBuilder out(c, length(locs) + 1);
  for_each_location(locs, [&](int64_t i, int64_t j) {
    if (0 <= i && i < h && 0 <= j && j < w) out.add_value(py_index(elem(grid, i), j), i, j);
  });
  return out.finish();
}

PRIM(asobject) {
  want_tuple(a[0]);
  const Value& grid = a[0];
  if (grid.kind == GRID) {
    const GridHdr* g = grid.grid();
    int64_t n = int64_t(g->h) * g->w;
    int64_t counts[257] = {};
    for (int64_t k = 0; k < n; ++k) counts[g->data()[k] + 129]++;
    for (int v = 0; v < 256; ++v) counts[v + 1] += counts[v];
    CellRec* cells = c.alloc_array<CellRec>(size_t(n));
    const int8_t* d = g->data();
    for (int32_t i = 0; i < g->h; ++i)
      for (int32_t j = 0; j < g->w; ++j, ++d) cells[counts[*d + 128]++] = CellRec{*d, i, j};
    return make_obj_sorted(cells, n);
  }
  CellSetBuilder out(c, 64);
  for (int64_t i = 0, h = length(grid); i < h; ++i) {
    Value row = elem(grid, i);
    want_tuple(row);
    for (int64_t j = 0, w = length(row); j < w; ++j) out.add_value(elem(row, j), i, j);
  }
  return out.finish();
}

PRIM(occurrences) {
  Value normed = normalize_value(c, a[1]);
  int64_t h = 0, w = 0;
  grid_dims(a[0], h, w);
  int64_t oh = piece_height(c, a[1]);
  int64_t ow = piece_width(c, a[1]);
  int64_t h2 = h - oh + 1, w2 = w - ow + 1;
  if (h2 <= 0 || w2 <= 0) return empty_set();
  want_cells(normed);
  const Value& grid = a[0];
  int64_t n = length(normed);
  LocSetBuilder out(c, 16);
  if (grid.kind == GRID && (normed.kind == OBJ || n == 0)) {
    const GridHdr* g = grid.grid();
    const CellRec* cells = n ? normed.cells() : nullptr;
    for (int64_t i = 0; i < h2; ++i) {
      c.tick(w2 * (n + 1));
      for (int64_t j = 0; j < w2; ++j) {
        bool hit = true;
        for (int64_t k = 0; k < n && hit; ++k) {
          int64_t r = cells[k].i + i, q = cells[k].j + j;
          if (r >= g->h || q >= g->w) runtime_error();
          hit = g->data()[r * g->w + q] == cells[k].c;
        }
        if (hit) out.add(i, j);
      }
    }
    return out.finish();
  }
  Value* vals = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  int64_t* ai = c.alloc_array<int64_t>(size_t(n > 0 ? n : 1));
  int64_t* bj = c.alloc_array<int64_t>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) {
    Value cell = elem(normed, k);
    vals[k] = elem(cell, 0);
    location(elem(cell, 1), ai[k], bj[k]);
  }
  int64_t gh = length(grid);
  for (int64_t i = 0; i < h2; ++i) {
    c.tick(w2 * (n + 1));
    for (int64_t j = 0; j < w2; ++j) {
      bool hit = true;
      for (int64_t k = 0; k < n && hit; ++k) {
        int64_t r = ai[k] + i;
        if (r < 0) r += gh;
        if (r < 0 || r >= gh) runtime_error();
        hit = eq(py_index(elem(grid, r), bj[k] + j), vals[k]);
      }
      if (hit) out.add(i, j);
    }
  }
  return out.finish();
}

PRIM(frontiers) {
  int64_t h = 0, w = 0;
  grid_dims(a[0], h, w);
  const Value& grid = a[0];
  ABuf<Value> found(c, 8);
  if (grid.kind == GRID) {
    const GridHdr* g = grid.grid();
    const int8_t* d = g->data();
    for (int64_t i = 0; i < h; ++i) {
      bool one = true;
      for (int64_t j = 1; j < w && one; ++j) one = d[i * w + j] == d[i * w];
      if (!one) continue;
      CellRec* cells = c.alloc_array<CellRec>(size_t(w));
      for (int64_t j = 0; j < w; ++j) cells[j] = CellRec{d[i * w + j], int32_t(i), int32_t(j)};
      found.push(make_obj_sorted(cells, w));
    }
    for (int64_t j = 0; j < w; ++j) {
      bool one = true;
      for (int64_t i = 1; i < h && one; ++i) one = d[i * w + j] == d[j];
      if (!one) continue;
      CellRec* cells = c.alloc_array<CellRec>(size_t(h));
      for (int64_t i = 0; i < h; ++i) cells[i] = CellRec{d[i * w + j], int32_t(i), int32_t(j)};
      found.push(make_obj_sorted(cells, h));
    }
    return make_set(c, found.data, found.n);
  }
  int64_t rows = length(grid);
  for (int64_t i = 0; i < rows; ++i) {
    Value row = elem(grid, i);
    if (!row.is_container()) type_error();
    int64_t n = length(row);
    bool one = n > 0;
    for (int64_t q = 1; q < n && one; ++q) one = eq(elem(row, q), elem(row, 0));
    if (!one) continue;
    CellSetBuilder obj(c, w + 1);
    for (int64_t j = 0; j < w; ++j) obj.add_value(py_index(row, j), i, j);
    found.push(obj.finish());
  }
  // Columns: zip(*grid), as long as the shortest row.
  int64_t ncols = INT64_MAX;
  for (int64_t i = 0; i < rows; ++i) ncols = std::min(ncols, length(elem(grid, i)));
  for (int64_t j = 0; j < ncols; ++j) {
    bool one = true;
    Value top = elem(elem(grid, 0), j);
    for (int64_t i = 1; i < rows && one; ++i) one = eq(elem(elem(grid, i), j), top);
    if (!one) continue;
    CellSetBuilder obj(c, h + 1);
    for (int64_t i = 0; i < h; ++i) obj.add_value(py_index(elem(grid, i), j), i, j);
    found.push(obj.finish());
  }
  return make_set(c, found.data, found.n);
}

namespace {

Value period(Ctx& c, const Value& obj, bool vertical) {
  Value normalized = normalize_value(c, obj);
  int64_t ext = vertical ? piece_height(c, normalized) : piece_width(c, normalized);
  if (ext <= 1) return Value::integer(ext);
  want_cells(normalized);
  int64_t n = length(normalized);
  if (normalized.kind == OBJ) {
    const CellRec* cells = normalized.cells();
    for (int64_t p = 1; p < ext; ++p) {
      c.tick(n);
      bool all = true;
      for (int64_t k = 0; k < n && all; ++k) {
        CellRec r = cells[k];
        if (vertical) {
          if (r.i < p) continue;
          r.i -= int32_t(p);
        } else {
          if (r.j < p) continue;
          r.j -= int32_t(p);
        }
        all = std::binary_search(cells, cells + n, r);
      }
      if (all) return Value::integer(p);
    }
    return Value::integer(ext);
  }
  for (int64_t p = 1; p < ext; ++p) {
    c.tick(n);
    bool all = true;
    for (int64_t k = 0; k < n && all; ++k) {
      Value cell = elem(normalized, k);
      int64_t i = 0, j = 0;
      location(elem(cell, 1), i, j);
      if (vertical ? i < p : j < p) continue;
      Value moved = make_2tuple(c, elem(cell, 0), vertical ? make_pair(c, i - p, j) : make_pair(c, i, j - p));
      all = contains(normalized, moved);
    }
    if (all) return Value::integer(p);
  }
  return Value::integer(ext);
}

}  // namespace

PRIM(hperiod) { return period(c, a[0], false); }
PRIM(vperiod) { return period(c, a[0], true); }

}  // namespace codeit
