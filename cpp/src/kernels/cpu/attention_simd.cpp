// The softmax steps of fused attention on one tile of scores, and the rows and columns
// of the softmax and log_softmax ops (at the end), compiled once per instruction set; the
// exp-and-sum loop they share is in the kernel table too (cross_entropy's rows).
// ops/attention.cpp runs the tiles: for a block of query rows it computes a tile
// S = scale Q K^T (rows x cols, row stride lds) with the GEMM, adds the mask, and hands
// the tile to these kernels; the products with V are GEMMs again.
//
// The softmax runs in base 2: a is log2(e) times the scale the tile still needs, so that
// 2^(a S) = exp(scale S). The tile may hold the scores unscaled (a = scale log2(e), with
// scale > 0: the scaling costs nothing, it is the multiply of exp2's argument, done by one
// FMA) or scaled already (a = log2(e), as with an additive mask, added after scaling).
// Forward, online softmax (one pass over the key tiles, nothing T x T kept):
//   per row r:  m' = max(m[r], max_c S[r, c]);  P[r, c] = 2^(a S[r, c] - a m')
//               f = 2^(a (m[r] - m'));  l[r] = f l[r] + sum_c P[r, c];  acc[r, :] *= f
//   then acc += P V (a GEMM), and at the end O = acc / l and the log-sum-exp in base 2,
//   lse = a m + log2(l).
//   A row whose scores are all -inf so far keeps m = -inf, l = 0 and P = 0.
// Backward, from the saved lse (the tile is recomputed, never stored):
//   P = 2^(a S - lse[r]);  dS = P (dP - delta[r]),  dP = dO V^T,  delta[r] = dO[r] . O[r]
//
// A score minus its row's maximum gives at most 1: float32 vectors use exp2_zero_below,
// with no overflow branch and exactly 0 below -125.5 (where the true value is under
// 2.4e-38), so masked (-inf) scores weigh exactly nothing. Base 2 takes about a third
// off the exp's time against base e (no split ln2 and a shorter polynomial); a's rounding
// moves each exponent by at most its own 2^-24, as the scale's rounding does.
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

#if !defined(DLCORE_ISA_generic)
// Two vectors a step with two sums: the steps' exps overlap instead of waiting on one
// chain of additions. kRound: a s is rounded before sub is taken off (see exp_shift_sum).
// The arguments are at most 0 (a little above is fine too); exp_zero_below_87 and
// exp2_zero_below give exactly 0 below -87 (-125.5 in base 2) and at -inf, the masked
// scores, with no clamp.
template <bool kBase2, bool kRound>
float exp_shift_sum_vec(const float* in, float* out, int64_t n, float sub, float a) {
  constexpr int W = VF::size;
  const VF vs = VF::broadcast(sub), va = VF::broadcast(a), table = exp2_table();
  auto ex = [&](VF x) {
    if constexpr (!kRound)
      x = vfma(x, va, vneg(vs));
    else {
      x = vmul(x, va);
      asm("" : "+v"(x.v));  // a s rounded: the compiler may not fuse the two into an FMA
      x = vsub(x, vs);
    }
    if constexpr (kBase2) return exp2_zero_below(x, table);
    return exp_zero_below_87(x);
  };
  VF sum0 = VF::zero(), sum1 = VF::zero();
  int64_t c = 0;
  for (; c + 2 * W <= n; c += 2 * W) {
    const VF e0 = ex(VF::load(in + c));
    const VF e1 = ex(VF::load(in + c + W));
    e0.store(out + c), e1.store(out + c + W);
    sum0 = vadd(sum0, e0), sum1 = vadd(sum1, e1);
  }
  vec_loop<float>(n - c, [&](int64_t i, int w) {
    VF e = ex(load_n(in + c, i, w));
    store_n(e, out + c, i, w);
    if (w < W) {  // the lanes past the row's end out of the sum: lane index - w < 0 keeps
      alignas(64) static constexpr float kLane[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                      8, 9, 10, 11, 12, 13, 14, 15};
      static_assert(W <= 16);
      e = vselect_neg(vsub(VF::load(kLane), VF::broadcast(float(w))), e, VF::zero());
    }
    sum0 = vadd(sum0, e);
  });
  return vreduce_add(vadd(sum0, sum1));
}
#endif

