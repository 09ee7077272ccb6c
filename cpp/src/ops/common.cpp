// Helpers shared by the op families: layouts, dtype-converting copy and fill,
// in-place bookkeeping, and the shapes of reductions.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "ops/common.h"

namespace dlcore {

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);
  if (dim < -n || dim >= n)
    throw IndexError(str_cat(op, ": dimension out of range (expected to be in range of [", -n,
                             ", ", n - 1, "], but got ", dim, ")"));
  return dim < 0 ? dim + n : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x != y && x != 1 && y != 1)
      throw ValueError(str_cat(op, ": shapes ", shape_str(a), " and ", shape_str(b),
                               " cannot be broadcast together (dimension ", i, ": ", x, " vs ", y,
                               ")"));
    out[i] = x == 1 ? y : x;
  }
  return out;
}

DType result_type(const Tensor& a, const Tensor& b) {
  // Three tiers, as in PyTorch: tensors with dims, 0-d tensors, wrapped numbers.
  // A lower tier only matters when it is of a higher category (bool < int < float).
  bool have[3] = {false, false, false};
  DType tier[3] = {DType::Bool, DType::Bool, DType::Bool};
  for (const Tensor* t : {&a, &b}) {
    int k = t->impl()->wrapped_number ? 2 : (t->dim() == 0 ? 1 : 0);
    DType d = t->dtype();
    if (k == 2 && is_floating(d)) d = default_dtype();  // Python floats
    tier[k] = have[k] ? promote_types(tier[k], d) : d;
    have[k] = true;
  }
  DType r = DType::Bool;
  bool any = false;
  for (int k = 0; k < 3; ++k) {
    if (!have[k]) continue;
    if (!any) {
      r = tier[k];
      any = true;
    } else if (dtype_category(tier[k]) > dtype_category(r)) {
      r = k == 2 ? (is_floating(tier[k]) ? default_dtype() : DType::Int64) : tier[k];
    }
  }
  return r;
}

std::vector<int64_t> byte_strides(const Tensor& t) {
  std::vector<int64_t> s(t.strides());
  for (auto& x : s) x *= static_cast<int64_t>(t.itemsize());
  return s;
}

std::vector<int64_t> broadcast_byte_strides(const Tensor& t, const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 0);
  size_t off = shape.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i)
    if (t.shape()[i] != 1) s[off + i] = t.strides()[i] * static_cast<int64_t>(t.itemsize());
  return s;
}

Tensor make_alias(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

Tensor grad_for(const Tensor& g, const Tensor& input) {
  Tensor r = sum_to(g, input.shape());
  return r.dtype() == input.dtype() ? r : r.to(input.dtype());
}

void check_first_order(const char* op, std::initializer_list<const Tensor*> tensors,
                       bool through_input) {
  if (!grad_enabled()) return;
  for (const Tensor* t : tensors)
    if (through_input || (t->defined() && t->requires_grad()))
      throw RuntimeError(
          str_cat(op, ": the gradient of its backward is not implemented (create_graph=True)"));
}

void check_inplace(const Tensor& t, const char* op) {
  if (!grad_enabled() || !t.impl()->autograd) return;
  if (t.requires_grad() && t.is_leaf())
    throw RuntimeError(str_cat(op, ": a leaf tensor that requires grad is being used in an "
                               "in-place operation; wrap it in dlcore.no_grad() or use the "
                               "out-of-place op"));
  if (t.impl()->autograd->is_graph_view)
    throw RuntimeError(str_cat(op, ": in-place operations on a view of a tensor that requires "
                               "grad are not supported; use the out-of-place op"));
}

Tensor& commit_inplace(Tensor& t, const Tensor& result) {
  {
    NoGradGuard guard;
    copy_kernel(t, result);
  }
  t.bump_version();
  if (result.requires_grad()) set_history(t, result.grad_fn(), result.output_nr());
  return t;
}

void copy_kernel(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  broadcast_shapes(dst.shape(), src.shape(), "copy_");
  if (src.dtype() == dst.dtype() && src.shape() == dst.shape() && src.is_contiguous() &&
      dst.is_contiguous()) {
    char* d = static_cast<char*>(dst.data_ptr());
    const char* s = static_cast<const char*>(src.data_ptr());
    if (d == s) return;
    const int64_t nbytes = dst.numel() * static_cast<int64_t>(dst.itemsize());
    parallel_for(0, nbytes, 1 << 20, [&](int64_t b, int64_t e) { std::memcpy(d + b, s + b, e - b); }, 64);
    return;
  }
  StridedOperands<2> ops{{static_cast<char*>(dst.data_ptr()), static_cast<char*>(src.data_ptr())},
                         {byte_strides(dst), broadcast_byte_strides(src, dst.shape())}};
  visit_dtype(dst.dtype(), [&](auto dtag) {
    using D = decltype(dtag);
    visit_dtype(src.dtype(), [&](auto stag) {
      using S = decltype(stag);
      strided_for_each<2>(dst.shape(), ops, [](char** p, const int64_t* st, int64_t n) {
        // Contiguous rows of the destination: a broadcast value is a fill, and a
        // contiguous source of the same type a memcpy (the general loop does not vectorise).
        if (st[0] == int64_t(sizeof(D)) && st[1] == 0) {
          D* d = reinterpret_cast<D*>(p[0]);
          std::fill(d, d + n, static_cast<D>(*reinterpret_cast<const S*>(p[1])));
          return;
        }
        if (std::is_same_v<D, S> && st[0] == int64_t(sizeof(D)) && st[1] == int64_t(sizeof(S))) {
          std::memcpy(p[0], p[1], static_cast<size_t>(n) * sizeof(D));
          return;
        }
        for (int64_t i = 0; i < n; ++i)
          *reinterpret_cast<D*>(p[0] + i * st[0]) =
              static_cast<D>(*reinterpret_cast<const S*>(p[1] + i * st[1]));
      });
    });
  });
}

void fill_kernel(const Tensor& t, Scalar value) {
  if (t.numel() == 0) return;
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v = scalar_as<T>(value);
    if (t.is_contiguous()) {
      T* p = t.data<T>();
      parallel_for(0, t.numel(), 1 << 16, [&](int64_t b, int64_t e) { std::fill(p + b, p + e, v); });
      return;
    }
    StridedOperands<1> ops{{static_cast<char*>(t.data_ptr())}, {byte_strides(t)}};
    strided_for_each<1>(t.shape(), ops, [v](char** p, const int64_t* st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * st[0]) = v;
    });
  });
}

std::vector<int64_t> reduce_dims(const Dims& dims, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) {
    int64_t nd = normalize_dim(d, ndim, op);
    if (ndim == 0) continue;  // dim 0 / -1 of a 0-d tensor reduces nothing
    if (std::find(out.begin(), out.end(), nd) != out.end())
      throw ValueError(str_cat(op, ": dim ", nd, " appears multiple times in the list of dims"));
    out.push_back(nd);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Tensor expand_reduced(const Tensor& g, const Shape& in_shape, const std::vector<int64_t>& dims,
                      bool keepdim) {
  Tensor r = g;
  if (!keepdim) {
    Shape kshape = in_shape;
    for (int64_t d : dims) kshape[d] = 1;
    r = reshape(r, kshape);
  }
  return expand(r, in_shape);
}

}  // namespace dlcore
