// Fused log-softmax + negative log-likelihood over rows of logits, forward and
// backward (templates on raw pointers; ops/loss.cpp checks arguments and threads).
// Logits are contiguous (N, C, D): element (i, c, d) at (i C + c) D + d, and row
// r = i D + d has target y_r (C classes, stride D between classes). With
// lse_r = log sum_c exp(x_rc), weights w (1 without), smoothing e:
//   loss_r = (1 - e) w_y (lse_r - x_ry) + e / C sum_c w_c (lse_r - x_rc)
//   dx_rc  = s_r ((1 - e) w_y + e / C sum_c w_c) softmax_rc - s_r ((1 - e) w_y [c = y] + e / C w_c)
// where s_r is the row's incoming gradient. Rows whose target is ignore_index
// have loss 0, weight 0 and gradient 0.
//
// With classes adjacent (D = 1) a row goes through `ExpRuns`, the instruction set's row
// maximum and exp-and-sum (a libm exp per class took most of the time); otherwise, and
// without them, one std::exp per class in double. A row whose maximum or log-sum-exp is
// NaN or infinite has a NaN softmax: its lse, loss and gradient are NaN (on the first path
// written so, never handed to exp).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace dlcore::kernels {

// The kernel table's row maximum and out[c] = exp(in[c] - sub) with their sum, over a run
// of n adjacent values.
template <class T>
struct ExpRuns {
  T (*extreme)(const T* x, int64_t n, bool is_max) = nullptr;
  T (*exp_shift_sum)(const T* in, T* out, int64_t n, T sub, T a) = nullptr;
  bool usable(int64_t C, int64_t D) const { return D == 1 && C > 0 && extreme; }
};

template <class T>
bool finite_value(T v) {
  return std::abs(v) < std::numeric_limits<T>::infinity();
}

// sum_c exp(x_c - sub) over a row of C classes D apart.
template <class T>
double sum_exp_shifted(const T* xr, int64_t C, int64_t D, T sub) {
  double s = 0.0;
  for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(xr[c * D] - sub));
  return s;
}

// The row's maximum over classes D apart, the shift of its exponentials. A NaN logit need
// not win it: its exp makes the row's sum, and so lse, the loss and the gradient, NaN
// anyway.
template <class T>
T row_max(const T* xr, int64_t C, int64_t D) {
  T mx = xr[0];
  for (int64_t c = 1; c < C; ++c) mx = xr[c * D] > mx ? xr[c * D] : mx;
  return mx;
}

template <class T>
void cross_entropy_forward(const T* x, const int64_t* y, const T* w, int64_t C, int64_t D,
                           int64_t ignore, double smoothing, int64_t row_begin, int64_t row_end,
                           T* loss, T* lse, T* row_weight, const ExpRuns<T>& runs = {}) {
  const bool vec = runs.usable(C, D);
  std::vector<T> buf(vec ? C : 0);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t i = r / D, d = r % D;
    const T* xr = x + i * C * D + d;
    double l;
    if (vec) {
      const T mx = runs.extreme(xr, C, true);
      l = finite_value(mx)
              ? static_cast<double>(mx) +
                    std::log(static_cast<double>(runs.exp_shift_sum(xr, buf.data(), C, mx, T(1))))
              : std::numeric_limits<double>::quiet_NaN();
    } else {
      const T mx = row_max(xr, C, D);
      l = static_cast<double>(mx) + std::log(sum_exp_shifted(xr, C, D, mx));
    }
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
                            int64_t row_begin, int64_t row_end, T* dx,
                            const ExpRuns<T>& runs = {}) {
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
    if (runs.usable(C, D)) {
      // dr = the row's softmax, then s (total p - e w_c) in loops without tests (which
      // vectorise), the target's class last.
      if (!finite_value(lse[r])) {
        std::fill(dr, dr + C, std::numeric_limits<T>::quiet_NaN());
        continue;
      }
      runs.exp_shift_sum(xr, dr, C, lse[r], T(1));
      const double p_y = static_cast<double>(dr[y[r]]), a = s * total, se = s * e;
      if (w)
        for (int64_t c = 0; c < C; ++c) dr[c] = static_cast<T>(a * dr[c] - se * w[c]);
      else
        for (int64_t c = 0; c < C; ++c) dr[c] = static_cast<T>(a * dr[c] - se);
      const double coef_y = e * (w ? static_cast<double>(w[y[r]]) : 1.0) + (1.0 - smoothing) * wy;
      dr[y[r]] = static_cast<T>(s * (total * p_y - coef_y));
      continue;
    }
    for (int64_t c = 0; c < C; ++c) {
      double p = std::exp(static_cast<double>(xr[c * D]) - l);
      double coef =
          e * (w ? static_cast<double>(w[c]) : 1.0) + (c == y[r] ? (1.0 - smoothing) * wy : 0.0);
      dr[c * D] = static_cast<T>(s * (total * p - coef));
    }
  }
}

}  // namespace dlcore::kernels
