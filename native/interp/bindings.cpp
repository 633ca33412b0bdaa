// Python bindings of the native interpreter: the batch API over numpy arrays (GIL released),
// a compiled program set, and per-value entry points (one primitive, one run on any value)
// that convert Python values to native ones and back, for alignment tests.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "batch.hpp"
#include "functions.hpp"
#include "program.hpp"
#include "search.hpp"
#include "values.hpp"

namespace py = pybind11;
using namespace codeit;

namespace {

// ---- arrays from Python ------------------------------------------------------------------
// Every array is checked before any element is read: an exact dtype (a forcecast would wrap
// an int64 past int32, or truncate a float, into a different program or job without a word),
// C order, and the shape the caller promises; codeit.execute.native converts and range-checks
// on the Python side, so anything refused here is a caller's bug.

template <class T>
const char* dtype_name();
template <>
const char* dtype_name<int32_t>() { return "int32"; }
template <>
const char* dtype_name<uint8_t>() { return "uint8"; }

std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

template <class T>
py::array_t<T> exact_array(py::handle obj, const std::string& what) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(what + " must be a numpy array of " + dtype_name<T>() + ", got " + type_name(obj));
  if (!py::array_t<T>::check_(obj))
    throw py::type_error(what + " must have dtype " + dtype_name<T>() + ", got " +
                         std::string(py::str(py::reinterpret_borrow<py::array>(obj).dtype())));
  auto a = py::reinterpret_borrow<py::array_t<T>>(obj);
  if (!(a.flags() & py::array::c_style)) throw py::value_error(what + " must be C-contiguous");
  return a;
}

struct ProgramSet {
  std::vector<CompiledProgram> programs;
};

CompiledProgram compile_arrays(py::handle callee_obj, py::handle offsets_obj, py::handle args_obj,
                               size_t index) {
  const std::string where = "program " + std::to_string(index) + ": ";
  auto callee = exact_array<int32_t>(callee_obj, where + "callee");
  auto offsets = exact_array<int32_t>(offsets_obj, where + "arg_offsets");
  auto args = exact_array<int32_t>(args_obj, where + "args");
  if (callee.ndim() != 2 || callee.shape(1) != 2)
    throw py::value_error(where + "callee must be int32[n_lines, 2]");
  if (offsets.ndim() != 1 || offsets.shape(0) != callee.shape(0) + 1)
    throw py::value_error(where + "arg_offsets must be int32[n_lines + 1]");
  const bool empty_args = args.size() == 0 && (args.ndim() == 1 || args.ndim() == 2);
  if (!(args.ndim() == 2 && args.shape(1) == 2) && !empty_args)
    throw py::value_error(where + "args must be int32[n_args, 2]");
  try {
    return compile(callee.data(), callee.shape(0), offsets.data(), args.data(),
                   empty_args ? 0 : args.shape(0));
  } catch (const ProgramFormatError& e) {
    throw py::value_error(where + e.what());
  }
}

std::shared_ptr<ProgramSet> make_program_set(const py::list& items) {
  auto set = std::make_shared<ProgramSet>();
  set->programs.reserve(items.size());
  for (size_t k = 0; k < items.size(); ++k) {
    py::handle item = items[k];
    if (!py::isinstance<py::tuple>(item) || py::len(item) != 3)
      throw py::type_error("program " + std::to_string(k) + ": expected a tuple (callee, arg_offsets, args), got " +
                           type_name(item));
    py::tuple t = py::reinterpret_borrow<py::tuple>(item);
    set->programs.push_back(compile_arrays(t[0], t[1], t[2], k));
  }
  return set;
}

// ---- Python <-> native values ------------------------------------------------------------
// A value from Python is checked as it is read, before any native code recurses on it: nesting
// past kMaxValueDepth levels (containers and function parts alike: Python's own recursion limit
// stops its values there too), an int past 64 bits, or an object that is no DSL value raises a
// Python exception. Left unchecked, a tuple nested 50,000 deep overflowed the native stack, and
// one 1,000 deep escaped as a C++ Fail that Python saw as "unknown exception".

