// AVX-512F vector types: 16 floats or 8 doubles per register.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/transpose_avx2.h"

namespace dlcore::kernels::DLCORE_ISA_NS {

template <class T> struct Vec;

template <> struct Vec<float> {
  static constexpr int size = 16;
  __m512 v;
  static Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static Vec broadcast(float x) { return {_mm512_set1_ps(x)}; }
  static Vec zero() { return {_mm512_setzero_ps()}; }
  // p[0..n) (n <= size), zero in the other lanes; memory past p + n is not touched.
  static Vec load_first(const float* p, int n) {
    return {_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p)};
  }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void stream(float* p) const { _mm512_stream_ps(p, v); }  // p 64-byte aligned
  // Stores lanes [0, n) (n <= size); memory past p + n is not touched.
  void store_first(float* p, int n) const { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
};

template <> struct Vec<double> {
  static constexpr int size = 8;
  __m512d v;
  static Vec load(const double* p) { return {_mm512_loadu_pd(p)}; }
  static Vec broadcast(double x) { return {_mm512_set1_pd(x)}; }
  static Vec zero() { return {_mm512_setzero_pd()}; }
  static Vec load_first(const double* p, int n) {
    return {_mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p)};
  }
  void store(double* p) const { _mm512_storeu_pd(p, v); }
  void stream(double* p) const { _mm512_stream_pd(p, v); }
  void store_first(double* p, int n) const { _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), v); }
};

using VF = Vec<float>;
using VD = Vec<double>;

inline VF vadd(VF a, VF b) { return {_mm512_add_ps(a.v, b.v)}; }
inline VF vsub(VF a, VF b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline VF vmul(VF a, VF b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline VF vdiv(VF a, VF b) { return {_mm512_div_ps(a.v, b.v)}; }
inline VF vfma(VF a, VF b, VF c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline VF vmax(VF a, VF b) {
  __m512 r = _mm512_max_ps(a.v, b.v);
  return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q), r, a.v)};
}
inline VF vmin(VF a, VF b) {
  __m512 r = _mm512_min_ps(a.v, b.v);
  return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q), r, a.v)};
}
// An estimate of 1 / a (relative error below 2^-11); refine with a Newton step.
inline VF vrcp_estimate(VF a) { return {_mm512_rcp14_ps(a.v)}; }
inline VF vsqrt(VF a) { return {_mm512_sqrt_ps(a.v)}; }
inline VF vabs(VF a) { return {_mm512_abs_ps(a.v)}; }
inline VF vrelu(VF a) { return {_mm512_max_ps(_mm512_setzero_ps(), a.v)}; }
inline VF vneg(VF a) {
  return {_mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(a.v), _mm512_set1_epi32(int32_t(0x80000000u))))};
}
inline VF vround(VF a) {
  return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
inline VF vclamp(VF x, float lo, float hi) {
  return {_mm512_min_ps(_mm512_set1_ps(hi), _mm512_max_ps(_mm512_set1_ps(lo), x.v))};
}
inline VF vexp2_int(VF n) {
  __m512i i = _mm512_cvtps_epi32(n.v);
  i = _mm512_slli_epi32(_mm512_add_epi32(i, _mm512_set1_epi32(127)), 23);
  return {_mm512_castsi512_ps(i)};
}
inline bool vall_in(VF x, float lo, float hi) {
  __mmask16 m = _mm512_cmp_ps_mask(x.v, _mm512_set1_ps(lo), _CMP_GE_OQ) &
                _mm512_cmp_ps_mask(x.v, _mm512_set1_ps(hi), _CMP_LE_OQ);
  return m == 0xFFFF;
}
inline VF vscale_pow2_low_bits(VF p, VF t) {
  __m512i i = _mm512_slli_epi32(_mm512_castps_si512(t.v), 23);
  return {_mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p.v), i))};
}
// p 2^floor(n) (t, n's magic sum, is not needed here) in the lanes where x >= lo or x is
// NaN, 0 in the others: one scaling instruction with a zeroing mask. kFracBits: the bits
// of n's fraction in t (see vec_avx2.h), which scalef's floor makes no matter here.
template <int kFracBits = 0>
inline VF vscale_pow2_zero_below(VF p, VF n, VF /*t*/, VF x, float lo) {
  return {
      _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(x.v, _mm512_set1_ps(lo), _CMP_NLT_UQ), p.v, n.v)};
}
// table[k] in each lane, k the low 4 bits of t's bit pattern (one permute).
inline VF vlookup_low_bits(VF table, VF t) {
  return {_mm512_permutexvar_ps(_mm512_castps_si512(t.v), table.v)};
}
inline VF vselect_neg(VF x, VF if_neg, VF if_nonneg) {
  __mmask16 m = _mm512_cmp_ps_mask(x.v, _mm512_setzero_ps(), _CMP_LT_OQ);
  return {_mm512_mask_blend_ps(m, if_nonneg.v, if_neg.v)};
}
inline VF vselect_abs_lt(VF x, float t, VF if_true, VF if_false) {
  __mmask16 m = _mm512_cmp_ps_mask(vabs(x).v, _mm512_set1_ps(t), _CMP_LT_OQ);
  return {_mm512_mask_blend_ps(m, if_false.v, if_true.v)};
}
inline VF vcopysign(VF mag, VF sgn) {
  __m512i s = _mm512_and_si512(_mm512_castps_si512(sgn.v), _mm512_set1_epi32(int32_t(0x80000000u)));
  return {_mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(vabs(mag).v), s))};
}