// out[c] = exp(a in[c] - sub) for c < n, or 2^(a in[c] - sub) with kBase2 (out may be in),
// returning the sum of the new values (exactly exp(in[c] - sub) for a = 1).
// float vectors: one FMA gives a s - sub with sub's own rounding error left in (sub = a m,
// rounded): harmless while |sub| is small, but past 2^20 it reaches the argument's units
// and, far beyond, makes exp overflow or vanish for the whole row. There, and in the
// scalar loop, a s is rounded before sub is taken off (the volatile keeps the compiler
// from fusing the two into an FMA), as a scaled score would be, so the row's maximum,
// whose scaled value is sub, gives exactly exp(0) however large it is.
template <bool kBase2 = false, class T>
T exp_shift_sum(const T* in, T* out, int64_t n, T sub, T a) {
#if !defined(DLCORE_ISA_generic)
  if constexpr (std::is_same_v<T, float>)
    return std::abs(sub) < 0x1p20f ? exp_shift_sum_vec<kBase2, false>(in, out, n, sub, a)
                                   : exp_shift_sum_vec<kBase2, true>(in, out, n, sub, a);
#endif
  T sum = 0;
  for (int64_t c = 0; c < n; ++c) {
    volatile T scaled = a * in[c];
    out[c] = kBase2 ? std::exp2(scaled - sub) : std::exp(scaled - sub);
    sum += out[c];
  }
  return sum;
}

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
    const T f = m[r] == ninf ? T(0) : std::exp2(a * (m[r] - mn));
    const T sum = exp_shift_sum<true>(sr, sr, cols, shift, a);
    l[r] = l[r] * f + sum;
    // A row with no score so far (m = -inf, f = 0) is left as it is: on the first key tile
    // the product with V overwrites it (beta 0), and after a tile of masked scores it holds
    // 0 V, which times 0 stays the same.
    if (f != T(1) && m[r] != ninf) scale_row(acc + r * ldacc, dv, f);
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
      exp_shift_sum<true>(sr, sr, cols, lse[r], a);
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

// delta of the backward, out[r] = a[r] . b[r] over n adjacent values of each row (dO and O,
// or a tile's P and dP, at row strides lda, ldb): one vector of partial sums per row, then
// across its lanes, so a row's value does not depend on the caller's threads
// (ops/attention.cpp had a scalar loop, one chain of additions per row).
template <class T>
void row_dots(int64_t rows, int64_t n, const T* a, int64_t lda, const T* b, int64_t ldb, T* out) {
  using V = Vec<T>;
  for (int64_t r = 0; r < rows; ++r) {
    const T* ar = a + r * lda;
    const T* br = b + r * ldb;
    V acc = V::zero();
    vec_loop<T>(n, [&](int64_t i, int c) { acc = vfma(load_n(ar, i, c), load_n(br, i, c), acc); });
    out[r] = vreduce_add(acc);
  }
}

template <class T>
void finish_rows(int64_t rows, int64_t n, T* o, int64_t ldo, const T* m, const T* l, T a, T* lse) {
  using V = Vec<T>;
  for (int64_t r = 0; r < rows; ++r) {
    T* orow = o + r * ldo;
    if (l[r] == T(0)) {  // every key masked: zeros, and P = exp(S - inf) = 0 backward
      std::fill(orow, orow + n, T(0));
      lse[r] = std::numeric_limits<T>::infinity();
      continue;
    }
    const V inv = V::broadcast(T(1) / l[r]);  // NaN scores: NaN output and lse
    vec_loop<T>(n, [&](int64_t i, int c) { store_n(vmul(load_n(orow, i, c), inv), orow, i, c); });
    lse[r] = a * m[r] + std::log2(l[r]);
  }
}

