#include "values.hpp"

#include <algorithm>

#include "functions.hpp"

namespace codeit {

thread_local Escape* tl_escape = nullptr;

namespace {

inline int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

// value_size saturates here: shared parts can make the counted size astronomically large.
constexpr int64_t kSizeCeiling = int64_t(1) << 60;

int cmp_bytes(const int8_t* a, int64_t na, const int8_t* b, int64_t nb) {
  int64_t m = na < nb ? na : nb;
  for (int64_t k = 0; k < m; ++k)
    if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
  return cmp_i64(na, nb);
}

int cmp_grids(const GridHdr* a, const GridHdr* b) {
  int64_t h = a->h < b->h ? a->h : b->h;
  for (int64_t r = 0; r < h; ++r) {
    int c = cmp_bytes(a->data() + r * a->w, a->w, b->data() + r * b->w, b->w);
    if (c) return c;
  }
  return cmp_i64(a->h, b->h);
}

int cmp_generic_seq(const Value& a, const Value& b) {
  int64_t na = length(a), nb = length(b);
  int64_t m = na < nb ? na : nb;
  for (int64_t k = 0; k < m; ++k) {
    int c = cmp(elem(a, k), elem(b, k));
    if (c) return c;
  }
  return cmp_i64(na, nb);
}

int cmp_tuple(const Value& a, const Value& b) {
  if (a.kind == b.kind) {
    switch (a.kind) {
      case PAIR:
        if (a.p.a != b.p.a) return a.p.a < b.p.a ? -1 : 1;
        return cmp_i64(a.p.b, b.p.b);
      case CELL:
        if (a.n != b.n) return a.n < b.n ? -1 : 1;
        if (a.p.a != b.p.a) return a.p.a < b.p.a ? -1 : 1;
        return cmp_i64(a.p.b, b.p.b);
      case ITUP: return cmp_bytes(a.bytes(), a.n, b.bytes(), b.n);
      case GRID: return cmp_grids(a.grid(), b.grid());
      default: break;
    }
  }
  return cmp_generic_seq(a, b);
}

int cmp_set(const Value& a, const Value& b) {
  if (a.kind == b.kind) {
    int64_t m = a.n < b.n ? a.n : b.n;
    if (a.kind == OBJ) {
      const CellRec *x = a.cells(), *y = b.cells();
      for (int64_t k = 0; k < m; ++k) {
        if (x[k] == y[k]) continue;
        return x[k] < y[k] ? -1 : 1;
      }
      return cmp_i64(a.n, b.n);
    }
    if (a.kind == IDX) {
      const PairRec *x = a.pairs(), *y = b.pairs();
      for (int64_t k = 0; k < m; ++k) {
        if (x[k] == y[k]) continue;
        return x[k] < y[k] ? -1 : 1;
      }
      return cmp_i64(a.n, b.n);
    }
  }
  return cmp_generic_seq(a, b);
}

struct ValueLess {
  bool operator()(const Value& x, const Value& y) const { return cmp(x, y) < 0; }
};

Value seq_value(Ctx& c, Kind kind, const Value* e, int64_t n) {
  if (n > INT32_MAX) fail(SIZE_LIMIT);
  SeqHdr* h = static_cast<SeqHdr*>(c.alloc(sizeof(SeqHdr) + size_t(n) * sizeof(Value)));
  Value* out = reinterpret_cast<Value*>(h + 1);
  int64_t size = 1;
  int32_t depth = 0;
  for (int64_t k = 0; k < n; ++k) {
    out[k] = e[k];
    size += value_size(e[k]);
    if (size > kSizeCeiling) size = kSizeCeiling;
    int32_t d = value_depth(e[k]);
    if (d > depth) depth = d;
  }
  if (depth + 1 > kMaxValueDepth) fail(RUNTIME_ERROR);
  h->size = size;
  h->depth = depth + 1;
  h->spare = 0;
  return Value::container(kind, int32_t(n), h);
}

}  // namespace

int cmp(const Value& a, const Value& b) {
  Category ca = category(a.kind), cb = category(b.kind);
  if (ca != cb) return ca < cb ? -1 : 1;
  switch (ca) {
    case C_NONE: return 0;
    case C_INT: return cmp_i64(a.i, b.i);
    case C_TUPLE: return cmp_tuple(a, b);
    case C_SET: return cmp_set(a, b);
    case C_FUNC: return cmp_func(a.func(), b.func());
  }
  return 0;
}

bool eq(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;  // canonical forms: one kind per Python value
  switch (a.kind) {
    case NONE: return true;
    case INT: return a.i == b.i;
    case PAIR: return a.p.a == b.p.a && a.p.b == b.p.b;
    case CELL: return a.n == b.n && a.p.a == b.p.a && a.p.b == b.p.b;
    case ITUP: return a.n == b.n && std::memcmp(a.ptr, b.ptr, size_t(a.n)) == 0;
    case GRID: {
      const GridHdr *x = a.grid(), *y = b.grid();
      return x->h == y->h && x->w == y->w &&
             std::memcmp(x->data(), y->data(), size_t(x->h) * size_t(x->w)) == 0;
    }
    case OBJ:
      return a.n == b.n && std::memcmp(a.ptr, b.ptr, size_t(a.n) * sizeof(CellRec)) == 0;
    case IDX:
      return a.n == b.n && std::memcmp(a.ptr, b.ptr, size_t(a.n) * sizeof(PairRec)) == 0;
    default: return a.n == b.n && cmp(a, b) == 0;
  }
}

bool py_lt(const Value& a, const Value& b) {
  if (a.kind == INT && b.kind == INT) return a.i < b.i;
  Category ca = category(a.kind), cb = category(b.kind);
  if (ca == C_TUPLE && cb == C_TUPLE) {
    int64_t na = length(a), nb = length(b);
    int64_t m = na < nb ? na : nb;
    for (int64_t k = 0; k < m; ++k) {
      Value x = elem(a, k), y = elem(b, k);
      if (!eq(x, y)) return py_lt(x, y);
    }
    return na < nb;
  }
  if (ca == C_SET && cb == C_SET) return length(a) < length(b) && is_subset(a, b);
  type_error();
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case NONE: return false;
    case INT: return v.i != 0;
    case FUNC: return true;
    default: return length(v) != 0;
  }
}

