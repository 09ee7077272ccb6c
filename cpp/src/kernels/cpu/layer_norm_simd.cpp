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

#include "kernels/cpu/kernels.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// The sums over i < n of f(i) for each of the K values f returns (in double): kLanes
// interleaved partial sums per value, added in a fixed order at the end. One running sum
// is a chain of dependent additions (four cycles each); independent ones become vector
// additions, with the same bits on every instruction set.
constexpr int kLanes = 8;

template <int K, class F>
std::array<double, K> sums(int64_t n, F f) {
  double acc[K][kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
#pragma GCC unroll 8
    for (int j = 0; j < kLanes; ++j) {
      const std::array<double, K> v = f(i + j);
#pragma GCC unroll 4
      for (int k = 0; k < K; ++k) acc[k][j] += v[k];
    }
  for (int j = 0; i < n; ++i, ++j) {
    const std::array<double, K> v = f(i);
    for (int k = 0; k < K; ++k) acc[k][j] += v[k];
  }
  std::array<double, K> r;
  for (int k = 0; k < K; ++k)
    r[k] = ((acc[k][0] + acc[k][1]) + (acc[k][2] + acc[k][3])) +
           ((acc[k][4] + acc[k][5]) + (acc[k][6] + acc[k][7]));
  return r;
}

template <class T>
void row_norm_forward(bool rms, int64_t D, const T* x, const T* w, const T* b, double eps, T* y,
                      double& mean, double& rstd) {
  mean = 0.0;
  if (!rms)
    mean = sums<1>(D, [&](int64_t i) { return std::array<double, 1>{double(x[i])}; })[0] /
           static_cast<double>(D);
  const double m0 = mean;
  const double sq = sums<1>(D, [&](int64_t i) {
    const double d = static_cast<double>(x[i]) - m0;
    return std::array<double, 1>{d * d};
  })[0];
  rstd = 1.0 / std::sqrt(sq / static_cast<double>(D) + eps);
  const T m = static_cast<T>(mean), r = static_cast<T>(rstd);
  for (int64_t i = 0; i < D; ++i) {
    T v = (x[i] - m) * r;
    if (w) v *= w[i];
    if (b) v += b[i];
    y[i] = v;
  }
}

template <class T>
void row_norm_backward(bool rms, int64_t D, const T* x, const T* g, const T* w, double mean,
                       double rstd, T* dx, double* dw, double* db) {
  auto terms = [&](int64_t i, double wi) {
    const double xh = (static_cast<double>(x[i]) - mean) * rstd;
    const double gw = static_cast<double>(g[i]) * wi;
    return std::array<double, 2>{gw, gw * xh};
  };
  // Two loops rather than a test of w in one (which keeps it from vectorising).
  const std::array<double, 2> s =
      w ? sums<2>(D, [&](int64_t i) { return terms(i, static_cast<double>(w[i])); })
        : sums<2>(D, [&](int64_t i) { return terms(i, 1.0); });
  const double sum_gw = s[0], sum_gwx = s[1];
  const double inv_d = 1.0 / static_cast<double>(D);
  const double a = rms ? 0.0 : sum_gw * inv_d, c = sum_gwx * inv_d;
  for (int64_t i = 0; i < D; ++i) {
    const double xh = (static_cast<double>(x[i]) - mean) * rstd;
    const double gw = static_cast<double>(g[i]) * (w ? static_cast<double>(w[i]) : 1.0);
    if (dx) dx[i] = static_cast<T>(rstd * (gw - a - xh * c));
    if (dw) dw[i] += static_cast<double>(g[i]) * xh;
    if (db) db[i] += static_cast<double>(g[i]);
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
void row_norm_backward_f32(bool rms, int64_t D, const float* x, const float* g, const float* w,
                           double mean, double rstd, float* dx, double* dw, double* db) {
  row_norm_backward<float>(rms, D, x, g, w, mean, rstd, dx, dw, db);
}
void row_norm_backward_f64(bool rms, int64_t D, const double* x, const double* g, const double* w,
                           double mean, double rstd, double* dx, double* dw, double* db) {
  row_norm_backward<double>(rms, D, x, g, w, mean, rstd, dx, dw, db);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
