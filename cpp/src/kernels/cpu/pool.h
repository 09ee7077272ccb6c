// Pooling over (H, W) planes (templates on raw pointers; ops/pool.cpp owns the
// planes loop and threads). Each output element (oh, ow) reads a window of rows
// and columns given by a PoolAxis per dim:
//   regular:  positions o s - p + i d, i < k, those inside [0, in) taken
//   adaptive: positions floor(o in / out) .. ceil((o + 1) in / out) - 1
// max:  y = the largest value (NaN if any is NaN), idx = its flat index h W + w in
//       the plane (the first one on ties), as PyTorch records it
// avg:  y = sum / divisor, divisor from the clipped window (see avg_divisor); the sum
//       runs in T, in window order
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

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

// The divisor of an average window: with count_include_pad, the window clipped to
// the padded input (PyTorch's rule, which also counts padding beyond the input for
// ceil_mode windows only up to in + p); otherwise the number of real elements.
inline int64_t avg_divisor(const PoolAxis& a, int64_t first, int64_t count, int64_t lo, int64_t hi,
                           bool count_include_pad) {
  if (a.adaptive || !count_include_pad) return hi - lo;
  const int64_t end = std::min(first + count, a.in + a.p);
  return end - first;
}

// The windows of one axis, computed once per call (no divisions in the plane loops):
// output o reads positions begin[o] + i step for i < count[o], all inside [0, in),
// and divides by divisor[o] (the avg_divisor factor of this axis).
struct AxisWindows {
  std::vector<int64_t> begin, count, divisor;
  int64_t step = 1;
  AxisWindows(const PoolAxis& a, bool count_include_pad)
      : begin(a.out), count(a.out), divisor(a.out) {
    for (int64_t o = 0; o < a.out; ++o) {
      int64_t first, cnt, st, lo, hi;
      a.window(o, first, cnt, st);
      a.valid(first, cnt, st, lo, hi);
      step = st;
      begin[o] = first + lo * st;
      count[o] = hi - lo;
      divisor[o] = avg_divisor(a, first, cnt, lo, hi, count_include_pad);
    }
  }
};

// a where take, else b, computed on the bits: the compiler turns a ternary on floats
// into a branch, and a branch on pooled data is mispredicted about half the time.
template <class T>
inline T select_bits(bool take, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(T));
  std::memcpy(&ub, &b, sizeof(T));
  const U m = U(0) - static_cast<U>(take);
  const U r = (ua & m) | (ub & ~m);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// Every max window holds at least one input element (padding <= half the kernel), so
// the first one seeds the maximum; the updates are selects on the bits, not branches.
template <class T>
void max_pool_plane(const AxisWindows& wh, const AxisWindows& ww, int64_t in_w, const T* x, T* y,
                    int64_t* idx) {
  const int64_t ho = static_cast<int64_t>(wh.begin.size()),
                wo = static_cast<int64_t>(ww.begin.size());
  const int64_t *hb = wh.begin.data(), *hc = wh.count.data(), *wb = ww.begin.data(),
                *wc = ww.count.data();
  const int64_t hs = wh.step, ws = ww.step;
  for (int64_t oh = 0; oh < ho; ++oh) {
    for (int64_t ow = 0; ow < wo; ++ow) {
      const int64_t h0 = hb[oh], w0 = wb[ow], nh = hc[oh], nw = wc[ow];
      T best = x[h0 * in_w + w0];
      int64_t at = h0 * in_w + w0;
      for (int64_t i = 0, h = h0; i < nh; ++i, h += hs) {
        const T* row = x + h * in_w;
        for (int64_t j = 0, w = w0; j < nw; ++j, w += ws) {
          const T v = row[w];
          const bool take = (v > best) | ((v != v) & (best == best));
          best = select_bits(take, v, best);
          at = select_bits(take, h * in_w + w, at);
        }
      }
      y[oh * wo + ow] = best;
      idx[oh * wo + ow] = nh > 0 && nw > 0 ? at : -1;
    }
  }
}

// The same for planes whose windows are all full KH x KW blocks with unit dilation
// (no padding or clipping): fixed trip counts the compiler unrolls.
template <class T, int KH, int KW>
void max_pool_plane_full(const AxisWindows& wh, const AxisWindows& ww, int64_t in_w, const T* x,
                         T* y, int64_t* idx) {
  const int64_t ho = static_cast<int64_t>(wh.begin.size()),
                wo = static_cast<int64_t>(ww.begin.size());
  for (int64_t oh = 0; oh < ho; ++oh) {
    const int64_t h0 = wh.begin[oh];
    for (int64_t ow = 0; ow < wo; ++ow) {
      const int64_t base = h0 * in_w + ww.begin[ow];
      T best = x[base];
      int64_t at = base;
      for (int i = 0; i < KH; ++i)
        for (int j = 0; j < KW; ++j) {
          const int64_t pos = base + i * in_w + j;
          const T v = x[pos];
          const bool take = (v > best) | ((v != v) & (best == best));
          best = select_bits(take, v, best);
          at = select_bits(take, pos, at);
        }
      y[oh * wo + ow] = best;
      idx[oh * wo + ow] = at;
    }
  }
}

// Whether every window of both axes is a full block of k consecutive positions.
inline bool windows_full(const AxisWindows& w, int64_t k) {
  if (w.step != 1) return false;
  for (int64_t c : w.count)
    if (c != k) return false;
  return true;
}

template <class T>
void avg_pool_plane(const AxisWindows& wh, const AxisWindows& ww, int64_t in_w,
                    int64_t divisor_override, const T* x, T* y) {
  const int64_t ho = static_cast<int64_t>(wh.begin.size()),
                wo = static_cast<int64_t>(ww.begin.size());
  for (int64_t oh = 0; oh < ho; ++oh) {
    for (int64_t ow = 0; ow < wo; ++ow) {
      const int64_t div = divisor_override > 0 ? divisor_override : wh.divisor[oh] * ww.divisor[ow];
      T s = T(0);
      for (int64_t i = 0, h = wh.begin[oh]; i < wh.count[oh]; ++i, h += wh.step) {
        const T* row = x + h * in_w;
        for (int64_t j = 0, w = ww.begin[ow]; j < ww.count[ow]; ++j, w += ww.step) s += row[w];
      }
      y[oh * wo + ow] = div > 0 ? s / static_cast<T>(div) : T(0);
    }
  }
}

// dx (zeroed by the caller) += dy / divisor over each window.
template <class T>
void avg_pool_plane_backward(const AxisWindows& wh, const AxisWindows& ww, int64_t in_w,
                             int64_t divisor_override, const T* dy, T* dx) {
  const int64_t ho = static_cast<int64_t>(wh.begin.size()),
                wo = static_cast<int64_t>(ww.begin.size());
  for (int64_t oh = 0; oh < ho; ++oh) {
    for (int64_t ow = 0; ow < wo; ++ow) {
      const int64_t div = divisor_override > 0 ? divisor_override : wh.divisor[oh] * ww.divisor[ow];
      if (div <= 0) continue;
      const T g = dy[oh * wo + ow] / static_cast<T>(div);
      for (int64_t i = 0, h = wh.begin[oh]; i < wh.count[oh]; ++i, h += wh.step) {
        T* row = dx + h * in_w;
        for (int64_t j = 0, w = ww.begin[ow]; j < ww.count[ow]; ++j, w += ww.step) row[w] += g;
      }
    }
  }
}

}  // namespace dlcore::kernels