int64_t value_size(const Value& v) {
  switch (v.kind) {
    case PAIR: return 3;
    case CELL: return 5;
    case ITUP: return 1 + int64_t(v.n);
    case GRID: return 1 + int64_t(v.grid()->h) * (1 + int64_t(v.grid()->w));
    case TUP: case SET: return v.n == 0 ? 1 : v.seq()->size;
    case OBJ: return 1 + 5 * int64_t(v.n);
    case IDX: return 1 + 3 * int64_t(v.n);
    default: return 1;
  }
}

int32_t value_depth(const Value& v) {
  switch (v.kind) {
    case PAIR: case ITUP: return 1;
    case CELL: case GRID: case IDX: return 2;
    case OBJ: return 3;
    case TUP: case SET: return v.n == 0 ? 1 : v.seq()->depth;
    default: return 0;  // a function counts as an atom, as in values.value_size
  }
}

bool contains(const Value& container, const Value& x) {
  switch (container.kind) {
    case OBJ: {
      if (x.kind != CELL) return false;
      CellRec key{x.n, x.p.a, x.p.b};
      return std::binary_search(container.cells(), container.cells() + container.n, key);
    }
    case IDX: {
      if (x.kind != PAIR) return false;
      PairRec key{x.p.a, x.p.b};
      return std::binary_search(container.pairs(), container.pairs() + container.n, key);
    }
    case SET: {
      const Value* e = container.elems();
      return std::binary_search(e, e + container.n, x, ValueLess());
    }
    case PAIR: case CELL: case ITUP: case GRID: case TUP: {
      int64_t n = length(container);
      for (int64_t k = 0; k < n; ++k)
        if (eq(elem(container, k), x)) return true;
      return false;
    }
    default: type_error();
  }
}

bool is_subset(const Value& a, const Value& b) {
  int64_t na = length(a), nb = length(b);
  if (na > nb) return false;
  if (a.kind == OBJ && b.kind == OBJ)
    return std::includes(b.cells(), b.cells() + nb, a.cells(), a.cells() + na);
  if (a.kind == IDX && b.kind == IDX)
    return std::includes(b.pairs(), b.pairs() + nb, a.pairs(), a.pairs() + na);
  int64_t k = 0;
  for (int64_t q = 0; q < na; ++q) {
    Value x = elem(a, q);
    for (;;) {
      if (k >= nb) return false;
      int r = cmp(elem(b, k), x);
      if (r == 0) { ++k; break; }
      if (r > 0) return false;
      ++k;
    }
  }
  return true;
}

