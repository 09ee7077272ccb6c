// AVX2+FMA vector types: 8 floats or 4 doubles per register.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/transpose_avx2.h"

namespace dlcore::kernels::DLCORE_ISA_NS {

template <class T> struct Vec;

template <> struct Vec<float> {
  static constexpr int size = 8;
  __m256 v;
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static Vec broadcast(float x) { return {_mm256_set1_ps(x)}; }
  static Vec zero() { return {_mm256_setzero_ps()}; }
  // All-ones in lanes [0, n): the mask of the masked loads and stores below.
  static __m256i first_lanes(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  // p[0..n) (n <= size), zero in the other lanes; memory past p + n is not touched.
  static Vec load_first(const float* p, int n) {
    return {_mm256_maskload_ps(p, first_lanes(n))};
  }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  void stream(float* p) const { _mm256_stream_ps(p, v); }  // p 32-byte aligned
  // Stores lanes [0, n) (n <= size); memory past p + n is not touched.
  void store_first(float* p, int n) const {
    _mm256_maskstore_ps(p, first_lanes(n), v);
  }
};

template <> struct Vec<double> {
  static constexpr int size = 4;
  __m256d v;
  static Vec load(const double* p) { return {_mm256_loadu_pd(p)}; }
  static Vec broadcast(double x) { return {_mm256_set1_pd(x)}; }
  static Vec zero() { return {_mm256_setzero_pd()}; }
  static __m256i first_lanes(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static Vec load_first(const double* p, int n) {
    return {_mm256_maskload_pd(p, first_lanes(n))};
  }
  void store(double* p) const { _mm256_storeu_pd(p, v); }
  void stream(double* p) const { _mm256_stream_pd(p, v); }
  void store_first(double* p, int n) const {
    _mm256_maskstore_pd(p, first_lanes(n), v);
  }
};

using VF = Vec<float>;
using VD = Vec<double>;

inline VF vadd(VF a, VF b) { return {_mm256_add_ps(a.v, b.v)}; }
inline VF vsub(VF a, VF b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline VF vmul(VF a, VF b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline VF vdiv(VF a, VF b) { return {_mm256_div_ps(a.v, b.v)}; }
inline VF vfma(VF a, VF b, VF c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
// max/min propagate a NaN from either side (max_ps alone returns its second operand).
inline VF vmax(VF a, VF b) {
  __m256 r = _mm256_max_ps(a.v, b.v);
  return {_mm256_blendv_ps(r, a.v, _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q))};
}
inline VF vmin(VF a, VF b) {
  __m256 r = _mm256_min_ps(a.v, b.v);
  return {_mm256_blendv_ps(r, a.v, _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q))};
}
// An estimate of 1 / a (relative error below 2^-11); refine with a Newton step.
inline VF vrcp_estimate(VF a) { return {_mm256_rcp_ps(a.v)}; }
inline VF vsqrt(VF a) { return {_mm256_sqrt_ps(a.v)}; }
inline VF vabs(VF a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
inline VF vrelu(VF a) { return {_mm256_max_ps(_mm256_setzero_ps(), a.v)}; }  // NaN stays NaN
inline VF vneg(VF a) { return {_mm256_xor_ps(_mm256_set1_ps(-0.0f), a.v)}; }
inline VF vround(VF a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline VF vclamp(VF x, float lo, float hi) {
  // Operand order keeps NaN: max_ps/min_ps return the second operand for NaN.
  return {_mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), x.v))};
}
// 2^n for integral-valued n in [-126, 127].
inline VF vexp2_int(VF n) {
  __m256i i = _mm256_cvtps_epi32(n.v);
  i = _mm256_slli_epi32(_mm256_add_epi32(i, _mm256_set1_epi32(127)), 23);
  return {_mm256_castsi256_ps(i)};
}
// Whether every lane lies in [lo, hi] (NaN lanes do not).
inline bool vall_in(VF x, float lo, float hi) {
  __m256 m = _mm256_and_ps(_mm256_cmp_ps(x.v, _mm256_set1_ps(lo), _CMP_GE_OQ),
                           _mm256_cmp_ps(x.v, _mm256_set1_ps(hi), _CMP_LE_OQ));
  return _mm256_movemask_ps(m) == 0xFF;
}
// p * 2^n, by adding n to p's exponent bits, where t = n + 1.5 * 2^23 (an integral n of at
// most 8 bits and a sign, which the addition leaves in t's low mantissa bits), the result
// a normal float.
inline VF vscale_pow2_low_bits(VF p, VF t) {
  __m256i i = _mm256_slli_epi32(_mm256_castps_si256(t.v), 23);
  return {_mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p.v), i))};
}
// v, with 0 in the lanes where x < lo.
inline VF vzero_below(VF x, float lo, VF v) {
  return {_mm256_and_ps(_mm256_cmp_ps(x.v, _mm256_set1_ps(lo), _CMP_NLT_UQ), v.v)};
}
// p 2^floor(n) in the lanes where x >= lo or x is NaN, 0 in the others; t is n's magic
// sum, holding 2^kFracBits n as an integer in its low mantissa bits (kFracBits bits of
// fraction, the magic constant 1.5 * 2^(23 - kFracBits)). p 2^floor(n) must be a normal
// float there. The magic constant's bits shifted right by kFracBits end in 9 zero bits, so
// shifting them back 23 places leaves floor(n) in the exponent field alone.
template <int kFracBits = 0>
inline VF vscale_pow2_zero_below(VF p, VF /*n*/, VF t, VF x, float lo) {
  if constexpr (kFracBits == 0) {
    return vzero_below(x, lo, vscale_pow2_low_bits(p, t));
  } else {
    __m256i i = _mm256_slli_epi32(_mm256_srai_epi32(_mm256_castps_si256(t.v), kFracBits), 23);
    return vzero_below(x, lo, {_mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p.v), i))});
  }
}
// table[k] in each lane, k the low 3 bits of t's bit pattern (one permute).
inline VF vlookup_low_bits(VF table, VF t) {
  return {_mm256_permutevar8x32_ps(table.v, _mm256_castps_si256(t.v))};
}
// Lanes where x < 0 take if_neg, the others if_nonneg.
inline VF vselect_neg(VF x, VF if_neg, VF if_nonneg) {
  __m256 m = _mm256_cmp_ps(x.v, _mm256_setzero_ps(), _CMP_LT_OQ);
  return {_mm256_blendv_ps(if_nonneg.v, if_neg.v, m)};
}
inline VF vselect_abs_lt(VF x, float t, VF if_true, VF if_false) {
  __m256 m = _mm256_cmp_ps(vabs(x).v, _mm256_set1_ps(t), _CMP_LT_OQ);
  return {_mm256_blendv_ps(if_false.v, if_true.v, m)};
}
inline VF vcopysign(VF mag, VF sgn) {
  __m256 s = _mm256_and_ps(_mm256_set1_ps(-0.0f), sgn.v);
  return {_mm256_or_ps(vabs(mag).v, s)};
}

