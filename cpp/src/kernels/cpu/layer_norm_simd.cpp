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
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

template <class T>
void row_norm_forward(bool rms, int64_t D, const T* x, const T* w, const T* b, double eps, T* y,
                      double& mean, double& rstd) {
  mean = 0.0;
  if (!rms) {
    double s = 0.0;
    for (int64_t i = 0; i < D; ++i) s += static_cast<double>(x[i]);
    mean = s / static_cast<double>(D);
  }
  double sq = 0.0;
  for (int64_t i = 0; i < D; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    sq += d * d;
  }
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
  double sum_gw = 0.0, sum_gwx = 0.0;
  for (int64_t i = 0; i < D; ++i) {
    const double xh = (static_cast<double>(x[i]) - mean) * rstd;
    const double gw = static_cast<double>(g[i]) * (w ? static_cast<double>(w[i]) : 1.0);
    sum_gw += gw;
    sum_gwx += gw * xh;
  }
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
