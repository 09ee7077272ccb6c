// Layer normalisation and RMS normalisation, compiled once per instruction set
// (ops/norm.cpp runs the rows on threads):
//   layer norm: mean = sum x / D,  var = sum (x - mean)^2 / D,  rstd = 1 / sqrt(var + eps)
//   RMS norm:   mean = 0,          ms  = sum x^2 / D,           rstd = 1 / sqrt(ms + eps)
//   y = xhat w + b,  xhat = (x - mean) rstd  (w, b optional)
// Backward, with gw = g w:
//   layer norm: dx = rstd (gw - sum gw / D - xhat sum (gw xhat) / D)
//   RMS norm:   dx = rstd (gw - xhat sum (gw xhat) / D)
//   dw += g xhat,  db += g  (into double; the caller sums blocks of rows in a fixed order)
// Elements are computed in T; sums over a row in T within spans and in double across
// them, so mean and rstd come out in double.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// The loops run on the instruction set's vectors (vec.h), W lanes of T.
//
// Row sums run in T over spans of kSpan values (two vector accumulators each) and in
// double across spans, as batch_norm_simd.cpp does (the order of the additions within a
// span follows the instruction set's W; it does not depend on the thread count).
// f(i, m, v) sets v[0 .. K) to the K terms of elements i .. i + m - 1 (m <= W) with zero
// in the lanes past m.
constexpr int64_t kSpan = 256;

template <class T, int K, class F>
__attribute__((always_inline)) inline std::array<double, K> row_sums(int64_t n, F f) {
  using V = Vec<T>;
  constexpr int W = V::size;
  std::array<double, K> s{};
  for (int64_t b0 = 0; b0 < n; b0 += kSpan) {
    const int64_t b1 = std::min(n, b0 + kSpan);
    V a0[K], a1[K], v[K];
    for (int k = 0; k < K; ++k) a0[k] = a1[k] = V::zero();
    int64_t i = b0;
    for (; i + 2 * W <= b1; i += 2 * W) {
      f(i, W, v);
      for (int k = 0; k < K; ++k) a0[k] = vadd(a0[k], v[k]);
      f(i + W, W, v);
      for (int k = 0; k < K; ++k) a1[k] = vadd(a1[k], v[k]);
    }
    for (; i < b1; i += W) {
      f(i, static_cast<int>(std::min<int64_t>(W, b1 - i)), v);
      for (int k = 0; k < K; ++k) a0[k] = vadd(a0[k], v[k]);
    }
    for (int k = 0; k < K; ++k) s[k] += static_cast<double>(vreduce_add(vadd(a0[k], a1[k])));
  }
  return s;
}

// v with the lanes past m zero.
template <class T>
__attribute__((always_inline)) inline Vec<T> first_lanes(Vec<T> v, int m) {
  if (m == Vec<T>::size) return v;
  alignas(64) T t[Vec<T>::size];
  v.store(t);
  return Vec<T>::load_first(t, m);
}

// f(c...) with each runtime flag as std::true_type or std::false_type, so that each
// combination is its own loop, free of tests.
template <class F>
inline void with_flags(F&& f) {
  f();
}
template <class F, class... Flags>
inline void with_flags(F&& f, bool first, Flags... rest) {
  if (first)
    with_flags([&](auto... c) { f(std::true_type{}, c...); }, rest...);
  else
    with_flags([&](auto... c) { f(std::false_type{}, c...); }, rest...);
}

// The mean as hi + lo in T: x - hi is exact for x within a factor two of the mean (so for
// rows whose spread is small next to it), and lo (the mean's rounding error) then costs
// one rounding of a small number instead of the mean's.
template <class T>
inline void split_mean(double mean, T& hi, T& lo) {
  hi = static_cast<T>(mean);
  lo = static_cast<T>(mean - static_cast<double>(hi));
}

template <class T>
void row_norm_forward(bool rms, int64_t D, const T* x, const T* w, const T* b, double eps, T* y,
                      double& mean, double& rstd) {
  using V = Vec<T>;
  // The mean as x[0] + sum (x - x[0]) / D: the differences are exact for values within a
  // factor two of x[0], so the sums in T lose nothing to a large common offset.
  mean = 0.0;
  if (!rms && D > 0) {
    const V x0 = V::broadcast(x[0]);
    mean = static_cast<double>(x[0]) +
           row_sums<T, 1>(D, [&](int64_t i, int m,
                                 V* v) { v[0] = first_lanes(vsub(load_n(x, i, m), x0), m); })[0] /
               static_cast<double>(D);
  }
  T hi, lo;
  split_mean(mean, hi, lo);
  const V vh = V::broadcast(hi), vl = V::broadcast(lo);
  auto centred = [&](int64_t i, int m) { return vsub(vsub(load_n(x, i, m), vh), vl); };
  const double sq = row_sums<T, 1>(D, [&](int64_t i, int m, V* v) {
    const V d = first_lanes(centred(i, m), m);
    v[0] = vmul(d, d);
  })[0];
  rstd = 1.0 / std::sqrt(sq / static_cast<double>(D) + eps);
  const V r = V::broadcast(static_cast<T>(rstd));
  auto affine = [&](auto has_w, auto has_b) {
    auto one = [&](int64_t i, int m) {
      V v = vmul(centred(i, m), r);
      if constexpr (decltype(has_w)::value) v = vmul(v, load_n(w, i, m));
      if constexpr (decltype(has_b)::value) v = vadd(v, load_n(b, i, m));
      store_n(v, y, i, m);
    };
    vec_loop<T>(D, one);
  };
  with_flags(affine, w != nullptr, b != nullptr);
}