int64_t as_int64(py::handle obj, const char* what) {
  if (PyBool_Check(obj.ptr()) || !PyLong_Check(obj.ptr()))
    throw py::type_error(std::string(what) + " must be an int, got " + type_name(obj));
  int overflow = 0;
  long long x = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
  if (overflow) throw py::value_error(std::string(what) + " does not fit 64 bits");
  if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
  return x;
}

py::tuple as_tuple(py::handle obj, size_t min_size, const char* what) {
  if (!py::isinstance<py::tuple>(obj) || py::len(obj) < min_size)
    throw py::type_error(std::string(what) + " must be a tuple of at least " + std::to_string(min_size) +
                         " items, got " + type_name(obj));
  return py::reinterpret_borrow<py::tuple>(obj);
}

[[noreturn]] void too_deep() {
  throw py::value_error("a value nested more than " + std::to_string(kMaxValueDepth) +
                        " levels deep: past the DSL's recursion limit");
}

Value from_key(Ctx& c, py::handle key, int depth);

Value function_from_key(Ctx& c, const py::tuple& s, int depth) {
  const int64_t tag = as_int64(s[0], "function key tag");
  auto need_parts = [&](size_t n) {
    if (s.size() != n + 1)
      throw py::value_error("function key with tag " + std::to_string(tag) + " must have " + std::to_string(n) +
                            " parts, got " + std::to_string(s.size() - 1));
  };
  auto part = [&](size_t k) { return from_key(c, s[k], depth + 1); };
  auto need_function = [&](const Value& v) {
    if (v.kind != FUNC) throw py::type_error("function key: bound function part is not a function");
    return v;
  };
  switch (tag) {
    case FK_PRIM: {
      need_parts(1);
      int64_t id = as_int64(s[1], "primitive id");
      if (id < 0 || id >= kNumPrimitives) throw py::value_error("unknown primitive id " + std::to_string(id));
      return prim_value(int(id));
    }
    case FK_COMPOSE: need_parts(2); return make_func(c, FK_COMPOSE, part(1), part(2), Value::none(), 0);
    case FK_CHAIN: need_parts(3); return make_func(c, FK_CHAIN, part(1), part(2), part(3), 0);
    case FK_MATCHER: need_parts(2); return make_func(c, FK_MATCHER, part(1), part(2), Value::none(), 0);
    case FK_RBIND: need_parts(2); return make_func(c, FK_RBIND, need_function(part(1)), part(2), Value::none(), 0);
    case FK_LBIND: need_parts(2); return make_func(c, FK_LBIND, need_function(part(1)), part(2), Value::none(), 0);
    case FK_POWER: {
      need_parts(2);
      py::tuple nk = as_tuple(s[2], 2, "power's count key");
      return make_func(c, FK_POWER, part(1), Value::none(), Value::none(), as_int64(nk[1], "power's count"));
    }
    case FK_FORK: need_parts(3); return make_func(c, FK_FORK, part(1), part(2), part(3), 0);
    default: throw py::value_error("unknown function key tag " + std::to_string(tag));
  }
}

// A value from its canonical order key (values.order_key), the form function values give.
Value from_key(Ctx& c, py::handle key, int depth) {
  if (depth > kMaxValueDepth) too_deep();
  py::tuple k = as_tuple(key, 2, "an order key");
  const int64_t cat = as_int64(k[0], "an order key's category");
  switch (cat) {
    case -1: return Value::none();
    case 0: return Value::integer(as_int64(k[1], "an int's key"));
    case 1: case 2: {
      py::tuple items = as_tuple(k[1], 0, "a container's key");
      std::vector<Value> e;
      e.reserve(items.size());
      for (py::handle x : items) e.push_back(from_key(c, x, depth + 1));
      return cat == 1 ? make_tuple(c, e.data(), int64_t(e.size()))
                      : make_set(c, e.data(), int64_t(e.size()));
    }
    case 3: return function_from_key(c, as_tuple(k[1], 1, "a function's key"), depth);
    default: throw py::value_error("not an order key: category " + std::to_string(cat));
  }
}

