// Generic strided iteration for the ops that have no SIMD kernel (any dtype,
// any layout, broadcasting through zero strides). Loops over `shape` calling
// inner(ptrs, inner_strides, n) on runs along the innermost dimension after
// merging dimensions that are contiguous for every operand. Runs in parallel
// over the outer index; each output element is written by exactly one call.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "runtime/parallel.h"

namespace dlcore {

template <int N> struct StridedOperands {
  std::array<char*, N> data;
  std::array<std::vector<int64_t>, N> strides;  // in bytes, one per dim of shape
};

template <int N, class F>
void strided_for_each(const std::vector<int64_t>& shape_in, StridedOperands<N> ops, F&& inner,
                      int64_t grain = 32768) {
  // Drop size-1 dims and merge dims that are contiguous for all operands.
  std::vector<int64_t> shape;
  std::array<std::vector<int64_t>, N> st;
  for (size_t d = 0; d < shape_in.size(); ++d) {
    if (shape_in[d] == 1) continue;
    if (shape_in[d] == 0) return;
    bool merge = !shape.empty();
    for (int k = 0; k < N && merge; ++k)
      merge = st[k].back() == ops.strides[k][d] * shape_in[d];
    if (merge) {
      shape.back() *= shape_in[d];
      for (int k = 0; k < N; ++k) st[k].back() = ops.strides[k][d];
    } else {
      shape.push_back(shape_in[d]);
      for (int k = 0; k < N; ++k) st[k].push_back(ops.strides[k][d]);
    }
  }
  std::array<int64_t, N> inner_st{};
  if (shape.empty()) {
    inner(ops.data.data(), inner_st.data(), int64_t(1));
    return;
  }
  const int nd = static_cast<int>(shape.size());
  const int64_t n_inner = shape[nd - 1];
  for (int k = 0; k < N; ++k) inner_st[k] = st[k][nd - 1];
  int64_t n_outer = 1;
  for (int d = 0; d < nd - 1; ++d) n_outer *= shape[d];
  int64_t outer_grain = std::max<int64_t>(1, grain / std::max<int64_t>(n_inner, 1));
  parallel_for(0, n_outer, outer_grain, [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx(nd > 1 ? nd - 1 : 1, 0);
    int64_t rem = b;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    std::array<char*, N> p;
    for (int64_t o = b; o < e; ++o) {
      for (int k = 0; k < N; ++k) {
        int64_t off = 0;
        for (int d = 0; d < nd - 1; ++d) off += idx[d] * st[k][d];
        p[k] = ops.data[k] + off;
      }
      inner(p.data(), inner_st.data(), n_inner);
      for (int d = nd - 2; d >= 0; --d) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  });
}

}  // namespace dlcore