inline VD vadd(VD a, VD b) { return {_mm256_add_pd(a.v, b.v)}; }
inline VD vsub(VD a, VD b) { return {_mm256_sub_pd(a.v, b.v)}; }
inline VD vmul(VD a, VD b) { return {_mm256_mul_pd(a.v, b.v)}; }
inline VD vdiv(VD a, VD b) { return {_mm256_div_pd(a.v, b.v)}; }
inline VD vfma(VD a, VD b, VD c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
inline VD vmax(VD a, VD b) {
  __m256d r = _mm256_max_pd(a.v, b.v);
  return {_mm256_blendv_pd(r, a.v, _mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q))};
}
inline VD vmin(VD a, VD b) {
  __m256d r = _mm256_min_pd(a.v, b.v);
  return {_mm256_blendv_pd(r, a.v, _mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q))};
}
inline VD vsqrt(VD a) { return {_mm256_sqrt_pd(a.v)}; }
inline VD vabs(VD a) { return {_mm256_andnot_pd(_mm256_set1_pd(-0.0), a.v)}; }
inline VD vrelu(VD a) { return {_mm256_max_pd(_mm256_setzero_pd(), a.v)}; }
inline VD vneg(VD a) { return {_mm256_xor_pd(_mm256_set1_pd(-0.0), a.v)}; }

// p[0 .. size) += the lanes of a, widened to double.
inline void vadd_into_double(double* p, VF a) {
  const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(a.v));
  const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(a.v, 1));
  _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), lo));
  _mm256_storeu_pd(p + 4, _mm256_add_pd(_mm256_loadu_pd(p + 4), hi));
}
inline void vadd_into_double(double* p, VD a) {
  _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), a.v));
}
inline float vreduce_add(VF a) {
  alignas(32) float t[8];
  _mm256_store_ps(t, a.v);
  return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}
inline double vreduce_add(VD a) {
  alignas(32) double t[4];
  _mm256_store_pd(t, a.v);
  return (t[0] + t[1]) + (t[2] + t[3]);
}
// The largest and smallest lane of a vector with no NaN lane (a shuffle tree), and
// whether any lane is NaN.
template <bool kMax>
inline float vreduce_extreme(VF a) {
  auto pick = [](__m128 x, __m128 y) { return kMax ? _mm_max_ps(x, y) : _mm_min_ps(x, y); };
  __m128 m = pick(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  m = pick(m, _mm_movehl_ps(m, m));
  m = pick(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
template <bool kMax>
inline double vreduce_extreme(VD a) {
  auto pick = [](__m128d x, __m128d y) { return kMax ? _mm_max_pd(x, y) : _mm_min_pd(x, y); };
  __m128d m = pick(_mm256_castpd256_pd128(a.v), _mm256_extractf128_pd(a.v, 1));
  m = pick(m, _mm_unpackhi_pd(m, m));
  return _mm_cvtsd_f64(m);
}
inline float vreduce_max(VF a) { return vreduce_extreme<true>(a); }
inline float vreduce_min(VF a) { return vreduce_extreme<false>(a); }
inline double vreduce_max(VD a) { return vreduce_extreme<true>(a); }
inline double vreduce_min(VD a) { return vreduce_extreme<false>(a); }
inline bool vany_nan(VF a) { return _mm256_movemask_ps(_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)) != 0; }
inline bool vany_nan(VD a) { return _mm256_movemask_pd(_mm256_cmp_pd(a.v, a.v, _CMP_UNORD_Q)) != 0; }
inline void stream_fence() { _mm_sfence(); }

}  // namespace dlcore::kernels::DLCORE_ISA_NS
