// Helpers shared by the primitive implementations: the argument checks of dsl/primitives.py
// (its _integer, _pair, _container, _grid_dims, _indices, _extent, ...) with the same
// TYPE_ERROR / RUNTIME_ERROR outcomes, arena-backed growable buffers, and patch walkers.
#pragma once

#include <algorithm>
#include <cstdint>

#include "context.hpp"
#include "functions.hpp"
#include "value.hpp"
#include "values.hpp"

namespace codeit {

#define PRIM(name) Value p_##name([[maybe_unused]] Ctx& c, const Value* a)

// A growable array in the job's arena (old storage is simply abandoned when it grows).
template <class T>
struct ABuf {
  Ctx& c;
  T* data = nullptr;
  int64_t n = 0, cap = 0;
  explicit ABuf(Ctx& ctx, int64_t reserve = 16) : c(ctx) { grow(reserve < 4 ? 4 : reserve); }
  void grow(int64_t want) {
    int64_t nc = cap ? cap : 4;
    while (nc < want) nc *= 2;
    T* d = c.alloc_array<T>(size_t(nc));
    if (n) std::memcpy(static_cast<void*>(d), static_cast<const void*>(data), size_t(n) * sizeof(T));
    data = d;
    cap = nc;
  }
  void push(const T& x) {
    if (n == cap) grow(cap * 2);
    data[n++] = x;
  }
  T& operator[](int64_t k) { return data[k]; }
};

// ---- checks (dsl/primitives.py helpers) --------------------------------------------------

// _integer
inline int64_t want_int(const Value& v) {
  if (v.kind != INT) type_error();
  return v.i;
}

// _not_a_pair: the empty tuple where a pair is needed is a runtime error, anything else a type
// error.
[[noreturn]] inline void not_a_pair(const Value& v) {
  if (v.kind == TUP && v.n == 0) runtime_error();
  type_error();
}

// _pair
inline void want_pair(const Value& v, int64_t& x, int64_t& y) {
  if (!as_pair(v, x, y)) not_a_pair(v);
}

// _is_numeric_pair: false for an int (x = the int), true for a pair.
inline bool numeric_pair(const Value& v, int64_t& x, int64_t& y) {
  if (v.kind == INT) {
    x = y = v.i;
    return false;
  }
  if (as_pair(v, x, y)) return true;
  not_a_pair(v);
}

inline void want_container(const Value& v) {
  if (!v.is_container()) type_error();
}
inline void want_tuple(const Value& v) {
  if (!v.is_tuple()) type_error();
}
inline void want_set(const Value& v) {
  if (!v.is_set()) type_error();
}

// _grid_dims: (rows, length of the first row).
inline void grid_dims(const Value& g, int64_t& h, int64_t& w) {
  if (g.kind == GRID) {
    h = g.grid()->h;
    w = g.grid()->w;
    return;
  }
  if (!g.is_tuple()) type_error();
  if (length(g) == 0) runtime_error();
  Value first = elem(g, 0);
  if (!first.is_tuple()) type_error();
  h = length(g);
  w = length(first);
}

// Python's x[k] on a tuple (negative k from the end); IndexError is a runtime error, a
// non-subscriptable value a type error.
inline Value py_index(const Value& v, int64_t k) {
  if (!v.is_tuple()) type_error();
  int64_t n = length(v);
  if (k < 0) k += n;
  if (k < 0 || k >= n) runtime_error();
  return elem(v, k);
}

// Python's len(x).
inline int64_t py_len(const Value& v) {
  if (!v.is_container()) type_error();
  return length(v);
}

// Python's `a, b = v`: v iterable (else TYPE_ERROR) of exactly two elements (else
// ValueError, RUNTIME_ERROR).
inline void unpack2(const Value& v, Value& x, Value& y) {
  if (!v.is_container()) type_error();
  if (length(v) != 2) runtime_error();
  x = elem(v, 0);
  y = elem(v, 1);
}

// The reference's _cell_colors reading of one element (`for v, _ in obj`): any container of
// two elements gives its first; anything else is a type error.
inline Value cell_color(const Value& e) {
  if (!e.is_container() || length(e) != 2) type_error();
  return elem(e, 0);
}

// Whether e is a location (i, j); fills it.
inline bool location(const Value& e, int64_t& i, int64_t& j) { return as_pair(e, i, j); }

// _patch_is_object for a non-empty tuple or frozenset: cells, or locations, else TYPE_ERROR.
bool patch_is_object(const Value& patch);

// _indices: the locations of a patch (the patch itself when it is made of locations).
Value indices_of(Ctx& c, const Value& patch);

// _cells: the patch, checked to be empty or made of cells.
void want_cells(const Value& obj);

struct Extent {
  int64_t top, left, bottom, right;
};
// _extent of a non-empty patch (RUNTIME_ERROR when empty).
Extent extent(Ctx& c, const Value& patch);

// Calls f(i, j) for every element of a container of locations (IDX, or any container whose
// elements are locations).
template <class F>
inline void for_each_location(const Value& locs, F&& f) {
  if (locs.kind == IDX) {
    const PairRec* p = locs.pairs();
    for (int32_t k = 0; k < locs.n; ++k) f(int64_t(p[k].i), int64_t(p[k].j));
    return;
  }
  int64_t n = length(locs);
  for (int64_t k = 0; k < n; ++k) {
    int64_t i = 0, j = 0;
    location(elem(locs, k), i, j);
    f(i, j);
  }
}

// Builds frozensets of locations: PairRec while every coordinate fits int32.
struct LocSetBuilder {
  Ctx& c;
  ABuf<PairRec> pairs;
  ABuf<Value> wide;
  bool is_wide = false;
  explicit LocSetBuilder(Ctx& ctx, int64_t reserve = 16) : c(ctx), pairs(ctx, reserve), wide(ctx, 4) {}
  void add(int64_t i, int64_t j) {
    if (!is_wide && fits_i32(i) && fits_i32(j)) {
      pairs.push(PairRec{int32_t(i), int32_t(j)});
      return;
    }
    if (!is_wide) {
      is_wide = true;
      for (int64_t k = 0; k < pairs.n; ++k) wide.push(Value::pair(pairs[k].i, pairs[k].j));
    }
    wide.push(make_pair(c, i, j));
  }
  Value finish() {
    if (!is_wide) return make_idx(c, pairs.data, pairs.n);
    return make_set(c, wide.data, wide.n);
  }
};

// Builds frozensets of cells (color value, (i, j)): CellRec while everything fits int32.
struct CellSetBuilder {
  Ctx& c;
  ABuf<CellRec> cells;
  ABuf<Value> wide;
  bool is_wide = false;
  explicit CellSetBuilder(Ctx& ctx, int64_t reserve = 16) : c(ctx), cells(ctx, reserve), wide(ctx, 4) {}
  void add(int64_t v, int64_t i, int64_t j) {
    if (!is_wide && fits_i32(v) && fits_i32(i) && fits_i32(j)) {
      cells.push(CellRec{int32_t(v), int32_t(i), int32_t(j)});
      return;
    }
    add_value(Value::integer(v), i, j);
  }
  void add_value(const Value& v, int64_t i, int64_t j) {
    if (!is_wide && v.kind == INT && fits_i32(v.i) && fits_i32(i) && fits_i32(j)) {
      cells.push(CellRec{int32_t(v.i), int32_t(i), int32_t(j)});
      return;
    }
    if (!is_wide) {
      is_wide = true;
      for (int64_t k = 0; k < cells.n; ++k)
        wide.push(Value::cell(cells[k].c, cells[k].i, cells[k].j));
    }
    wide.push(make_2tuple(c, v, make_pair(c, i, j)));
  }
  Value finish() {
    if (!is_wide) return make_obj(c, cells.data, cells.n);
    return make_set(c, wide.data, wide.n);
  }
};

// Python floor division and modulo (b != 0). INT64_MIN // -1 is 2**63: past 64 bits, a size
// fault as in checked arithmetic below.
inline int64_t floordiv(int64_t a, int64_t b) {
  if (b == -1 && a == INT64_MIN) fail(SIZE_LIMIT);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
inline int64_t floormod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Checked int64 arithmetic: an int past 64 bits is a size fault (SIZE_LIMIT), in the
// reference too (primitives._int64), so that no program can grow ever slower big ints.
inline int64_t add64(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail(SIZE_LIMIT);
  return r;
}
inline int64_t sub64(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) fail(SIZE_LIMIT);
  return r;
}
inline int64_t mul64(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail(SIZE_LIMIT);
  return r;
}
inline int64_t abs64(int64_t a) { return a < 0 ? sub64(0, a) : a; }

// Python slice bounds of seq[start:stop] with step 1 (either bound may be absent).
inline void slice_bounds(int64_t n, bool has_start, int64_t start, bool has_stop, int64_t stop,
                         int64_t& lo, int64_t& hi) {
  lo = has_start ? start : 0;
  hi = has_stop ? stop : n;
  if (lo < 0) { lo += n; if (lo < 0) lo = 0; }
  else if (lo > n) lo = n;
  if (hi < 0) { hi += n; if (hi < 0) hi = 0; }
  else if (hi > n) hi = n;
  if (hi < lo) hi = lo;
}

// t[lo:hi] of a tuple value (bounds already clipped).
Value tuple_slice(Ctx& c, const Value& t, int64_t lo, int64_t hi);
// t[::-1] of a tuple value.
Value tuple_reversed(Ctx& c, const Value& t);
// a + b of two tuple values.
Value tuple_concat(Ctx& c, const Value& a, const Value& b);

// ordered(container): the elements in iteration order, as an array (no copy for TUP/SET).
inline const Value* ordered(Ctx& c, const Value& v) { return elements(c, v); }

// The union of two frozensets.
Value set_union(Ctx& c, const Value& a, const Value& b);
// a minus the elements of container b.
Value set_difference(Ctx& c, const Value& a, const Value& b);

// values.mostcolor core: the most (least) frequent of n values, first in canonical order on
// ties; RUNTIME_ERROR when n == 0.
Value most_frequent(Ctx& c, Value* vals, int64_t n, bool least);
// Same over a histogram of int8 values (counts[v + 128]); RUNTIME_ERROR when all are zero.
int64_t most_frequent_byte(const int64_t* counts, bool least);

// mostcolor of a value (the primitive's semantics).
Value mostcolor_value(Ctx& c, const Value& element, bool least);

}  // namespace codeit
