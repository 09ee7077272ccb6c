// Storage, Tensor metadata, and Tensor's thin member wrappers over ops.
#include "dlcore/tensor.h"

#include "dlcore/autograd.h"
#include "dlcore/ops.h"
#include "runtime/allocator.h"

namespace dlcore {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Storage::Storage(size_t n, Device dev) : nbytes(n), device(dev) { data = cpu_alloc(n); }

Storage::Storage(void* p, size_t n, std::function<void(void*)> del)
    : data(p), nbytes(n), deleter(std::move(del)) {}

Storage::~Storage() {
  if (deleter)
    deleter(data);
  else
    cpu_free(data, nbytes);
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return st;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

int64_t Tensor::numel() const { return shape_numel(impl_->shape); }

int64_t Tensor::size(int64_t d) const {
  return impl_->shape[normalize_dim(d, dim(), "size")];
}
int64_t Tensor::stride(int64_t d) const {
  return impl_->strides[normalize_dim(d, dim(), "stride")];
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = impl_->shape.size(); i-- > 0;) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != expected) return false;
    expected *= impl_->shape[i];
  }
  return true;
}

std::string Tensor::str() const {
  return str_cat(dtype_name(dtype()), " tensor of shape ", shape_str(shape()));
}

Tensor& Tensor::requires_grad_(bool value) {
  if (value && !is_floating(dtype()))
    throw RuntimeError(str_cat("requires_grad_: only floating point tensors can require "
                               "gradients, got ", dtype_name(dtype())));
  if (!value && !is_leaf())
    throw RuntimeError(
        "requires_grad_: you can only change requires_grad flags of leaf tensors; use "
        "detach() to get a tensor that does not require grad");
  if (value || impl_->autograd) impl_->meta().requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const {
  if (!impl_->autograd || !impl_->autograd->grad) return Tensor();
  return Tensor(impl_->autograd->grad);
}

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined()) {
    if (g.shape() != shape())
      throw ValueError(str_cat("grad: assigned grad of shape ", shape_str(g.shape()),
                               " to a tensor of shape ", shape_str(shape())));
    if (g.dtype() != dtype())
      throw TypeError(str_cat("grad: assigned grad of dtype ", dtype_name(g.dtype()),
                              " to a tensor of dtype ", dtype_name(dtype())));
    impl_->meta().grad = g.impl_ptr();
  } else if (impl_->autograd) {
    impl_->autograd->grad.reset();
  }
}

std::shared_ptr<Node> Tensor::grad_fn() const {
  return impl_->autograd ? impl_->autograd->grad_fn : nullptr;
}

void Tensor::retain_grad() const {
  if (!requires_grad())
    throw RuntimeError("retain_grad: can't retain_grad on a tensor that has requires_grad=False");
  if (is_leaf() || retains_grad()) return;  // leaves keep .grad anyway
  impl_->meta().retains_grad = true;
  std::weak_ptr<TensorImpl> weak = impl_;
  grad_fn()->pre_hooks.emplace_back(output_nr(), [weak](const Tensor& g) {
    if (auto impl = weak.lock()) {
      Tensor self(impl);
      Tensor old = self.grad();
      self.set_grad(old.defined() ? add(old, g.detach()) : dlcore::clone(g.detach()));
    }
    return g;
  });
}

namespace {
// Appends hook to one of a leaf's hook lists (the AutogradMeta member `list`) and returns
// its remover. Removal empties the slot, so the positions of other hooks stay valid.
template <class Hook>
std::function<void()> add_leaf_hook(const std::shared_ptr<TensorImpl>& impl,
                                    std::vector<Hook> AutogradMeta::* list, Hook hook) {
  auto& hooks = impl->meta().*list;
  size_t slot = hooks.size();
  hooks.push_back(std::move(hook));
  std::weak_ptr<TensorImpl> weak = impl;
  return [weak, list, slot] {
    if (auto alive = weak.lock()) (alive->meta().*list)[slot] = nullptr;
  };
}
}  // namespace

std::function<void()> Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  if (!requires_grad())
    throw RuntimeError(
        "register_hook: cannot register a hook on a tensor that doesn't require gradient");
  if (is_leaf()) return add_leaf_hook(impl_, &AutogradMeta::hooks, std::move(hook));
  auto node = grad_fn();
  size_t slot = node->pre_hooks.size();
  node->pre_hooks.emplace_back(output_nr(), std::move(hook));
  std::weak_ptr<Node> weak = node;
  return [weak, slot] {
    if (auto n = weak.lock()) n->pre_hooks[slot].second = nullptr;
  };
}

std::function<void()> Tensor::register_post_accumulate_grad_hook(
    std::function<void(const Tensor&)> hook) const {
  if (!requires_grad())
    throw RuntimeError(
        "register_post_accumulate_grad_hook: cannot register a hook on a tensor that doesn't "
        "require gradient");
  if (!is_leaf())
    throw RuntimeError(
        "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on "
        "non-leaf tensors");
  return add_leaf_hook(impl_, &AutogradMeta::post_accumulate_hooks, std::move(hook));
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  run_backward({*this}, {gradient}, retain_graph || create_graph, create_graph);
}

Tensor Tensor::detach() const { return dlcore::detach(*this); }
double Tensor::item() const {
  if (numel() != 1)
    throw ValueError(str_cat("item: only a tensor with one element can be converted to a number, "
                             "got shape ", shape_str(shape())));
  return visit_dtype(dtype(), [&](auto tag) {
    using T = decltype(tag);
    return static_cast<double>(*data<T>());
  });
}
Tensor Tensor::to(DType d) const { return to_dtype(*this, d); }
Tensor Tensor::contiguous() const { return dlcore::contiguous(*this); }
Tensor Tensor::clone() const { return dlcore::clone(*this); }
Tensor Tensor::reshape(const Shape& s) const { return dlcore::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return dlcore::view(*this, s); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return dlcore::transpose(*this, a, b); }
Tensor Tensor::permute(const std::vector<int64_t>& d) const { return dlcore::permute(*this, d); }
Tensor Tensor::unsqueeze(int64_t d) const { return dlcore::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return dlcore::squeeze(*this, d); }
Tensor Tensor::expand(const Shape& s) const { return dlcore::expand(*this, s); }
Tensor Tensor::sum() const { return dlcore::sum(*this); }
Tensor Tensor::mean() const { return dlcore::mean(*this); }
Tensor& Tensor::zero_() { return dlcore::zero_(*this); }
Tensor& Tensor::fill_(double v) { return dlcore::fill_(*this, Scalar(v)); }

}  // namespace dlcore
