// Bindings: zero-copy exchange with NumPy (buffers) and DLPack capsules.
#include <pybind11/numpy.h>

#include <cstring>

#include "../../third_party/dlpack/dlpack.h"
#include "bind.h"

namespace dlcore::python {
namespace {

py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::Bool: return py::dtype("bool");
    case DType::Int32: return py::dtype("int32");
    case DType::Int64: return py::dtype("int64");
    case DType::Float32: return py::dtype("float32");
    case DType::Float64: return py::dtype("float64");
  }
  return py::dtype("float32");
}

DType dtype_from_numpy(const py::dtype& dt, const char* op) {
  char kind = dt.kind();
  size_t size = dt.itemsize();
  if (kind == 'b' && size == 1) return DType::Bool;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  throw TypeError(str_cat(op, ": unsupported NumPy dtype ", std::string(py::str(dt)),
                          "; supported are float32, float64, int64, int32 and bool"));
}

// Storage that keeps a Python object alive (released with the GIL held).
std::shared_ptr<Storage> adopt(void* data, size_t nbytes, py::object owner) {
  auto* keep = new py::object(std::move(owner));
  return std::make_shared<Storage>(data, nbytes, [keep](void*) {
    py::gil_scoped_acquire gil;
    delete keep;
  });
}

Tensor tensor_over(std::shared_ptr<Storage> storage, const Shape& shape, const Shape& strides, DType d) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = d;
  return Tensor(std::move(impl));
}

size_t extent_bytes(const Shape& shape, const Shape& strides, size_t item) {
  if (shape_numel(shape) == 0) return 0;
  int64_t last = 0;
  for (size_t i = 0; i < shape.size(); ++i) last += (shape[i] - 1) * strides[i];
  return static_cast<size_t>(last + 1) * item;
}

Tensor from_numpy(py::array a) {
  DType d = dtype_from_numpy(a.dtype(), "from_numpy");
  if (a.dtype().byteorder() == '>')
    throw TypeError("from_numpy: big-endian arrays are not supported; use arr.astype(arr.dtype.newbyteorder('='))");
  size_t item = dtype_size(d);
  Shape shape(a.shape(), a.shape() + a.ndim()), strides(a.ndim());
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    py::ssize_t s = a.strides()[i];
    if (s < 0 || s % static_cast<py::ssize_t>(item) != 0)
      throw ValueError(str_cat("from_numpy: arrays with negative or non-itemsize-multiple strides "
                               "are not supported (strides ", shape_str(Shape(a.strides(), a.strides() + a.ndim())),
                               "); use np.ascontiguousarray() first"));
    strides[i] = s / static_cast<py::ssize_t>(item);
  }
  void* data = const_cast<void*>(a.data());
  return tensor_over(adopt(data, extent_bytes(shape, strides, item), a), shape, strides, d);
}

py::array to_numpy(const Tensor& t) {
  if (t.requires_grad())
    throw RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use "
                       "tensor.detach().numpy() instead");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(s * static_cast<py::ssize_t>(t.itemsize()));
  py::capsule base(new Tensor(t), [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(numpy_dtype(t.dtype()), shape, strides, t.data_ptr(), base);
}

// ---- DLPack
DLDataType dl_dtype(DType d) {
  switch (d) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
  }
  return {kDLFloat, 32, 1};
}

DType dtype_from_dl(DLDataType t) {
  if (t.lanes == 1) {
    if (t.code == kDLBool && t.bits == 8) return DType::Bool;
    if (t.code == kDLInt && t.bits == 32) return DType::Int32;
    if (t.code == kDLInt && t.bits == 64) return DType::Int64;
    if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
    if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
  }
  throw TypeError(str_cat("from_dlpack: unsupported DLPack dtype (code ", int(t.code), ", bits ",
                          int(t.bits), ", lanes ", t.lanes, ")"));
}

struct DLContext {
  Tensor tensor;
  std::vector<int64_t> shape, strides;
};

