#include "functions.hpp"

#include <algorithm>

#include "values.hpp"

namespace codeit {

namespace {

struct PrimFuncTable {
  FuncObj funcs[kNumPrimitives];
  PrimFuncTable() {
    for (int k = 0; k < kNumPrimitives; ++k) {
      FuncObj& f = funcs[k];
      f.kind = FK_PRIM;
      f.arity = int8_t(kPrims[k].arity);
      f.prim = int16_t(k);
      f.depth = 0;
      f.n = 0;
      f.a = f.b = f.c = Value::none();
    }
  }
};

const PrimFuncTable& prim_funcs() {
  static const PrimFuncTable table;
  return table;
}

// functions._bound_arity: arc-dsl's lbind/rbind give 2 -> 1, 3 -> 2, any other count -> 3.
int8_t bound_arity(int arity) {
  if (arity == 2) return 1;
  if (arity == 3) return 2;
  return 3;
}

inline int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

}  // namespace

Value prim_value(int id) {
  return Value::container(FUNC, 0, &prim_funcs().funcs[id]);
}

Value make_func(Ctx& c, FKind kind, const Value& a, const Value& b, const Value& d, int64_t n) {
  FuncObj* f = static_cast<FuncObj*>(c.alloc(sizeof(FuncObj)));
  f->kind = kind;
  f->prim = -1;
  f->n = n;
  f->a = a;
  f->b = b;
  f->c = d;
  switch (kind) {
    case FK_RBIND: case FK_LBIND: f->arity = bound_arity(a.func()->arity); break;
    default: f->arity = 1; break;
  }
  auto part_depth = [](const Value& v) { return v.kind == FUNC ? v.func()->depth : value_depth(v); };
  int32_t depth = std::max(part_depth(a), std::max(part_depth(b), part_depth(d)));
  f->depth = depth + 1;
  // Building a deep function is fine in the reference (it fails when the value is called,
  // which the call-depth guard mirrors); the cap only keeps comparisons of such values
  // (recursive here as there) off the end of the native stack.
  if (f->depth > kMaxFunctionDepth) fail(RUNTIME_ERROR);
  return Value::container(FUNC, 0, f);
}

Value call_prim(Ctx& c, int id, const Value* args) {
  c.step();
  if (c.profile == nullptr) return kPrims[id].fn(c, args);
  int64_t t0 = precise_now_ns();
  c.profile->calls[id] += 1;
  Value r = kPrims[id].fn(c, args);
  c.profile->nanos[id] += uint64_t(precise_now_ns() - t0);
  return r;
}

Value call(Ctx& c, const Value& fv, const Value* args, int nargs) {
  if (fv.kind != FUNC) type_error();
  const FuncObj* f = fv.func();
  if (f->kind == FK_PRIM) {  // the common case first
    if (nargs != f->arity) type_error();
    DepthGuard guard(c);
    return call_prim(c, f->prim, args);
  }
  DepthGuard guard(c);
  switch (f->kind) {
    case FK_PRIM:
      type_error();
    case FK_COMPOSE: {
      if (nargs != 1) type_error();
      Value y = call1(c, f->b, args[0]);
      return call1(c, f->a, y);
    }
    case FK_CHAIN: {
      if (nargs != 1) type_error();
      Value y = call1(c, f->c, args[0]);
      y = call1(c, f->b, y);
      return call1(c, f->a, y);
    }
    case FK_MATCHER: {
      if (nargs != 1) type_error();
      Value y = call1(c, f->a, args[0]);
      return Value::boolean(eq(y, f->b));
    }
    case FK_RBIND: case FK_LBIND: {
      if (nargs != f->arity) type_error();
      Value argv[4];
      if (f->kind == FK_RBIND) {
        for (int k = 0; k < nargs; ++k) argv[k] = args[k];
        argv[nargs] = f->b;
      } else {
        argv[0] = f->b;
        for (int k = 0; k < nargs; ++k) argv[k + 1] = args[k];
      }
      return call(c, f->a, argv, nargs + 1);
    }
    case FK_POWER: {
      if (nargs != 1) type_error();
      Value x = args[0];
      for (int64_t k = 0; k < f->n; ++k) x = call1(c, f->a, x);
      return x;
    }
    case FK_FORK: {
      if (nargs != 1) type_error();
      Value y[2];
      y[0] = call1(c, f->b, args[0]);
      y[1] = call1(c, f->c, args[0]);
      return call(c, f->a, y, 2);
    }
  }
  type_error();
}

int cmp_func(const FuncObj* a, const FuncObj* b) {
  if (a == b) return 0;
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  int r;
  switch (a->kind) {
    case FK_PRIM: return cmp_i64(a->prim, b->prim);
    case FK_POWER:
      r = cmp(a->a, b->a);
      return r ? r : cmp_i64(a->n, b->n);
    case FK_CHAIN: case FK_FORK:
      if ((r = cmp(a->a, b->a))) return r;
      if ((r = cmp(a->b, b->b))) return r;
      return cmp(a->c, b->c);
    default:
      if ((r = cmp(a->a, b->a))) return r;
      return cmp(a->b, b->b);
  }
}

}  // namespace codeit