Value from_python(Ctx& c, py::handle obj, int depth) {
  if (depth > kMaxValueDepth) too_deep();
  if (obj.is_none()) return Value::none();
  if (PyBool_Check(obj.ptr())) return Value::boolean(obj.ptr() == Py_True);
  if (PyLong_Check(obj.ptr())) return Value::integer(as_int64(obj, "an integer"));
  if (PyTuple_Check(obj.ptr())) {
    py::tuple t = py::reinterpret_borrow<py::tuple>(obj);
    std::vector<Value> e;
    e.reserve(t.size());
    for (py::handle x : t) e.push_back(from_python(c, x, depth + 1));
    return make_tuple(c, e.data(), int64_t(e.size()));
  }
  if (PyFrozenSet_Check(obj.ptr()) || PySet_Check(obj.ptr())) {
    std::vector<Value> e;
    for (py::handle x : obj) e.push_back(from_python(c, x, depth + 1));
    return make_set(c, e.data(), int64_t(e.size()));
  }
  if (py::hasattr(obj, "order_key")) return from_key(c, obj.attr("order_key")(), depth);
  throw py::type_error("not a DSL value: " + type_name(obj));
}

// Limits for converting a caller's values into a job's arena: its memory cap, but no deadline
// (the job's clock starts once its inputs are there).
Limits untimed(const Limits& limits) {
  Limits u = limits;
  u.time_limit = kMaxTimeLimit;
  return u;
}

// A caller's value as a native one; a native failure while building it (the memory cap, the
// depth limit) is raised as a Python exception, never let through as a C++ one.
Value value_from_python(Ctx& c, py::handle obj, const std::string& what) {
  try {
    return from_python(c, obj, 0);
  } catch (const Fail& f) {
    if (f.status == SIZE_LIMIT)
      throw py::value_error(what + " does not fit the job's memory cap (Limits.max_memory)");
    if (f.status == RUNTIME_ERROR) too_deep();
    throw py::value_error(what + " is not a DSL value the native interpreter can hold (status " +
                          std::to_string(int(f.status)) + ")");
  }
}

py::object to_python(const Value& v);

py::object function_key(const FuncObj* f) {
  auto key = [](const Value& v) -> py::object {
    if (v.kind == FUNC) return function_key(v.func());
    py::object x = to_python(v);
    return x;
  };
  py::tuple s;
  switch (f->kind) {
    case FK_PRIM: s = py::make_tuple(0, int(f->prim)); break;
    case FK_POWER: s = py::make_tuple(6, key(f->a), int64_t(f->n)); break;
    case FK_CHAIN: case FK_FORK: s = py::make_tuple(int(f->kind), key(f->a), key(f->b), key(f->c)); break;
    default: s = py::make_tuple(int(f->kind), key(f->a), key(f->b)); break;
  }
  return py::make_tuple(py::str("function"), s);
}

// Function values come back as ("function", (tag, parts...)) with the parts as Python values
// (codeit.execute.native rebuilds dsl.functions objects from it).
py::object to_python(const Value& v) {
  switch (v.kind) {
    case NONE: return py::none();
    case INT: return v.is_bool ? py::object(py::bool_(v.i != 0)) : py::object(py::int_(v.i));
    case FUNC:
      // A run can build function values up to kMaxFunctionDepth deep; Python could not take
      // them apart (its recursion limit), and converting them would recurse as deep here.
      if (v.func()->depth > kMaxValueDepth) too_deep();
      return function_key(v.func());
    case PAIR: case CELL: case ITUP: case GRID: case TUP: {
      int64_t n = length(v);
      py::tuple t{size_t(n)};
      for (int64_t k = 0; k < n; ++k) t[size_t(k)] = to_python(elem(v, k));
      return std::move(t);
    }
    default: {
      py::list items;
      for (int64_t k = 0, n = length(v); k < n; ++k) items.append(to_python(elem(v, k)));
      return py::reinterpret_steal<py::object>(PyFrozenSet_New(items.ptr()));
    }
  }
}

