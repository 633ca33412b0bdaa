// Operations on values: canonical order, Python ==, Python <, truthiness, value_size, and the
// canonical builders every primitive uses to make tuples, sets, grids, objects and index sets.
#pragma once

#include <cstdint>

#include "context.hpp"
#include "value.hpp"

namespace codeit {

// Deepest nesting of values before a build fails (Python would hit its recursion limit in
// value_size / order_key long before the native stack is at risk).
constexpr int32_t kMaxValueDepth = 900;

// Canonical order (dsl/README.md): None < ints < tuples < frozensets < functions; tuples
// lexicographic (shorter prefix first), frozensets by their sorted elements, functions by
// their structural key. Returns <0, 0, >0.
int cmp(const Value& a, const Value& b);

// Python ==. Canonical forms make it structural.
bool eq(const Value& a, const Value& b);

// Python's a < b: ints numerically, tuples lexicographically (first unequal element), sets by
// proper inclusion; any other pair of kinds raises TYPE_ERROR, as Python's TypeError.
bool py_lt(const Value& a, const Value& b);

// Python truth value.
bool truthy(const Value& v);

// dsl/README.md's value_size: 1 for an atom, 1 + the sizes of the elements for a container.
int64_t value_size(const Value& v);

// Nesting depth of a tuple or set (atoms, functions included, 0): the reference's recursive
// value_size fails past Python's recursion limit, so past ~900 levels a build fails too.
int32_t value_depth(const Value& v);

// Membership: Python `x in container` for a tuple or a frozenset (TYPE_ERROR otherwise).
bool contains(const Value& container, const Value& x);

// Subset test a <= b of two frozensets.
bool is_subset(const Value& a, const Value& b);

// ---- canonical builders -----------------------------------------------------------------

Value make_int(int64_t x);
Value make_pair(Ctx& c, int64_t a, int64_t b);
// (x, y) for any two values: a PAIR, a CELL or a generic tuple.
Value make_2tuple(Ctx& c, const Value& x, const Value& y);
// A tuple of the n values e[0..n): picks PAIR, CELL, ITUP, GRID or TUP.
Value make_tuple(Ctx& c, const Value* e, int64_t n);
// A frozenset of the n values e[0..n) (e is reordered): sorted, deduplicated, then OBJ, IDX
// or SET.
Value make_set(Ctx& c, Value* e, int64_t n);
// Same when e is already strictly increasing in canonical order.
Value make_set_sorted(Ctx& c, const Value* e, int64_t n);
// A frozenset of cells / pairs (the array is sorted and deduplicated in place).
Value make_obj(Ctx& c, CellRec* cells, int64_t n);
Value make_idx(Ctx& c, PairRec* pairs, int64_t n);
// Same when already strictly increasing.
Value make_obj_sorted(CellRec* cells, int64_t n);
// Canonical order of cells / pairs in place, duplicates dropped: the new count.
int64_t unique_cells(Ctx& c, CellRec* cells, int64_t n);
int64_t unique_pairs(Ctx& c, PairRec* pairs, int64_t n);
// Canonical order of cells / pairs, in place (duplicates kept).
void sort_cells(Ctx& c, CellRec* cells, int64_t n);
void sort_pairs(Ctx& c, PairRec* pairs, int64_t n);
Value make_idx_sorted(PairRec* pairs, int64_t n);

Value empty_tuple();
Value empty_set();

// A new int8 grid of h >= 1 rows and w >= 1 columns to fill in, then wrap with grid_value.
GridHdr* new_grid(Ctx& c, int64_t h, int64_t w);
Value grid_value(const GridHdr* g);
// A grid of h rows of w columns from int64 cells (row-major): GRID when every value fits
// int8 and h, w >= 1; the empty tuple when h == 0; else a tuple of row tuples.
Value make_grid_i64(Ctx& c, int64_t h, int64_t w, const int64_t* cells);

// ---- views ------------------------------------------------------------------------------

// A grid argument in the sense of values.is_grid: () and tuples of empty rows included,
// rows of any ints. `d8` points at int8 cells when the value is a GRID, else `d64` at a
// materialized copy.
struct GridView {
  int64_t h = 0, w = 0;
  const int8_t* d8 = nullptr;
  const int64_t* d64 = nullptr;
  int64_t at(int64_t i, int64_t j) const { return d8 ? d8[i * w + j] : d64[i * w + j]; }
};

// Whether v is a grid in the sense of values.is_grid.
bool is_grid(const Value& v);
// The GridView of v; TYPE_ERROR when v is not a grid.
GridView grid_view(Ctx& c, const Value& v);

// Whether v is a pair of ints (any size); fills a, b.
inline bool as_pair(const Value& v, int64_t& a, int64_t& b) {
  if (v.kind == PAIR) {
    a = v.p.a;
    b = v.p.b;
    return true;
  }
  if (v.kind == TUP && v.n == 2 && v.elems()[0].kind == INT && v.elems()[1].kind == INT) {
    a = v.elems()[0].i;
    b = v.elems()[1].i;
    return true;
  }
  return false;
}

// Elements of any container materialized as a Value array (no copy for TUP / SET).
const Value* elements(Ctx& c, const Value& v);

}  // namespace codeit
