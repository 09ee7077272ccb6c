// Joining and splitting: cat, stack, split, chunk. Splits are views (narrow) with one
// node for all the pieces, whose backward joins their gradients (join_grads).
#include "ops/common.h"

namespace dlcore {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ValueError("cat: expected a non-empty list of tensors");
  const Tensor& first = tensors[0];
  if (first.dim() == 0) throw ValueError("cat: zero-dimensional tensor (at position 0) cannot be concatenated");
  int64_t d = normalize_dim(dim, first.dim(), "cat");
  DType dt = first.dtype();
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (t.dim() != first.dim())
      throw ValueError(str_cat("cat: tensors must have the same number of dimensions: got ",
                               first.dim(), " and ", t.dim(), " (at position ", i, ")"));
    for (int64_t k = 0; k < t.dim(); ++k)
      if (k != d && t.shape()[k] != first.shape()[k])
        throw ValueError(str_cat("cat: sizes of tensors must match except in dimension ", d,
                                 "; got ", shape_str(first.shape()), " and ", shape_str(t.shape()),
                                 " (at position ", i, ")"));
    shape[d] += t.shape()[d];
    dt = promote_types(dt, t.dtype());
  }
  Tensor out = empty(shape, dt);
  std::vector<int64_t> sizes;
  int64_t off = 0;
  for (const Tensor& t : tensors) {
    copy_kernel(make_alias(out, t.shape(), out.strides(), off * out.strides()[d]), t);
    off += t.shape()[d];
    sizes.push_back(t.shape()[d]);
  }
  if (is_floating(dt))
    if (auto node = make_node("cat", tensors)) {
      std::vector<DType> dts;
      for (const Tensor& t : tensors) dts.push_back(t.dtype());
      node->backward = [sizes, dts, d](FunctionNode& n, const std::vector<Tensor>& g) {
        std::vector<Tensor> r(sizes.size());
        int64_t o = 0;
        for (size_t i = 0; i < sizes.size(); ++i) {
          if (n.needs_input_grad(i)) r[i] = narrow(g[0], d, o, sizes[i]).to(dts[i]);
          o += sizes[i];
        }
        return r;
      };
      set_history(out, node);
    }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ValueError("stack: expected a non-empty list of tensors");
  int64_t d = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].shape() != tensors[0].shape())
      throw ValueError(str_cat("stack: expects each tensor to be equal size, but got ",
                               shape_str(tensors[0].shape()), " at entry 0 and ",
                               shape_str(tensors[i].shape()), " at entry ", i));
    parts.push_back(unsqueeze(tensors[i], d));
  }
  return cat(parts, d);
}

namespace {

// The pieces' gradients joined along d: a view of their memory where they lie side by side
// in order, with the same strides, in one buffer that nothing else holds, and make one
// contiguous tensor (the attention backward writes dQ, dK and dV so for the pieces of one
// projection); else a cat. Not when they carry a graph (create_graph): cat records it.
Tensor join_grads(const std::vector<Tensor>& g, int64_t d) {
  const Tensor& f = g[0];
  bool adjacent = f.defined() && f.impl()->storage.use_count() == static_cast<long>(g.size());
  int64_t total = 0;
  for (size_t i = 0; adjacent && i < g.size(); ++i) {
    const Tensor& t = g[i];
    adjacent = t.defined() && !t.requires_grad() && t.impl()->storage == f.impl()->storage &&
               t.dtype() == f.dtype() && t.strides() == f.strides() && t.dim() == f.dim() &&
               t.offset() == f.offset() + total * f.strides()[d];
    for (int64_t k = 0; adjacent && k < t.dim(); ++k)
      adjacent = k == d || t.shape()[k] == f.shape()[k];
    if (adjacent) total += t.shape()[d];
  }
  if (adjacent) {
    Shape shape = f.shape();
    shape[d] = total;
    Tensor joined = make_alias(f, shape, f.strides(), f.offset());
    if (joined.is_contiguous()) return joined;
  }
  return cat(g, d);
}

}  // namespace

std::vector<Tensor> split_sizes(const Tensor& t, const std::vector<int64_t>& sizes, int64_t dim) {
  int64_t d = normalize_dim(dim, t.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw ValueError(str_cat("split: split sizes must be non-negative, got ", s));
    total += s;
  }
  if (total != t.shape()[d])
    throw ValueError(str_cat("split: split sizes sum to ", total, " but dimension ", d,
                             " has size ", t.shape()[d]));
  std::vector<Tensor> out;
  {
    NoGradGuard views_only;
    int64_t o = 0;
    for (int64_t s : sizes) {
      out.push_back(narrow(t, d, o, s));
      o += s;
    }
  }
  // One node for all the pieces: the gradient of t is their gradients joined by one cat
  // (pieces without one get zeros from the engine), instead of a zero-filled copy of t
  // per piece (narrow's backward) summed together.
  if (auto node = make_node("split", {t})) {
    node->backward = [d](FunctionNode&, const std::vector<Tensor>& g) {
      return std::vector<Tensor>{join_grads(g, d)};
    };
    for (size_t i = 0; i < out.size(); ++i) {
      set_history(out[i], node, static_cast<uint32_t>(i));
      out[i].impl()->meta().is_graph_view = true;  // no in-place ops on the pieces
    }
  }
  return out;
}

std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim) {
  int64_t d = normalize_dim(dim, t.dim(), "split");
  if (split_size <= 0) throw ValueError(str_cat("split: split_size must be positive, got ", split_size));
  std::vector<int64_t> sizes;
  int64_t n = t.shape()[d];
  for (int64_t o = 0; o < n; o += split_size) sizes.push_back(std::min(split_size, n - o));
  if (sizes.empty()) sizes.push_back(0);
  return split_sizes(t, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim) {
  if (chunks <= 0) throw ValueError(str_cat("chunk: number of chunks must be positive, got ", chunks));
  int64_t d = normalize_dim(dim, t.dim(), "chunk");
  int64_t n = t.shape()[d];
  int64_t size = std::max<int64_t>((n + chunks - 1) / chunks, 1);
  return split(t, size, d);
}

}  // namespace dlcore
