// Bindings: grad mode, backward, autograd.grad, and Tensor's autograd state.
#include <mutex>
#include <set>

#include "bind.h"

namespace dlcore::python {
namespace {

// A Python callable kept by C++ (hooks, nodes): released with the GIL held.
std::shared_ptr<py::object> hold(py::function fn) {
  return std::shared_ptr<py::object>(new py::object(std::move(fn)), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
}

// A Python tensor hook usable from C++ threads that do not hold the GIL.
std::function<Tensor(const Tensor&)> wrap_hook(py::function fn) {
  auto holder = hold(std::move(fn));
  return [holder](const Tensor& g) {
    py::gil_scoped_acquire gil;
    py::object r = (*holder)(g);
    if (r.is_none()) return Tensor();
    if (!py::isinstance<Tensor>(r)) throw TypeError("hook: a tensor hook must return None or a Tensor");
    Tensor t = r.cast<Tensor>();
    if (t.shape() != g.shape())
      throw ValueError(str_cat("hook: returned a gradient of shape ", shape_str(t.shape()),
                               " for a tensor of shape ", shape_str(g.shape())));
    return t;
  };
}

std::vector<Tensor> tensor_list(const py::object& o) {
  if (o.is_none()) return {};
  if (py::isinstance<Tensor>(o)) return {o.cast<Tensor>()};
  std::vector<Tensor> out;
  for (const auto& h : o) out.push_back(h.is_none() ? Tensor() : h.cast<Tensor>());
  return out;
}

// A node's name lives as long as the process (FunctionNode keeps a const char*): one copy
// of each name a custom Function gives.
const char* intern_name(const std::string& name) {
  static std::mutex mu;
  static std::set<std::string> names;
  std::lock_guard<std::mutex> lock(mu);
  return names.insert(name).first->c_str();
}

}  // namespace

// What register_hook returns: handle.remove() unregisters the hook.
struct HookHandle {
  std::function<void()> remove;
};

void init_autograd(py::module_& m, py::class_<Tensor>& cls) {
  py::class_<HookHandle>(m, "RemovableHandle").def("remove", [](HookHandle& h) {
    if (h.remove) h.remove();
    h.remove = nullptr;
  });
  m.def("is_grad_enabled", &grad_enabled);
  m.def("_set_grad_enabled", &set_grad_enabled, py::arg("mode"));
  m.def("is_anomaly_enabled", &anomaly_enabled);
  m.def("is_anomaly_check_nan_enabled", &anomaly_check_nan);
  m.def("_set_anomaly_enabled", &set_anomaly_enabled, py::arg("enabled"),
        py::arg("check_nan") = true);
  // Saved-tensor hooks: pack(tensor) -> any object, kept; unpack(object) -> the tensor. Both
  // are called with the GIL from the thread that saves (forward) or unpacks (backward).
  m.def("_push_saved_tensor_hooks", [](py::function pack, py::function unpack) {
    auto pack_fn = hold(std::move(pack)), unpack_fn = hold(std::move(unpack));
    SavedTensorHooks hooks;
    hooks.pack = [pack_fn](const Tensor& t) -> std::shared_ptr<void> {
      py::gil_scoped_acquire gil;
      py::object kept = (*pack_fn)(t);
      return std::shared_ptr<void>(new py::object(std::move(kept)), [](void* o) {
        py::gil_scoped_acquire gil;
        delete static_cast<py::object*>(o);
      });
    };
    hooks.unpack = [unpack_fn](const std::shared_ptr<void>& kept) {
      py::gil_scoped_acquire gil;
      py::object r = (*unpack_fn)(*static_cast<py::object*>(kept.get()));
      if (!py::isinstance<Tensor>(r))
        throw TypeError(str_cat("saved-tensor hooks: unpack_hook must return a Tensor, got ",
                                std::string(py::str(py::type::of(r).attr("__name__")))));
      return r.cast<Tensor>();
    };
    push_saved_tensor_hooks(std::move(hooks));
  });
  m.def("_push_disabled_saved_tensor_hooks", [](const std::string& message) {
    SavedTensorHooks hooks;
    hooks.disabled_message = message;
    push_saved_tensor_hooks(std::move(hooks));
  });
  m.def("_pop_saved_tensor_hooks", &pop_saved_tensor_hooks);
  // Anomaly mode's record of where a node was created: what source() returns (a string),
  // called with the GIL from whichever thread records the node.
  m.def("_set_anomaly_trace_source", [](py::function source) {
    auto holder = hold(std::move(source));
    set_anomaly_trace_source([holder]() {
      py::gil_scoped_acquire gil;
      return (*holder)().cast<std::string>();
    });
  });

  py::class_<Node, std::shared_ptr<Node>>(m, "Node")
      .def("name", &Node::name)
      .def_property_readonly("next_functions", [](const Node& n) {
        py::list out;
        for (const Edge& e : n.next_edges)
          out.append(py::make_tuple(e.fn ? py::cast(e.fn) : py::none(), e.input_nr));
        return py::tuple(out);
      })
      .def("__repr__", [](const Node& n) { return "<dlcore.autograd.Node " + n.name() + ">"; });

  cls.def_property("requires_grad", &Tensor::requires_grad,
                   [](Tensor& t, bool v) { t.requires_grad_(v); })
      .def("requires_grad_", [](Tensor& t, bool v) -> Tensor& { return t.requires_grad_(v); },
           py::arg("requires_grad") = true)
      .def_property("grad", [](const Tensor& t) -> py::object {
        Tensor g = t.grad();
        return g.defined() ? py::cast(g) : py::none();
      }, [](const Tensor& t, py::object g) { t.set_grad(g.is_none() ? Tensor() : g.cast<Tensor>()); })
      .def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
        auto fn = t.grad_fn();
        return fn ? py::cast(fn) : py::none();
      })
      .def_property("data", [](const Tensor& t) { return detach(t); }, [](Tensor& t, const Tensor& src) {
        // Swap in src's data and layout; t keeps its autograd identity.
        TensorImpl* i = t.impl();
        i->storage = src.impl()->storage;
        i->shape = src.shape();
        i->strides = src.strides();
        i->offset = src.offset();
        i->dtype = src.dtype();
      })
      .def("detach", &Tensor::detach)
      .def("detach_", [](Tensor& t) -> Tensor& {
        if (t.impl()->autograd) t.impl()->autograd.reset();
        return t;
      })
      .def("retain_grad", &Tensor::retain_grad)
      .def_property_readonly("retains_grad", &Tensor::retains_grad)
      .def("register_hook", [](const Tensor& t, py::function fn) {
        return HookHandle{t.register_hook(wrap_hook(std::move(fn)))};
      }, py::arg("hook"))
      // The Python method (_tensor_extras.py) passes the tensor's own Python object.
      .def("_register_post_accumulate_grad_hook", [](const Tensor& t, py::function fn) {
        auto holder = hold(std::move(fn));
        return HookHandle{t.register_post_accumulate_grad_hook([holder](const Tensor& self) {
          py::gil_scoped_acquire gil;
          (*holder)(self);
        })};
      }, py::arg("hook"))
      .def("backward", [](const Tensor& t, py::object gradient, py::object retain_graph, bool create_graph) {
        Tensor g = gradient.is_none() ? Tensor() : gradient.cast<Tensor>();
        bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
        py::gil_scoped_release release;
        run_backward({t}, {g}, keep, create_graph);
      }, py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(),
         py::arg("create_graph") = false);

