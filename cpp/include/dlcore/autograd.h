// Reverse-mode autograd: graph nodes, saved tensors, grad mode and the engine.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dlcore/tensor.h"

namespace dlcore {

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

// Shape and dtype of one forward output, so missing gradients become zeros.
struct OutputMeta {
  Shape shape;
  DType dtype;
};

// Saved-tensor hooks (autograd.graph.saved_tensors_hooks): while a pair is pushed on this
// thread, each tensor an op saves for backward goes to pack, which returns what to keep
// instead, and backward gets the tensor back from unpack. The innermost pair applies; a
// pushed pair without functions (disabled) makes saving raise RuntimeError(message).
struct SavedTensorHooks {
  std::function<std::shared_ptr<void>(const Tensor&)> pack;
  std::function<Tensor(const std::shared_ptr<void>&)> unpack;
  std::string disabled_message;
};
void push_saved_tensor_hooks(SavedTensorHooks hooks);
void pop_saved_tensor_hooks();

// A tensor kept for backward. Checks the storage version on unpack, so an
// in-place write between forward and backward is reported, not silently used
// (not for a tensor kept through hooks: what they keep is theirs).
class SavedTensor {
 public:
  SavedTensor() = default;
  // is_output: t is output output_nr of the node that saves it.
  SavedTensor(const Tensor& t, bool is_output, uint32_t output_nr = 0);
  Tensor unpack(const std::shared_ptr<Node>& owner, const char* op) const;
  void reset() {
    data_ = Tensor();
    packed_.reset();
  }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
  uint32_t output_nr_ = 0;
  // Kept through hooks: what pack returned, the unpack that turns it back into the tensor,
  // and the tensor's shape, dtype and (not an output) gradient edge.
  std::shared_ptr<void> packed_;
  std::function<Tensor(const std::shared_ptr<void>&)> unpack_fn_;
  Shape shape_;
  DType dtype_ = DType::Float32;
  std::shared_ptr<Node> edge_fn_;
  uint32_t edge_nr_ = 0;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node() = default;
  // grads has one entry per forward output; returns one entry per next edge.
  virtual std::vector<Tensor> apply(std::vector<Tensor>& grads) = 0;
  virtual std::string name() const = 0;
  virtual void release() { released_ = true; }
  // Tensor hooks on this node's outputs (register_hook, retain_grad).
  virtual void run_pre_hooks(std::vector<Tensor>& grads);

  std::vector<Edge> next_edges;
  std::vector<OutputMeta> outputs;
  std::vector<std::pair<uint32_t, std::function<Tensor(const Tensor&)>>> pre_hooks;
  uint64_t sequence_nr;
  bool released_ = false;
  // Where the forward pass created this node, recorded in anomaly mode only.
  std::string forward_trace;
};

// Sums gradients into a leaf tensor's .grad.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& var);
  std::vector<Tensor> apply(std::vector<Tensor>& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
  void run_pre_hooks(std::vector<Tensor>& grads) override;
  std::weak_ptr<TensorImpl> var;
};

// The node of a differentiable op: saved tensors plus a backward function
// written with dlcore ops (so double backward works where the ops allow it).
class FunctionNode : public Node {
 public:
  using BackwardFn = std::function<std::vector<Tensor>(FunctionNode&, const std::vector<Tensor>&)>;
  explicit FunctionNode(const char* name) : name_(name) {}
  std::vector<Tensor> apply(std::vector<Tensor>& grads) override;
  std::string name() const override { return name_; }
  void release() override;

  void save(const Tensor& t, bool is_output = false) { saved_.emplace_back(t, is_output); }
  Tensor saved(size_t i);
  // Whether input i (in make_node order) needs a gradient.
  bool needs_input_grad(size_t i) const { return next_edges[i].valid(); }

  BackwardFn backward;

 private:
  const char* name_;
  std::vector<SavedTensor> saved_;
};

// ---- grad mode
bool grad_enabled();
void set_grad_enabled(bool enabled);
struct GradModeGuard {
  explicit GradModeGuard(bool enabled) : prev_(grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(prev_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};
struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

// ---- anomaly mode (autograd.detect_anomaly): for finding where a NaN or an error in
// backward comes from. While it is on, each node records where the forward pass created it
// (what the trace source returns: the Python stack, from the binding), an error raised by a
// node's backward names the node and carries that record, and with check_nan a gradient
// with a NaN in it stops the backward pass with a RuntimeError naming the node. Process-wide.
bool anomaly_enabled();
bool anomaly_check_nan();
void set_anomaly_enabled(bool enabled, bool check_nan = true);
void set_anomaly_trace_source(std::function<std::string()> source);

// ---- recording (used by ops)
// Whether an op on these inputs must record a node.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);
// Creates a node whose next edges point at the inputs' histories, or returns
// null when grad mode is off or no input requires grad.
std::shared_ptr<FunctionNode> make_node(const char* name, const std::vector<Tensor>& inputs);
// Marks out as output output_nr of node.
void set_history(Tensor& out, const std::shared_ptr<Node>& node, uint32_t output_nr = 0);
// The edge a gradient for t flows into.
Edge gradient_edge(const Tensor& t);

// ---- engine
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph, bool create_graph);
std::vector<Tensor> autograd_grad(const std::vector<Tensor>& outputs,
                                  const std::vector<Tensor>& inputs,
                                  const std::vector<Tensor>& grad_outputs, bool retain_graph,
                                  bool create_graph, bool allow_unused);

}  // namespace dlcore
