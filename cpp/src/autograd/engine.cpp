// The backward engine. Nodes run when every gradient flowing into them has
// arrived (dependency counts), highest sequence number first among the ready
// ones, so the order is deterministic.
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "dlcore/autograd.h"
#include "dlcore/ops.h"

namespace dlcore {
namespace {

struct ReadyEntry {
  uint64_t seq;
  Node* node;
  bool operator<(const ReadyEntry& o) const { return seq < o.seq; }
};

// Anomaly mode: where the forward pass created node, as a paragraph to append to a message.
std::string created_at(const Node* node) {
  if (node->forward_trace.empty()) return "";
  return str_cat("\n\nThe forward call that created '", node->name(), "':\n", node->forward_trace);
}

template <class E>
[[noreturn]] void rethrow_naming(const E& e, const Node* node) {
  throw E(str_cat(e.what(), "\n\n(raised by the backward of '", node->name(), "' in anomaly mode)",
                  created_at(node)));
}

template <class T>
bool has_nan(const Tensor& t) {
  const Tensor c = contiguous(t);
  const T* p = c.data<T>();
  for (int64_t i = 0, n = c.numel(); i < n; ++i)
    if (p[i] != p[i]) return true;
  return false;
}

// node->apply(grads) with anomaly mode's checks: an error names the node and where it was
// created; with check_nan, so does a NaN in any gradient it returns.
std::vector<Tensor> apply_checked(Node* node, std::vector<Tensor>& grads) {
  std::vector<Tensor> outs;
  try {
    outs = node->apply(grads);
  } catch (const ValueError& e) {
    rethrow_naming(e, node);
  } catch (const TypeError& e) {
    rethrow_naming(e, node);
  } catch (const IndexError& e) {
    rethrow_naming(e, node);
  } catch (const RuntimeError& e) {
    rethrow_naming(e, node);
  }
  if (!anomaly_check_nan()) return outs;
  for (size_t i = 0; i < outs.size(); ++i) {
    const Tensor& g = outs[i];
    if (!g.defined() || !is_floating(g.dtype())) continue;
    if (g.dtype() == DType::Float32 ? has_nan<float>(g) : has_nan<double>(g))
      throw RuntimeError(str_cat("Function '", node->name(), "' returned nan values in its ", i,
                                 "th output (the gradient of its input ", i, ")",
                                 created_at(node)));
  }
  return outs;
}

void accumulate_into(std::vector<Tensor>& buf, uint32_t nr, const Tensor& g) {
  if (buf.size() <= nr) buf.resize(nr + 1);
  buf[nr] = buf[nr].defined() ? add(buf[nr], g) : g;
}

// Runs the graph from roots. With captures non-null (autograd.grad), records the
// gradient reaching each capture edge instead of accumulating into leaves, and
// runs only the nodes that lead to a capture.
void execute(const std::vector<Edge>& roots, const std::vector<Tensor>& root_grads,
             bool keep_graph, bool create_graph, const std::vector<Edge>* captures,
             std::vector<Tensor>* captured) {
  GradModeGuard mode(create_graph);

  // Dependency counts over the graph reachable from the roots.
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> order;  // discovery order, roots first
  {
    std::unordered_set<Node*> seen;
    std::vector<Node*> stack;
    for (const Edge& e : roots)
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      order.push_back(n);
      for (const Edge& e : n->next_edges) {
        if (!e.valid()) continue;
        deps[e.fn.get()]++;
        if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
      }
    }
  }

  // For autograd.grad: which nodes lead to a capture (children before parents
  // in reverse topological order).
  std::unordered_set<Node*> needed;
  if (captures) {
    std::unordered_map<Node*, int> indeg = deps;
    std::vector<Node*> topo, frontier;
    for (Node* n : order)
      if (indeg[n] == 0) frontier.push_back(n);
    while (!frontier.empty()) {
      Node* n = frontier.back();
      frontier.pop_back();
      topo.push_back(n);
      for (const Edge& e : n->next_edges)
        if (e.valid() && --indeg[e.fn.get()] == 0) frontier.push_back(e.fn.get());
    }
    std::unordered_set<Node*> capture_nodes;
    for (const Edge& e : *captures) capture_nodes.insert(e.fn.get());
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
      Node* n = *it;
      bool need = capture_nodes.count(n) > 0;
      for (const Edge& e : n->next_edges)
        if (e.valid() && needed.count(e.fn.get())) need = true;
      if (need) needed.insert(n);
    }
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  for (size_t i = 0; i < roots.size(); ++i)
    accumulate_into(buffers[roots[i].fn.get()], roots[i].input_nr, root_grads[i]);