template <class Managed> Managed* make_managed(const Tensor& t) {
  auto* ctx = new DLContext{t, t.shape(), t.strides()};
  auto* m = new Managed{};
  DLTensor& dl = m->dl_tensor;
  dl.data = t.impl()->storage->data;
  dl.byte_offset = static_cast<uint64_t>(t.offset()) * t.itemsize();
  dl.device = {kDLCPU, 0};
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = dl_dtype(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  m->manager_ctx = ctx;
  m->deleter = [](Managed* self) {
    delete static_cast<DLContext*>(self->manager_ctx);
    delete self;
  };
  return m;
}

py::capsule to_dlpack(const Tensor& t_in, py::object stream, py::object max_version, py::object dl_device,
                      py::object copy) {
  (void)stream;  // CPU tensors need no stream synchronisation
  if (!dl_device.is_none()) {
    auto dev = dl_device.cast<std::pair<int, int>>();
    if (dev.first != kDLCPU)
      throw py::buffer_error("__dlpack__: only export to the CPU (device type 1) is supported");
  }
  if (t_in.requires_grad())
    throw RuntimeError("__dlpack__: can't export a tensor that requires grad; use tensor.detach()");
  Tensor t = (!copy.is_none() && copy.cast<bool>()) ? clone(t_in) : t_in;
  bool versioned = false;
  if (!max_version.is_none()) versioned = max_version.cast<std::pair<int, int>>().first >= 1;
  if (versioned) {
    auto* m = make_managed<DLManagedTensorVersioned>(t);
    m->version = {DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION};
    m->flags = (!copy.is_none() && copy.cast<bool>()) ? DLPACK_FLAG_BITMASK_IS_COPIED : 0;
    return py::capsule(m, "dltensor_versioned", [](PyObject* cap) {
      if (PyCapsule_IsValid(cap, "dltensor_versioned")) {  // never consumed
        auto* p = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap, "dltensor_versioned"));
        if (p && p->deleter) p->deleter(p);
      }
    });
  }
  auto* m = make_managed<DLManagedTensor>(t);
  return py::capsule(m, "dltensor", [](PyObject* cap) {
    if (PyCapsule_IsValid(cap, "dltensor")) {
      auto* p = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
      if (p && p->deleter) p->deleter(p);
    }
  });
}

template <class Managed> Tensor import_managed(Managed* m) {
  const DLTensor& dl = m->dl_tensor;
  if (dl.device.device_type != kDLCPU) {
    m->deleter(m);
    throw TypeError("from_dlpack: only CPU tensors can be imported in this build");
  }
  DType d;
  try {
    d = dtype_from_dl(dl.dtype);
  } catch (...) {
    m->deleter(m);
    throw;
  }
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  for (int64_t s : strides)
    if (s < 0) {
      m->deleter(m);
      throw ValueError("from_dlpack: negative strides are not supported");
    }
  char* data = static_cast<char*>(dl.data) + dl.byte_offset;
  auto storage = std::make_shared<Storage>(data, extent_bytes(shape, strides, dtype_size(d)),
                                           [m](void*) { m->deleter(m); });
  return tensor_over(std::move(storage), shape, strides, d);
}

Tensor from_dlpack(py::object obj) {
  if (py::isinstance<Tensor>(obj)) return obj.cast<Tensor>();
  py::object cap;
  if (py::hasattr(obj, "__dlpack__")) {
    try {
      cap = obj.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(1, 0));
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_TypeError)) throw;
      cap = obj.attr("__dlpack__")();
    }
  } else {
    cap = obj;
  }
  PyObject* c = cap.ptr();
  if (PyCapsule_IsValid(c, "dltensor_versioned")) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(c, "dltensor_versioned"));
    if (m->version.major != DLPACK_MAJOR_VERSION) {
      m->deleter(m);
      PyCapsule_SetName(c, "used_dltensor_versioned");
      throw TypeError("from_dlpack: unsupported DLPack major version");
    }
    PyCapsule_SetName(c, "used_dltensor_versioned");
    return import_managed(m);
  }
  if (PyCapsule_IsValid(c, "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
    PyCapsule_SetName(c, "used_dltensor");
    return import_managed(m);
  }
  throw TypeError("from_dlpack: expected an object with __dlpack__ or a DLPack capsule");
}

}  // namespace

void init_interop(py::module_& m, py::class_<Tensor>& cls) {
  m.def("from_numpy", &from_numpy, py::arg("ndarray"));
  m.def("_from_buffer_copy", [](py::array a) {
    DType d = dtype_from_numpy(a.dtype(), "tensor");
    if (!(a.flags() & py::array::c_style)) throw ValueError("tensor: expected a C-contiguous array");
    return from_blob_copy(a.data(), Shape(a.shape(), a.shape() + a.ndim()), d);
  });
  m.def("from_dlpack", &from_dlpack, py::arg("ext_tensor"));
  cls.def("numpy", &to_numpy)
      .def("__dlpack__", &to_dlpack, py::kw_only(), py::arg("stream") = py::none(),
           py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(),
           py::arg("copy") = py::none())
      .def("__dlpack_device__", [](const Tensor&) { return py::make_tuple(int(kDLCPU), 0); });
}

}  // namespace dlcore::python