  // The node of a Python autograd.Function: next edges to inputs, history on each defined
  // output (a None output takes no part), and a backward that calls the Python callable with
  // the outputs' gradients and the saved tensors (two lists), taking one gradient or None per
  // input back. The node keeps the saved tensors, not the Python side: a saved output is kept
  // as an alias without history (keeping the output itself would make a cycle node -> output
  // -> node) and gets this node's history back when unpacked, as SavedTensor does.
  m.def("_custom_node", [](const std::string& name, py::object inputs, py::object outputs,
                           py::object saved, std::vector<int64_t> saved_output, py::function backward) {
    std::vector<Tensor> ins = tensor_list(inputs), outs = tensor_list(outputs);
    std::vector<Tensor> keep = tensor_list(saved);
    if (keep.size() != saved_output.size())
      throw ValueError("_custom_node: one output index per saved tensor is needed");
    const char* op = intern_name(name);
    auto node = make_node(op, ins);
    if (!node) return false;
    auto holder = hold(std::move(backward));
    // Kept as ops keep theirs: version-checked, an output without its history (no cycle
    // node -> output -> node), through the saved-tensor hooks when some are pushed.
    std::vector<SavedTensor> kept;
    for (size_t i = 0; i < keep.size(); ++i)
      kept.emplace_back(keep[i], saved_output[i] >= 0,
                        static_cast<uint32_t>(std::max<int64_t>(saved_output[i], 0)));
    const size_t n_in = ins.size();
    node->backward = [holder, n_in, op, kept](FunctionNode& n, const std::vector<Tensor>& g) {
      std::vector<Tensor> unpacked;
      for (const SavedTensor& k : kept) unpacked.push_back(k.unpack(n.shared_from_this(), op));
      py::gil_scoped_acquire gil;
      py::list grads, saved_list;
      for (const Tensor& t : g) grads.append(t.defined() ? py::cast(t) : py::none());
      for (const Tensor& t : unpacked) saved_list.append(t.defined() ? py::cast(t) : py::none());
      std::vector<Tensor> r = tensor_list((*holder)(grads, saved_list));
      if (r.size() != n_in)
        throw ValueError(
            str_cat(op, ": backward gave ", r.size(), " gradients for ", n_in, " tensor inputs"));
      return r;
    };
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i].defined()) set_history(outs[i], node, static_cast<uint32_t>(i));
    return true;
  });
  m.def("_backward", [](py::object tensors, py::object grads, bool retain_graph, bool create_graph) {
    std::vector<Tensor> ts = tensor_list(tensors), gs = tensor_list(grads);
    py::gil_scoped_release release;
    run_backward(ts, gs, retain_graph, create_graph);
  });
  m.def("_grad", [](py::object outputs, py::object inputs, py::object grad_outputs, bool retain_graph,
                    bool create_graph, bool allow_unused) {
    std::vector<Tensor> os = tensor_list(outputs), is = tensor_list(inputs), gs = tensor_list(grad_outputs);
    std::vector<Tensor> r;
    {
      py::gil_scoped_release release;
      r = autograd_grad(os, is, gs, retain_graph, create_graph, allow_unused);
    }
    py::list out;
    for (const Tensor& t : r) out.append(t.defined() ? py::cast(t) : py::none());
    return py::tuple(out);
  });
}

}  // namespace dlcore::python
