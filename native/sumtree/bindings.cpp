#include <pybind11/pybind11.h>

PYBIND11_MODULE(_sumtree, m) {
  m.doc() = "codeit replay-buffer sum tree";
  m.attr("SCHEMA_VERSION") = 1;
}