// ---- entry points --------------------------------------------------------------------------

py::tuple call_primitive(int id, const py::tuple& args, const Limits& limits) {
  if (id < 0 || id >= kNumPrimitives) throw py::value_error("unknown primitive id " + std::to_string(id));
  Arena arena;
  std::vector<Value> argv;
  {
    Ctx convert(arena, untimed(limits));
    for (size_t k = 0; k < args.size(); ++k)
      argv.push_back(value_from_python(convert, args[k], "argument " + std::to_string(k)));
  }
  Ctx c(arena, limits);
  Status status = OK;
  Value out = Value::none();
  {
    py::gil_scoped_release nogil;
    try {
      out = call(c, prim_value(id), argv.data(), int(argv.size()));
      if (value_size(out) > c.max_size) fail(SIZE_LIMIT);
    } catch (const Fail& e) {
      status = e.status;
    } catch (const std::bad_alloc&) {
      status = SIZE_LIMIT;
    }
  }
  return py::make_tuple(int(status), status == OK ? to_python(out) : py::object(py::none()), c.steps);
}

py::tuple run_value(const ProgramSet& set, size_t index, py::handle input, const Limits& limits) {
  if (index >= set.programs.size()) throw py::index_error("program index out of range");
  Arena arena;
  Value in;
  {
    Ctx convert(arena, untimed(limits));
    in = value_from_python(convert, input, "the input");
  }
  Ctx c(arena, limits);
  JobResult r;
  {
    py::gil_scoped_release nogil;
    r = run_program(c, set.programs[index], in);
  }
  py::object out = (r.status == OK || r.status == BAD_OUTPUT) ? to_python(r.output) : py::object(py::none());
  return py::make_tuple(int(r.status), r.error_line, r.steps, out);
}

