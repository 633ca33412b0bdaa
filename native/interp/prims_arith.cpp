// Arithmetic and logic primitives (dsl/primitives.py "arithmetic", "logic").
#include "prim_util.hpp"

namespace codeit {

namespace {

template <class Op>
Value numeric2(Ctx& c, const Value* a, Op op) {
  int64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  bool pa = numeric_pair(a[0], a0, a1);
  bool pb = numeric_pair(a[1], b0, b1);
  if (!pa && !pb) return Value::integer(op(a0, b0));
  // An int paired with a pair acts on both components (numeric_pair copied it into both).
  int64_t x = op(a0, b0);
  int64_t y = op(a1, b1);
  return make_pair(c, x, y);
}

template <class Op>
Value numeric1(Ctx& c, const Value& v, Op op) {
  int64_t x = 0, y = 0;
  if (numeric_pair(v, x, y)) {
    int64_t r0 = op(x);
    int64_t r1 = op(y);
    return make_pair(c, r0, r1);
  }
  return Value::integer(op(x));
}

int64_t checked_floordiv(int64_t x, int64_t y) {
  if (y == 0) runtime_error();
  return floordiv(x, y);
}

int64_t crement_one(int64_t v) {
  if (v == 0) return 0;
  return v > 0 ? add64(v, 1) : sub64(v, 1);
}

int64_t sign_one(int64_t v) { return v == 0 ? 0 : (v > 0 ? 1 : -1); }

}  // namespace

PRIM(identity) {
  return a[0];
}
PRIM(add) { return numeric2(c, a, add64); }
PRIM(subtract) { return numeric2(c, a, sub64); }
PRIM(multiply) { return numeric2(c, a, mul64); }
PRIM(divide) { return numeric2(c, a, checked_floordiv); }
PRIM(invert) {
  return numeric1(c, a[0], [](int64_t x) { return sub64(0, x); });
}
PRIM(even) {
  return Value::boolean(floormod(want_int(a[0]), 2) == 0);
}
PRIM(double) {
  return numeric1(c, a[0], [](int64_t x) { return mul64(x, 2); });
}
PRIM(halve) {
  return numeric1(c, a[0], [](int64_t x) { return floordiv(x, 2); });
}
PRIM(increment) {
  return numeric1(c, a[0], [](int64_t x) { return add64(x, 1); });
}
PRIM(decrement) {
  return numeric1(c, a[0], [](int64_t x) { return sub64(x, 1); });
}
PRIM(crement) { return numeric1(c, a[0], crement_one); }
PRIM(sign) { return numeric1(c, a[0], sign_one); }
PRIM(positive) {
  return Value::boolean(want_int(a[0]) > 0);
}
PRIM(toivec) { return make_2tuple(c, a[0], Value::integer(0)); }
PRIM(tojvec) { return make_2tuple(c, Value::integer(0), a[0]); }
PRIM(astuple) { return make_2tuple(c, a[0], a[1]); }

PRIM(flip) {
  return Value::boolean(!truthy(a[0]));
}
PRIM(equality) {
  return Value::boolean(eq(a[0], a[1]));
}
PRIM(both) {
  return truthy(a[0]) ? a[1] : a[0];
}
PRIM(either) {
  return truthy(a[0]) ? a[0] : a[1];
}
PRIM(branch) {
  return truthy(a[0]) ? a[1] : a[2];
}
PRIM(greater) {
  if (a[0].kind == INT && a[1].kind == INT) return Value::boolean(a[0].i > a[1].i);
  if (a[0].is_tuple() && a[1].is_tuple()) return Value::boolean(cmp(a[0], a[1]) > 0);
  type_error();
}

}  // namespace codeit
