// Bindings: Tensor's metadata, views, conversions and subscripts.
#include "bind.h"

namespace dlcore::python {

Dims to_dims(const py::object& dim) {
  if (dim.is_none()) return {};
  if (py::isinstance<py::int_>(dim)) return {dim.cast<int64_t>()};
  if (py::isinstance<py::sequence>(dim)) {
    Dims d = dim.cast<Dims>();
    if (d.empty()) return {};
    return d;
  }
  throw TypeError(str_cat("dim: expected None, an int or a sequence of ints, got ",
                          std::string(py::str(py::type::of(dim).attr("__name__")))));
}

Shape shape_from_args(const py::args& args, const char* op) {
  if (args.size() == 1 && !py::isinstance<py::int_>(args[0])) {
    if (!py::isinstance<py::sequence>(args[0]))
      throw TypeError(str_cat(op, ": expected a shape (ints or one sequence of ints)"));
    return args[0].cast<Shape>();
  }
  Shape s;
  for (const auto& a : args) {
    if (!py::isinstance<py::int_>(a)) throw TypeError(str_cat(op, ": shape entries must be ints"));
    s.push_back(a.cast<int64_t>());
  }
  return s;
}

Tensor to_tensor_operand(const py::handle& h, const char* op) {
  if (py::isinstance<Tensor>(h)) return h.cast<Tensor>();
  try {
    return scalar_tensor(h.cast<Scalar>());
  } catch (const py::cast_error&) {
    throw TypeError(str_cat(op, ": expected a Tensor or a number, got ",
                            std::string(py::str(py::type::of(h).attr("__name__")))));
  }
}

namespace {

std::optional<int64_t> opt_int(const py::handle& h) {
  if (h.is_none()) return std::nullopt;
  return py::cast<int64_t>(h);
}

TensorIndex to_index_item(const py::handle& h) {
  if (h.is_none()) return TensorIndex::make_none();
  if (h.ptr() == Py_Ellipsis) return TensorIndex::make_ellipsis();
  if (PyBool_Check(h.ptr()))
    throw IndexError("indexing with a Python bool is not supported; use a bool tensor");
  if (py::isinstance<py::int_>(h) || (PyIndex_Check(h.ptr()) && !py::isinstance<Tensor>(h) &&
                                      !py::hasattr(h, "__array_interface__")))
    return TensorIndex::make_int(PyNumber_AsSsize_t(h.ptr(), PyExc_IndexError));
  if (py::isinstance<py::slice>(h)) {
    auto s = py::reinterpret_borrow<py::slice>(h);
    py::object step = s.attr("step");
    return TensorIndex::make_slice(opt_int(s.attr("start")), opt_int(s.attr("stop")),
                                   step.is_none() ? 1 : step.cast<int64_t>());
  }
  if (py::isinstance<Tensor>(h)) {
    Tensor t = h.cast<Tensor>();
    if (is_floating(t.dtype()))
      throw IndexError(str_cat("tensors used as indices must be integer or bool tensors, got ",
                               dtype_name(t.dtype())));
    return TensorIndex::make_tensor(t);
  }
  if (py::isinstance<py::list>(h) || py::hasattr(h, "__array_interface__")) {
    py::object tensor_fn = py::module_::import("dlcore").attr("tensor");
    return to_index_item(tensor_fn(h));
  }
  throw IndexError(str_cat("only integers, slices, None, ..., and integer or bool tensors are "
                           "valid indices, got ", std::string(py::str(py::type::of(h).attr("__name__")))));
}

}  // namespace

std::vector<TensorIndex> to_indices(const py::object& index) {
  std::vector<TensorIndex> items;
  if (py::isinstance<py::tuple>(index)) {
    for (const auto& h : py::reinterpret_borrow<py::tuple>(index)) items.push_back(to_index_item(h));
  } else {
    items.push_back(to_index_item(index));
  }
  return items;
}

void init_tensor(py::module_& m, py::class_<Tensor>& cls) {
  (void)m;
  cls.def(py::init([](const Tensor& other) { return Tensor(other.impl_ptr()); }), py::arg("data"),
          "A new Python reference to the same tensor (used by subclasses such as Parameter).")
      .def(py::init([](py::object data) {
             // Tensor([1, 2]) as in PyTorch: a float32 copy of the data.
             py::object tensor_fn = py::module_::import("dlcore").attr("tensor");
             return tensor_fn(data, py::arg("dtype") = DType::Float32).cast<Tensor>();
           }),
           py::arg("data"))
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("ndim", &Tensor::dim)
      .def_property_readonly("is_leaf", &Tensor::is_leaf)
      .def_property_readonly("_version", &Tensor::version)
      .def_property_readonly("_offset", &Tensor::offset)
      .def_property_readonly("_data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def_property_readonly("T", [](const Tensor& t) {
        Dims p;
        for (int64_t i = t.dim() - 1; i >= 0; --i) p.push_back(i);
        return permute(t, p);
      })
      .def("dim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("size", [](const Tensor& t, py::object dim) -> py::object {
        if (dim.is_none()) return py::tuple(py::cast(t.shape()));
        return py::int_(t.size(dim.cast<int64_t>()));
      }, py::arg("dim") = py::none())
      .def("stride", [](const Tensor& t, py::object dim) -> py::object {
        if (dim.is_none()) return py::tuple(py::cast(t.strides()));
        return py::int_(t.stride(dim.cast<int64_t>()));
      }, py::arg("dim") = py::none())
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("element_size", &Tensor::itemsize)
      .def("__len__", [](const Tensor& t) {
        if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
        return t.shape()[0];
      })
      .def("__hash__", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.impl()); })
      .def("item", [](const Tensor& t) -> py::object {
        double v = t.item();
        if (is_floating(t.dtype())) return py::float_(v);
        if (t.dtype() == DType::Bool) return py::bool_(v != 0);
        return py::int_(static_cast<int64_t>(v));
      })
      .def("__float__", [](const Tensor& t) { return t.item(); })
      .def("__int__", [](const Tensor& t) { return static_cast<int64_t>(t.item()); })
      .def("__index__", [](const Tensor& t) {
        if (!is_integral(t.dtype()) || t.numel() != 1)
          throw TypeError("only integer tensors of a single element can be converted to an index");
        return static_cast<int64_t>(t.item());
      })
      .def("__bool__", [](const Tensor& t) {
        if (t.numel() != 1)
          throw RuntimeError(str_cat("Boolean value of a tensor with ", t.numel(),
                                     " elements is ambiguous"));
        return t.item() != 0;
      })
      .def("to", [](const Tensor& t, DType d) { return t.to(d); }, py::arg("dtype"))
      .def("to", [](const Tensor& t, const std::string& dev) {
        if (dev != "cpu") throw TypeError("to: only the 'cpu' device is available in this build, got '" + dev + "'");
        return t;
      }, py::arg("device"))
      .def("to", [](const Tensor& t, const Tensor& other) { return t.to(other.dtype()); }, py::arg("other"))
      .def("float", [](const Tensor& t) { return t.to(DType::Float32); })
      .def("double", [](const Tensor& t) { return t.to(DType::Float64); })
      .def("long", [](const Tensor& t) { return t.to(DType::Int64); })
      .def("int", [](const Tensor& t) { return t.to(DType::Int32); })
      .def("bool", [](const Tensor& t) { return t.to(DType::Bool); })
      .def("cpu", [](const Tensor& t) { return t; })
      .def("contiguous", &Tensor::contiguous)
      .def("clone", &Tensor::clone)
      .def("reshape", [](const Tensor& t, py::args a) { return reshape(t, shape_from_args(a, "reshape")); })
      .def("view", [](const Tensor& t, py::args a) { return view(t, shape_from_args(a, "view")); })
      .def("view_as", [](const Tensor& t, const Tensor& o) { return view(t, o.shape()); })
      .def("reshape_as", [](const Tensor& t, const Tensor& o) { return reshape(t, o.shape()); })
      .def("expand", [](const Tensor& t, py::args a) { return expand(t, shape_from_args(a, "expand")); })
      .def("expand_as", [](const Tensor& t, const Tensor& o) { return expand(t, o.shape()); })
      .def("permute", [](const Tensor& t, py::args a) { return permute(t, shape_from_args(a, "permute")); })
      .def("transpose", [](const Tensor& x, int64_t a, int64_t b) { return transpose(x, a, b); })
      .def("t", [](const Tensor& x) { return t(x); })
      .def("squeeze", [](const Tensor& x, py::object dim) {
        return dim.is_none() ? squeeze(x) : squeeze(x, dim.cast<int64_t>());
      }, py::arg("dim") = py::none())
      .def("unsqueeze", [](const Tensor& x, int64_t d) { return unsqueeze(x, d); }, py::arg("dim"))
      .def("flatten", [](const Tensor& x, int64_t s, int64_t e) { return flatten(x, s, e); },
           py::arg("start_dim") = 0, py::arg("end_dim") = -1)
      .def("narrow", [](const Tensor& x, int64_t d, int64_t s, int64_t l) { return narrow(x, d, s, l); },
           py::arg("dim"), py::arg("start"), py::arg("length"))
      .def("select", [](const Tensor& x, int64_t d, int64_t i) { return select(x, d, i); },
           py::arg("dim"), py::arg("index"))
      .def("__getitem__", [](const Tensor& t, py::object idx) { return index(t, to_indices(idx)); })
      .def("__setitem__", [](Tensor& t, py::object idx, py::object value) {
        Tensor v;
        if (py::isinstance<Tensor>(value)) {
          v = value.cast<Tensor>();
        } else {
          try {
            v = scalar_tensor(value.cast<Scalar>(), t.dtype());
          } catch (const py::cast_error&) {  // lists, NumPy arrays
            v = py::module_::import("dlcore").attr("tensor")(value).cast<Tensor>();
          }
        }
        index_put_(t, to_indices(idx), v);
      });
}

}  // namespace dlcore::python
