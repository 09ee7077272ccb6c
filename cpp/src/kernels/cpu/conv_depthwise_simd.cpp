// Depthwise convolution planes (one input channel to one output channel), compiled
// once per instruction set. With the geometry g of the plane (kernel kh x kw,
// stride, zero padding, dilation; kernels/cpu/conv_im2col.h) and taps t = (i, j):
//   forward   y[oh][ow]  += w[t] x[oh sh - ph + i dh][ow sw - pw + j dw]
//   backward  dx[...]    += w[t] dy[oh][ow]          (the same index map, reversed)
//   weight    dw[t]      += sum over (oh, ow) of dy[oh][ow] x[...]
// Positions outside the input are skipped (zero padding). Each tap adds a strided
// row segment at a time; with stride 1 these are vector axpy and dot loops.
#include <cstdint>

#include "kernels/cpu/conv_im2col.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// Output columns [lo, hi) of tap column j whose input column lies in [0, W).
inline void tap_columns(const ConvGeometry& g, int64_t j, int64_t& off, int64_t& lo, int64_t& hi) {
  off = j * g.dw - g.pw;
  lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
  hi = g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw;
  if (hi > g.Wo) hi = g.Wo;
  if (lo > hi) lo = hi;
}

// Calls f(out_row, in_row, lo, hi, tap) for every tap and output row that meets the input.
template <class F> inline void for_tap_rows(const ConvGeometry& g, F f) {
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) {
      int64_t off, lo, hi;
      tap_columns(g, j, off, lo, hi);
      if (lo >= hi) continue;
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        const int64_t ih = oh * g.sh - g.ph + i * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        f(oh, ih * g.W + off, lo, hi, i * g.kw + j);
      }
    }
}

template <class T> void forward(const ConvGeometry& g, const T* x, const T* w, T* y) {
  using V = Vec<T>;
  for_tap_rows(g, [&](int64_t oh, int64_t in_row, int64_t lo, int64_t hi, int64_t t) {
    T* o = y + oh * g.Wo;
    const T* r = x + in_row;
    const T wt = w[t];
    if (g.sw == 1) {
      const V wv = V::broadcast(wt);
      vec_loop<T>(hi - lo, [&](int64_t k, int c) {
        store_n(vfma(wv, load_n(r + lo, k, c), load_n(o + lo, k, c)), o + lo, k, c);
      });
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) o[ow] += wt * r[ow * g.sw];
    }
  });
}

template <class T> void backward_input(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
  using V = Vec<T>;
  for_tap_rows(g, [&](int64_t oh, int64_t in_row, int64_t lo, int64_t hi, int64_t t) {
    const T* gy = dy + oh * g.Wo;
    T* r = dx + in_row;
    const T wt = w[t];
    if (g.sw == 1) {
      const V wv = V::broadcast(wt);
      vec_loop<T>(hi - lo, [&](int64_t k, int c) {
        store_n(vfma(wv, load_n(gy + lo, k, c), load_n(r + lo, k, c)), r + lo, k, c);
      });
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) r[ow * g.sw] += wt * gy[ow];
    }
  });
}

template <class T> void backward_weight(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
  using V = Vec<T>;
  for_tap_rows(g, [&](int64_t oh, int64_t in_row, int64_t lo, int64_t hi, int64_t t) {
    const T* gy = dy + oh * g.Wo;
    const T* r = x + in_row;
    if (g.sw == 1) {
      V acc = V::zero();
      vec_loop<T>(hi - lo, [&](int64_t k, int c) { acc = vfma(load_n(gy + lo, k, c), load_n(r + lo, k, c), acc); });
      dw[t] += vreduce_add(acc);
    } else {
      T s = T(0);
      for (int64_t ow = lo; ow < hi; ++ow) s += gy[ow] * r[ow * g.sw];
      dw[t] += s;
    }
  });
}

}  // namespace

void depthwise_forward_f32(const ConvGeometry& g, const float* x, const float* w, float* y) { forward(g, x, w, y); }
void depthwise_forward_f64(const ConvGeometry& g, const double* x, const double* w, double* y) { forward(g, x, w, y); }
void depthwise_backward_input_f32(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  backward_input(g, dy, w, dx);
}
void depthwise_backward_input_f64(const ConvGeometry& g, const double* dy, const double* w, double* dx) {
  backward_input(g, dy, w, dx);
}
void depthwise_backward_weight_f32(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  backward_weight(g, x, dy, dw);
}
void depthwise_backward_weight_f64(const ConvGeometry& g, const double* x, const double* dy, double* dw) {
  backward_weight(g, x, dy, dw);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
