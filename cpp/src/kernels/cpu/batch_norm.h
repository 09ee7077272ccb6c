// Batch normalisation of one channel (ops/norm.cpp runs the channels on threads). The
// channel's M = N S values sit at x[(n C + c) S + s]: `base` points at (n = 0, c),
// `stride` = C S steps n, S runs s.
//   forward (batch statistics):  mean, var = sum (x - mean)^2 / M (two passes; totals in
//                                double, see batch_norm_simd.cpp),
//                                y = (x - mean) invstd w + b, invstd = 1 / sqrt(var + eps)
//   backward (batch statistics): xhat = (x - mean) invstd,
//                                dx = w invstd / M (M g - sum g - xhat sum g xhat),
//                                dw = sum g xhat, db = sum g
//   with given statistics (eval): y = (x - mean) invstd w + b, dx = g w invstd
// Each pass is a sum or an affine map over the runs (batch_norm_simd.cpp), taken about a
// shift: mean rounded to T, so that x - shift is exact and small.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels.h"

namespace dlcore::kernels {

struct ChannelLayout {
  int64_t N, S, stride;  // stride between samples (C S)
};

template <class T>
struct ChannelKernels {
  ChannelSumsFn<T> sums;
  ChannelAffineFn<T> affine;
  static ChannelKernels active() {
    const KernelTable& t = kernels::active();
    return {for_dtype<T>(t.channel_sums_f32, t.channel_sums_f64),
            for_dtype<T>(t.channel_affine_f32, t.channel_affine_f64)};
  }
};

// Runs shorter than this (BatchNorm1d's single values, small planes) take plain loops:
// a kernel call per run would cost more than its vectors save.
constexpr int64_t kMinKernelRun = 16;

// s[0], s[1] += the sums of batch_norm_simd.cpp over the channel (g may be null).
template <class T>
void channel_sums(const ChannelKernels<T>& k, const ChannelLayout& l, const T* x, const T* g,
                  double shift, double* s) {
  if (l.S >= kMinKernelRun) {
    for (int64_t n = 0; n < l.N; ++n)
      k.sums(x + n * l.stride, g ? g + n * l.stride : nullptr, l.S, shift, s);
    return;
  }
  for (int64_t n = 0; n < l.N; ++n)
    for (int64_t i = n * l.stride; i < n * l.stride + l.S; ++i) {
      const double d = static_cast<double>(x[i]) - shift;
      const double gi = g ? static_cast<double>(g[i]) : d;
      s[0] += gi;
      s[1] += gi * d;
    }
}

// y = a (x - shift) + b g + c over the channel (x or g may be null: that term is left out).
template <class T>
void channel_affine(const ChannelKernels<T>& k, const ChannelLayout& l, const T* x, const T* g,
                    const ChannelAffine& m, T* y) {
  if (l.S >= kMinKernelRun) {
    for (int64_t n = 0; n < l.N; ++n) {
      const int64_t o = n * l.stride;
      k.affine(x ? x + o : nullptr, g ? g + o : nullptr, l.S, m, y + o);
    }
    return;
  }
  for (int64_t n = 0; n < l.N; ++n)
    for (int64_t i = n * l.stride; i < n * l.stride + l.S; ++i) {
      double v = m.c;
      if (x) v += m.a * (static_cast<double>(x[i]) - m.shift);
      if (g) v += m.b * static_cast<double>(g[i]);
      y[i] = static_cast<T>(v);
    }
}

// The value of T nearest v, as a double.
template <class T>
double as_t(double v) {
  return static_cast<double>(static_cast<T>(v));
}

template <class T>
void channel_stats(const ChannelKernels<T>& k, const ChannelLayout& l, const T* x, double& mean,
                   double& var) {
  const double M = static_cast<double>(l.N * l.S);
  double s[2] = {0.0, 0.0};
  channel_sums(k, l, x, static_cast<const T*>(nullptr), 0.0, s);
  const double shift = as_t<T>(s[0] / M);
  double t[2] = {0.0, 0.0};
  channel_sums(k, l, x, static_cast<const T*>(nullptr), shift, t);
  const double d = t[0] / M;  // mean - shift
  mean = shift + d;
  var = std::max(0.0, t[1] / M - d * d);
}

template <class T>
void channel_normalize(const ChannelKernels<T>& k, const ChannelLayout& l, const T* x, double mean,
                       double invstd, double w, double b, T* y) {
  const double shift = as_t<T>(mean), a = invstd * w;
  channel_affine(k, l, x, static_cast<const T*>(nullptr), {shift, a, 0.0, b + (shift - mean) * a},
                 y);
}

// Sums of g and g xhat over the channel.
template <class T>
void channel_grad_sums(const ChannelKernels<T>& k, const ChannelLayout& l, const T* x, const T* g,
                       double mean, double invstd, double& sum_g, double& sum_gx) {
  const double shift = as_t<T>(mean);
  double s[2] = {0.0, 0.0};
  channel_sums(k, l, x, g, shift, s);
  sum_g = s[0];
  sum_gx = (s[1] - (mean - shift) * s[0]) * invstd;
}

// dx from the sums; batch_stats selects the training formula.
template <class T>
void channel_backward(const ChannelKernels<T>& k, const ChannelLayout& l, const T* x, const T* g,
                      double mean, double invstd, double w, double sum_g, double sum_gx,
                      bool batch_stats, T* dx) {
  if (!batch_stats) {
    channel_affine(k, l, static_cast<const T*>(nullptr), g, {0.0, 0.0, w * invstd, 0.0}, dx);
    return;
  }
  // dx = k (M g - sum_g - xhat sum_gx), xhat = (x - shift) invstd + (shift - mean) invstd.
  const double M = static_cast<double>(l.N * l.S), kk = w * invstd / M;
  const double shift = as_t<T>(mean), a = -kk * sum_gx * invstd;
  channel_affine(k, l, x, g, {shift, a, kk * M, -kk * sum_g + a * (shift - mean)}, dx);
}

}  // namespace dlcore::kernels
