// Shared declarations of the binding files: the switchboard's init functions
// and the conversions between Python objects and dlcore types.
#pragma once
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "dlcore/dlcore.h"

namespace py = pybind11;

namespace pybind11::detail {
// Python bool/int/float (and NumPy scalars) <-> dlcore::Scalar.
template <> struct type_caster<dlcore::Scalar> {
  PYBIND11_TYPE_CASTER(dlcore::Scalar, const_name("number"));
  bool load(handle src, bool convert) {
    PyObject* o = src.ptr();
    if (PyBool_Check(o)) {
      value = dlcore::Scalar(o == Py_True);
      return true;
    }
    if (PyLong_Check(o)) {
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (overflow) return false;
      value = dlcore::Scalar(static_cast<int64_t>(v));
      return true;
    }
    if (PyFloat_Check(o)) {
      value = dlcore::Scalar(PyFloat_AsDouble(o));
      return true;
    }
    if (!convert) return false;
    std::string tname = Py_TYPE(o)->tp_name;
    if (tname.rfind("numpy.", 0) != 0 || tname == "numpy.ndarray") return false;  // NumPy scalars only
    if (tname == "numpy.bool" || tname == "numpy.bool_") {
      value = dlcore::Scalar(PyObject_IsTrue(o) == 1);
      return true;
    }
    if (PyIndex_Check(o)) {
      Py_ssize_t v = PyNumber_AsSsize_t(o, nullptr);
      if (PyErr_Occurred()) {
        PyErr_Clear();
        return false;
      }
      value = dlcore::Scalar(static_cast<int64_t>(v));
      return true;
    }
    double d = PyFloat_AsDouble(o);
    if (PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
    value = dlcore::Scalar(d);
    return true;
  }
  static handle cast(const dlcore::Scalar& s, return_value_policy, handle) {
    if (s.kind == dlcore::Scalar::Bool) return PyBool_FromLong(s.i);
    if (s.kind == dlcore::Scalar::Int) return PyLong_FromLongLong(s.i);
    return PyFloat_FromDouble(s.f);
  }
};
}  // namespace pybind11::detail

namespace dlcore::python {

void init_runtime(py::module_& m);
void init_tensor(py::module_& m, py::class_<Tensor>& cls);
void init_ops(py::module_& m, py::class_<Tensor>& cls);
void init_autograd(py::module_& m, py::class_<Tensor>& cls);
void init_interop(py::module_& m, py::class_<Tensor>& cls);
void init_nn(py::module_& m);

// None -> all dims; an int or a sequence of ints -> those dims.
Dims to_dims(const py::object& dim);
// f(2, 3) or f((2, 3)) or f([2, 3]) -> shape.
Shape shape_from_args(const py::args& args, const char* op);
// A Python subscript -> dlcore index items.
std::vector<TensorIndex> to_indices(const py::object& index);
// Python object (Tensor or number) -> Tensor; numbers become 0-d wrapped numbers.
Tensor to_tensor_operand(const py::handle& h, const char* op);

}  // namespace dlcore::python