  std::priority_queue<ReadyEntry> ready;
  {
    std::unordered_set<Node*> pushed;
    for (const Edge& e : roots)
      if (deps[e.fn.get()] == 0 && pushed.insert(e.fn.get()).second)
        ready.push({e.fn->sequence_nr, e.fn.get()});
  }

  while (!ready.empty()) {
    Node* node = ready.top().node;
    ready.pop();
    std::vector<Tensor> buf = std::move(buffers[node]);
    buffers.erase(node);
    size_t nout = std::max<size_t>(node->outputs.size(), 1);
    buf.resize(std::max(buf.size(), nout));
    node->run_pre_hooks(buf);

    bool run = true;
    if (captures) {
      for (size_t k = 0; k < captures->size(); ++k) {
        const Edge& c = (*captures)[k];
        if (c.fn.get() == node && c.input_nr < buf.size() && buf[c.input_nr].defined())
          (*captured)[k] = (*captured)[k].defined() ? add((*captured)[k], buf[c.input_nr])
                                                    : buf[c.input_nr];
      }
      run = needed.count(node) && dynamic_cast<AccumulateGrad*>(node) == nullptr;
    }

    std::vector<Tensor> outs;
    bool any = false;
    for (const Tensor& g : buf) any = any || g.defined();
    if (run && any) {
      for (size_t i = 0; i < node->outputs.size(); ++i)
        if (!buf[i].defined()) buf[i] = zeros(node->outputs[i].shape, node->outputs[i].dtype);
      outs = anomaly_enabled() ? apply_checked(node, buf) : node->apply(buf);
      if (!keep_graph) node->release();
    }

    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      Node* child = e.fn.get();
      if (i < outs.size() && outs[i].defined()) accumulate_into(buffers[child], e.input_nr, outs[i]);
      if (--deps[child] == 0) ready.push({child->sequence_nr, child});
    }
  }
}

std::vector<Tensor> root_gradients(const std::vector<Tensor>& outputs,
                                   const std::vector<Tensor>& grads, std::vector<Edge>& edges) {
  if (!grads.empty() && grads.size() != outputs.size())
    throw ValueError(str_cat("backward: got ", grads.size(), " gradients for ", outputs.size(),
                             " tensors"));
  std::vector<Tensor> out;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    if (!t.defined()) throw ValueError("backward: got an undefined tensor");
    if (!t.requires_grad())
      throw RuntimeError(str_cat("element ", i,
                                 " of tensors does not require grad and does not have a grad_fn"));
    Tensor g = grads.empty() ? Tensor() : grads[i];
    if (!g.defined()) {
      if (t.numel() != 1)
        throw RuntimeError(str_cat("grad can be implicitly created only for scalar outputs; got "
                                   "an output of shape ", shape_str(t.shape())));
      g = ones_like(t);
    } else if (g.shape() != t.shape()) {
      throw ValueError(str_cat("backward: gradient of shape ", shape_str(g.shape()),
                               " does not match the tensor's shape ", shape_str(t.shape())));
    } else if (g.dtype() != t.dtype()) {
      g = g.to(t.dtype());
    }
    edges.push_back(gradient_edge(t));
    out.push_back(g);
  }
  return out;
}

}  // namespace

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph, bool create_graph) {
  std::vector<Edge> edges;
  std::vector<Tensor> grads = root_gradients(roots, grad_roots, edges);
  execute(edges, grads, retain_graph, create_graph, nullptr, nullptr);
}

std::vector<Tensor> autograd_grad(const std::vector<Tensor>& outputs,
                                  const std::vector<Tensor>& inputs,
                                  const std::vector<Tensor>& grad_outputs, bool retain_graph,
                                  bool create_graph, bool allow_unused) {
  std::vector<Edge> edges;
  std::vector<Tensor> grads = root_gradients(outputs, grad_outputs, edges);
  std::vector<Edge> captures;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad())
      throw RuntimeError(str_cat("grad: input ", i, " does not require grad"));
    captures.push_back(gradient_edge(inputs[i]));
  }
  std::vector<Tensor> result(inputs.size());
  execute(edges, grads, retain_graph, create_graph, &captures, &result);
  for (size_t i = 0; i < result.size(); ++i)
    if (!result[i].defined() && !allow_unused)
      throw RuntimeError(str_cat("grad: input ", i,
                                 " appears to not have been used in the graph; set "
                                 "allow_unused=True if this is the desired behavior"));
  return result;
}

}  // namespace dlcore