// ---- builders ---------------------------------------------------------------------------

Value make_int(int64_t x) { return Value::integer(x); }

Value empty_tuple() { return Value::container(TUP, 0, nullptr); }
Value empty_set() { return Value::container(SET, 0, nullptr); }

Value make_pair(Ctx& c, int64_t a, int64_t b) {
  if (fits_i32(a) && fits_i32(b)) return Value::pair(int32_t(a), int32_t(b));
  Value e[2] = {Value::integer(a), Value::integer(b)};
  return seq_value(c, TUP, e, 2);
}

Value make_2tuple(Ctx& c, const Value& x, const Value& y) {
  Value e[2] = {x, y};
  return make_tuple(c, e, 2);
}

Value make_tuple(Ctx& c, const Value* e, int64_t n) {
  if (n == 0) return empty_tuple();
  bool all_int = true, all_i8 = true;
  for (int64_t k = 0; k < n; ++k) {
    if (e[k].kind != INT) { all_int = false; break; }
    if (!fits_i8(e[k].i)) all_i8 = false;
  }
  if (all_int) {
    if (n == 2 && fits_i32(e[0].i) && fits_i32(e[1].i))
      return Value::pair(int32_t(e[0].i), int32_t(e[1].i));
    if (n != 2 && all_i8) {
      int8_t* d = c.alloc_array<int8_t>(size_t(n));
      for (int64_t k = 0; k < n; ++k) d[k] = int8_t(e[k].i);
      return Value::container(ITUP, int32_t(n), d);
    }
    return seq_value(c, TUP, e, n);
  }
  if (n == 2 && e[0].kind == INT && fits_i32(e[0].i) && e[1].kind == PAIR)
    return Value::cell(int32_t(e[0].i), e[1].p.a, e[1].p.b);
  // A grid: every element an int8 row of the same width.
  int64_t w = -1;
  bool grid = true;
  for (int64_t k = 0; k < n && grid; ++k) {
    int64_t rw;
    if (e[k].kind == ITUP) rw = e[k].n;
    else if (e[k].kind == PAIR && fits_i8(e[k].p.a) && fits_i8(e[k].p.b)) rw = 2;
    else { grid = false; break; }
    if (w < 0) w = rw;
    else if (rw != w) grid = false;
  }
  if (grid) {
    GridHdr* g = new_grid(c, n, w);
    int8_t* d = g->data();
    for (int64_t k = 0; k < n; ++k, d += w) {
      if (e[k].kind == PAIR) { d[0] = int8_t(e[k].p.a); d[1] = int8_t(e[k].p.b); }
      else std::memcpy(d, e[k].ptr, size_t(w));
    }
    return grid_value(g);
  }
  return seq_value(c, TUP, e, n);
}

Value make_obj_sorted(CellRec* cells, int64_t n) {
  if (n == 0) return empty_set();
  return Value::container(OBJ, int32_t(n), cells);
}

Value make_idx_sorted(PairRec* pairs, int64_t n) {
  if (n == 0) return empty_set();
  return Value::container(IDX, int32_t(n), pairs);
}

