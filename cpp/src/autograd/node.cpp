// Graph nodes, saved tensors, grad mode, and how ops record their history.
#include <atomic>

#include "dlcore/autograd.h"
#include "dlcore/ops.h"

namespace dlcore {
namespace {
thread_local bool t_grad_enabled = true;
std::atomic<uint64_t> g_sequence{0};
std::atomic<bool> g_anomaly{false}, g_anomaly_nan{true};
std::function<std::string()>& anomaly_trace_source() {
  static auto* source = new std::function<std::string()>();  // never destroyed (held Python)
  return *source;
}

// A new TensorImpl sharing t's storage and layout, with no autograd state.
Tensor alias_without_history(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->shape = t.shape();
  impl->strides = t.strides();
  impl->offset = t.offset();
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool enabled) { t_grad_enabled = enabled; }

bool anomaly_enabled() { return g_anomaly.load(std::memory_order_relaxed); }
bool anomaly_check_nan() { return g_anomaly_nan.load(std::memory_order_relaxed); }
void set_anomaly_enabled(bool enabled, bool check_nan) {
  g_anomaly_nan.store(check_nan);
  g_anomaly.store(enabled);
}
void set_anomaly_trace_source(std::function<std::string()> source) {
  anomaly_trace_source() = std::move(source);
}

// ---------------------------------------------------------------- SavedTensor
namespace {
thread_local std::vector<SavedTensorHooks> t_saved_hooks;
}

void push_saved_tensor_hooks(SavedTensorHooks hooks) { t_saved_hooks.push_back(std::move(hooks)); }
void pop_saved_tensor_hooks() {
  if (t_saved_hooks.empty()) throw RuntimeError("saved-tensor hooks: pop without a push");
  t_saved_hooks.pop_back();
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output, uint32_t output_nr)
    : is_output_(is_output) {
  if (!t.defined()) return;
  version_ = t.version();
  if (is_output) {
    // Keeping the output itself would make a cycle node -> output -> node.
    // Saved before set_history runs: the output gets this node's history.
    data_ = alias_without_history(t);
    requires_grad_ = true;
    output_nr_ = output_nr;
  } else {
    data_ = t;
  }
  if (t_saved_hooks.empty()) return;
  const SavedTensorHooks& hooks = t_saved_hooks.back();
  if (!hooks.pack) throw RuntimeError(hooks.disabled_message);
  shape_ = t.shape();
  dtype_ = t.dtype();
  if (!is_output && t.requires_grad()) {
    const Edge e = gradient_edge(t);
    edge_fn_ = e.fn;
    edge_nr_ = e.input_nr;
  }
  // Copied first: the hooks may pop themselves while packing.
  auto unpack = hooks.unpack;
  packed_ = hooks.pack(data_);
  unpack_fn_ = std::move(unpack);
  data_ = Tensor();
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, const char* op) const {
  if (unpack_fn_) {
    Tensor got = unpack_fn_(packed_);
    if (!got.defined() || got.shape() != shape_ || got.dtype() != dtype_)
      throw ValueError(str_cat("saved-tensor hooks: unpack returned ",
                               got.defined() ? str_cat("a tensor of shape ", shape_str(got.shape()),
                                                       " and dtype ", dtype_name(got.dtype()))
                                             : std::string("nothing"),
                               " for a tensor of shape ", shape_str(shape_), " and dtype ",
                               dtype_name(dtype_), " saved by ", op));
    if (!is_output_ && !edge_fn_) return got;
    // The saved tensor's history back on what unpack returned, so that a backward that
    // builds a graph (create_graph) differentiates through it.
    Tensor out = alias_without_history(got);
    if (is_output_)
      set_history(out, owner, output_nr_);
    else
      set_history(out, edge_fn_, edge_nr_);
    return out;
  }
  if (!data_.defined()) return Tensor();
  if (data_.version() != version_)
    throw RuntimeError(str_cat(
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [", data_.str(), "] is at version ", data_.version(), "; expected version ",
        version_, " instead (saved by ", op, ")"));
  if (!is_output_) return data_;
  Tensor out = alias_without_history(data_);
  if (requires_grad_) set_history(out, owner, output_nr_);
  return out;
}

// ---------------------------------------------------------------- Node
Node::Node() : sequence_nr(g_sequence.fetch_add(1)) {}

void Node::run_pre_hooks(std::vector<Tensor>& grads) {
  for (auto& [nr, hook] : pre_hooks) {
    if (!hook || nr >= grads.size() || !grads[nr].defined()) continue;
    Tensor r = hook(grads[nr]);
    if (r.defined()) grads[nr] = r;
  }
}

std::vector<Tensor> FunctionNode::apply(std::vector<Tensor>& grads) { return backward(*this, grads); }

void FunctionNode::release() {
  released_ = true;
  for (auto& s : saved_) s.reset();
}

Tensor FunctionNode::saved(size_t i) {
  if (released_)
    throw RuntimeError(str_cat(
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
        "backward through the graph a second time (node: ", name_, ")"));
  return saved_.at(i).unpack(shared_from_this(), name_);
}

// ---------------------------------------------------------------- AccumulateGrad
AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& v) : var(v) {
  outputs.push_back({v->shape, v->dtype});
  sequence_nr = UINT64_MAX;  // run as soon as ready
}

void AccumulateGrad::run_pre_hooks(std::vector<Tensor>& grads) {
  auto v = var.lock();
  if (!v || !v->autograd || grads.empty() || !grads[0].defined()) return;
  for (auto& hook : v->autograd->hooks) {
    if (!hook) continue;
    Tensor r = hook(grads[0]);
    if (r.defined()) grads[0] = r;
  }
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>& grads) {
  auto v = var.lock();
  if (!v || grads.empty() || !grads[0].defined()) return {};
  Tensor self(v);
  Tensor g = std::move(grads[0]);
  Tensor old = self.grad();
  if (!old.defined()) {
    // Take the incoming gradient when nothing else can see it; otherwise copy,
    // so a later in-place update of .grad cannot change another tensor.
    bool unique = g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 &&
                  g.is_contiguous() && !g.requires_grad();
    self.set_grad(unique ? g : (grad_enabled() ? clone(g) : clone(g.detach())));
  } else if (!grad_enabled() && !old.requires_grad()) {
    add_(old, g);
  } else {
    self.set_grad(add(old, g));
  }
  // By index: a hook may register another (the vector may grow).
  for (size_t i = 0; v->autograd && i < v->autograd->post_accumulate_hooks.size(); ++i) {
    auto hook = v->autograd->post_accumulate_hooks[i];
    if (hook) hook(self);
  }
  return {};
}

// ---------------------------------------------------------------- recording
bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return Edge();
  AutogradMeta& m = t.impl()->meta();
  if (m.grad_fn) return Edge{m.grad_fn, m.output_nr};
  auto acc = m.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    m.grad_accumulator = acc;
  }
  return Edge{acc, 0};
}

std::shared_ptr<FunctionNode> make_node(const char* name, const std::vector<Tensor>& inputs) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<FunctionNode>(name);
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  if (anomaly_enabled() && anomaly_trace_source()) node->forward_trace = anomaly_trace_source()();
  return node;
}

void set_history(Tensor& out, const std::shared_ptr<Node>& node, uint32_t output_nr) {
  AutogradMeta& m = out.impl()->meta();
  m.requires_grad = true;
  m.grad_fn = node;
  m.output_nr = output_nr;
  if (node->outputs.size() <= output_nr) node->outputs.resize(output_nr + 1);
  node->outputs[output_nr] = OutputMeta{out.shape(), out.dtype()};
}

}  // namespace dlcore
