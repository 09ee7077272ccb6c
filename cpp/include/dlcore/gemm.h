// General matrix multiply on raw memory, the kernel every matmul-shaped op of
// dlcore runs on (matmul and its gradients, Linear, convolution, recurrent
// cells, attention):
//
//   C = act(alpha * op(A) @ op(B) + beta * C + bias)
//
// in float32 or float64, with op(X) = X or X^T, arbitrary row and column
// strides for A and B (transposed views and slices need no copy), and a
// strided-batched form. Blocked for the caches, packed, SIMD micro-kernels per
// instruction set, OpenMP threads over output tiles (never over K): the result
// is bitwise the same for any thread count.
//
// C must not overlap A or B. With beta == 0, C is not read (NaNs in it are
// overwritten), and with alpha == 0 or K == 0, A and B are not read.
#pragma once
#include <cstdint>

namespace dlcore {

enum class Transpose : int { No = 0, Yes = 1 };
enum class GemmActivation : int { None = 0, Relu = 1 };

// Fused into the write-back of C, after alpha and beta.
template <class T>
struct GemmEpilogue {
  // bias[j] added to column j (N values; Linear), or with bias_per_row,
  // bias[i] added to row i (M values; a convolution's output channels).
  const T* bias = nullptr;
  bool bias_per_row = false;
  GemmActivation activation = GemmActivation::None;
};

// The general form. Element (i, k) of A is a[i * a_rs + k * a_cs], element
// (k, j) of B is b[k * b_rs + j * b_cs], element (i, j) of C is c[i * ldc + j].
// Problem t < batch adds t * a_bs, t * b_bs, t * c_bs to the three pointers.
template <class T>
struct GemmProblem {
  int64_t M = 0, N = 0, K = 0;
  T alpha = T(1), beta = T(0);
  const T* a = nullptr;
  int64_t a_rs = 0, a_cs = 1;
  const T* b = nullptr;
  int64_t b_rs = 0, b_cs = 1;
  T* c = nullptr;
  int64_t ldc = 0;
  int64_t batch = 1, a_bs = 0, b_bs = 0, c_bs = 0;
  GemmEpilogue<T> epilogue = {};
};

// Throws ValueError for negative sizes, null pointers or a row stride of C
// below N. Defined for float and double.
template <class T>
void gemm(const GemmProblem<T>& p);

// BLAS-style forms on row-major matrices: op(A) is M x K, op(B) is K x N, and
// lda / ldb / ldc are the row strides of A, B and C as stored.
void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);
void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
          int64_t ldc);
void gemm_strided_batched(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K,
                          float alpha, const float* A, int64_t lda, int64_t stride_a,
                          const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                          int64_t ldc, int64_t stride_c, int64_t batch);
void gemm_strided_batched(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K,
                          double alpha, const double* A, int64_t lda, int64_t stride_a,
                          const double* B, int64_t ldb, int64_t stride_b, double beta,
                          double* C, int64_t ldc, int64_t stride_c, int64_t batch);

// The cache blocking in use: the k block (kc), the columns of B kept in L2 per
// task (nc), the register tile (mr x nr), and the caches they were derived from.
struct GemmBlocking {
  int64_t kc, nc, mr, nr;
  int64_t l1_bytes, l2_bytes;
};
GemmBlocking gemm_blocking(bool double_precision);

}  // namespace dlcore
