// Function values and calling them. Mirrors dsl/functions.py: a primitive used as a value,
// compose, chain, matcher, rbind, lbind, power (n >= 2) and fork; only a primitive application
// takes a step, the composite values call their parts.
#pragma once

#include <cstdint>

#include "context.hpp"
#include "value.hpp"

namespace codeit {

// Deepest nesting of function values (compose of compose of ...) before a build fails: the
// comparisons and conversions of such values recurse, and this keeps them off the end of the
// native stack.
constexpr int32_t kMaxFunctionDepth = 10000;

// The tags are those of the structural order keys in functions.py.
enum FKind : uint8_t {
  FK_PRIM = 0,
  FK_COMPOSE = 1,
  FK_CHAIN = 2,
  FK_MATCHER = 3,
  FK_RBIND = 4,
  FK_LBIND = 5,
  FK_POWER = 6,
  FK_FORK = 7,
};

struct FuncObj {
  FKind kind;
  int8_t arity;    // what arc-dsl's lambda would report as co_argcount
  int16_t prim;    // FK_PRIM: primitive id
  int32_t depth;   // nesting depth, for the recursion guard
  int64_t n;       // FK_POWER: repetitions
  Value a, b, c;   // parts, in the order of the order key
};

using PrimFn = Value (*)(Ctx&, const Value*);

struct PrimInfo {
  const char* name;
  int arity;
  PrimFn fn;
};

// The 160 primitives in the row order of dsl/primitives.tsv (primitives.cpp).
extern const PrimInfo kPrims[kNumPrimitives];

// A primitive as a function value.
Value prim_value(int id);

// Function values built by compose, chain, ... (arity as functions.py computes it).
Value make_func(Ctx& c, FKind kind, const Value& a, const Value& b, const Value& d, int64_t n);

// Calls function value f on nargs arguments. TYPE_ERROR when f is not a function or the
// argument count is wrong.
Value call(Ctx& c, const Value& f, const Value* args, int nargs);
inline Value call1(Ctx& c, const Value& f, const Value& x) { return call(c, f, &x, 1); }
inline Value call2(Ctx& c, const Value& f, const Value& x, const Value& y) {
  Value args[2] = {x, y};
  return call(c, f, args, 2);
}

// Applies primitive `id` to exactly its arity's arguments: one step.
Value call_prim(Ctx& c, int id, const Value* args);

// Canonical order of two function values (their structural keys).
int cmp_func(const FuncObj* a, const FuncObj* b);

inline int arity_of(const Value& f) { return f.func()->arity; }

}  // namespace codeit
