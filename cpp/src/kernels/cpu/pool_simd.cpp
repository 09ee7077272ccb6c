// Pooling over 2x2 windows at stride 2 without padding (the common pools of CNNs),
// compiled once per instruction set, for ho x wo outputs of one plane whose input rows
// are in_w apart:
//   max: y[oh][ow] the largest of x[2 oh + i][2 ow + j] (NaN if any is NaN), idx its flat
//        index (the first on ties, in the order (0,0), (0,1), (1,0), (1,1)), as
//        kernels/cpu/pool.h's max_pool_plane_full<T, 2, 2>;
//   avg: y = (((x00 + x01) + x10) + x11) / div, and backward dx[2 oh + i][2 ow + j] +=
//        dy[oh][ow] / div, with the same operations as pool.h's avg_pool_plane.
// The vector builds (float32) split each row's even and odd columns with one permute and
// work on a vector of windows at once; float64 and the generic build run the scalar rule.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/kernels.h"

#if defined(DLCORE_ISA_avx512) || defined(DLCORE_ISA_avx2)
#include <immintrin.h>
#endif

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// a where take, else b, on the bits (pool.h's select_bits, kept in this instruction
// set's namespace).
template <class T>
inline T pick(bool take, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(T));
  std::memcpy(&ub, &b, sizeof(T));
  const U r = (ua & (U(0) - U(take))) | (ub & ~(U(0) - U(take)));
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// The scalar windows: outputs [ow0, wo) of row oh.
template <class T>
void row_tail(const T* x, int64_t in_w, int64_t oh, int64_t ow0, int64_t wo, T* y, int64_t* idx) {
  for (int64_t ow = ow0; ow < wo; ++ow) {
    const int64_t base = 2 * oh * in_w + 2 * ow;
    T best = x[base];
    int64_t at = base;
    const int64_t pos[3] = {base + 1, base + in_w, base + in_w + 1};
    for (int64_t p : pos) {
      const T v = x[p];
      const bool take = (v > best) | ((v != v) & (best == best));
      best = pick(take, v, best);
      at = pick(take, p, at);
    }
    y[oh * wo + ow] = best;
    idx[oh * wo + ow] = at;
  }
}

#if defined(DLCORE_ISA_avx512)
constexpr int64_t kLanes = 16;
// The first `bits` lanes.
inline __mmask16 mask(int bits) {
  return static_cast<__mmask16>(bits >= 16 ? 0xFFFF : bits <= 0 ? 0 : (1u << bits) - 1);
}
// The even and odd values of the 2 n floats at p (n <= 16; nothing past them is read).
inline void split(const float* p, int n, __m512& e, __m512& o) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512 a = _mm512_maskz_loadu_ps(mask(2 * n), p);
  const __m512 b = _mm512_maskz_loadu_ps(mask(2 * n - 16), p + 16);
  e = _mm512_permutex2var_ps(a, even, b);
  o = _mm512_permutex2var_ps(a, odd, b);
}
// The outputs [ow, ow + n) of row oh, n <= 16 (masked: nothing past them is read or
// written).
inline void pool_vector(const float* x, int64_t in_w, int64_t oh, int64_t ow, int64_t wo, float* y,
                        int64_t* idx, int n = 16) {
  const float* r0 = x + 2 * oh * in_w + 2 * ow;
  __m512 cand[4];
  split(r0, n, cand[0], cand[1]);
  split(r0 + in_w, n, cand[2], cand[3]);
  __m512 best = cand[0];
  __m512i off = _mm512_setzero_si512();
  const int32_t offsets[4] = {0, 1, static_cast<int32_t>(in_w), static_cast<int32_t>(in_w + 1)};
  for (int k = 1; k < 4; ++k) {
    const __m512 v = cand[k];
    const __mmask16 take =
        _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
        (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
    best = _mm512_mask_blend_ps(take, best, v);
    off = _mm512_mask_blend_epi32(take, off, _mm512_set1_epi32(offsets[k]));
  }
  _mm512_mask_storeu_ps(y + oh * wo + ow, mask(n), best);
  // idx = 2 oh in_w + 2 (ow + lane) + off, as int64.
  const __m512i lane2 = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i base = _mm512_add_epi64(_mm512_set1_epi64(2 * oh * in_w + 2 * ow), lane2);
  const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(off));
  const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(off, 1));
  _mm512_mask_storeu_epi64(idx + oh * wo + ow, static_cast<__mmask8>(mask(n)),
                           _mm512_add_epi64(base, lo));
  _mm512_mask_storeu_epi64(idx + oh * wo + ow + 8, static_cast<__mmask8>(mask(n - 8)),
                           _mm512_add_epi64(_mm512_add_epi64(base, _mm512_set1_epi64(16)), hi));
}
// Average of the outputs [ow, ow + n) of row oh.
inline void avg_vector(const float* x, int64_t in_w, int64_t oh, int64_t ow, int64_t wo, float div,
                       float* y, int n = 16) {
  const float* r0 = x + 2 * oh * in_w + 2 * ow;
  __m512 e0, o0, e1, o1;
  split(r0, n, e0, o0);
  split(r0 + in_w, n, e1, o1);
  const __m512 s = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_setzero_ps(), e0), o0), e1), o1);
  _mm512_mask_storeu_ps(y + oh * wo + ow, mask(n), _mm512_div_ps(s, _mm512_set1_ps(div)));
}
// Its backward: each dy / div added to the four inputs of its window.
inline void avg_back_vector(const float* dy, int64_t in_w, int64_t oh, int64_t ow, int64_t wo,
                            float div, float* dx, int n = 16) {
  const __m512 g =
      _mm512_div_ps(_mm512_maskz_loadu_ps(mask(n), dy + oh * wo + ow), _mm512_set1_ps(div));
  const __m512i first = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  const __m512 lo = _mm512_permutexvar_ps(first, g);
  const __m512 hi = _mm512_permutexvar_ps(_mm512_add_epi32(first, _mm512_set1_epi32(8)), g);
  const __mmask16 m0 = mask(2 * n), m1 = mask(2 * n - 16);
  for (int i = 0; i < 2; ++i) {
    float* r = dx + (2 * oh + i) * in_w + 2 * ow;
    _mm512_mask_storeu_ps(r, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, r), lo));
    _mm512_mask_storeu_ps(r + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, r + 16), hi));
  }
}
#elif defined(DLCORE_ISA_avx2)
constexpr int64_t kLanes = 8;
// The even and odd values of 16 consecutive floats, in order.
inline void split(const float* p, __m256& e, __m256& o) {
  const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
  // Within each 128-bit half: a's then b's even (odd) values; then the halves reordered.
  e = _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  o = _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}
