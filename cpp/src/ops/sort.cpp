// Sorting along a dimension: sort, argsort and topk.
//
// Each line of the input along dim (n values, `inner` apart) is ordered on its own: its
// values are copied out with their positions, sorted (or, for topk, partially sorted) by
// (value, position), and the first k positions written as int64 indices. Ordering by
// position after value makes the order total, so equal values keep their input order
// (a stable sort) and the result is the same on any thread count. NaN counts as larger
// than every number (last ascending, first descending), as in PyTorch.
//
// The values are gather(x, dim, indices): their gradient is gather's, the incoming
// gradient scattered back to the positions the values came from.
#include <algorithm>
#include <utility>
#include <vector>

#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return v != v;
  else
    return false;
}

// The positions of the first k values of each line of x along dim d, in order.
Tensor order_indices(const Tensor& x, int64_t d, int64_t k, bool descending) {
  Shape out_shape = x.shape();
  out_shape[d] = k;
  Tensor idx = empty(out_shape, DType::Int64);
  if (idx.numel() == 0) return idx;
  Tensor c = contiguous(detach(x));
  const int64_t n = x.shape()[d];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= x.shape()[i];
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.shape()[i];
  int64_t* out = idx.data<int64_t>();
  visit_dtype(c.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = c.data<T>();
    auto before = [descending](const std::pair<T, int64_t>& a, const std::pair<T, int64_t>& b) {
      const bool an = is_nan(a.first), bn = is_nan(b.first);
      if (an != bn) return descending ? an : bn;  // NaN above every number
      if (!an && a.first != b.first) return descending ? a.first > b.first : a.first < b.first;
      return a.second < b.second;  // equal values (or both NaN): by position
    };
    parallel_for(0, outer * inner, grain_for(n), [&](int64_t lo, int64_t hi) {
      std::vector<std::pair<T, int64_t>> line(static_cast<size_t>(n));
      for (int64_t l = lo; l < hi; ++l) {
        const int64_t o = l / inner, i = l % inner;
        const T* s = src + o * n * inner + i;
        for (int64_t j = 0; j < n; ++j) line[j] = {s[j * inner], j};
        if (k == n)
          std::sort(line.begin(), line.end(), before);
        else
          std::partial_sort(line.begin(), line.begin() + k, line.end(), before);
        int64_t* dst = out + o * k * inner + i;
        for (int64_t j = 0; j < k; ++j) dst[j * inner] = line[j].second;
      }
    });
  });
  return idx;
}

// sort and topk on a 0-d tensor treat it as one value along dim 0 or -1.
std::pair<Tensor, Tensor> sorted_first(const Tensor& x, int64_t dim, int64_t k, bool descending,
                                       const char* name) {
  const int64_t d = normalize_dim(dim, x.dim(), name);
  if (x.dim() == 0) {
    std::pair<Tensor, Tensor> r = sorted_first(reshape(x, {1}), 0, k, descending, name);
    return {reshape(r.first, {}), reshape(r.second, {})};
  }
  Tensor idx = order_indices(x, d, k, descending);
  return {gather(x, d, idx), idx};
}

}  // namespace

std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  const int64_t n = x.dim() ? x.shape()[normalize_dim(dim, x.dim(), "sort")] : 1;
  return sorted_first(x, dim, n, descending, "sort");
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  const int64_t d = normalize_dim(dim, x.dim(), "argsort");
  if (x.dim() == 0) return zeros({}, DType::Int64);
  return order_indices(x, d, x.shape()[d], descending);
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  const int64_t d = normalize_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() ? x.shape()[d] : 1;
  if (k < 0 || k > n)
    throw ValueError(str_cat("topk: k (", k, ") is out of range for dimension ", d, " of size ", n,
                             " in a tensor of shape ", shape_str(x.shape())));
  return sorted_first(x, dim, k, largest, "topk");
}

}  // namespace dlcore
