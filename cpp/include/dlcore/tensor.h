// dlcore::Tensor: a strided view (shape, strides, offset, dtype) over shared,
// 64-byte-aligned storage, plus the autograd state of that view.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dlcore/device.h"
#include "dlcore/dtype.h"
#include "dlcore/error.h"

namespace dlcore {

using Shape = std::vector<int64_t>;

// A block of memory shared by a tensor and all its views. The version counter
// counts in-place writes; autograd compares it with the version it saved.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::atomic<uint64_t> version{0};
  // Frees external memory (NumPy, DLPack); when empty, dlcore's allocator owns data.
  std::function<void(void*)> deleter;

  Storage(size_t nbytes, Device device);                        // allocates
  Storage(void* data, size_t nbytes, std::function<void(void*)> deleter);  // adopts
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

class Node;
class Tensor;

// Autograd state; absent (null) on tensors that never took part in autograd.
struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<class TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;  // leaves only
  std::vector<std::function<Tensor(const Tensor&)>> hooks;  // leaf tensor hooks
  // Leaf hooks run after a backward pass has added into .grad (null: removed).
  std::vector<std::function<void(const Tensor&)>> post_accumulate_hooks;
  bool is_graph_view = false;  // a view of a tensor that is part of a graph
};

class TensorImpl {
 public:
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  bool wrapped_number = false;  // made from a Python/C++ scalar: weak in type promotion
  std::unique_ptr<AutogradMeta> autograd;

  AutogradMeta& meta() {
    if (!autograd) autograd = std::make_unique<AutogradMeta>();
    return *autograd;
  }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // ---- metadata
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const;
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  size_t itemsize() const { return dtype_size(impl_->dtype); }
  bool is_contiguous() const;
  void* data_ptr() const {
    return static_cast<char*>(impl_->storage->data) + impl_->offset * itemsize();
  }
  template <class T> T* data() const { return static_cast<T*>(data_ptr()); }
  uint64_t version() const { return impl_->storage->version.load(); }
  void bump_version() const { impl_->storage->version.fetch_add(1); }
  std::string str() const;  // short description: "float32 tensor of shape (2, 3)"
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- autograd
  bool requires_grad() const { return impl_->autograd && impl_->autograd->requires_grad; }
  Tensor& requires_grad_(bool value = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  std::shared_ptr<Node> grad_fn() const;
  uint32_t output_nr() const { return impl_->autograd ? impl_->autograd->output_nr : 0; }
  bool is_leaf() const { return grad_fn() == nullptr; }
  void retain_grad() const;
  bool retains_grad() const { return impl_->autograd && impl_->autograd->retains_grad; }
  // Registers hook(grad) -> new grad or undefined (keep); returns a function that removes it.
  std::function<void()> register_hook(std::function<Tensor(const Tensor&)> hook) const;
  // hook(*this) after each backward pass accumulates into this leaf's .grad; returns the
  // remover.
  std::function<void()> register_post_accumulate_grad_hook(
      std::function<void(const Tensor&)> hook) const;
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  Tensor detach() const;

  // ---- conversions and common views (thin wrappers over ops.h)
  double item() const;
  Tensor to(DType dtype) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor unsqueeze(int64_t d) const;
  Tensor squeeze(int64_t d) const;
  Tensor expand(const Shape& shape) const;
  Tensor sum() const;
  Tensor mean() const;
  Tensor& zero_();
  Tensor& fill_(double value);

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Contiguous row-major strides for a shape.
Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);

}  // namespace dlcore
