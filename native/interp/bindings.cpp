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
#include "values.hpp"

namespace py = pybind11;
using namespace codeit;

namespace {

using I32Array = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;
using U8Array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

struct ProgramSet {
  std::vector<CompiledProgram> programs;
};

CompiledProgram compile_arrays(const I32Array& callee, const I32Array& offsets, const I32Array& args,
                               size_t index) {
  if (callee.ndim() != 2 || callee.shape(1) != 2)
    throw py::value_error("program " + std::to_string(index) + ": callee must be int32[n_lines, 2]");
  if (offsets.ndim() != 1 || offsets.shape(0) != callee.shape(0) + 1)
    throw py::value_error("program " + std::to_string(index) + ": arg_offsets must be int32[n_lines + 1]");
  if (!(args.ndim() == 2 && args.shape(1) == 2) && !(args.ndim() == 1 && args.shape(0) == 0) &&
      !(args.ndim() == 2 && args.shape(0) == 0))
    throw py::value_error("program " + std::to_string(index) + ": args must be int32[n_args, 2]");
  try {
    return compile(callee.data(), callee.shape(0), offsets.data(), args.data(),
                   args.ndim() == 2 ? args.shape(0) : 0);
  } catch (const ProgramFormatError& e) {
    throw py::value_error("program " + std::to_string(index) + ": " + e.what());
  }
}

std::shared_ptr<ProgramSet> make_program_set(const py::list& items) {
  auto set = std::make_shared<ProgramSet>();
  set->programs.reserve(items.size());
  for (size_t k = 0; k < items.size(); ++k) {
    py::tuple t = items[k].cast<py::tuple>();
    if (t.size() != 3)
      throw py::value_error("program " + std::to_string(k) + ": expected (callee, arg_offsets, args)");
    set->programs.push_back(
        compile_arrays(t[0].cast<I32Array>(), t[1].cast<I32Array>(), t[2].cast<I32Array>(), k));
  }
  return set;
}

// ---- Python <-> native values ------------------------------------------------------------

Value from_key(Ctx& c, py::handle key);

Value function_from_key(Ctx& c, const py::tuple& s) {
  int tag = s[0].cast<int>();
  auto part = [&](size_t k) { return from_key(c, s[k]); };
  auto need_function = [&](const Value& v) {
    if (v.kind != FUNC) throw py::type_error("function key: bound function part is not a function");
    return v;
  };
  switch (tag) {
    case FK_PRIM: {
      int id = s[1].cast<int>();
      if (id < 0 || id >= kNumPrimitives) throw py::value_error("unknown primitive id " + std::to_string(id));
      return prim_value(id);
    }
    case FK_COMPOSE: return make_func(c, FK_COMPOSE, part(1), part(2), Value::none(), 0);
    case FK_CHAIN: return make_func(c, FK_CHAIN, part(1), part(2), part(3), 0);
    case FK_MATCHER: return make_func(c, FK_MATCHER, part(1), part(2), Value::none(), 0);
    case FK_RBIND: return make_func(c, FK_RBIND, need_function(part(1)), part(2), Value::none(), 0);
    case FK_LBIND: return make_func(c, FK_LBIND, need_function(part(1)), part(2), Value::none(), 0);
    case FK_POWER: {
      py::tuple nk = s[2].cast<py::tuple>();
      return make_func(c, FK_POWER, part(1), Value::none(), Value::none(), nk[1].cast<int64_t>());
    }
    case FK_FORK: return make_func(c, FK_FORK, part(1), part(2), part(3), 0);
    default: throw py::value_error("unknown function key tag " + std::to_string(tag));
  }
}

// A value from its canonical order key (values.order_key), the form function values give.
Value from_key(Ctx& c, py::handle key) {
  py::tuple k = py::reinterpret_borrow<py::tuple>(key);
  int cat = k[0].cast<int>();
  switch (cat) {
    case -1: return Value::none();
    case 0: return Value::integer(k[1].cast<int64_t>());
    case 1: case 2: {
      py::tuple items = k[1].cast<py::tuple>();
      std::vector<Value> e;
      e.reserve(items.size());
      for (py::handle x : items) e.push_back(from_key(c, x));
      return cat == 1 ? make_tuple(c, e.data(), int64_t(e.size()))
                      : make_set(c, e.data(), int64_t(e.size()));
    }
    case 3: return function_from_key(c, k[1].cast<py::tuple>());
    default: throw py::value_error("not an order key: category " + std::to_string(cat));
  }
}

Value from_python(Ctx& c, py::handle obj) {
  if (obj.is_none()) return Value::none();
  if (PyBool_Check(obj.ptr())) return Value::boolean(obj.ptr() == Py_True);
  if (PyLong_Check(obj.ptr())) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow) throw py::value_error("integer does not fit 64 bits");
    return Value::integer(x);
  }
  if (PyTuple_Check(obj.ptr())) {
    py::tuple t = py::reinterpret_borrow<py::tuple>(obj);
    std::vector<Value> e;
    e.reserve(t.size());
    for (py::handle x : t) e.push_back(from_python(c, x));
    return make_tuple(c, e.data(), int64_t(e.size()));
  }
  if (PyFrozenSet_Check(obj.ptr()) || PySet_Check(obj.ptr())) {
    std::vector<Value> e;
    for (py::handle x : obj) e.push_back(from_python(c, x));
    return make_set(c, e.data(), int64_t(e.size()));
  }
  if (py::hasattr(obj, "order_key")) return from_key(c, obj.attr("order_key")());
  throw py::type_error(std::string("not a DSL value: ") + std::string(py::str(py::type::handle_of(obj))));
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
    case FUNC: return function_key(v.func());
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
  Ctx c(arena, limits);
  std::vector<Value> argv;
  for (py::handle a : args) argv.push_back(from_python(c, a));
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
  Ctx c(arena, limits);
  Value in = from_python(c, input);
  JobResult r;
  {
    py::gil_scoped_release nogil;
    r = run_program(c, set.programs[index], in);
  }
  py::object out = (r.status == OK || r.status == BAD_OUTPUT) ? to_python(r.output) : py::object(py::none());
  return py::make_tuple(int(r.status), r.error_line, r.steps, out);
}

