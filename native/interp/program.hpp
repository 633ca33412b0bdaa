// A program compiled once for all its inputs: every argument resolved to an input/variable slot
// or to a constant value, primitive callees with the right argument count called directly.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "context.hpp"
#include "functions.hpp"
#include "value.hpp"
#include "values.hpp"

namespace codeit {

constexpr int kNumConstants = 28;

// The 28 constants in the row order of dsl/constants.tsv.
struct ConstantInfo {
  const char* name;
  Value value;
};
extern const ConstantInfo kConstants[kNumConstants];

// Ref kind codes of program.ProgramArrays.
enum RefKind : int32_t { REF_INPUT = 0, REF_VAR = 1, REF_CONST = 2, REF_PRIM = 3 };

struct Operand {
  int32_t slot;  // 0: the input, k + 1: variable k, -1: the constant value `value`
  Value value;
};

struct CompiledLine {
  Operand callee;
  int32_t prim;  // primitive id when the callee is a primitive called with its arity, else -1
  bool callee_is_function;  // false for a callee that can never be called (a constant, I)
  int32_t arg_begin, nargs;
};

struct CompiledProgram {
  std::vector<CompiledLine> lines;
  std::vector<Operand> args;
  int32_t max_args = 0;
};

// Raised by compile() for arrays that are not a well-formed program (the message names the
// line); the binding turns it into a Python ValueError.
struct ProgramFormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// callee: n_lines x 2 (kind, id); arg_offsets: n_lines + 1; args: n_args x 2.
CompiledProgram compile(const int32_t* callee, int64_t n_lines, const int32_t* arg_offsets,
                        const int32_t* args, int64_t n_args);

struct JobResult {
  Status status = OK;
  int32_t error_line = -1;
  int64_t steps = 0;
  Value output = Value::none();
};

// Line k of p, its arguments read from `slots` (slots[0] is the input, slots[j + 1] line j's value);
// a failure leaves through fail() with c.line naming the line. A whole program (run_lines) and
// one node of a shared search (search.cpp) both run lines through this.
inline Value run_line(Ctx& c, const CompiledProgram& p, int64_t k, const Value* slots, Value* argv) {
  c.line = int32_t(k);
  const CompiledLine& line = p.lines[size_t(k)];
  const Operand* ops = p.args.data() + line.arg_begin;
  for (int32_t q = 0; q < line.nargs; ++q) argv[q] = ops[q].slot < 0 ? ops[q].value : slots[ops[q].slot];
  Value result;
  if (line.prim >= 0) {
    result = call_prim(c, line.prim, argv);
  } else {
    Value f = line.callee.slot < 0 ? line.callee.value : slots[line.callee.slot];
    result = call(c, f, argv, line.nargs);
  }
  if (value_size(result) > c.max_size) fail(SIZE_LIMIT);
  return result;
}

// Runs one program on one input value; never throws.
JobResult run_program(Ctx& c, const CompiledProgram& p, const Value& input);

// run_program, profiled: each line's time in line_ns (given zeroed; a failing line's time runs up
// to its failure, lines never reached stay 0) and value_size(O) in *output_size (-1 without an O).
JobResult run_program_timed(Ctx& c, const CompiledProgram& p, const Value& input, int64_t* line_ns,
                            int64_t* output_size);

// Whether v is a valid ARC grid: 1..30 x 1..30, every value in 0..9.
bool is_valid_arc_grid(const Value& v);

}  // namespace codeit
