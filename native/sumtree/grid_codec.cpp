// The experience store's grid blobs, encoded and decoded in C++ (see codeit/buffer/grids.py for
// the layout). In Python the per-grid overhead (one call per row, checks) was ~6 us a grid and
// the largest single cost of a store append; here a 10x10 grid takes well under a microsecond.
#include <Python.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

namespace py = pybind11;

namespace {

constexpr Py_ssize_t kMaxGrids = 255;
constexpr Py_ssize_t kMaxSide = 255;

[[noreturn]] void fail(Py_ssize_t grid, const std::string& what) {
  throw py::value_error("encode_grids: grid " + std::to_string(grid) + " " + what);
}

// Rows of a grid as a borrowed fast sequence (tuple or list); anything else is not ours.
bool is_sequence(PyObject* o) { return PyTuple_Check(o) || PyList_Check(o); }

py::bytes encode(const py::handle& grids_obj) {
  PyObject* grids = grids_obj.ptr();
  if (!is_sequence(grids)) throw py::type_error("encode_grids: expected a tuple or list of grids");
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(grids);
  if (n > kMaxGrids)
    throw py::value_error("encode_grids: " + std::to_string(n) + " grids exceed the limit of 255 per blob");
  std::string out(static_cast<size_t>(1 + 2 * n), '\0');
  out[0] = static_cast<char>(n);
  for (Py_ssize_t g = 0; g < n; ++g) {
    PyObject* grid = PySequence_Fast_GET_ITEM(grids, g);
    if (!is_sequence(grid)) throw py::type_error("encode_grids: grid " + std::to_string(g) + " is not a tuple or list of rows");
    const Py_ssize_t h = PySequence_Fast_GET_SIZE(grid);
    Py_ssize_t w = 0;
    for (Py_ssize_t r = 0; r < h; ++r) {
      PyObject* row = PySequence_Fast_GET_ITEM(grid, r);
      if (!is_sequence(row)) fail(g, "is not rows of integers in 0..255 (row " + std::to_string(r) + " is not a sequence)");
      const Py_ssize_t len = PySequence_Fast_GET_SIZE(row);
      if (r == 0) {
        w = len;
      } else if (len != w) {
        fail(g, "is ragged (rows of unequal length)");
      }
      PyObject** cells = PySequence_Fast_ITEMS(row);
      for (Py_ssize_t c = 0; c < len; ++c) {
        PyObject* cell = cells[c];
        if (!PyLong_Check(cell)) fail(g, "is not rows of integers in 0..255 (a cell is not an int)");
        const long v = PyLong_AsLong(cell);
        if (v < 0 || v > 255) {
          if (v == -1 && PyErr_Occurred()) PyErr_Clear();
          fail(g, "has a cell outside 0..255");
        }
        out.push_back(static_cast<char>(v));
      }
    }
    if (h > kMaxSide || w > kMaxSide)
      fail(g, "is " + std::to_string(h) + "x" + std::to_string(w) + "; sides are limited to 255");
    out[static_cast<size_t>(1 + 2 * g)] = static_cast<char>(h);
    out[static_cast<size_t>(2 + 2 * g)] = static_cast<char>(w);
  }
  return py::bytes(out);
}

py::tuple decode(const py::bytes& blob_obj) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(blob_obj.ptr(), &data, &size) != 0) throw py::error_already_set();
  const auto* b = reinterpret_cast<const unsigned char*>(data);
  if (size == 0) throw py::value_error("decode_grids: empty blob");
  const Py_ssize_t n = b[0];
  Py_ssize_t offset = 1 + 2 * n;
  if (size < offset)
    throw py::value_error("decode_grids: blob of " + std::to_string(size) + " bytes is too short for " +
                          std::to_string(n) + " grid shapes");
  Py_ssize_t needed = offset;
  for (Py_ssize_t g = 0; g < n; ++g) needed += static_cast<Py_ssize_t>(b[1 + 2 * g]) * b[2 + 2 * g];
  if (needed > size) throw py::value_error("decode_grids: blob is truncated");
  if (needed < size)
    throw py::value_error("decode_grids: " + std::to_string(size - needed) + " trailing bytes after " +
                          std::to_string(n) + " grids");
  // The 256 small ints are CPython singletons: every cell is a new reference, no allocation.
  PyObject* small[256];
  for (int v = 0; v < 256; ++v) small[v] = PyLong_FromLong(v);
  py::tuple result(n);
  for (Py_ssize_t g = 0; g < n; ++g) {
    const Py_ssize_t h = b[1 + 2 * g], w = b[2 + 2 * g];
    py::tuple grid(h);
    for (Py_ssize_t r = 0; r < h; ++r) {
      PyObject* row = PyTuple_New(w);
      if (row == nullptr) throw py::error_already_set();
      for (Py_ssize_t c = 0; c < w; ++c) {
        PyObject* v = small[b[offset + c]];
        Py_INCREF(v);
        PyTuple_SET_ITEM(row, c, v);
      }
      PyTuple_SET_ITEM(grid.ptr(), r, row);
      offset += w;
    }
    PyTuple_SET_ITEM(result.ptr(), g, grid.release().ptr());
  }
  for (auto* v : small) Py_DECREF(v);
  return result;
}

}  // namespace

void register_grid_codec(py::module_& m) {
  m.def("encode_grids", &encode, py::arg("grids"),
        "Encode a tuple/list of grids (tuples/lists of rows of ints 0..255) into one blob.");
  m.def("decode_grids", &decode, py::arg("blob"), "Decode a blob into a tuple of grids (tuples of tuples of ints).");
}