// The backward takes the rows of a block kGroup at a time: first the row sums of each;
// then, one vector of columns at a time, dx of each row of the group and the group's
// terms of dw and db, summed in T across the group before one add into the double
// accumulators.
constexpr int64_t kGroup = 8;

template <class T>
void rows_norm_backward(bool rms, int64_t D, int64_t rows, const T* x, const T* g, const T* w,
                        const double* mean, const double* rstd, T* dx, double* dw, double* db) {
  using V = Vec<T>;
  constexpr int W = V::size;
  const double inv_d = 1.0 / static_cast<double>(D);
  // Per row of the group: xhat = (x - mh - ml) r and dx = r gw - (xhat rc + ra), with
  // ra = r sum(gw) / D (0 for RMS) and rc = r sum(gw xhat) / D.
  V mh[kGroup], ml[kGroup], rt[kGroup], ra[kGroup], rc[kGroup];
  for (int64_t r0 = 0; r0 < rows; r0 += kGroup) {
    const int64_t nr = std::min(kGroup, rows - r0);
    for (int64_t q = 0; q < nr; ++q) {
      const T* xr = x + (r0 + q) * D;
      const T* gr = g + (r0 + q) * D;
      T hi, lo;
      split_mean(mean[r0 + q], hi, lo);
      const T r = static_cast<T>(rstd[r0 + q]);
      mh[q] = V::broadcast(hi), ml[q] = V::broadcast(lo), rt[q] = V::broadcast(r);
      // sum gw and sum gw xhat (gw is zero past m, so both terms are).
      const std::array<double, 2> s = row_sums<T, 2>(D, [&](int64_t i, int m, V* v) {
        const V xh = vmul(vsub(vsub(load_n(xr, i, m), mh[q]), ml[q]), rt[q]);
        v[0] = load_n(gr, i, m);
        if (w) v[0] = vmul(v[0], load_n(w, i, m));
        v[1] = vmul(v[0], xh);
      });
      const double s0 = s[0], s1 = s[1];
      ra[q] = V::broadcast(static_cast<T>(rms ? 0.0 : rstd[r0 + q] * s0 * inv_d));
      rc[q] = V::broadcast(static_cast<T>(rstd[r0 + q] * s1 * inv_d));
    }
    // The columns j .. j + m - 1 (m <= W) of every row of the group.
    auto columns = [&](int64_t j, int m) {
      const V wj = w ? load_n(w, j, m) : V::zero();
      V acc_w = V::zero(), acc_b = V::zero();
      for (int64_t q = 0; q < nr; ++q) {
        const int64_t o = (r0 + q) * D + j;
        const V xh = vmul(vsub(vsub(load_n(x, o, m), mh[q]), ml[q]), rt[q]);
        const V gi = load_n(g, o, m);
        if (dx) {
          const V gw = w ? vmul(gi, wj) : gi;
          const V d = vsub(vmul(gw, rt[q]), vfma(xh, rc[q], ra[q]));
          store_n(d, dx, o, m);
        }
        if (dw) acc_w = vfma(gi, xh, acc_w), acc_b = vadd(acc_b, gi);
      }
      if (dw && m == W) {
        vadd_into_double(dw + j, acc_w);
        vadd_into_double(db + j, acc_b);
      } else if (dw) {
        alignas(64) T tw[W], tb[W];
        acc_w.store(tw);
        acc_b.store(tb);
        for (int l = 0; l < m; ++l) {
          dw[j + l] += static_cast<double>(tw[l]);
          db[j + l] += static_cast<double>(tb[l]);
        }
      }
    };
    // The caller passes dw and db together (or neither).
    if (dx || dw) {
      vec_loop<T>(D, columns);
    }
  }
}

}  // namespace

void row_norm_forward_f32(bool rms, int64_t D, const float* x, const float* w, const float* b,
                          double eps, float* y, double& mean, double& rstd) {
  row_norm_forward<float>(rms, D, x, w, b, eps, y, mean, rstd);
}
void row_norm_forward_f64(bool rms, int64_t D, const double* x, const double* w, const double* b,
                          double eps, double* y, double& mean, double& rstd) {
  row_norm_forward<double>(rms, D, x, w, b, eps, y, mean, rstd);
}
void rows_norm_backward_f32(bool rms, int64_t D, int64_t rows, const float* x, const float* g,
                            const float* w, const double* mean, const double* rstd, float* dx,
                            double* dw, double* db) {
  rows_norm_backward<float>(rms, D, rows, x, g, w, mean, rstd, dx, dw, db);
}
void rows_norm_backward_f64(bool rms, int64_t D, int64_t rows, const double* x, const double* g,
                            const double* w, const double* mean, const double* rstd, double* dx,
                            double* dw, double* db) {
  rows_norm_backward<double>(rms, D, rows, x, g, w, mean, rstd, dx, dw, db);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
