// matmul with NumPy semantics: 1-D operands are promoted to matrices and the
// added dim removed again; batch dims broadcast. The core op multiplies
// (B..., n, k) @ (B..., k, m) with equal batch shapes; its backward is
//   dA = dC @ B^T,   dB = A^T @ dC
// and the broadcast of the batch dims is undone by expand's backward. The
// transposes are strided views: the GEMM reads them in place, no copy.
#include "dlcore/gemm.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

template <class T>
void gemm_generic(int64_t M, int64_t N, int64_t K, const T* A, int64_t ars, int64_t acs, const T* B,
                  int64_t brs, int64_t bcs, T* C) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T s = T(0);
      for (int64_t k = 0; k < K; ++k) s = static_cast<T>(s + A[i * ars + k * acs] * B[k * brs + j * bcs]);
      C[i * N + j] = s;
    }
}

// (B..., n, k) @ (B..., k, m) with equal batch shapes and any strides: the
// GEMM reads transposed and sliced operands in place. Batch dims that step
// evenly in both operands merge into the GEMM's strided batch; the rest loop.
Tensor bmm_core(const Tensor& a, const Tensor& b) {
  const int64_t nd = a.dim();
  const int64_t n = a.shape()[nd - 2], k = a.shape()[nd - 1], m = b.shape()[nd - 1];
  Shape out_shape(a.shape().begin(), a.shape().end() - 2);
  out_shape.push_back(n);
  out_shape.push_back(m);
  Tensor out = empty(out_shape, a.dtype());
  if (out.numel() > 0) {
    // Merge batch dims from the innermost outwards while both operands allow.
    int64_t inner = 1, sa = 0, sb = 0, d = nd - 3;
    if (d >= 0) {
      inner = out_shape[d], sa = a.strides()[d], sb = b.strides()[d];
      for (--d; d >= 0; --d) {
        if (a.strides()[d] != sa * inner || b.strides()[d] != sb * inner) break;
        inner *= out_shape[d];
      }
    }
    const int64_t outer_dims = d + 1;  // dims [0, outer_dims) loop one by one
    int64_t outer = 1;
    for (int64_t i = 0; i < outer_dims; ++i) outer *= out_shape[i];
    visit_dtype(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      for (int64_t o = 0; o < outer; ++o) {
        int64_t rem = o, oa = 0, ob = 0;
        for (int64_t i = outer_dims - 1; i >= 0; --i) {
          const int64_t idx = rem % out_shape[i];
          rem /= out_shape[i];
          oa += idx * a.strides()[i];
          ob += idx * b.strides()[i];
        }
        const T* pa = a.data<T>() + oa;
        const T* pb = b.data<T>() + ob;
        T* pc = out.data<T>() + o * inner * n * m;
        if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          GemmProblem<T> p;
          p.M = n, p.N = m, p.K = k;
          p.a = pa, p.a_rs = a.strides()[nd - 2], p.a_cs = a.strides()[nd - 1];
          p.b = pb, p.b_rs = b.strides()[nd - 2], p.b_cs = b.strides()[nd - 1];
          p.c = pc, p.ldc = m;
          p.batch = inner, p.a_bs = sa, p.b_bs = sb, p.c_bs = n * m;
          gemm(p);
        } else {
          parallel_for(0, inner, 1, [&](int64_t lo, int64_t hi) {
            for (int64_t t = lo; t < hi; ++t)
              gemm_generic<T>(n, m, k, pa + t * sa, a.strides()[nd - 2], a.strides()[nd - 1],
                              pb + t * sb, b.strides()[nd - 2], b.strides()[nd - 1], pc + t * n * m);
          });
        }
      }
    });
  }
  if (is_floating(a.dtype()))
    if (auto node = make_node("matmul", {a, b})) {
      node->save(a);
      node->save(b);
      node->backward = [](FunctionNode& fn, const std::vector<Tensor>& g) {
        Tensor A = fn.saved(0), B = fn.saved(1);
        Tensor ga, gb;
        if (fn.needs_input_grad(0)) ga = bmm_core(g[0], transpose(B, -1, -2));
        if (fn.needs_input_grad(1)) gb = bmm_core(transpose(A, -1, -2), g[0]);
        return std::vector<Tensor>{ga, gb};
      };
      set_history(out, node);
    }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  if (a_in.dim() == 0 || b_in.dim() == 0)
    throw ValueError(str_cat("matmul: both arguments need to be at least 1-D, got shapes ",
                             shape_str(a_in.shape()), " and ", shape_str(b_in.shape())));
  if (a_in.dtype() == DType::Bool || b_in.dtype() == DType::Bool)
    throw TypeError("matmul: bool tensors are not supported");
  DType d = promote_types(a_in.dtype(), b_in.dtype());
  Tensor a = a_in.to(d), b = b_in.to(d);
  bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
  if (a_vec) a = unsqueeze(a, 0);
  if (b_vec) b = unsqueeze(b, -1);
  int64_t k1 = a.shape().back(), k2 = b.shape()[b.dim() - 2];
  if (k1 != k2)
    throw ValueError(str_cat("matmul: shapes ", shape_str(a_in.shape()), " and ",
                             shape_str(b_in.shape()), " cannot be multiplied (", k1, " != ", k2, ")"));
  Tensor out;
  if (a.dim() == 2 && b.dim() == 2) {  // the common case: no batch to broadcast
    out = bmm_core(a, b);
  } else {
    Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
    Shape batch = broadcast_shapes(ba, bb, "matmul");
    Shape sa = batch, sb = batch;
    sa.insert(sa.end(), a.shape().end() - 2, a.shape().end());
    sb.insert(sb.end(), b.shape().end() - 2, b.shape().end());
    // Operands whose batch shape is already the broadcast one need no expand
    // (and no expand node in the graph).
    out = bmm_core(a.shape() == sa ? a : expand(a, sa), b.shape() == sb ? b : expand(b, sb));
  }
  if (a_vec) out = squeeze(out, -2);
  if (b_vec) out = squeeze(out, -1);
  return out;
}

}  // namespace dlcore
