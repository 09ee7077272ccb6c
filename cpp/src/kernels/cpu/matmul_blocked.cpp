// Blocked matrix multiply, compiled once per instruction set.
//   C[M, N] = A[M, K] @ B[K, N], row-major, leading dimensions lda, ldb, ldc.
// K is cut into blocks of KC; within a block a 4 x (2 W) tile of C is held in
// registers while a k-loop broadcasts A[i, k] and streams two vectors of B's
// row k. Each element of C is summed in the same k order on any thread count.
// (The packed, cache-tuned GEMM is a later kernel; this one is correct and
// reasonably fast.)
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

constexpr int64_t KC = 256;
constexpr int MR = 4;

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T* C,
          int64_t ldc) {
  using V = Vec<T>;
  constexpr int W = V::size;
  constexpr int NR = 2 * W;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = T(0);
  if (K == 0) return;
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kb = (K - k0 < KC) ? K - k0 : KC;
    int64_t j0 = 0;
    for (; j0 + NR <= N; j0 += NR) {
      int64_t i0 = 0;
      for (; i0 + MR <= M; i0 += MR) {
        V c[MR][2];
        for (int r = 0; r < MR; ++r) {
          c[r][0] = V::load(C + (i0 + r) * ldc + j0);
          c[r][1] = V::load(C + (i0 + r) * ldc + j0 + W);
        }
        const T* a = A + i0 * lda + k0;
        const T* b = B + k0 * ldb + j0;
        for (int64_t k = 0; k < kb; ++k) {
          V b0 = V::load(b + k * ldb), b1 = V::load(b + k * ldb + W);
          for (int r = 0; r < MR; ++r) {
            V ar = V::broadcast(a[r * lda + k]);
            c[r][0] = vfma(ar, b0, c[r][0]);
            c[r][1] = vfma(ar, b1, c[r][1]);
          }
        }
        for (int r = 0; r < MR; ++r) {
          c[r][0].store(C + (i0 + r) * ldc + j0);
          c[r][1].store(C + (i0 + r) * ldc + j0 + W);
        }
      }
      for (; i0 < M; ++i0) {  // leftover rows, one at a time
        V c0 = V::load(C + i0 * ldc + j0), c1 = V::load(C + i0 * ldc + j0 + W);
        for (int64_t k = 0; k < kb; ++k) {
          V ar = V::broadcast(A[i0 * lda + k0 + k]);
          c0 = vfma(ar, V::load(B + (k0 + k) * ldb + j0), c0);
          c1 = vfma(ar, V::load(B + (k0 + k) * ldb + j0 + W), c1);
        }
        c0.store(C + i0 * ldc + j0);
        c1.store(C + i0 * ldc + j0 + W);
      }
    }
    for (; j0 < N; ++j0) {  // leftover columns
      for (int64_t i = 0; i < M; ++i) {
        T s = C[i * ldc + j0];
        for (int64_t k = 0; k < kb; ++k) s += A[i * lda + k0 + k] * B[(k0 + k) * ldb + j0];
        C[i * ldc + j0] = s;
      }
    }
  }
}

}  // namespace

void gemm_f32(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
              int64_t ldb, float* C, int64_t ldc) {
  gemm<float>(M, N, K, A, lda, B, ldb, C, ldc);
}
void gemm_f64(int64_t M, int64_t N, int64_t K, const double* A, int64_t lda, const double* B,
              int64_t ldb, double* C, int64_t ldc) {
  gemm<double>(M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
