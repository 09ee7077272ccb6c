// The softmax steps of fused attention on one tile of scores, compiled once per
// instruction set. ops/attention.cpp runs the tiles: for a block of query rows it
// computes a tile S = scale Q K^T (rows x cols, row stride lds) with the GEMM, adds
// the mask, and hands the tile to these kernels; the products with V are GEMMs again.
//
// Forward, online softmax (one pass over the key tiles, nothing T x T kept):
//   per row r:  m' = max(m[r], max_c S[r, c]);  P[r, c] = exp(S[r, c] - m')
//               f = exp(m[r] - m');  l[r] = f l[r] + sum_c P[r, c];  acc[r, :] *= f
//   then acc += P V (a GEMM), and at the end O = acc / l, lse = m + log(l).
//   A row whose scores are all -inf so far keeps m = -inf, l = 0 and P = 0.
// Backward, from the saved lse (the tile is recomputed, never stored):
//   P = exp(S - lse[r]);  dS = P (dP - delta[r]),  dP = dO V^T,  delta[r] = dO[r] . O[r]
//
// exp of a score minus a row's maximum is at most 1: float32 vectors use a
// polynomial exp with no overflow branch, and give exactly 0 below -87 (where the
// true value is under 2e-38), so masked (-inf) scores weigh exactly nothing.
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"
#include "kernels/cpu/vmath.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

template <class T>
T row_max(const T* s, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < n; ++c) m = (s[c] != s[c] || s[c] > m) ? s[c] : m;
  return m;
}

// s[c] = exp(s[c] - sub) for c < n, returning the sum of the new values.
template <class T>
T exp_shift_sum(T* s, int64_t n, T sub) {
  T sum = 0;
  for (int64_t c = 0; c < n; ++c) {
    s[c] = std::exp(s[c] - sub);
    sum += s[c];
  }
  return sum;
}

#if !defined(DLCORE_ISA_generic)
float row_max(const float* s, int64_t n) {
  VF m = VF::broadcast(-std::numeric_limits<float>::infinity());
  vec_loop<float>(n, [&](int64_t c, int w) {
    VF x = w == VF::size ? VF::load(s + c) : load_n(s, c, w);
    if (w < VF::size) {  // pad the tail with -inf, which never wins
      alignas(64) float t[VF::size];
      x.store(t);
      for (int k = w; k < VF::size; ++k) t[k] = -std::numeric_limits<float>::infinity();
      x = VF::load(t);
    }
    m = vmax(x, m);  // x first: a NaN score propagates
  });
  alignas(64) float t[VF::size];
  m.store(t);
  float r = t[0];
  for (int k = 1; k < VF::size; ++k) r = (t[k] != t[k] || t[k] > r) ? t[k] : r;
  return r;
}

// exp(x) for x <= 0 (up to rounding), exactly 0 below -87.
inline VF exp_nonpositive(VF x) {
  VF n;
  VF r = exp_reduce(vclamp(x, -87.0f, 0.0f), n);
  VF e = vscale_pow2(exp_poly(r), n);
  return vselect_neg(vadd(x, VF::broadcast(87.0f)), VF::zero(), e);
}

float exp_shift_sum(float* s, int64_t n, float sub) {
  const VF vs = VF::broadcast(sub);
  VF sum = VF::zero();
  vec_loop<float>(n, [&](int64_t c, int w) {
    VF e = exp_nonpositive(vsub(load_n(s, c, w), vs));
    store_n(e, s, c, w);
    if (w < VF::size) {
      alignas(64) float t[VF::size] = {};
      e.store_first(t, w);
      e = VF::load(t);
    }
    sum = vadd(sum, e);
  });
  return vreduce_add(sum);
}
#endif

template <class T>
void scale_row(T* x, int64_t n, T f) {
  for (int64_t c = 0; c < n; ++c) x[c] *= f;
}

template <class T>
void softmax_online(int64_t rows, int64_t cols, T* s, int64_t lds, T* m, T* l, T* acc,
                    int64_t ldacc, int64_t dv) {
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    T* sr = s + r * lds;
    T mt = row_max(sr, cols);
    T mn = (mt != mt || mt > m[r]) ? mt : m[r];
    if (mn == ninf) {  // every score of the row so far is masked
      for (int64_t c = 0; c < cols; ++c) sr[c] = T(0);
      continue;
    }
    const T f = m[r] == ninf ? T(0) : std::exp(m[r] - mn);
    const T sum = exp_shift_sum(sr, cols, mn);
    l[r] = l[r] * f + sum;
    if (f != T(1)) scale_row(acc + r * ldacc, dv, f);
    m[r] = mn;
  }
}

template <class T>
void softmax_probs(int64_t rows, int64_t cols, T* s, int64_t lds, const T* lse) {
  for (int64_t r = 0; r < rows; ++r) exp_shift_sum(s + r * lds, cols, lse[r]);
}

template <class T>
void softmax_dscores(int64_t rows, int64_t cols, const T* p, int64_t lds, T* dp, const T* delta) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* pr = p + r * lds;
    T* dr = dp + r * lds;
    const T d = delta[r];
    for (int64_t c = 0; c < cols; ++c) dr[c] = pr[c] * (dr[c] - d);
  }
}

}  // namespace

void attn_softmax_online_f32(int64_t rows, int64_t cols, float* s, int64_t lds, float* m, float* l,
                             float* acc, int64_t ldacc, int64_t dv) {
  softmax_online<float>(rows, cols, s, lds, m, l, acc, ldacc, dv);
}
void attn_softmax_online_f64(int64_t rows, int64_t cols, double* s, int64_t lds, double* m,
                             double* l, double* acc, int64_t ldacc, int64_t dv) {
  softmax_online<double>(rows, cols, s, lds, m, l, acc, ldacc, dv);
}
void attn_softmax_probs_f32(int64_t rows, int64_t cols, float* s, int64_t lds, const float* lse) {
  softmax_probs<float>(rows, cols, s, lds, lse);
}
void attn_softmax_probs_f64(int64_t rows, int64_t cols, double* s, int64_t lds, const double* lse) {
  softmax_probs<double>(rows, cols, s, lds, lse);
}
void attn_softmax_dscores_f32(int64_t rows, int64_t cols, const float* p, int64_t lds, float* dp,
                              const float* delta) {
  softmax_dscores<float>(rows, cols, p, lds, dp, delta);
}
void attn_softmax_dscores_f64(int64_t rows, int64_t cols, const double* p, int64_t lds, double* dp,
                              const double* delta) {
  softmax_dscores<double>(rows, cols, p, lds, dp, delta);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