py::dict run_batch_py(ThreadPool& pool, const ProgramSet& set, py::handle grid_data_obj,
                      py::handle grid_shapes_obj, py::handle jobs_obj, const Limits& limits,
                      bool profile) {
  auto grid_data = exact_array<uint8_t>(grid_data_obj, "grid_data");
  auto grid_shapes = exact_array<int32_t>(grid_shapes_obj, "grid_shapes");
  if (grid_data.ndim() != 3 || grid_data.shape(1) != kSide || grid_data.shape(2) != kSide)
    throw py::value_error("grid_data must be uint8[n_grids, 30, 30]");
  if (grid_shapes.ndim() != 2 || grid_shapes.shape(1) != 2 || grid_shapes.shape(0) != grid_data.shape(0))
    throw py::value_error("grid_shapes must be int32[n_grids, 2], one row per grid");
  BatchInputs in;
  in.programs = &set.programs;
  in.grid_data = grid_data.data();
  in.grid_shapes = grid_shapes.data();
  in.n_grids = grid_data.shape(0);
  py::array_t<int32_t> jobs;
  if (jobs_obj.is_none()) {
    in.jobs = nullptr;
    in.n_jobs = int64_t(set.programs.size()) * in.n_grids;
  } else {
    jobs = exact_array<int32_t>(jobs_obj, "jobs");
    if (!(jobs.ndim() == 2 && jobs.shape(1) == 2) && !(jobs.size() == 0 && jobs.ndim() <= 2))
      throw py::value_error("jobs must be int32[n_jobs, 2] rows of (program index, grid index)");
    in.jobs = jobs.data();
    in.n_jobs = jobs.size() == 0 ? 0 : jobs.shape(0);
  }
  const int64_t n = in.n_jobs;
  py::array_t<uint8_t> status(n);
  py::array_t<int32_t> error_line(n);
  py::array_t<int64_t> steps(n);
  py::array_t<int32_t> shapes({n, int64_t(2)});
  py::array_t<uint8_t> grids({n, int64_t(kSide), int64_t(kSide)});
  std::memset(grids.mutable_data(), 0, size_t(n) * kSide * kSide);
  BatchOutputs out{status.mutable_data(), error_line.mutable_data(), steps.mutable_data(),
                   shapes.mutable_data(), grids.mutable_data()};
  // Profiled: per job its time, its lines' times and the size of O as well.
  size_t longest = 0;
  for (const CompiledProgram& prog : set.programs)
    if (prog.lines.size() > longest) longest = prog.lines.size();
  const int64_t stride = profile ? int64_t(longest) : 0;
  py::array_t<int64_t> job_nanos(profile ? n : 0), output_size(profile ? n : 0);
  py::array_t<int64_t> line_nanos({profile ? n : int64_t(0), stride});
  if (profile) {
    out.job_nanos = job_nanos.mutable_data();
    out.line_nanos = line_nanos.mutable_data();
    out.line_stride = stride;
    out.output_size = output_size.mutable_data();
  }
  std::vector<PrimProfile> profiles;
  std::string bad_input;
  {
    py::gil_scoped_release nogil;
    try {
      run_batch(pool, in, limits, out, profile ? &profiles : nullptr);
    } catch (const std::invalid_argument& e) {
      bad_input = e.what();
    }
  }
  if (!bad_input.empty()) throw py::value_error(bad_input);
  py::dict result;
  result["status"] = status;
  result["error_line"] = error_line;
  result["steps"] = steps;
  result["shapes"] = shapes;
  result["grids"] = grids;
  if (profile) {
    // profiles: kNumStatuses per worker; summed per status, then over statuses.
    std::vector<PrimProfile> by_status(kNumStatuses);
    for (size_t k = 0; k < profiles.size(); ++k) by_status[k % kNumStatuses].add(profiles[k]);
    PrimProfile total;
    for (const PrimProfile& p : by_status) total.add(p);
    py::array_t<uint64_t> calls(kNumPrimitives), nanos(kNumPrimitives);
    py::array_t<uint64_t> status_calls({int64_t(kNumStatuses), int64_t(kNumPrimitives)});
    py::array_t<uint64_t> status_nanos({int64_t(kNumStatuses), int64_t(kNumPrimitives)});
    for (int k = 0; k < kNumPrimitives; ++k) {
      calls.mutable_data()[k] = total.calls[k];
      nanos.mutable_data()[k] = total.nanos[k];
      for (int s = 0; s < kNumStatuses; ++s) {
        status_calls.mutable_data()[s * kNumPrimitives + k] = by_status[size_t(s)].calls[k];
        status_nanos.mutable_data()[s * kNumPrimitives + k] = by_status[size_t(s)].nanos[k];
      }
    }
    result["prim_calls"] = calls;
    result["prim_nanos"] = nanos;
    result["prim_calls_by_status"] = status_calls;
    result["prim_nanos_by_status"] = status_nanos;
    result["job_nanos"] = job_nanos;
    result["line_nanos"] = line_nanos;
    result["output_size"] = output_size;
  }
  return result;
}

// One int32 vector argument of run_search: exact dtype, C order, one dimension, `n` long
// (n < 0: any length).
py::array_t<int32_t> int32_vector(py::handle obj, const std::string& what, int64_t n) {
  auto a = exact_array<int32_t>(obj, what);
  if (a.ndim() != 1 || (n >= 0 && a.shape(0) != n))
    throw py::value_error(what + " must be int32[" + (n >= 0 ? std::to_string(n) : std::string("n")) + "]");
  return a;
}

py::array_t<uint8_t> grid_stack(py::handle obj, const std::string& what) {
  auto a = exact_array<uint8_t>(obj, what);
  if (a.ndim() != 3 || a.shape(1) != kSide || a.shape(2) != kSide)
    throw py::value_error(what + " must be uint8[n_grids, 30, 30]");
  return a;
}

