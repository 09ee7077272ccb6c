// Small in-register transposes on 256-bit vectors, for the AVX2 and AVX-512
// builds (packing GEMM operands):
//   dst[c * ldd + r] = rows[r][k + c]   for r, c < kTransposeSize<T>
// (8 x 8 floats, 4 x 4 doubles). Rows come as pointers, so a caller can repeat
// a row instead of reading past a matrix. The stores go in order of c.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace dlcore::kernels::DLCORE_ISA_NS {

template <class T>
constexpr int kTransposeSize = sizeof(T) == 4 ? 8 : 4;

inline void transpose_block(const float* const* rows, int64_t k, float* dst, int64_t ldd) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(rows[i] + k);
  // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // r[c] now holds column c of rows 0-3 in its low half and column c + 4 in its
  // high half (c < 4); r[c + 4] the same for rows 4-7. Join the halves.
  for (int c = 0; c < 4; ++c) {
    _mm256_storeu_ps(dst + c * ldd, _mm256_permute2f128_ps(r[c], r[c + 4], 0x20));
  }
  for (int c = 0; c < 4; ++c) {
    _mm256_storeu_ps(dst + (c + 4) * ldd, _mm256_permute2f128_ps(r[c], r[c + 4], 0x31));
  }
}

inline void transpose_block(const double* const* rows, int64_t k, double* dst, int64_t ldd) {
  __m256d r[4];
  for (int i = 0; i < 4; ++i) r[i] = _mm256_loadu_pd(rows[i] + k);
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(dst + ldd, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(dst + 2 * ldd, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(dst + 3 * ldd, _mm256_permute2f128_pd(t1, t3, 0x31));
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