inline void pool_vector(const float* x, int64_t in_w, int64_t oh, int64_t ow, int64_t wo, float* y,
                        int64_t* idx) {
  const float* r0 = x + 2 * oh * in_w + 2 * ow;
  __m256 cand[4];
  split(r0, cand[0], cand[1]);
  split(r0 + in_w, cand[2], cand[3]);
  __m256 best = cand[0];
  __m256i off = _mm256_setzero_si256();
  const int32_t offsets[4] = {0, 1, static_cast<int32_t>(in_w), static_cast<int32_t>(in_w + 1)};
  for (int k = 1; k < 4; ++k) {
    const __m256 v = cand[k];
    const __m256 take = _mm256_or_ps(
        _mm256_cmp_ps(v, best, _CMP_GT_OQ),
        _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(best, best, _CMP_ORD_Q)));
    best = _mm256_blendv_ps(best, v, take);
    off = _mm256_blendv_epi8(off, _mm256_set1_epi32(offsets[k]), _mm256_castps_si256(take));
  }
  _mm256_storeu_ps(y + oh * wo + ow, best);
  const __m256i base =
      _mm256_add_epi64(_mm256_set1_epi64x(2 * oh * in_w + 2 * ow), _mm256_setr_epi64x(0, 2, 4, 6));
  const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(off));
  const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(off, 1));
  int64_t* out = idx + oh * wo + ow;
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi64(base, lo));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4),
                      _mm256_add_epi64(_mm256_add_epi64(base, _mm256_set1_epi64x(8)), hi));
}
inline void avg_vector(const float* x, int64_t in_w, int64_t oh, int64_t ow, int64_t wo, float div,
                       float* y) {
  const float* r0 = x + 2 * oh * in_w + 2 * ow;
  __m256 e0, o0, e1, o1;
  split(r0, e0, o0);
  split(r0 + in_w, e1, o1);
  const __m256 s = _mm256_add_ps(
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_setzero_ps(), e0), o0), e1), o1);
  _mm256_storeu_ps(y + oh * wo + ow, _mm256_div_ps(s, _mm256_set1_ps(div)));
}
inline void avg_back_vector(const float* dy, int64_t in_w, int64_t oh, int64_t ow, int64_t wo,
                            float div, float* dx) {
  const __m256 g = _mm256_div_ps(_mm256_loadu_ps(dy + oh * wo + ow), _mm256_set1_ps(div));
  const __m256 lo = _mm256_permutevar8x32_ps(g, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
  const __m256 hi = _mm256_permutevar8x32_ps(g, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
  for (int i = 0; i < 2; ++i) {
    float* r = dx + (2 * oh + i) * in_w + 2 * ow;
    _mm256_storeu_ps(r, _mm256_add_ps(_mm256_loadu_ps(r), lo));
    _mm256_storeu_ps(r + 8, _mm256_add_ps(_mm256_loadu_ps(r + 8), hi));
  }
}
#endif

template <class T>
void max_pool_2x2(const T* x, int64_t in_w, int64_t ho, int64_t wo, T* y, int64_t* idx) {
  for (int64_t oh = 0; oh < ho; ++oh) {
    int64_t ow = 0;
#if defined(DLCORE_ISA_avx512) || defined(DLCORE_ISA_avx2)
    // Offsets within a window fit the int32 lanes where in_w does.
    if constexpr (std::is_same_v<T, float>)
      if (in_w < (int64_t(1) << 30))
        for (; ow + kLanes <= wo; ow += kLanes) pool_vector(x, in_w, oh, ow, wo, y, idx);
#if defined(DLCORE_ISA_avx512)
    // The last outputs with masks (LeNet's 14- and 5-wide rows are all tail).
    if constexpr (std::is_same_v<T, float>)
      if (in_w < (int64_t(1) << 30) && ow < wo) {
        pool_vector(x, in_w, oh, ow, wo, y, idx, static_cast<int>(wo - ow));
        ow = wo;
      }
#endif
#endif
    row_tail(x, in_w, oh, ow, wo, y, idx);
  }
}

template <class T>
void avg_pool_2x2(const T* x, int64_t in_w, int64_t ho, int64_t wo, T div, T* y) {
  for (int64_t oh = 0; oh < ho; ++oh) {
    int64_t ow = 0;
#if defined(DLCORE_ISA_avx512) || defined(DLCORE_ISA_avx2)
    if constexpr (std::is_same_v<T, float>) {
      for (; ow + kLanes <= wo; ow += kLanes) avg_vector(x, in_w, oh, ow, wo, div, y);
#if defined(DLCORE_ISA_avx512)
      if (ow < wo) avg_vector(x, in_w, oh, ow, wo, div, y, static_cast<int>(wo - ow)), ow = wo;
#endif
    }
#endif
    for (; ow < wo; ++ow) {
      const T* r = x + 2 * oh * in_w + 2 * ow;
      y[oh * wo + ow] = ((((T(0) + r[0]) + r[1]) + r[in_w]) + r[in_w + 1]) / div;
    }
  }
}

template <class T>
void avg_pool_2x2_backward(const T* dy, int64_t in_w, int64_t ho, int64_t wo, T div, T* dx) {
  for (int64_t oh = 0; oh < ho; ++oh) {
    int64_t ow = 0;
#if defined(DLCORE_ISA_avx512) || defined(DLCORE_ISA_avx2)
    if constexpr (std::is_same_v<T, float>) {
      for (; ow + kLanes <= wo; ow += kLanes) avg_back_vector(dy, in_w, oh, ow, wo, div, dx);
#if defined(DLCORE_ISA_avx512)
      if (ow < wo)
        avg_back_vector(dy, in_w, oh, ow, wo, div, dx, static_cast<int>(wo - ow)), ow = wo;
#endif
    }
#endif
    for (; ow < wo; ++ow) {
      const T g = dy[oh * wo + ow] / div;
      T* r = dx + 2 * oh * in_w + 2 * ow;
      r[0] += g, r[1] += g, r[in_w] += g, r[in_w + 1] += g;
    }
  }
}

}  // namespace

void max_pool_2x2_f32(const float* x, int64_t in_w, int64_t ho, int64_t wo, float* y,
                      int64_t* idx) {
  max_pool_2x2(x, in_w, ho, wo, y, idx);
}
void max_pool_2x2_f64(const double* x, int64_t in_w, int64_t ho, int64_t wo, double* y,
                      int64_t* idx) {
  max_pool_2x2(x, in_w, ho, wo, y, idx);
}

void avg_pool_2x2_f32(const float* x, int64_t in_w, int64_t ho, int64_t wo, float div, float* y) {
  avg_pool_2x2(x, in_w, ho, wo, div, y);
}
void avg_pool_2x2_f64(const double* x, int64_t in_w, int64_t ho, int64_t wo, double div,
                      double* y) {
  avg_pool_2x2(x, in_w, ho, wo, div, y);
}
void avg_pool_2x2_backward_f32(const float* dy, int64_t in_w, int64_t ho, int64_t wo, float div,
                               float* dx) {
  avg_pool_2x2_backward(dy, in_w, ho, wo, div, dx);
}
void avg_pool_2x2_backward_f64(const double* dy, int64_t in_w, int64_t ho, int64_t wo, double div,
                               double* dx) {
  avg_pool_2x2_backward(dy, in_w, ho, wo, div, dx);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
