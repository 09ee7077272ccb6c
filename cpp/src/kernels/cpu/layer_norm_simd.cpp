// Layer normalisation and RMS normalisation of one row of D values, compiled once per
// instruction set (the loops vectorise; ops/norm.cpp runs the rows on threads),
// statistics in double:
//   layer norm: mean = sum x / D,  var = sum (x - mean)^2 / D,  rstd = 1 / sqrt(var + eps)
//   RMS norm:   mean = 0,          ms  = sum x^2 / D,           rstd = 1 / sqrt(ms + eps)
//   y = xhat w + b,  xhat = (x - mean) rstd  (w, b optional)
// Backward, with gw = g w:
//   layer norm: dx = rstd (gw - sum gw / D - xhat sum (gw xhat) / D)
//   RMS norm:   dx = rstd (gw - xhat sum (gw xhat) / D)
//   dw += g xhat,  db += g  (in double; the caller sums rows in a fixed order)
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/kernels.h"

// The lane vectors never cross a function boundary (all inline), so the ABI note GCC gives
// for vector arguments without AVX-512 does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// The sums over i < n of K values per element i (in double): kLanes interleaved partial
// sums per value, added in a fixed order at the end. One running sum is a chain of
// dependent additions (four cycles each); independent ones are vector additions, in the
// same order on every instruction set. The lanes are GCC vector types, which each
// instruction set's copy of this file lowers to its own registers (written element by
// element, GCC assembled each vector of x from scalar loads).
constexpr int kLanes = 8;
typedef double Lanes __attribute__((vector_size(kLanes * sizeof(double))));
template <class T>
struct Narrow {
  typedef T type __attribute__((vector_size(kLanes * sizeof(T))));
};

// The m <= kLanes values at p as doubles (the other lanes zero).
template <class T>
__attribute__((always_inline)) inline Lanes load_lanes(const T* p, int m) {
  typename Narrow<T>::type t = {};
  std::memcpy(&t, p, static_cast<size_t>(m) * sizeof(T));
  return __builtin_convertvector(t, Lanes);
}

// f(i, m) returns the K values of elements i .. i + m - 1 as lanes (m <= kLanes); lanes
// past m are not added.
template <int K, class F>
__attribute__((always_inline)) inline std::array<double, K> sums(int64_t n, F f) {
  Lanes acc[K] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const std::array<Lanes, K> v = f(i, kLanes);
    for (int k = 0; k < K; ++k) acc[k] += v[k];
  }
  if (i < n) {
    const int m = static_cast<int>(n - i);
    const std::array<Lanes, K> v = f(i, m);
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < m; ++j) acc[k][j] += v[k][j];
  }
  std::array<double, K> r;
  for (int k = 0; k < K; ++k)
    r[k] = ((acc[k][0] + acc[k][1]) + (acc[k][2] + acc[k][3])) +
           ((acc[k][4] + acc[k][5]) + (acc[k][6] + acc[k][7]));
  return r;
}

// f(c...) with each runtime flag as std::true_type or std::false_type, so that each
// combination is its own loop, free of tests, which vectorises.
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

template <class T>
void row_norm_forward(bool rms, int64_t D, const T* x, const T* w, const T* b, double eps, T* y,
                      double& mean, double& rstd) {
  mean = 0.0;
  if (!rms)
    mean = sums<1>(
               D, [&](int64_t i, int m) { return std::array<Lanes, 1>{load_lanes(x + i, m)}; })[0] /
           static_cast<double>(D);
  const double m0 = mean;
  const double sq = sums<1>(D, [&](int64_t i, int m) {
    const Lanes d = load_lanes(x + i, m) - m0;
    return std::array<Lanes, 1>{d * d};
  })[0];
  rstd = 1.0 / std::sqrt(sq / static_cast<double>(D) + eps);
  const T mt = static_cast<T>(mean), r = static_cast<T>(rstd);
  auto affine = [&](auto has_w, auto has_b) {
    const T* __restrict px = x;
    const T* __restrict pw = w;
    const T* __restrict pb = b;
    T* __restrict py = y;
    for (int64_t i = 0; i < D; ++i) {
      T v = (px[i] - mt) * r;
      if constexpr (decltype(has_w)::value) v *= pw[i];
      if constexpr (decltype(has_b)::value) v += pb[i];
      py[i] = v;
    }
  };
  with_flags(affine, w != nullptr, b != nullptr);
}

template <class T>
void row_norm_backward(bool rms, int64_t D, const T* x, const T* g, const T* w, double mean,
                       double rstd, T* dx, double* dw, double* db) {
  // sum gw and sum gw xhat, with w and without.
  auto terms = [&](auto has_w) {
    return [&, has_w](int64_t i, int m) {
      const Lanes xh = (load_lanes(x + i, m) - mean) * rstd;
      Lanes gw = load_lanes(g + i, m);
      if constexpr (decltype(has_w)::value) gw *= load_lanes(w + i, m);
      return std::array<Lanes, 2>{gw, gw * xh};
    };
  };
  const std::array<double, 2> s =
      w ? sums<2>(D, terms(std::true_type{})) : sums<2>(D, terms(std::false_type{}));
  const double inv_d = 1.0 / static_cast<double>(D);
  const double a = rms ? 0.0 : s[0] * inv_d, c = s[1] * inv_d;
  auto finish = [&](auto has_w, auto has_dx, auto has_acc) {
    const T* __restrict px = x;
    const T* __restrict pg = g;
    const T* __restrict pw = w;
    T* __restrict pdx = dx;
    double* __restrict pdw = dw;
    double* __restrict pdb = db;
    for (int64_t i = 0; i < D; ++i) {
      const double xh = (static_cast<double>(px[i]) - mean) * rstd;
      const double gi = static_cast<double>(pg[i]);
      double gw = gi;
      if constexpr (decltype(has_w)::value) gw *= static_cast<double>(pw[i]);
      if constexpr (decltype(has_dx)::value) pdx[i] = static_cast<T>(rstd * (gw - a - xh * c));
      if constexpr (decltype(has_acc)::value) {
        pdw[i] += gi * xh;
        pdb[i] += gi;
      }
    }
  };
  // The caller passes dw and db together (or neither).
  if (dx || dw) with_flags(finish, w != nullptr, dx != nullptr, dw != nullptr);
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
void row_norm_backward_f32(bool rms, int64_t D, const float* x, const float* g, const float* w,
                           double mean, double rstd, float* dx, double* dw, double* db) {
  row_norm_backward<float>(rms, D, x, g, w, mean, rstd, dx, dw, db);
}
void row_norm_backward_f64(bool rms, int64_t D, const double* x, const double* g, const double* w,
                           double mean, double rstd, double* dx, double* dw, double* db) {
  row_norm_backward<double>(rms, D, x, g, w, mean, rstd, dx, dw, db);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