// The softmax and log_softmax ops along rows of n adjacent values:
//   m = max_c x[c],  s = sum_c exp(x[c] - m)
//   softmax y = exp(x - m) / s,  log_softmax y = (x - m) - log(s)  (the exps go to y first)
// A row holding a NaN or +inf, or nothing above -inf, is NaN throughout, as exp(x - m)
// has a NaN there (inf - inf); it is written so, never handed to exp.
template <class T>
void softmax_rows(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    const T m = row_max(xr, n);
    if (!(std::abs(m) < std::numeric_limits<T>::infinity())) {
      std::fill(yr, yr + n, std::numeric_limits<T>::quiet_NaN());
      continue;
    }
    const T s = exp_shift_sum(xr, yr, n, m, T(1));
    using V = Vec<T>;
    const V vm = V::broadcast(m), vs = V::broadcast(log ? std::log(s) : s);
    if (log)
      vec_loop<T>(
          n, [&](int64_t i, int c) { store_n(vsub(vsub(load_n(xr, i, c), vm), vs), yr, i, c); });
    else
      vec_loop<T>(n, [&](int64_t i, int c) { store_n(vdiv(load_n(yr, i, c), vs), yr, i, c); });
  }
}

// Their backward from y and the incoming gradient g, per row:
//   softmax dx = y (g - sum_c g[c] y[c]),  log_softmax dx = g - exp(y) sum_c g[c].
template <class T>
void softmax_rows_backward(const T* y, const T* g, T* dx, int64_t rows, int64_t n, bool log) {
  using V = Vec<T>;
  for (int64_t r = 0; r < rows; ++r) {
    const T *yr = y + r * n, *gr = g + r * n;
    T* dr = dx + r * n;
    auto add = [&](V acc, int64_t i, int c) {
      const V gv = load_n(gr, i, c);
      return log ? vadd(acc, gv) : vfma(gv, load_n(yr, i, c), acc);
    };
    constexpr int W = V::size;
    V acc0 = V::zero(), acc1 = V::zero();  // two chains of sums
    int64_t i0 = 0;
    for (; i0 + 2 * W <= n; i0 += 2 * W) acc0 = add(acc0, i0, W), acc1 = add(acc1, i0 + W, W);
    vec_loop<T>(n - i0, [&](int64_t i, int c) { acc0 = add(acc0, i0 + i, c); });
    const T s = vreduce_add(vadd(acc0, acc1));
    const V vs = V::broadcast(s);
    if (!log) {
      vec_loop<T>(n, [&](int64_t i, int c) {
        store_n(vmul(load_n(yr, i, c), vsub(load_n(gr, i, c), vs)), dr, i, c);
      });
      continue;
    }
#if !defined(DLCORE_ISA_generic)
    if constexpr (std::is_same_v<T, float>) {  // vmath.h's exp
      vec_loop<float>(n, [&](int64_t i, int c) {
        store_n(vsub(load_n(gr, i, c), vmul(vexp(load_n(yr, i, c)), vs)), dr, i, c);
      });
      continue;
    }
#endif
    for (int64_t c = 0; c < n; ++c) dr[c] = gr[c] - std::exp(yr[c]) * s;
  }
}

// exp and log of each lane: vmath.h's exp for float32 vectors, libm otherwise (and log
// always: the column kernels take one per column).
template <class T>
Vec<T> exp_lanes(Vec<T> v) {
#if !defined(DLCORE_ISA_generic)
  if constexpr (std::is_same_v<T, float>) return vexp(v);
#endif
  alignas(64) T t[Vec<T>::size];
  v.store(t);
  for (T& e : t) e = std::exp(e);
  return Vec<T>::load(t);
}
template <class T>
Vec<T> log_lanes(Vec<T> v) {
  alignas(64) T t[Vec<T>::size];
  v.store(t);
  for (T& e : t) e = std::log(e);
  return Vec<T>::load(t);
}

// The softmax and log_softmax ops along a dimension whose n values lie `inner` apart
// (inner > 1), over `cols` adjacent columns of one block: value r of column j at
// x[r inner + j]. The columns go in vectors, each lane its own softmax, with the formulas
// of softmax_rows. A column holding a NaN or +inf, or only -inf, is NaN throughout: its
// exp(x - m) has a NaN (the general exp keeps NaN, and gives 0 at -inf).
template <class T>
void softmax_cols(const T* x, T* y, int64_t n, int64_t inner, int64_t cols, bool log) {
  using V = Vec<T>;
  vec_loop<T>(cols, [&](int64_t j, int c) {
    V m = load_n(x, j, c);
    for (int64_t r = 1; r < n; ++r) m = vmax(m, load_n(x + r * inner, j, c));
    V s = V::zero();
    for (int64_t r = 0; r < n; ++r) {
      const V e = exp_lanes(vsub(load_n(x + r * inner, j, c), m));
      if (!log) store_n(e, y + r * inner, j, c);
      s = vadd(s, e);
    }
    const V ls = log ? log_lanes(s) : s;
    for (int64_t r = 0; r < n; ++r) {
      const V v = log ? vsub(vsub(load_n(x + r * inner, j, c), m), ls)
                      : vdiv(load_n(y + r * inner, j, c), s);
      store_n(v, y + r * inner, j, c);
    }
  });
}