// Sorting by one packed 64-bit key is several times faster than comparing field by field:
// a pair always packs (two biased int32), a cell when its three fields fit int16.
namespace {

inline uint64_t pair_key(const PairRec& p) {
  return (uint64_t(uint32_t(p.i) ^ 0x80000000u) << 32) | uint64_t(uint32_t(p.j) ^ 0x80000000u);
}
inline PairRec pair_of_key(uint64_t k) {
  return PairRec{int32_t(uint32_t(k >> 32) ^ 0x80000000u), int32_t(uint32_t(k) ^ 0x80000000u)};
}
inline bool cell_packs(const CellRec& r) {
  return r.c >= -32768 && r.c <= 32767 && r.i >= -32768 && r.i <= 32767 && r.j >= -32768 && r.j <= 32767;
}
inline uint64_t cell_key(const CellRec& r) {
  return (uint64_t(uint16_t(r.c) ^ 0x8000u) << 32) | (uint64_t(uint16_t(r.i) ^ 0x8000u) << 16) |
         uint64_t(uint16_t(r.j) ^ 0x8000u);
}
inline CellRec cell_of_key(uint64_t k) {
  return CellRec{int16_t(uint16_t(k >> 32) ^ 0x8000u), int16_t(uint16_t(k >> 16) ^ 0x8000u),
                 int16_t(uint16_t(k) ^ 0x8000u)};
}

void sort_keys(uint64_t* k, int64_t n) {
  if (n <= 24) {
    for (int64_t a = 1; a < n; ++a) {
      uint64_t x = k[a];
      int64_t b = a;
      for (; b > 0 && k[b - 1] > x; --b) k[b] = k[b - 1];
      k[b] = x;
    }
    return;
  }
  std::sort(k, k + n);
}

}  // namespace

void sort_cells(Ctx& c, CellRec* cells, int64_t n) {
  if (std::is_sorted(cells, cells + n)) return;
  bool packs = true;
  for (int64_t k = 0; k < n && packs; ++k) packs = cell_packs(cells[k]);
  if (!packs) {
    std::sort(cells, cells + n);
    return;
  }
  Arena::Mark mark = c.arena.mark();
  uint64_t* keys = c.alloc_array<uint64_t>(size_t(n));
  for (int64_t k = 0; k < n; ++k) keys[k] = cell_key(cells[k]);
  sort_keys(keys, n);
  for (int64_t k = 0; k < n; ++k) cells[k] = cell_of_key(keys[k]);
  c.arena.release(mark);
}

void sort_pairs(Ctx& c, PairRec* pairs, int64_t n) {
  if (std::is_sorted(pairs, pairs + n)) return;
  Arena::Mark mark = c.arena.mark();
  uint64_t* keys = c.alloc_array<uint64_t>(size_t(n));
  for (int64_t k = 0; k < n; ++k) keys[k] = pair_key(pairs[k]);
  sort_keys(keys, n);
  for (int64_t k = 0; k < n; ++k) pairs[k] = pair_of_key(keys[k]);
  c.arena.release(mark);
}

// Sorted and deduplicated in place through a bitmap over the bounding box, when the box is
// small next to n (grid-sized patches); returns the new count, or -1 when the box is too big.
namespace {

constexpr int64_t kBitmapMinArea = 4096;

int64_t bitmap_unique_pairs(Ctx& c, PairRec* p, int64_t n) {
  int64_t i0 = p[0].i, i1 = p[0].i, j0 = p[0].j, j1 = p[0].j;
  for (int64_t k = 1; k < n; ++k) {
    i0 = std::min<int64_t>(i0, p[k].i); i1 = std::max<int64_t>(i1, p[k].i);
    j0 = std::min<int64_t>(j0, p[k].j); j1 = std::max<int64_t>(j1, p[k].j);
  }
  const int64_t hh = i1 - i0 + 1, ww = j1 - j0 + 1;
  if (hh * ww > std::max(kBitmapMinArea, 16 * n)) return -1;
  Arena::Mark mark = c.arena.mark();
  const int64_t words = (hh * ww + 63) / 64;
  uint64_t* bits = c.alloc_array<uint64_t>(size_t(words));
  std::memset(bits, 0, size_t(words) * 8);
  for (int64_t k = 0; k < n; ++k) {
    int64_t q = (p[k].i - i0) * ww + (p[k].j - j0);
    bits[q >> 6] |= uint64_t(1) << (q & 63);
  }
  int64_t m = 0;
  for (int64_t wd = 0; wd < words; ++wd)
    for (uint64_t b = bits[wd]; b; b &= b - 1) {
      int64_t q = wd * 64 + __builtin_ctzll(b);
      p[m++] = PairRec{int32_t(i0 + q / ww), int32_t(j0 + q % ww)};
    }
  c.arena.release(mark);
  return m;
}

int64_t bitmap_unique_cells(Ctx& c, CellRec* p, int64_t n) {
  int64_t c0 = p[0].c, c1 = p[0].c, i0 = p[0].i, i1 = p[0].i, j0 = p[0].j, j1 = p[0].j;
  for (int64_t k = 1; k < n; ++k) {
    c0 = std::min<int64_t>(c0, p[k].c); c1 = std::max<int64_t>(c1, p[k].c);
    i0 = std::min<int64_t>(i0, p[k].i); i1 = std::max<int64_t>(i1, p[k].i);
    j0 = std::min<int64_t>(j0, p[k].j); j1 = std::max<int64_t>(j1, p[k].j);
  }
  const int64_t cc = c1 - c0 + 1, hh = i1 - i0 + 1, ww = j1 - j0 + 1;
  if (cc > 64 || hh * ww > 1 << 20 || cc * hh * ww > std::max(kBitmapMinArea, 16 * n)) return -1;
  Arena::Mark mark = c.arena.mark();
  const int64_t area = hh * ww, words = (cc * area + 63) / 64;
  uint64_t* bits = c.alloc_array<uint64_t>(size_t(words));
  std::memset(bits, 0, size_t(words) * 8);
  for (int64_t k = 0; k < n; ++k) {
    int64_t q = (p[k].c - c0) * area + (p[k].i - i0) * ww + (p[k].j - j0);
    bits[q >> 6] |= uint64_t(1) << (q & 63);
  }
  int64_t m = 0;
  for (int64_t wd = 0; wd < words; ++wd)
    for (uint64_t b = bits[wd]; b; b &= b - 1) {
      int64_t q = wd * 64 + __builtin_ctzll(b);
      int64_t r = q % area;
      p[m++] = CellRec{int32_t(c0 + q / area), int32_t(i0 + r / ww), int32_t(j0 + r % ww)};
    }
  c.arena.release(mark);
  return m;
}

}  // namespace

