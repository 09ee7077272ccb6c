// Fused log-softmax + negative log-likelihood over rows of logits, forward and
// backward (templates on raw pointers; ops/loss.cpp checks arguments and threads).
// Logits are contiguous (N, C, D): element (i, c, d) at (i C + c) D + d, and row
// r = i D + d has target y_r (C classes, stride D between classes). With
// lse_r = log sum_c exp(x_rc), weights w (1 without), smoothing e:
//   loss_r = (1 - e) w_y (lse_r - x_ry) + e / C sum_c w_c (lse_r - x_rc)
//   dx_rc  = s_r ((1 - e) w_y + e / C sum_c w_c) softmax_rc - s_r ((1 - e) w_y [c = y] + e / C w_c)
// where s_r is the row's incoming gradient. Rows whose target is ignore_index
// have loss 0, weight 0 and gradient 0.
#pragma once
#include <cmath>
#include <cstdint>

namespace dlcore::kernels {

template <class T>
void cross_entropy_forward(const T* x, const int64_t* y, const T* w, int64_t C, int64_t D,
                           int64_t ignore, double smoothing, int64_t row_begin, int64_t row_end,
                           T* loss, T* lse, T* row_weight) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t i = r / D, d = r % D;
    const T* xr = x + i * C * D + d;
    T mx = xr[0];
    for (int64_t c = 1; c < C; ++c)
      mx = (xr[c * D] > mx || xr[c * D] != xr[c * D]) ? xr[c * D] : mx;
    double s = 0.0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(xr[c * D] - mx));
    const double l = static_cast<double>(mx) + std::log(s);
    lse[r] = static_cast<T>(l);
    if (y[r] == ignore) {
      loss[r] = T(0);
      row_weight[r] = T(0);
      continue;
    }
    const double wy = w ? static_cast<double>(w[y[r]]) : 1.0;
    double v = wy * (l - static_cast<double>(xr[y[r] * D]));
    if (smoothing > 0.0) {
      double sm = 0.0;
      for (int64_t c = 0; c < C; ++c)
        sm += (w ? static_cast<double>(w[c]) : 1.0) * (l - static_cast<double>(xr[c * D]));
      v = (1.0 - smoothing) * v + smoothing / static_cast<double>(C) * sm;
    }
    loss[r] = static_cast<T>(v);
    row_weight[r] = static_cast<T>(wy);
  }
}

// scale: the incoming gradient per row (scale_stride 1) or one value for all rows (0).
template <class T>
void cross_entropy_backward(const T* x, const int64_t* y, const T* w, const T* lse, int64_t C,
                            int64_t D, int64_t ignore, double smoothing, double sum_w,
                            const T* scale, int64_t scale_stride, double scale_mul,
                            int64_t row_begin, int64_t row_end, T* dx) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t i = r / D, d = r % D;
    const T* xr = x + i * C * D + d;
    T* dr = dx + i * C * D + d;
    if (y[r] == ignore) {
      for (int64_t c = 0; c < C; ++c) dr[c * D] = T(0);
      continue;
    }
    const double s = static_cast<double>(scale[r * scale_stride]) * scale_mul;
    const double wy = w ? static_cast<double>(w[y[r]]) : 1.0;
    const double e = smoothing / static_cast<double>(C);
    const double total = (1.0 - smoothing) * wy + e * sum_w;
    const double l = static_cast<double>(lse[r]);
    for (int64_t c = 0; c < C; ++c) {
      double p = std::exp(static_cast<double>(xr[c * D]) - l);
      double coef =
          e * (w ? static_cast<double>(w[c]) : 1.0) + (c == y[r] ? (1.0 - smoothing) * wy : 0.0);
      dr[c * D] = static_cast<T>(s * (total * p - coef));
    }
  }
}

}  // namespace dlcore::kernels