// Their backward, column by column as softmax_rows_backward goes row by row.
template <class T>
void softmax_cols_backward(const T* y, const T* g, T* dx, int64_t n, int64_t inner, int64_t cols,
                           bool log) {
  using V = Vec<T>;
  vec_loop<T>(cols, [&](int64_t j, int c) {
    V s = V::zero();
    for (int64_t r = 0; r < n; ++r) {
      const V gv = load_n(g + r * inner, j, c);
      s = log ? vadd(s, gv) : vfma(gv, load_n(y + r * inner, j, c), s);
    }
    for (int64_t r = 0; r < n; ++r) {
      const V yv = load_n(y + r * inner, j, c), gv = load_n(g + r * inner, j, c);
      store_n(log ? vsub(gv, vmul(exp_lanes(yv), s)) : vmul(yv, vsub(gv, s)), dx + r * inner, j, c);
    }
  });
}

}  // namespace

void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  softmax_rows<float>(x, y, rows, n, log);
}
void softmax_rows_f64(const double* x, double* y, int64_t rows, int64_t n, bool log) {
  softmax_rows<double>(x, y, rows, n, log);
}
void softmax_cols_f32(const float* x, float* y, int64_t n, int64_t inner, int64_t cols, bool log) {
  softmax_cols<float>(x, y, n, inner, cols, log);
}
void softmax_cols_f64(const double* x, double* y, int64_t n, int64_t inner, int64_t cols,
                      bool log) {
  softmax_cols<double>(x, y, n, inner, cols, log);
}
void softmax_cols_backward_f32(const float* y, const float* g, float* dx, int64_t n, int64_t inner,
                               int64_t cols, bool log) {
  softmax_cols_backward<float>(y, g, dx, n, inner, cols, log);
}
void softmax_cols_backward_f64(const double* y, const double* g, double* dx, int64_t n,
                               int64_t inner, int64_t cols, bool log) {
  softmax_cols_backward<double>(y, g, dx, n, inner, cols, log);
}
void softmax_rows_backward_f32(const float* y, const float* g, float* dx, int64_t rows, int64_t n,
                               bool log) {
  softmax_rows_backward<float>(y, g, dx, rows, n, log);
}
void softmax_rows_backward_f64(const double* y, const double* g, double* dx, int64_t rows,
                               int64_t n, bool log) {
  softmax_rows_backward<double>(y, g, dx, rows, n, log);
}

float exp_shift_sum_f32(const float* in, float* out, int64_t n, float sub, float a) {
  return exp_shift_sum(in, out, n, sub, a);
}
double exp_shift_sum_f64(const double* in, double* out, int64_t n, double sub, double a) {
  return exp_shift_sum(in, out, n, sub, a);
}

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

void attn_row_dots_f32(int64_t rows, int64_t n, const float* a, int64_t lda, const float* b,
                       int64_t ldb, float* out) {
  row_dots<float>(rows, n, a, lda, b, ldb, out);
}
void attn_row_dots_f64(int64_t rows, int64_t n, const double* a, int64_t lda, const double* b,
                       int64_t ldb, double* out) {
  row_dots<double>(rows, n, a, lda, b, ldb, out);
}
void attn_finish_f32(int64_t rows, int64_t n, float* o, int64_t ldo, const float* m, const float* l,
                     float a, float* lse) {
  finish_rows<float>(rows, n, o, ldo, m, l, a, lse);
}
void attn_finish_f64(int64_t rows, int64_t n, double* o, int64_t ldo, const double* m,
                     const double* l, double a, double* lse) {
  finish_rows<double>(rows, n, o, ldo, m, l, a, lse);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