int64_t unique_cells(Ctx& c, CellRec* cells, int64_t n) {
  if (n <= 1) return n;
  c.tick(n);
  if (!std::is_sorted(cells, cells + n)) {
    int64_t m = n > 32 ? bitmap_unique_cells(c, cells, n) : -1;
    if (m >= 0) return m;
    sort_cells(c, cells, n);
  }
  return std::unique(cells, cells + n) - cells;
}

int64_t unique_pairs(Ctx& c, PairRec* pairs, int64_t n) {
  if (n <= 1) return n;
  c.tick(n);
  if (!std::is_sorted(pairs, pairs + n)) {
    int64_t m = n > 32 ? bitmap_unique_pairs(c, pairs, n) : -1;
    if (m >= 0) return m;
    sort_pairs(c, pairs, n);
  }
  return std::unique(pairs, pairs + n) - pairs;
}

Value make_obj(Ctx& c, CellRec* cells, int64_t n) {
  if (n > INT32_MAX) fail(SIZE_LIMIT);
  return make_obj_sorted(cells, unique_cells(c, cells, n));
}

Value make_idx(Ctx& c, PairRec* pairs, int64_t n) {
  if (n > INT32_MAX) fail(SIZE_LIMIT);
  return make_idx_sorted(pairs, unique_pairs(c, pairs, n));
}

Value make_set_sorted(Ctx& c, const Value* e, int64_t n) {
  if (n == 0) return empty_set();
  bool cells = true, pairs = true;
  for (int64_t k = 0; k < n; ++k) {
    if (e[k].kind != CELL) cells = false;
    if (e[k].kind != PAIR) pairs = false;
  }
  if (cells) {
    CellRec* d = c.alloc_array<CellRec>(size_t(n));
    for (int64_t k = 0; k < n; ++k) d[k] = CellRec{e[k].n, e[k].p.a, e[k].p.b};
    return make_obj_sorted(d, n);
  }
  if (pairs) {
    PairRec* d = c.alloc_array<PairRec>(size_t(n));
    for (int64_t k = 0; k < n; ++k) d[k] = PairRec{e[k].p.a, e[k].p.b};
    return make_idx_sorted(d, n);
  }
  return seq_value(c, SET, e, n);
}