inline VD vadd(VD a, VD b) { return {_mm512_add_pd(a.v, b.v)}; }
inline VD vsub(VD a, VD b) { return {_mm512_sub_pd(a.v, b.v)}; }
inline VD vmul(VD a, VD b) { return {_mm512_mul_pd(a.v, b.v)}; }
inline VD vdiv(VD a, VD b) { return {_mm512_div_pd(a.v, b.v)}; }
inline VD vfma(VD a, VD b, VD c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
inline VD vmax(VD a, VD b) {
  __m512d r = _mm512_max_pd(a.v, b.v);
  return {_mm512_mask_blend_pd(_mm512_cmp_pd_mask(a.v, a.v, _CMP_UNORD_Q), r, a.v)};
}
inline VD vmin(VD a, VD b) {
  __m512d r = _mm512_min_pd(a.v, b.v);
  return {_mm512_mask_blend_pd(_mm512_cmp_pd_mask(a.v, a.v, _CMP_UNORD_Q), r, a.v)};
}
inline VD vsqrt(VD a) { return {_mm512_sqrt_pd(a.v)}; }
inline VD vabs(VD a) { return {_mm512_abs_pd(a.v)}; }
inline VD vrelu(VD a) { return {_mm512_max_pd(_mm512_setzero_pd(), a.v)}; }
inline VD vneg(VD a) {
  return {_mm512_castsi512_pd(_mm512_xor_si512(
      _mm512_castpd_si512(a.v), _mm512_set1_epi64(int64_t(0x8000000000000000ull))))};
}

// p[0 .. size) += the lanes of a, widened to double.
inline void vadd_into_double(double* p, VF a) {
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(a.v));
  const __m512d hi =
      _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a.v), 1)));
  _mm512_storeu_pd(p, _mm512_add_pd(_mm512_loadu_pd(p), lo));
  _mm512_storeu_pd(p + 8, _mm512_add_pd(_mm512_loadu_pd(p + 8), hi));
}
inline void vadd_into_double(double* p, VD a) {
  _mm512_storeu_pd(p, _mm512_add_pd(_mm512_loadu_pd(p), a.v));
}
inline float vreduce_add(VF a) {
  alignas(64) float t[16];
  _mm512_store_ps(t, a.v);
  float s0 = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
  float s1 = ((t[8] + t[9]) + (t[10] + t[11])) + ((t[12] + t[13]) + (t[14] + t[15]));
  return s0 + s1;
}
inline double vreduce_add(VD a) {
  alignas(64) double t[8];
  _mm512_store_pd(t, a.v);
  return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}
// The largest and smallest lane of a vector with no NaN lane (a shuffle tree), and
// whether any lane is NaN.
inline float vreduce_max(VF a) { return _mm512_reduce_max_ps(a.v); }
inline float vreduce_min(VF a) { return _mm512_reduce_min_ps(a.v); }
inline double vreduce_max(VD a) { return _mm512_reduce_max_pd(a.v); }
inline double vreduce_min(VD a) { return _mm512_reduce_min_pd(a.v); }
inline bool vany_nan(VF a) { return _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q) != 0; }
inline bool vany_nan(VD a) { return _mm512_cmp_pd_mask(a.v, a.v, _CMP_UNORD_Q) != 0; }
inline void stream_fence() { _mm_sfence(); }

}  // namespace dlcore::kernels::DLCORE_ISA_NS