py::dict run_search_py(ThreadPool& pool, const ProgramSet& groups, py::handle member_offsets_obj,
                       py::handle node_offsets_obj, py::handle nodes_obj, py::handle grid_data_obj,
                       py::handle grid_shapes_obj, py::handle target_data_obj, py::handle target_shapes_obj,
                       py::handle task_offsets_obj, py::handle task_demos_obj, const Limits& limits,
                       py::handle group_tasks_obj) {
  const int64_t n_groups = int64_t(groups.programs.size());
  auto member_offsets = int32_vector(member_offsets_obj, "member_offsets", n_groups + 1);
  const int64_t n_members = member_offsets.data()[n_groups];
  if (n_members < 0) throw py::value_error("member_offsets must end at the number of members");
  auto node_offsets = int32_vector(node_offsets_obj, "node_offsets", n_members + 1);
  auto nodes = int32_vector(nodes_obj, "nodes", -1);
  for (int64_t m = 0; m < n_members; ++m)
    if (node_offsets.data()[m + 1] < node_offsets.data()[m] || node_offsets.data()[m + 1] > nodes.shape(0))
      throw py::value_error("node_offsets must not decrease and must stay within nodes");
  auto grid_data = grid_stack(grid_data_obj, "grid_data");
  auto target_data = grid_stack(target_data_obj, "target_data");
  const int64_t n_grids = grid_data.shape(0);
  if (target_data.shape(0) != n_grids) throw py::value_error("target_data must have one grid per input grid");
  auto grid_shapes = exact_array<int32_t>(grid_shapes_obj, "grid_shapes");
  auto target_shapes = exact_array<int32_t>(target_shapes_obj, "target_shapes");
  for (auto* shapes : {&grid_shapes, &target_shapes})
    if (shapes->ndim() != 2 || shapes->shape(0) != n_grids || shapes->shape(1) != 2)
      throw py::value_error("grid_shapes and target_shapes must be int32[n_grids, 2]");
  auto task_demos = int32_vector(task_demos_obj, "task_demos", -1);
  const int64_t n_tasks = task_demos.shape(0);
  auto task_offsets = int32_vector(task_offsets_obj, "task_offsets", n_tasks + 1);
  SearchInputs in{&groups.programs, member_offsets.data(), node_offsets.data(), nodes.data(), n_members,
                  grid_data.data(), grid_shapes.data(), target_data.data(), target_shapes.data(), n_grids,
                  task_offsets.data(), task_demos.data(), n_tasks};
  py::array_t<int32_t> group_tasks;
  if (!group_tasks_obj.is_none()) {
    group_tasks = int32_vector(group_tasks_obj, "group_tasks", n_groups);
    in.group_tasks = group_tasks.data();
  }
  py::array_t<uint8_t> valid({n_members, n_tasks}), right({n_members, n_tasks}), test({n_members, n_tasks});
  for (auto* a : {&valid, &right, &test}) std::memset(a->mutable_data(), 0, size_t(n_members * n_tasks));
  SearchOutputs out{valid.mutable_data(), right.mutable_data(), test.mutable_data()};
  SearchCounts counts;
  std::string bad_input;
  {
    py::gil_scoped_release nogil;
    try {
      run_search(pool, in, limits, out, &counts);
    } catch (const std::invalid_argument& e) {
      bad_input = e.what();
    }
  }
  if (!bad_input.empty()) throw py::value_error(bad_input);
  py::dict result;
  result["valid"] = valid;
  result["demos_right"] = right;
  result["test_correct"] = test;
  py::array_t<int64_t> runs(8);
  for (int k = 0; k < 8; ++k) runs.mutable_data()[k] = counts.runs[k];
  result["runs"] = runs;
  result["nodes"] = counts.nodes;
  return result;
}

// A limits field set from Python, refused unless it lies in [lo, hi] (a NaN never does): the
// deadline is computed in int64 nanoseconds, the call depth bounds the native stack.
template <class T>
T checked_limit(const char* what, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi))
    throw py::value_error(std::string(what) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                          "], got " + std::to_string(value));
  return value;
}

}  // namespace

