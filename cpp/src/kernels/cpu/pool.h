// Pooling over (H, W) planes (templates on raw pointers; ops/pool.cpp owns the
// planes loop and threads). Each output element (oh, ow) reads a window of rows
// and columns given by a PoolAxis per dim:
//   regular:  positions o s - p + i d, i < k, those inside [0, in) taken
//   adaptive: positions floor(o in / out) .. ceil((o + 1) in / out) - 1
// max:  y = the largest value (NaN if any is NaN), idx = its flat index h W + w in
//       the plane (the first one on ties), as PyTorch records it
// avg:  y = sum / divisor, divisor from the clipped window (see avg_divisor)
#pragma once
#include <algorithm>
#include <cstdint>

namespace dlcore::kernels {

struct PoolAxis {
  int64_t in, out, k, s, p, d;
  bool adaptive;
  // First position and count of the window of output o, before clipping to [0, in).
  void window(int64_t o, int64_t& first, int64_t& count, int64_t& step) const {
    if (adaptive) {
      first = o * in / out;
      count = ((o + 1) * in + out - 1) / out - first;
      step = 1;
    } else {
      first = o * s - p;
      count = k;
      step = d;
    }
  }
  // The indices i of the window whose position lies in [0, in): [lo, hi).
  void valid(int64_t first, int64_t count, int64_t step, int64_t& lo, int64_t& hi) const {
    lo = first >= 0 ? 0 : (-first + step - 1) / step;
    hi = first >= in ? 0 : std::min(count, (in - 1 - first) / step + 1);
    if (lo > hi) lo = hi;
  }
};

template <class T>
void max_pool_plane(const PoolAxis& ah, const PoolAxis& aw, const T* x, T* y, int64_t* idx) {
  for (int64_t oh = 0; oh < ah.out; ++oh) {
    int64_t fh, ch, sh, hlo, hhi;
    ah.window(oh, fh, ch, sh);
    ah.valid(fh, ch, sh, hlo, hhi);
    for (int64_t ow = 0; ow < aw.out; ++ow) {
      int64_t fw, cw, sw, wlo, whi;
      aw.window(ow, fw, cw, sw);
      aw.valid(fw, cw, sw, wlo, whi);
      T best = T(0);
      int64_t at = -1;
      for (int64_t i = hlo; i < hhi; ++i) {
        const int64_t h = fh + i * sh;
        const T* row = x + h * aw.in;
        for (int64_t j = wlo; j < whi; ++j) {
          const int64_t w = fw + j * sw;
          const T v = row[w];
          if (at < 0 || v > best || (v != v && best == best)) best = v, at = h * aw.in + w;
        }
      }
      y[oh * aw.out + ow] = best;
      idx[oh * aw.out + ow] = at;
    }
  }
}

// The divisor of an average window: with count_include_pad, the window clipped to
// the padded input (PyTorch's rule, which also counts padding beyond the input for
// ceil_mode windows only up to in + p); otherwise the number of real elements.
inline int64_t avg_divisor(const PoolAxis& a, int64_t first, int64_t count, int64_t lo, int64_t hi,
                           bool count_include_pad) {
  if (a.adaptive || !count_include_pad) return hi - lo;
  const int64_t end = std::min(first + count, a.in + a.p);
  return end - first;
}

template <class T>
void avg_pool_plane(const PoolAxis& ah, const PoolAxis& aw, bool count_include_pad, int64_t divisor_override,
                    const T* x, T* y) {
  for (int64_t oh = 0; oh < ah.out; ++oh) {
    int64_t fh, ch, sh, hlo, hhi;
    ah.window(oh, fh, ch, sh);
    ah.valid(fh, ch, sh, hlo, hhi);
    const int64_t dh = avg_divisor(ah, fh, ch, hlo, hhi, count_include_pad);
    for (int64_t ow = 0; ow < aw.out; ++ow) {
      int64_t fw, cw, sw, wlo, whi;
      aw.window(ow, fw, cw, sw);
      aw.valid(fw, cw, sw, wlo, whi);
      const int64_t div = divisor_override > 0 ? divisor_override : dh * avg_divisor(aw, fw, cw, wlo, whi, count_include_pad);
      double s = 0.0;
      for (int64_t i = hlo; i < hhi; ++i) {
        const T* row = x + (fh + i * sh) * aw.in;
        for (int64_t j = wlo; j < whi; ++j) s += static_cast<double>(row[fw + j * sw]);
      }
      y[oh * aw.out + ow] = div > 0 ? static_cast<T>(s / static_cast<double>(div)) : T(0);
    }
  }
}

// dx (zeroed by the caller) += dy / divisor over each window.
template <class T>
void avg_pool_plane_backward(const PoolAxis& ah, const PoolAxis& aw, bool count_include_pad,
                             int64_t divisor_override, const T* dy, T* dx) {
  for (int64_t oh = 0; oh < ah.out; ++oh) {
    int64_t fh, ch, sh, hlo, hhi;
    ah.window(oh, fh, ch, sh);
    ah.valid(fh, ch, sh, hlo, hhi);
    const int64_t dh = avg_divisor(ah, fh, ch, hlo, hhi, count_include_pad);
    for (int64_t ow = 0; ow < aw.out; ++ow) {
      int64_t fw, cw, sw, wlo, whi;
      aw.window(ow, fw, cw, sw);
      aw.valid(fw, cw, sw, wlo, whi);
      const int64_t div = divisor_override > 0 ? divisor_override : dh * avg_divisor(aw, fw, cw, wlo, whi, count_include_pad);
      if (div <= 0) continue;
      const T g = static_cast<T>(static_cast<double>(dy[oh * aw.out + ow]) / static_cast<double>(div));
      for (int64_t i = hlo; i < hhi; ++i) {
        T* row = dx + (fh + i * sh) * aw.in;
        for (int64_t j = wlo; j < whi; ++j) row[fw + j * sw] += g;
      }
    }
  }
}

}  // namespace dlcore::kernels
