// matmul with NumPy semantics: 1-D operands are promoted to matrices and the
// added dim removed again; batch dims broadcast. The core op multiplies
// (B..., n, k) @ (B..., k, m) with equal batch shapes; its backward is
//   dA = dC @ B^T,   dB = A^T @ dC
// and the broadcast of the batch dims is undone by expand's backward.
#include "kernels/cpu/kernels.h"
#include "ops/common.h"

namespace dlcore {
namespace {

// Row-major operand with unit stride in the last dim, or a contiguous copy.
Tensor unit_inner(const Tensor& t) {
  if (t.strides().back() == 1 && t.strides()[t.dim() - 2] >= std::max<int64_t>(t.shape().back(), 1)) return t;
  return contiguous(t);
}

template <class T>
void gemm_generic(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
                  T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T s = T(0);
      for (int64_t k = 0; k < K; ++k) s = static_cast<T>(s + A[i * lda + k] * B[k * ldb + j]);
      C[i * ldc + j] = s;
    }
}

Tensor bmm_core(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = unit_inner(a_in), b = unit_inner(b_in);
  const int64_t nd = a.dim();
  const int64_t n = a.shape()[nd - 2], k = a.shape()[nd - 1], m = b.shape()[nd - 1];
  Shape out_shape(a.shape().begin(), a.shape().end() - 2);
  out_shape.push_back(n);
  out_shape.push_back(m);
  Tensor out = empty(out_shape, a.dtype());
  int64_t batch = 1;
  for (int64_t d = 0; d < nd - 2; ++d) batch *= out_shape[d];
  if (out.numel() > 0) {
    const auto& kt = kernels::active();
    const int64_t lda = a.strides()[nd - 2], ldb = b.strides()[nd - 2];
    constexpr int64_t RB = 64;  // rows of C per task
    const int64_t row_blocks = (n + RB - 1) / RB;
    // Element offsets of each batch entry (batch dims may have stride 0).
    std::vector<int64_t> offa(batch), offb(batch);
    for (int64_t bi = 0; bi < batch; ++bi) {
      int64_t rem = bi, oa = 0, ob = 0;
      for (int64_t d = nd - 3; d >= 0; --d) {
        int64_t i = rem % out_shape[d];
        rem /= out_shape[d];
        oa += i * a.strides()[d];
        ob += i * b.strides()[d];
      }
      offa[bi] = oa;
      offb[bi] = ob;
    }
    int64_t flops_per_task = std::max<int64_t>(RB * k * m, 1);
    visit_dtype(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* pc = out.data<T>();
      parallel_for(0, batch * row_blocks, std::max<int64_t>(1, (1 << 16) / flops_per_task),
                   [&](int64_t s, int64_t e) {
        for (int64_t t = s; t < e; ++t) {
          int64_t bi = t / row_blocks, r0 = (t % row_blocks) * RB, rows = std::min(RB, n - r0);
          const T* A = pa + offa[bi] + r0 * lda;
          const T* B = pb + offb[bi];
          T* C = pc + bi * n * m + r0 * m;
          if constexpr (std::is_same_v<T, float>) kt.gemm_f32(rows, m, k, A, lda, B, ldb, C, m);
          else if constexpr (std::is_same_v<T, double>) kt.gemm_f64(rows, m, k, A, lda, B, ldb, C, m);
          else gemm_generic<T>(rows, m, k, A, lda, B, ldb, C, m);
        }
      });
    });
  }
  if (is_floating(a.dtype()))
    if (auto node = make_node("matmul", {a_in, b_in})) {
      node->save(a_in);
      node->save(b_in);
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
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), a.shape().end() - 2, a.shape().end());
  sb.insert(sb.end(), b.shape().end() - 2, b.shape().end());
  Tensor out = bmm_core(expand(a, sa), expand(b, sb));
  if (a_vec) out = squeeze(out, -2);
  if (b_vec) out = squeeze(out, -1);
  return out;
}

}  // namespace dlcore
