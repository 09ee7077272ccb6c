// The softmax steps of fused attention on one tile of scores, compiled once per
// instruction set. ops/attention.cpp runs the tiles: for a block of query rows it
// computes a tile S = scale Q K^T (rows x cols, row stride lds) with the GEMM, adds
// the mask, and hands the tile to these kernels; the products with V are GEMMs again.
//
// The tile may hold the scores unscaled (the caller then passes the scale a > 0, so that
// the scaling costs nothing: it is the multiply of exp's argument, done by one FMA) or
// scaled already (a = 1, as with an additive mask, added after scaling).
// Forward, online softmax (one pass over the key tiles, nothing T x T kept):
//   per row r:  m' = max(m[r], max_c S[r, c]);  P[r, c] = exp(a S[r, c] - a m')
//               f = exp(a (m[r] - m'));  l[r] = f l[r] + sum_c P[r, c];  acc[r, :] *= f
//   then acc += P V (a GEMM), and at the end O = acc / l, lse = a m + log(l).
//   A row whose scores are all -inf so far keeps m = -inf, l = 0 and P = 0.
// Backward, from the saved lse (the tile is recomputed, never stored):
//   P = exp(a S - lse[r]);  dS = P (dP - delta[r]),  dP = dO V^T,  delta[r] = dO[r] . O[r]
//
// exp of a score minus a row's maximum is at most 1: float32 vectors use a
// polynomial exp with no overflow branch, and give exactly 0 below -87 (where the
// true value is under 2e-38), so masked (-inf) scores weigh exactly nothing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"
#include "kernels/cpu/vmath.h"