Value make_set(Ctx& c, Value* e, int64_t n) {
  if (n == 0) return empty_set();
  bool cells = true, pairs = true;
  for (int64_t k = 0; k < n; ++k) {
    if (e[k].kind != CELL) cells = false;
    if (e[k].kind != PAIR) pairs = false;
  }
  if (cells) {
    CellRec* d = c.alloc_array<CellRec>(size_t(n));
    for (int64_t k = 0; k < n; ++k) d[k] = CellRec{e[k].n, e[k].p.a, e[k].p.b};
    return make_obj(c, d, n);
  }
  if (pairs) {
    PairRec* d = c.alloc_array<PairRec>(size_t(n));
    for (int64_t k = 0; k < n; ++k) d[k] = PairRec{e[k].p.a, e[k].p.b};
    return make_idx(c, d, n);
  }
  c.tick(n * 8);
  ValueLess less;
  if (!std::is_sorted(e, e + n, less)) std::stable_sort(e, e + n, less);
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k)
    if (m == 0 || cmp(e[m - 1], e[k]) != 0) e[m++] = e[k];
  return seq_value(c, SET, e, m);
}

GridHdr* new_grid(Ctx& c, int64_t h, int64_t w) {
  if (h > INT32_MAX || w > INT32_MAX || h * w > (int64_t(1) << 40)) fail(SIZE_LIMIT);
  GridHdr* g = static_cast<GridHdr*>(c.alloc(sizeof(GridHdr) + size_t(h * w)));
  g->h = int32_t(h);
  g->w = int32_t(w);
  return g;
}

Value grid_value(const GridHdr* g) { return Value::container(GRID, g->h, g); }

Value make_grid_i64(Ctx& c, int64_t h, int64_t w, const int64_t* cells) {
  if (h == 0) return empty_tuple();
  bool small = w > 0;
  for (int64_t k = 0; k < h * w && small; ++k) small = fits_i8(cells[k]);
  if (small) {
    GridHdr* g = new_grid(c, h, w);
    for (int64_t k = 0; k < h * w; ++k) g->data()[k] = int8_t(cells[k]);
    return grid_value(g);
  }
  Value* rows = c.alloc_array<Value>(size_t(h));
  Value* tmp = c.alloc_array<Value>(size_t(w > 0 ? w : 1));
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) tmp[j] = Value::integer(cells[i * w + j]);
    rows[i] = make_tuple(c, tmp, w);
  }
  return make_tuple(c, rows, h);
}

// ---- views ------------------------------------------------------------------------------

namespace {

// A tuple of ints (a grid row) of any representation; fills its length.
bool is_int_row(const Value& r, int64_t& len) {
  switch (r.kind) {
    case PAIR: len = 2; return true;
    case ITUP: len = r.n; return true;
    case TUP: {
      for (int64_t k = 0; k < r.n; ++k)
        if (r.elems()[k].kind != INT) return false;
      len = r.n;
      return true;
    }
    default: return false;
  }
}

}  // namespace

bool is_grid(const Value& v) {
  if (v.kind == GRID) return true;
  if (v.kind != TUP) {
    // A PAIR, CELL or ITUP has int (or pair) elements, never rows.
    return false;
  }
  if (v.n == 0) return true;
  int64_t w = -1;
  for (int64_t k = 0; k < v.n; ++k) {
    int64_t len;
    if (!is_int_row(v.elems()[k], len)) return false;
    if (w < 0) w = len;
    else if (len != w) return false;
  }
  return true;
}

GridView grid_view(Ctx& c, const Value& v) {
  GridView g;
  if (v.kind == GRID) {
    g.h = v.grid()->h;
    g.w = v.grid()->w;
    g.d8 = v.grid()->data();
    return g;
  }
  if (!is_grid(v)) type_error();
  g.h = v.n;
  g.w = 0;
  if (g.h == 0) {
    g.d64 = nullptr;
    return g;
  }
  g.w = length(v.elems()[0]);
  int64_t* d = c.alloc_array<int64_t>(size_t(g.h * g.w + 1));
  for (int64_t i = 0; i < g.h; ++i) {
    Value row = v.elems()[i];
    for (int64_t j = 0; j < g.w; ++j) d[i * g.w + j] = elem(row, j).i;
  }
  g.d64 = d;
  return g;
}

const Value* elements(Ctx& c, const Value& v) {
  if (v.kind == TUP || v.kind == SET) return v.n ? v.elems() : nullptr;
  int64_t n = length(v);
  Value* out = c.alloc_array<Value>(size_t(n > 0 ? n : 1));
  for (int64_t k = 0; k < n; ++k) out[k] = elem(v, k);
  return out;
}

}  // namespace codeit
