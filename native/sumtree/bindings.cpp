// Python bindings of the sum tree. Arrays come and go through the buffer protocol (numpy), with
// no copy when the caller passes C-contiguous int64 indices and float64 priorities; every call
// that touches the tree's arrays runs with the GIL released and the tree's own mutex held.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <mutex>
#include <string>

#include "sumtree.hpp"

namespace py = pybind11;
using codeit_sumtree::InvalidArgument;

void register_grid_codec(py::module_& m);  // grid_codec.cpp
using codeit_sumtree::SumTree;

namespace {

using IndexArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
using FloatArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Indices must be integers: a float array would be silently truncated by a cast, so reject it.
IndexArray as_indices(const py::handle& obj, const char* call) {
  py::array arr = py::array::ensure(obj);
  if (!arr) throw py::type_error(std::string(call) + ": indices must be array-like");
  const char kind = arr.dtype().kind();
  if (arr.size() > 0 && kind != 'i' && kind != 'u')
    throw py::type_error(std::string(call) + ": indices must be integers, got dtype " +
                         std::string(py::str(arr.dtype())));
  if (arr.ndim() != 1) throw py::value_error(std::string(call) + ": indices must be one-dimensional");
  return IndexArray::ensure(arr);
}

FloatArray as_priorities(const py::handle& obj, const char* call) {
  py::array arr = py::array::ensure(obj);
  if (!arr) throw py::type_error(std::string(call) + ": priorities must be array-like");
  const char kind = arr.dtype().kind();
  if (arr.size() > 0 && kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error(std::string(call) + ": priorities must be numbers, got dtype " +
                         std::string(py::str(arr.dtype())));
  if (arr.ndim() != 1) throw py::value_error(std::string(call) + ": priorities must be one-dimensional");
  return FloatArray::ensure(arr);
}

// An output array given by the caller: written in place, so it must be exactly right.
template <typename T>
T* as_output(py::array& out, const char* call, const char* name) {
  if (!out.dtype().equal(py::dtype::of<T>()))
    throw py::type_error(std::string(call) + ": " + name + " must be a numpy array of dtype " +
                         std::string(py::str(py::dtype::of<T>())));
  if (out.ndim() != 1 || !(out.flags() & py::array::c_style) || !out.writeable())
    throw py::value_error(std::string(call) + ": " + name + " must be a writeable, C-contiguous, 1-D array");
  return static_cast<T*>(out.mutable_data());
}

}  // namespace

PYBIND11_MODULE(_sumtree, m) {
  m.doc() = "codeit replay-buffer sum tree (8-ary, fp64 sums, raw priorities kept, alpha applied at the leaves)";
  m.attr("SCHEMA_VERSION") = 1;
  m.attr("FANOUT") = SumTree::kFanout;
  py::register_exception<InvalidArgument>(m, "SumTreeValueError", PyExc_ValueError);
  register_grid_codec(m);

  py::class_<SumTree>(m, "NativeSumTree")
      .def(py::init<int64_t, double, uint64_t>(), py::arg("capacity") = 1024, py::arg("alpha") = 1.0,
           py::arg("seed") = 0)
      .def_property_readonly("size", &SumTree::size)
      .def_property_readonly("capacity", &SumTree::capacity)
      .def_property_readonly("alpha", &SumTree::alpha)
      .def("__len__", &SumTree::size)
      .def(
          "total",
          [](SumTree& t) {
            std::lock_guard<std::mutex> lock(t.mutex());
            return t.total();
          },
          "Sum of all sampling weights (raw priorities raised to alpha).")
      .def(
          "add",
          [](SumTree& t, const py::object& priorities) {
            FloatArray p = as_priorities(priorities, "add");
            const double* data = p.data();
            const int64_t n = p.size();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(t.mutex());
            return t.add(data, n);
          },
          py::arg("priorities"), "Append items with these raw priorities; returns the index of the first one.")
      .def(
          "update",
          [](SumTree& t, const py::object& indices, const py::object& priorities) {
            IndexArray idx = as_indices(indices, "update");
            FloatArray p = as_priorities(priorities, "update");
            if (idx.size() != p.size())
              throw py::value_error("update: " + std::to_string(idx.size()) + " indices but " +
                                    std::to_string(p.size()) + " priorities (nothing was changed)");
            const int64_t* ip = idx.data();
            const double* pp = p.data();
            const int64_t n = idx.size();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(t.mutex());
            t.update(ip, pp, n);
          },
          py::arg("indices"), py::arg("priorities"),
          "Set raw priorities at indices (last one wins on repeats); validated before anything changes.")
      .def(
          "get",
          [](SumTree& t, const py::object& indices) {
            IndexArray idx = as_indices(indices, "get");
            py::array_t<double> out(idx.size());
            const int64_t* ip = idx.data();
            double* op = out.mutable_data();
            const int64_t n = idx.size();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(t.mutex());
              t.get(ip, op, n);
            }
            return out;
          },
          py::arg("indices"), "Raw priorities at indices.")
      .def(
          "priorities",
          [](SumTree& t) {
            std::lock_guard<std::mutex> lock(t.mutex());
            py::array_t<double> out(t.size());
            t.raw_priorities(out.mutable_data());
            return out;
          },
          "A copy of all raw priorities, in index order.")
      .def(
          "sample",
          [](SumTree& t, int64_t n, bool stratified, bool return_probs) -> py::object {
            if (n < 0) throw py::value_error("sample: batch size must be >= 0, got " + std::to_string(n));
            py::array_t<int64_t> idx(n);
            int64_t* ip = idx.mutable_data();
            if (!return_probs) {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(t.mutex());
              t.sample(n, stratified, ip, nullptr);
              return std::move(idx);
            }
            py::array_t<double> probs(n);
            double* pp = probs.mutable_data();
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(t.mutex());
              t.sample(n, stratified, ip, pp);
            }
            return py::make_tuple(idx, probs);
          },
          py::arg("n"), py::arg("stratified") = false, py::arg("return_probs") = false,
          "n draws with replacement in proportion to weight. Returns int64 indices, or (indices, probs) "
          "with return_probs, probs being weight / total of each draw.")
      .def(
          "sample_into",
          [](SumTree& t, py::array out_indices, py::object out_probs, bool stratified) {
            int64_t* ip = as_output<int64_t>(out_indices, "sample_into", "out_indices");
            double* pp = nullptr;
            if (!out_probs.is_none()) {
              py::array probs = out_probs.cast<py::array>();
              pp = as_output<double>(probs, "sample_into", "out_probs");
              if (probs.size() != out_indices.size())
                throw py::value_error("sample_into: out_probs and out_indices differ in length");
            }
            const int64_t n = out_indices.size();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(t.mutex());
            t.sample(n, stratified, ip, pp);
          },
          py::arg("out_indices"), py::arg("out_probs") = py::none(), py::arg("stratified") = false,
          "Like sample(len(out_indices)) but writes into caller-owned arrays (no allocation).")
      .def(
          "sample_without_replacement",
          [](SumTree& t, int64_t k) {
            if (k < 0) throw py::value_error("sample_without_replacement: k must be >= 0, got " + std::to_string(k));
            py::array_t<int64_t> idx(k);
            int64_t* ip = idx.mutable_data();
            int64_t positive;
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(t.mutex());
              positive = t.sample_without_replacement(k, ip);
            }
            return py::make_tuple(idx, positive);
          },
          py::arg("k"),
          "k distinct indices by successive weighted draws. Returns (indices, n_positive): the first "
          "n_positive have positive weight; if fewer than k do, the rest are uniform among zero-weight items.")
      .def(
          "set_alpha",
          [](SumTree& t, double alpha) {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(t.mutex());
            t.set_alpha(alpha);
          },
          py::arg("alpha"))
      .def(
          "clear",
          [](SumTree& t) {
            std::lock_guard<std::mutex> lock(t.mutex());
            t.clear();
          })
      .def(
          "assign",
          [](SumTree& t, const py::object& priorities) {
            FloatArray p = as_priorities(priorities, "assign");
            const double* data = p.data();
            const int64_t n = p.size();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(t.mutex());
            t.assign(data, n);
          },
          py::arg("priorities"), "Replace all items with these raw priorities.")
      .def(
          "rng_state",
          [](SumTree& t) {
            std::lock_guard<std::mutex> lock(t.mutex());
            py::array_t<uint64_t> out(4);
            t.rng_state(out.mutable_data());
            return out;
          })
      .def(
          "set_rng_state",
          [](SumTree& t, const py::object& state) {
            auto arr = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>::ensure(state);
            if (!arr || arr.size() != 4) throw py::value_error("set_rng_state: expected 4 unsigned 64-bit integers");
            std::lock_guard<std::mutex> lock(t.mutex());
            t.set_rng_state(arr.data());
          },
          py::arg("state"))
      .def(
          "reseed",
          [](SumTree& t, uint64_t seed) {
            std::lock_guard<std::mutex> lock(t.mutex());
            t.reseed(seed);
          },
          py::arg("seed"))
      .def(
          "check_consistency",
          [](SumTree& t) {
            std::lock_guard<std::mutex> lock(t.mutex());
            return t.check_consistency();
          },
          "Largest relative discrepancy between a node and the sum of its children (0 when consistent).");
}
