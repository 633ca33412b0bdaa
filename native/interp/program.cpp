#include "program.hpp"

#include <new>

#include "functions.hpp"
#include "values.hpp"

namespace codeit {

// The constants, id = row of dsl/constants.tsv, generated at build time from that file by
// gen_tables.py (const_table.inc in the build tree).
#include "const_table.inc"

namespace {

Operand resolve(int32_t kind, int32_t id, int64_t line) {
  auto where = [&] { return "line " + std::to_string(line + 1) + ": "; };
  switch (kind) {
    case REF_INPUT:
      if (id != 0) throw ProgramFormatError(where() + "input ref with id " + std::to_string(id));
      return Operand{0, Value::none()};
    case REF_VAR:
      if (id < 0 || id >= line)
        throw ProgramFormatError(where() + "variable " + std::to_string(id) +
                                 " is not defined by an earlier line");
      return Operand{id + 1, Value::none()};
    case REF_CONST:
      if (id < 0 || id >= kNumConstants)
        throw ProgramFormatError(where() + "unknown constant id " + std::to_string(id));
      return Operand{-1, kConstants[id].value};
    case REF_PRIM:
      if (id < 0 || id >= kNumPrimitives)
        throw ProgramFormatError(where() + "unknown primitive id " + std::to_string(id));
      return Operand{-1, prim_value(id)};
    default:
      throw ProgramFormatError(where() + "unknown ref kind " + std::to_string(kind));
  }
}

}  // namespace

CompiledProgram compile(const int32_t* callee, int64_t n_lines, const int32_t* arg_offsets,
                        const int32_t* args, int64_t n_args) {
  if (n_lines <= 0) throw ProgramFormatError("empty program: no line assigns O");
  if (arg_offsets[0] != 0 || arg_offsets[n_lines] != n_args)
    throw ProgramFormatError("arg_offsets do not span the argument array");
  CompiledProgram p;
  p.lines.reserve(size_t(n_lines));
  p.args.reserve(size_t(n_args));
  for (int64_t k = 0; k < n_lines; ++k) {
    // lo is in [0, n_args] (offsets start at 0 and never decrease); checking hi before any
    // argument of the line is read keeps a malformed offset from reading past `args`.
    const int64_t lo = arg_offsets[k], hi = arg_offsets[k + 1];
    if (hi < lo) throw ProgramFormatError("line " + std::to_string(k + 1) + ": arg_offsets decrease");
    if (hi > n_args)
      throw ProgramFormatError("line " + std::to_string(k + 1) + ": arg_offsets run past the " +
                               std::to_string(n_args) + " arguments");
    CompiledLine line;
    line.callee = resolve(callee[2 * k], callee[2 * k + 1], k);
    line.arg_begin = int32_t(p.args.size());
    line.nargs = int32_t(hi - lo);
    for (int64_t q = lo; q < hi; ++q) p.args.push_back(resolve(args[2 * q], args[2 * q + 1], k));
    line.callee_is_function = callee[2 * k] == REF_VAR || callee[2 * k] == REF_PRIM;
    line.prim = -1;
    if (callee[2 * k] == REF_PRIM && kPrims[callee[2 * k + 1]].arity == line.nargs)
      line.prim = callee[2 * k + 1];
    if (line.nargs > p.max_args) p.max_args = line.nargs;
    p.lines.push_back(line);
  }
  return p;
}

bool is_valid_arc_grid(const Value& v) {
  if (v.kind != GRID) return false;
  const GridHdr* g = v.grid();
  if (g->h < 1 || g->h > 30 || g->w < 1 || g->w > 30) return false;
  const uint8_t* d = reinterpret_cast<const uint8_t*>(g->data());
  uint8_t bad = 0;  // no early exit: the loop vectorizes (a negative int8 reads as > 9)
  for (int64_t k = 0, n = int64_t(g->h) * g->w; k < n; ++k) bad |= uint8_t(d[k] > 9);
  return bad == 0;
}

namespace {

// What run_lines does around each line: nothing in a plain run; in a profiled run, time it.
struct NoLineClock {
  void start(int64_t) {}
  void stop(int64_t) {}
};

struct LineClock {
  int64_t* line_ns;               // [lines], given zeroed
  volatile int64_t* line_start;   // volatile: read after a failure jumps out of the line
  void start(int64_t) { *line_start = precise_now_ns(); }
  void stop(int64_t k) { line_ns[k] = precise_now_ns() - *line_start; }
};

// The lines of a program, run in order; O is written to *out. A failure leaves through
// fail() (jumping back to run_guarded) with c.line naming the line.
template <class Clock>
__attribute__((noinline)) void run_lines(Ctx& c, const CompiledProgram& p, const Value& input, Value* out,
                                         Clock clock) {
  const int64_t n_lines = int64_t(p.lines.size());
  Value* slots = c.alloc_array<Value>(size_t(n_lines + 1));
  Value* argv = c.alloc_array<Value>(size_t(p.max_args + 1));
  slots[0] = input;
  for (int64_t k = 0; k < n_lines; ++k) {
    clock.start(k);
    slots[k + 1] = run_line(c, p, k, slots, argv);
    clock.stop(k);
  }
  *out = slots[n_lines];
}

// The job's result from how its lines ended.
JobResult finish_job(Ctx& c, Status status, const Value& out) {
  JobResult r;
  r.steps = c.steps;
  if (status != OK) {
    r.status = status;
    r.error_line = c.line;
    return r;
  }
  r.output = out;
  if (!is_valid_arc_grid(r.output)) {
    r.status = BAD_OUTPUT;  // no failing line, as in the reference
    r.error_line = -1;
  }
  return r;
}

}  // namespace

JobResult run_program(Ctx& c, const CompiledProgram& p, const Value& input) {
  Value out = Value::none();
  const Status status = run_guarded([&] { run_lines(c, p, input, &out, NoLineClock{}); });
  return finish_job(c, status, out);
}

JobResult run_program_timed(Ctx& c, const CompiledProgram& p, const Value& input, int64_t* line_ns,
                            int64_t* output_size) {
  Value out = Value::none();
  volatile int64_t line_start = 0;
  const Status status = run_guarded([&] { run_lines(c, p, input, &out, LineClock{line_ns, &line_start}); });
  if (status != OK && line_start > 0 && c.line >= 0 && size_t(c.line) < p.lines.size())
    line_ns[c.line] = precise_now_ns() - line_start;  // the failing line, up to its failure
  *output_size = status == OK ? value_size(out) : -1;
  return finish_job(c, status, out);
}

}  // namespace codeit
