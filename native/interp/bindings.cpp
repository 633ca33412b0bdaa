#include <pybind11/pybind11.h>

PYBIND11_MODULE(_interp, m) {
  m.doc() = "codeit native batch interpreter";
}
