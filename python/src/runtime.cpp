// Bindings: dtypes, devices, threads, instruction sets, random generators.
#include "bind.h"

namespace dlcore::python {


// A generator's state as a tensor of its bytes (int64 values 0..255: dlcore has no uint8),
// and back.
Tensor state_tensor(Generator& g) {
  std::string st;
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    st = g.get_state();
  }
  Tensor t = empty({static_cast<int64_t>(st.size())}, DType::Int64);
  int64_t* p = t.data<int64_t>();
  for (size_t i = 0; i < st.size(); ++i) p[i] = static_cast<unsigned char>(st[i]);
  return t;
}

void set_state_from(Generator& g, const Tensor& t) {
  if (t.dim() != 1 || t.dtype() != DType::Int64)
    throw TypeError("set_rng_state: expected the 1-D int64 tensor get_rng_state returns");
  Tensor c = contiguous(t);
  const int64_t* p = c.data<int64_t>();
  std::string st(static_cast<size_t>(c.numel()), '\0');
  for (int64_t i = 0; i < c.numel(); ++i) {
    if (p[i] < 0 || p[i] > 255) throw ValueError("set_rng_state: not a state saved by get_rng_state");
    st[static_cast<size_t>(i)] = static_cast<char>(p[i]);
  }
  std::lock_guard<std::mutex> lock(g.mutex);
  g.set_state(st);
}

void init_runtime(py::module_& m) {
  py::enum_<DType>(m, "dtype")
      .value("bool", DType::Bool)
      .value("int32", DType::Int32)
      .value("int64", DType::Int64)
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .def("__repr__", [](DType d) { return std::string("dlcore.") + dtype_name(d); })
      .def("__str__", [](DType d) { return std::string("dlcore.") + dtype_name(d); })
      .def_property_readonly("is_floating_point", [](DType d) { return is_floating(d); })
      .def_property_readonly("itemsize", [](DType d) { return dtype_size(d); });

  py::class_<Device>(m, "device")
      .def(py::init([](const std::string& s) {
        if (s != "cpu") throw TypeError("device: only 'cpu' is available in this build, got '" + s + "'");
        return Device{};
      }))
      .def_property_readonly("type", [](const Device& d) { return d.type == DeviceType::CPU ? "cpu" : "cuda"; })
      .def("__repr__", [](const Device& d) { return "device(type='" + d.str() + "')"; })
      .def("__str__", &Device::str)
      .def("__eq__", [](const Device& a, const Device& b) { return a == b; })
      .def("__eq__", [](const Device& a, const std::string& b) { return a.str() == b; })
      .def("__hash__", [](const Device& d) { return py::hash(py::str(d.str())); });

  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
  m.def("_set_default_dtype", &set_default_dtype, py::arg("dtype"));
  m.def("_get_default_dtype", &default_dtype);
  m.def("_active_isa", &active_isa);
  m.def("_available_isas", &available_isas);
  m.def("_compiled_isas", &compiled_isas);
  m.def("_set_isa", &set_isa, py::arg("name"));
  m.def("_version", &version);
  m.def("_op_registry", [] {
    py::list out;
    for (const auto& op : op_registry()) out.append(py::make_tuple(op.name, op.family, op.differentiable));
    return out;
  });
  m.def("_compiler", &compiler);
  m.def("_openmp", &openmp_enabled);
  m.def("_cuda_available", &cuda_available);

  py::class_<Generator>(m, "Generator")
      .def(py::init([](py::object device) {
             (void)device;
             return new Generator(default_generator().next_u64());
           }),
           py::arg("device") = py::none())
      .def("manual_seed",
           [](Generator& g, uint64_t seed) -> Generator& {
             std::lock_guard<std::mutex> lock(g.mutex);
             g.manual_seed(seed);
             return g;
           },
           py::arg("seed"), py::return_value_policy::reference)
      .def("initial_seed", &Generator::initial_seed)
      .def("get_state", [](Generator& g) { return state_tensor(g); })
      .def("set_state", [](Generator& g, const Tensor& t) -> Generator& {
             set_state_from(g, t);
             return g;
           },
           py::arg("new_state"), py::return_value_policy::reference);
  m.def("manual_seed", [](uint64_t seed) { manual_seed(seed); }, py::arg("seed"));
  m.def("get_rng_state", []() { return state_tensor(default_generator()); });
  m.def("set_rng_state", [](const Tensor& t) { set_state_from(default_generator(), t); },
        py::arg("new_state"));
  m.def("default_generator", &default_generator, py::return_value_policy::reference);
}

}  // namespace dlcore::python