PYBIND11_MODULE(_interp, m) {
  m.doc() = "codeit native batch interpreter (see codeit.execute.native for the typed API)";

  py::list prims;
  for (int k = 0; k < kNumPrimitives; ++k) prims.append(py::make_tuple(kPrims[k].name, kPrims[k].arity));
  m.attr("PRIMITIVES") = prims;
  py::list consts;
  for (int k = 0; k < kNumConstants; ++k) consts.append(py::str(kConstants[k].name));
  m.attr("CONSTANTS") = consts;

  constexpr int64_t kMaxInt64 = INT64_MAX;
  py::class_<Limits>(m, "Limits")
      .def(py::init<>())
      .def_property(
          "max_steps", [](const Limits& l) { return l.max_steps; },
          [](Limits& l, int64_t v) { l.max_steps = checked_limit<int64_t>("Limits.max_steps", v, 1, kMaxInt64); })
      .def_property(
          "time_limit", [](const Limits& l) { return l.time_limit; },
          [](Limits& l, double v) {
            if (!(v > 0 && v <= kMaxTimeLimit))
              throw py::value_error("Limits.time_limit must be > 0 and at most " + std::to_string(int64_t(kMaxTimeLimit)) +
                                    " seconds, got " + std::string(py::repr(py::float_(v))));
            l.time_limit = v;
          })
      .def_property(
          "max_value_size", [](const Limits& l) { return l.max_value_size; },
          [](Limits& l, int64_t v) { l.max_value_size = checked_limit<int64_t>("Limits.max_value_size", v, 1, kMaxInt64); })
      .def_property(
          "max_memory", [](const Limits& l) { return l.max_memory; },
          [](Limits& l, int64_t v) { l.max_memory = checked_limit<int64_t>("Limits.max_memory", v, 1, kMaxInt64); })
      .def_property(
          "max_depth", [](const Limits& l) { return l.max_depth; },
          [](Limits& l, int32_t v) { l.max_depth = checked_limit<int32_t>("Limits.max_depth", v, 1, kMaxCallDepth); });

  py::class_<ProgramSet, std::shared_ptr<ProgramSet>>(m, "ProgramSet")
      .def(py::init(&make_program_set), py::arg("programs"),
           "Compile programs given as (callee int32[n,2], arg_offsets int32[n+1], args int32[m,2]).")
      .def("__len__", [](const ProgramSet& s) { return s.programs.size(); });

  py::class_<ThreadPool>(m, "Pool")
      .def(py::init([](int threads) {
             return std::make_unique<ThreadPool>(checked_limit<int>("Pool threads", threads, 1, kMaxThreads));
           }),
           py::arg("threads"))
      .def_property_readonly("threads", &ThreadPool::size)
      .def("run_batch", &run_batch_py, py::arg("programs"), py::arg("grid_data"), py::arg("grid_shapes"),
           py::arg("jobs"), py::arg("limits"), py::arg("profile") = false,
           "Run jobs (rows of (program, grid); None for the cross product); returns a dict of arrays.")
      .def("run_search", &run_search_py, py::arg("groups"), py::arg("member_offsets"), py::arg("node_offsets"),
           py::arg("nodes"), py::arg("grid_data"), py::arg("grid_shapes"), py::arg("target_data"),
           py::arg("target_shapes"), py::arg("task_offsets"), py::arg("task_demos"), py::arg("limits"),
           py::arg("group_tasks") = py::none(),
           "Score groups of programs sharing nodes on a search set's tasks (native/interp/search.hpp); "
           "group_tasks (int32[n_groups], optional): the one task each group runs on.");

  m.def("call_primitive", &call_primitive, py::arg("id"), py::arg("args"), py::arg("limits"),
        "Apply primitive `id` to Python values: (status, result or None, steps).");
  m.def("run_value", &run_value, py::arg("programs"), py::arg("index"), py::arg("input"), py::arg("limits"),
        "Run one program on any Python value: (status, error_line, steps, O or None).");
}
