// The native value model: one canonical representation per Python value of the DSL.
//
// A Value is 16 bytes: a kind tag, a bool flag (a Python bool is an int; the flag only makes
// conversion back to Python give True/False), a 32-bit field `n` and an 8-byte payload.
// Containers point into the job's arena and are immutable once built, so they are shared
// freely (a grid's row is a view into the grid, an object's cell is read in place).
//
// Canonical form: every builder (values.cpp) picks the most specific kind that can hold the
// Python value, so a Python value has exactly one representation and equality is structural:
//   INT   any int or bool (int64; overflow is a runtime error, see arith in primitives)
//   PAIR  (a, b) with both ints in int32
//   CELL  (c, (i, j)) with c, i, j in int32
//   ITUP  a tuple of ints, length 1 or >= 3, every int in int8 (int8 data, n = length)
//   GRID  a tuple of h >= 1 rows, each a tuple of w >= 1 ints in int8 (rows of 2 are pairs)
//   TUP   any other tuple (the empty tuple included)
//   OBJ   a non-empty frozenset of CELLs          (sorted CellRec array)
//   IDX   a non-empty frozenset of PAIRs          (sorted PairRec array)
//   SET   any other frozenset (the empty one included), sorted and deduplicated
//   FUNC  a function value (functions.hpp)
//   NONE  Python's None (index() off the grid)
#pragma once

#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <new>

namespace codeit {

enum Status : uint8_t {
  OK = 0,
  TIMEOUT = 1,
  STEP_LIMIT = 2,
  SIZE_LIMIT = 3,
  TYPE_ERROR = 4,
  RUNTIME_ERROR = 5,
  BAD_OUTPUT = 6,
};

// How a failure leaves a primitive. Inside a job (run_program) it jumps straight back to the
// job's start: a C++ throw costs microseconds, more than a whole short run, and most sampled
// programs fail. Nothing on that path owns memory (values live in the job's arena) or needs a
// destructor. Outside a job (value conversion, per-primitive calls) a Fail is thrown instead.
struct Fail {
  Status status;
};

struct Escape {
  std::jmp_buf buf;
  Status status;
};

// The innermost job running on this thread, or null.
extern thread_local Escape* tl_escape;

[[noreturn]] inline void fail(Status s) {
  if (Escape* e = tl_escape) {
    e->status = s;
    std::longjmp(e->buf, 1);
  }
  throw Fail{s};
}

// Runs body() as one job: a failure anywhere inside it (fail(), an allocation that runs out, any
// throw) ends the job with that status instead of unwinding the caller. Jobs nest: the enclosing
// job's escape is back in place when this returns.
template <class Body>
Status run_guarded(Body&& body) {
  Escape escape;
  Escape* outer = tl_escape;
  tl_escape = &escape;
  Status status = OK;
  if (setjmp(escape.buf) == 0) {
    try {
      body();
    } catch (const Fail& e) {  // not expected while the escape is set; kept as a safety net
      status = e.status;
    } catch (const std::bad_alloc&) {
      status = SIZE_LIMIT;
    } catch (...) {
      status = RUNTIME_ERROR;
    }
  } else {
    status = escape.status;
  }
  tl_escape = outer;
  return status;
}

[[noreturn]] inline void type_error() { fail(TYPE_ERROR); }
[[noreturn]] inline void runtime_error() { fail(RUNTIME_ERROR); }

enum Kind : uint8_t { NONE, INT, PAIR, CELL, ITUP, GRID, TUP, OBJ, IDX, SET, FUNC };

// Canonical-order category of a kind: None < ints < tuples < frozensets < functions.
enum Category : int8_t { C_NONE = -1, C_INT = 0, C_TUPLE = 1, C_SET = 2, C_FUNC = 3 };

inline Category category(Kind k) {
  switch (k) {
    case NONE: return C_NONE;
    case INT: return C_INT;
    case PAIR: case CELL: case ITUP: case GRID: case TUP: return C_TUPLE;
    case OBJ: case IDX: case SET: return C_SET;
    case FUNC: return C_FUNC;
  }
  return C_NONE;
}

struct CellRec {
  int32_t c, i, j;
};
struct PairRec {
  int32_t i, j;
};

inline bool operator<(const CellRec& x, const CellRec& y) {
  if (x.c != y.c) return x.c < y.c;
  if (x.i != y.i) return x.i < y.i;
  return x.j < y.j;
}
inline bool operator==(const CellRec& x, const CellRec& y) {
  return x.c == y.c && x.i == y.i && x.j == y.j;
}
inline bool operator<(const PairRec& x, const PairRec& y) {
  return x.i != y.i ? x.i < y.i : x.j < y.j;
}
inline bool operator==(const PairRec& x, const PairRec& y) { return x.i == y.i && x.j == y.j; }

struct Value;
struct FuncObj;

// Header of a generic tuple or set: its cached value_size and nesting depth, then n Values.
struct SeqHdr {
  int64_t size;
  int32_t depth;
  int32_t spare;
};

// Header of a grid: h rows of w int8 values follow.
struct GridHdr {
  int32_t h, w;
  int8_t* data() { return reinterpret_cast<int8_t*>(this + 1); }
  const int8_t* data() const { return reinterpret_cast<const int8_t*>(this + 1); }
};

struct Value {
  Kind kind;
  uint8_t is_bool;
  uint16_t spare;
  int32_t n;  // length of a container; color of a CELL
  union {
    int64_t i;
    struct {
      int32_t a, b;
    } p;
    const void* ptr;
  };