namespace dlcore::kernels::DLCORE_ISA_NS {

// reduce_simd.cpp's, for the same instruction set.
float extreme_f32(const float* x, int64_t n, bool is_max);
double extreme_f64(const double* x, int64_t n, bool is_max);

namespace {

// The row's largest score, NaN if any is NaN; -inf for no scores.
template <class T>
T row_max(const T* s, int64_t n) {
  if (n <= 0) return -std::numeric_limits<T>::infinity();
  if constexpr (std::is_same_v<T, float>)
    return extreme_f32(s, n, true);
  else
    return extreme_f64(s, n, true);
}

// s[c] = exp(a s[c] - sub) for c < n, returning the sum of the new values (exactly
// exp(s[c] - sub) for a = 1). a s[c] is rounded before sub is taken off (the volatile
// keeps the compiler from fusing the two into an FMA), so the row's maximum, whose scaled
// value is sub, gives exactly exp(0) however large it is.
template <class T>
T exp_shift_sum(T* s, int64_t n, T sub, T a) {
  T sum = 0;
  for (int64_t c = 0; c < n; ++c) {
    volatile T scaled = a * s[c];
    s[c] = std::exp(scaled - sub);
    sum += s[c];
  }
  return sum;
}

#if !defined(DLCORE_ISA_generic)
// Two vectors a step with two sums: the steps' exps overlap instead of waiting on one
// chain of additions. kRound: a s is rounded before sub is taken off (see exp_shift_sum).
// The arguments are at most 0 (a little above is fine too); exp_zero_below_87 gives exactly
// 0 below -87 and at -inf, the masked scores, with no clamp.
template <bool kRound>
float exp_shift_sum_vec(float* s, int64_t n, float sub, float a) {
  constexpr int W = VF::size;
  const VF vs = VF::broadcast(sub), va = VF::broadcast(a);
  auto arg = [&](VF x) {
    if constexpr (!kRound) return vfma(x, va, vneg(vs));
    VF p = vmul(x, va);
    asm("" : "+v"(p.v));  // p rounded: the compiler may not fuse the two into an FMA
    return vsub(p, vs);
  };
  VF sum0 = VF::zero(), sum1 = VF::zero();
  int64_t c = 0;
  for (; c + 2 * W <= n; c += 2 * W) {
    const VF e0 = exp_zero_below_87(arg(VF::load(s + c)));
    const VF e1 = exp_zero_below_87(arg(VF::load(s + c + W)));
    e0.store(s + c), e1.store(s + c + W);
    sum0 = vadd(sum0, e0), sum1 = vadd(sum1, e1);
  }
  vec_loop<float>(n - c, [&](int64_t i, int w) {
    VF e = exp_zero_below_87(arg(load_n(s + c, i, w)));
    store_n(e, s + c, i, w);
    if (w < W) {
      alignas(64) float t[W] = {};
      e.store_first(t, w);
      e = VF::load(t);
    }
    sum0 = vadd(sum0, e);
  });
  return vreduce_add(vadd(sum0, sum1));
}

// One FMA gives a s - sub with sub's own rounding error left in (sub = a m, rounded):
// harmless while |sub| is small, but past 2^20 it reaches the argument's units and, far
// beyond, makes exp overflow or vanish for the whole row. There a s is rounded first, as a
// scaled score would be, so the row's maximum gives exactly exp(0).
float exp_shift_sum(float* s, int64_t n, float sub, float a) {
  return std::abs(sub) < 0x1p20f ? exp_shift_sum_vec<false>(s, n, sub, a)
                                 : exp_shift_sum_vec<true>(s, n, sub, a);
}
#endif

template <class T>
void scale_row(T* x, int64_t n, T f) {
  for (int64_t c = 0; c < n; ++c) x[c] *= f;
}

template <class T>
void softmax_online(int64_t rows, int64_t cols, T* s, int64_t lds, T* m, T* l, T* acc,
                    int64_t ldacc, int64_t dv, T a) {
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    T* sr = s + r * lds;
    T mt = row_max(sr, cols);
    T mn = (mt != mt || mt > m[r]) ? mt : m[r];
    if (mn == ninf) {  // every score of the row so far is masked
      for (int64_t c = 0; c < cols; ++c) sr[c] = T(0);
      continue;
    }
    const T shift = a * mn;
    if (!(mn < std::numeric_limits<T>::infinity()) ||
        !(shift < std::numeric_limits<T>::infinity()) || shift == ninf) {
      // A NaN or +inf score (or an unscaled maximum whose scaled value overflows, as the
      // scaled score would have): exp(S - max) has a NaN (inf - inf), and so have the
      // row's sum and output from here on. NaN is written, never handed to exp.
      std::fill(sr, sr + cols, std::numeric_limits<T>::quiet_NaN());
      m[r] = l[r] = std::numeric_limits<T>::quiet_NaN();
      continue;
    }
    const T f = m[r] == ninf ? T(0) : std::exp(a * (m[r] - mn));
    const T sum = exp_shift_sum(sr, cols, shift, a);
    l[r] = l[r] * f + sum;
    if (f != T(1)) scale_row(acc + r * ldacc, dv, f);
    m[r] = mn;
  }
}

template <class T>
void softmax_probs(int64_t rows, int64_t cols, T* s, int64_t lds, const T* lse, T a) {
  for (int64_t r = 0; r < rows; ++r) {
    T* sr = s + r * lds;
    if (lse[r] != lse[r])  // the forward's NaN row
      std::fill(sr, sr + cols, std::numeric_limits<T>::quiet_NaN());
    else
      exp_shift_sum(sr, cols, lse[r], a);
  }
}

// dS times `scale` (1, or the scores' scale for the products of dQ and dK to run with
// alpha 1).
template <class T>
void softmax_dscores(int64_t rows, int64_t cols, const T* p, int64_t lds, T* dp, const T* delta,
                     T scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* pr = p + r * lds;
    T* dr = dp + r * lds;
    const T d = delta[r];
    for (int64_t c = 0; c < cols; ++c) dr[c] = pr[c] * (dr[c] - d) * scale;
  }
}

}  // namespace

void attn_softmax_online_f32(int64_t rows, int64_t cols, float* s, int64_t lds, float* m, float* l,
                             float* acc, int64_t ldacc, int64_t dv, float a) {
  softmax_online<float>(rows, cols, s, lds, m, l, acc, ldacc, dv, a);
}
void attn_softmax_online_f64(int64_t rows, int64_t cols, double* s, int64_t lds, double* m,
                             double* l, double* acc, int64_t ldacc, int64_t dv, double a) {
  softmax_online<double>(rows, cols, s, lds, m, l, acc, ldacc, dv, a);
}
void attn_softmax_probs_f32(int64_t rows, int64_t cols, float* s, int64_t lds, const float* lse,
                            float a) {
  softmax_probs<float>(rows, cols, s, lds, lse, a);
}
void attn_softmax_probs_f64(int64_t rows, int64_t cols, double* s, int64_t lds, const double* lse,
                            double a) {
  softmax_probs<double>(rows, cols, s, lds, lse, a);
}
void attn_softmax_dscores_f32(int64_t rows, int64_t cols, const float* p, int64_t lds, float* dp,
                              const float* delta, float scale) {
  softmax_dscores<float>(rows, cols, p, lds, dp, delta, scale);
}
void attn_softmax_dscores_f64(int64_t rows, int64_t cols, const double* p, int64_t lds, double* dp,
                              const double* delta, double scale) {
  softmax_dscores<double>(rows, cols, p, lds, dp, delta, scale);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
