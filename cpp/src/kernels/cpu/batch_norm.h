// Batch normalisation of one channel (templates on raw pointers; ops/norm.cpp runs
// the channels on threads). The channel's M = N S values sit at
// x[(n C + c) S + s]: `base` points at (n = 0, c), `stride` = C S steps n, S runs s.
//   forward (batch statistics):  mean, var = sum (x - mean)^2 / M (two passes, in double),
//                                y = (x - mean) invstd w + b, invstd = 1 / sqrt(var + eps)
//   backward (batch statistics): xhat = (x - mean) invstd,
//                                dx = w invstd / M (M g - sum g - xhat sum g xhat),
//                                dw = sum g xhat, db = sum g
//   with given statistics (eval): y = (x - mean) invstd w + b, dx = g w invstd
#pragma once
#include <cmath>
#include <cstdint>

namespace dlcore::kernels {

struct ChannelLayout {
  int64_t N, S, stride;  // stride between samples (C S)
};

template <class T, class F>
inline void for_channel(const ChannelLayout& l, F f) {
  for (int64_t n = 0; n < l.N; ++n)
    for (int64_t s = 0; s < l.S; ++s) f(n * l.stride + s);
}

template <class T>
void channel_stats(const ChannelLayout& l, const T* x, double& mean, double& var) {
  const double M = static_cast<double>(l.N * l.S);
  double sum = 0.0;
  for_channel<T>(l, [&](int64_t i) { sum += static_cast<double>(x[i]); });
  mean = sum / M;
  double sq = 0.0;
  for_channel<T>(l, [&](int64_t i) {
    const double d = static_cast<double>(x[i]) - mean;
    sq += d * d;
  });
  var = sq / M;
}

template <class T>
void channel_normalize(const ChannelLayout& l, const T* x, double mean, double invstd, double w,
                       double b, T* y) {
  const double scale = invstd * w, shift = b - mean * invstd * w;
  for_channel<T>(
      l, [&](int64_t i) { y[i] = static_cast<T>(static_cast<double>(x[i]) * scale + shift); });
}

// Sums of g and g xhat over the channel.
template <class T>
void channel_grad_sums(const ChannelLayout& l, const T* x, const T* g, double mean, double invstd,
                       double& sum_g, double& sum_gx) {
  sum_g = 0.0, sum_gx = 0.0;
  for_channel<T>(l, [&](int64_t i) {
    const double gi = static_cast<double>(g[i]);
    sum_g += gi;
    sum_gx += gi * (static_cast<double>(x[i]) - mean) * invstd;
  });
}

// dx from the sums; batch_stats selects the training formula.
template <class T>
void channel_backward(const ChannelLayout& l, const T* x, const T* g, double mean, double invstd,
                      double w, double sum_g, double sum_gx, bool batch_stats, T* dx) {
  if (!batch_stats) {
    const double k = w * invstd;
    for_channel<T>(l, [&](int64_t i) { dx[i] = static_cast<T>(static_cast<double>(g[i]) * k); });
    return;
  }
  const double M = static_cast<double>(l.N * l.S);
  const double k = w * invstd / M;
  for_channel<T>(l, [&](int64_t i) {
    const double xhat = (static_cast<double>(x[i]) - mean) * invstd;
    dx[i] = static_cast<T>(k * (M * static_cast<double>(g[i]) - sum_g - xhat * sum_gx));
  });
}

}  // namespace dlcore::kernels