  static Value none() {
    Value v;
    v.kind = NONE; v.is_bool = 0; v.spare = 0; v.n = 0; v.i = 0;
    return v;
  }
  static Value integer(int64_t x) {
    Value v;
    v.kind = INT; v.is_bool = 0; v.spare = 0; v.n = 0; v.i = x;
    return v;
  }
  static Value boolean(bool x) {
    Value v = integer(x ? 1 : 0);
    v.is_bool = 1;
    return v;
  }
  // Both components must fit int32 (make_pair in values.cpp handles any ints).
  static Value pair(int32_t a, int32_t b) {
    Value v;
    v.kind = PAIR; v.is_bool = 0; v.spare = 0; v.n = 2; v.p.a = a; v.p.b = b;
    return v;
  }
  static Value cell(int32_t c, int32_t i, int32_t j) {
    Value v;
    v.kind = CELL; v.is_bool = 0; v.spare = 0; v.n = c; v.p.a = i; v.p.b = j;
    return v;
  }
  static Value container(Kind k, int32_t n, const void* ptr) {
    Value v;
    v.kind = k; v.is_bool = 0; v.spare = 0; v.n = n; v.ptr = ptr;
    return v;
  }

  bool is_int() const { return kind == INT; }
  bool is_tuple() const { return category(kind) == C_TUPLE; }
  bool is_set() const { return category(kind) == C_SET; }
  bool is_container() const {
    Category c = category(kind);
    return c == C_TUPLE || c == C_SET;
  }

  const SeqHdr* seq() const { return static_cast<const SeqHdr*>(ptr); }
  const Value* elems() const { return reinterpret_cast<const Value*>(seq() + 1); }
  const GridHdr* grid() const { return static_cast<const GridHdr*>(ptr); }
  const int8_t* bytes() const { return static_cast<const int8_t*>(ptr); }
  const CellRec* cells() const { return static_cast<const CellRec*>(ptr); }
  const PairRec* pairs() const { return static_cast<const PairRec*>(ptr); }
  const FuncObj* func() const { return static_cast<const FuncObj*>(ptr); }
};

static_assert(sizeof(Value) == 16, "Value must stay 16 bytes");

inline bool fits_i32(int64_t x) { return x >= INT32_MIN && x <= INT32_MAX; }
inline bool fits_i8(int64_t x) { return x >= -128 && x <= 127; }

// Number of elements of a tuple or set (caller checks it is a container).
inline int64_t length(const Value& v) {
  switch (v.kind) {
    case PAIR: case CELL: return 2;
    default: return v.n;
  }
}

// Element k of a tuple or set, in iteration order, without allocating.
inline Value elem(const Value& v, int64_t k) {
  switch (v.kind) {
    case PAIR: return Value::integer(k == 0 ? v.p.a : v.p.b);
    case CELL: return k == 0 ? Value::integer(v.n) : Value::pair(v.p.a, v.p.b);
    case ITUP: return Value::integer(v.bytes()[k]);
    case GRID: {
      const GridHdr* g = v.grid();
      const int8_t* row = g->data() + k * g->w;
      if (g->w == 2) return Value::pair(row[0], row[1]);
      return Value::container(ITUP, g->w, row);
    }
    case TUP: case SET: return v.elems()[k];
    case OBJ: {
      const CellRec& c = v.cells()[k];
      return Value::cell(c.c, c.i, c.j);
    }
    case IDX: {
      const PairRec& p = v.pairs()[k];
      return Value::pair(p.i, p.j);
    }
    default: return Value::none();
  }
}

}  // namespace codeit