py::dict run_batch_py(ThreadPool& pool, const ProgramSet& set, const U8Array& grid_data,
                      const I32Array& grid_shapes, py::object jobs_obj, const Limits& limits,
                      bool profile) {
  if (grid_data.ndim() != 3 || grid_data.shape(1) != kSide || grid_data.shape(2) != kSide)
    throw py::value_error("grid_data must be uint8[n_grids, 30, 30]");
  if (grid_shapes.ndim() != 2 || grid_shapes.shape(1) != 2 || grid_shapes.shape(0) != grid_data.shape(0))
    throw py::value_error("grid_shapes must be int32[n_grids, 2], one row per grid");
  BatchInputs in;
  in.programs = &set.programs;
  in.grid_data = grid_data.data();
  in.grid_shapes = grid_shapes.data();
  in.n_grids = grid_data.shape(0);
  I32Array jobs;
  if (jobs_obj.is_none()) {
    in.jobs = nullptr;
    in.n_jobs = int64_t(set.programs.size()) * in.n_grids;
  } else {
    jobs = jobs_obj.cast<I32Array>();
    if (!(jobs.ndim() == 2 && jobs.shape(1) == 2) && !(jobs.ndim() == 1 && jobs.shape(0) == 0))
      throw py::value_error("jobs must be int32[n_jobs, 2] rows of (program index, grid index)");
    in.jobs = jobs.data();
    in.n_jobs = jobs.ndim() == 2 ? jobs.shape(0) : 0;
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
    PrimProfile total;
    for (const PrimProfile& p : profiles) total.add(p);
    py::array_t<uint64_t> calls(kNumPrimitives), nanos(kNumPrimitives);
    for (int k = 0; k < kNumPrimitives; ++k) {
      calls.mutable_data()[k] = total.calls[k];
      nanos.mutable_data()[k] = total.nanos[k];
    }
    result["prim_calls"] = calls;
    result["prim_nanos"] = nanos;
  }
  return result;
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

  py::class_<Limits>(m, "Limits")
      .def(py::init<>())
      .def_readwrite("max_steps", &Limits::max_steps)
      .def_readwrite("time_limit", &Limits::time_limit)
      .def_readwrite("max_value_size", &Limits::max_value_size)
      .def_readwrite("max_memory", &Limits::max_memory)
      .def_readwrite("max_depth", &Limits::max_depth);

  py::class_<ProgramSet, std::shared_ptr<ProgramSet>>(m, "ProgramSet")
      .def(py::init(&make_program_set), py::arg("programs"),
           "Compile programs given as (callee int32[n,2], arg_offsets int32[n+1], args int32[m,2]).")
      .def("__len__", [](const ProgramSet& s) { return s.programs.size(); });

  py::class_<ThreadPool>(m, "Pool")
      .def(py::init<int>(), py::arg("threads"))
      .def_property_readonly("threads", &ThreadPool::size)
      .def("run_batch", &run_batch_py, py::arg("programs"), py::arg("grid_data"), py::arg("grid_shapes"),
           py::arg("jobs"), py::arg("limits"), py::arg("profile") = false,
           "Run jobs (rows of (program, grid); None for the cross product); returns a dict of arrays.");

  m.def("call_primitive", &call_primitive, py::arg("id"), py::arg("args"), py::arg("limits"),
        "Apply primitive `id` to Python values: (status, result or None, steps).");
  m.def("run_value", &run_value, py::arg("programs"), py::arg("index"), py::arg("input"), py::arg("limits"),
        "Run one program on any Python value: (status, error_line, steps, O or None).");
}
