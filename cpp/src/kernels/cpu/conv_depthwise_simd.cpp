// Depthwise convolution planes (one input channel to one output channel), and the patch
// matrix of the GEMM path (im2col, for the weight gradient) with its adjoint (col2im, for
// the input gradient at strides above 1), compiled once per instruction set. With the
// geometry g of the plane (kernel kh x kw, stride, zero padding, dilation;
// kernels/cpu/conv_im2col.h) and taps t = (i, j):
//   forward   y[oh][ow]  += w[t] x[oh sh - ph + i dh][ow sw - pw + j dw]
//   backward  dx[...]    += w[t] dy[oh][ow]          (the same index map, reversed)
//   weight    dw[t]      += sum over (oh, ow) of dy[oh][ow] x[...]
// A PlaneBatch runs several outputs that read the same input plane in one call: for
// r < count, out + r out_stride with weights w + r w_stride (forward and input gradient).
// Positions outside the input are skipped (zero padding). Each tap adds a strided
// row segment at a time; with stride 1 the forward pass and the input gradient sum
// every tap of an output vector in a register over a bordered copy of the plane.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/conv_im2col.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// Output columns [lo, hi) of tap column j whose input column lies in [0, W).
inline void tap_columns(const ConvGeometry& g, int64_t j, int64_t& off, int64_t& lo, int64_t& hi) {
  off = j * g.dw - g.pw;
  columns_inside(off, g.sw, g.W, g.Wo, lo, hi);
}

// Calls f(out_row, in_row, lo, hi, tap) for every tap and output row that meets the input.
template <class F>
inline void for_tap_rows(const ConvGeometry& g, F f) {
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

// The source of the correlations below: a bordered plane followed by kSlack values, so
// the last vector of a row is loaded whole (its lanes past the row are never stored).
template <class T>
constexpr int64_t kSlack = 64 / sizeof(T);

// out[h][w] += sum over i < KH, j < KW of wts[i KW + j] src[h + i][w + j], with the taps
// unrolled (3x3 and 5x5 kernels at unit dilation) into one accumulator per kernel row:
// one chain of KH KW dependent multiply-adds ran at the FMA latency.
template <class T, int KH, int KW>
void correlate_rows(const T* src, int64_t wp, const Vec<T>* wts, int64_t rows, int64_t cols,
                    T* out) {
  using V = Vec<T>;
  V w[KH * KW];
  for (int t = 0; t < KH * KW; ++t) w[t] = wts[t];
  for (int64_t h = 0; h < rows; ++h) {
    T* o = out + h * cols;
    vec_loop<T>(cols, [&](int64_t k, int c) {
      V acc[KH];
      for (int i = 0; i < KH; ++i) {
        const T* row = src + (h + i) * wp + k;
        acc[i] = i == 0 ? load_n(o, k, c) : V::zero();
        for (int j = 0; j < KW; ++j) acc[i] = vfma(w[i * KW + j], V::load(row + j), acc[i]);
      }
      for (int i = 1; i < KH; ++i) acc[0] = vadd(acc[0], acc[i]);
      store_n(acc[0], o, k, c);
    });
  }
}

// Stride 1 works on a zero-bordered copy of the plane that is read: every output
// vector then sums all kh kw taps in a register before one store (no bounds tests,
// one pass over the output), and the copy is made once for all `count` outputs that
// read the plane. For r < count:
//   out_r[h][w] += sum over (i, j) of tap_r(i, j) src[h + i dh][w + j dw]
// where src is the bordered buffer (row length wp) and tap_r(i, j) = w_r[i kw + j],
// or w_r[(kh - 1 - i) kw + (kw - 1 - j)] with `flip` (the input gradient's flipped kernel).
// src must be followed by kSlack<T> readable values, as bordered() leaves it.
template <class T>
void correlate_bordered(const ConvGeometry& g, const T* src, int64_t wp, const T* w,
                        const PlaneBatch& b, bool flip, int64_t rows, int64_t cols, T* out) {
  using V = Vec<T>;
  const int64_t taps = g.kh * g.kw;
  thread_local std::vector<V> weights;
  weights.resize(static_cast<size_t>(taps));
  V* wts = weights.data();  // a plain pointer: thread_local lookups in the loop cost a call each
  const bool unit = g.dh == 1 && g.dw == 1;
  for (int64_t r = 0; r < b.count; ++r) {
    for (int64_t t = 0; t < taps; ++t)
      wts[t] = V::broadcast(w[r * b.w_stride + (flip ? taps - 1 - t : t)]);
    T* outr = out + r * b.out_stride;
    if (unit && g.kh == 3 && g.kw == 3)
      correlate_rows<T, 3, 3>(src, wp, wts, rows, cols, outr);
    else if (unit && g.kh == 5 && g.kw == 5)
      correlate_rows<T, 5, 5>(src, wp, wts, rows, cols, outr);
    else
      for (int64_t h = 0; h < rows; ++h) {
        T* o = outr + h * cols;
        vec_loop<T>(cols, [&](int64_t k, int c) {
          V acc = load_n(o, k, c);
          for (int64_t i = 0; i < g.kh; ++i) {
            const T* row = src + (h + i * g.dh) * wp + k;
            for (int64_t j = 0; j < g.kw; ++j)
              acc = vfma(wts[i * g.kw + j], V::load(row + j * g.dw), acc);
          }
          store_n(acc, o, k, c);
        });
      }
  }
}

// Copies a rows x cols plane into a zeroed hp x wp buffer at (top, left); returns it.
template <class T>
const T* bordered(const T* plane, int64_t rows, int64_t cols, int64_t hp, int64_t wp, int64_t top,
                  int64_t left) {
  thread_local std::vector<T> buf;
  buf.resize(static_cast<size_t>(hp * wp + kSlack<T>));
  copy_bordered(plane, 1, rows, cols, hp, wp, top, left, buf.data());
  return buf.data();
}

// Forward: y[oh][ow] correlates x, bordered by the padding, with the kernel.
template <class T>
void forward_stride1(const ConvGeometry& g, const T* x, const T* w, T* y, const PlaneBatch& b) {
  const int64_t hp = g.H + 2 * g.ph, wp = g.W + 2 * g.pw;
  const T* src = bordered(x, g.H, g.W, hp, wp, g.ph, g.pw);
  correlate_bordered(g, src, wp, w, b, false, g.Ho, g.Wo, y);
}

template <class T>
void forward_one(const ConvGeometry& g, const T* x, const T* w, T* y) {
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

template <class T>
void forward(const ConvGeometry& g, const T* x, const T* w, T* y, const PlaneBatch& b) {
  if (g.sh == 1 && g.sw == 1) return forward_stride1(g, x, w, y, b);
  for (int64_t r = 0; r < b.count; ++r) forward_one(g, x, w + r * b.w_stride, y + r * b.out_stride);
}

// Input gradient, when the padding lies within the kernel's extent:
//   dx[h][w] = sum over taps of w[i][j] dy[h + ph - i dh][w + pw - j dw],
// a correlation of dy, bordered by A = (kh - 1) dh - ph rows above and
// B = (kw - 1) dw - pw columns left, with the flipped kernel.
template <class T>
bool backward_input_stride1(const ConvGeometry& g, const T* dy, const T* w, T* dx,
                            const PlaneBatch& b) {
  const int64_t A = (g.kh - 1) * g.dh - g.ph, B = (g.kw - 1) * g.dw - g.pw;
  if (A < 0 || B < 0) return false;
  // Ho + A <= hp and Wo + B <= wp always hold: dy fits inside the border.
  const int64_t hp = g.H + (g.kh - 1) * g.dh, wp = g.W + (g.kw - 1) * g.dw;
  const T* src = bordered(dy, g.Ho, g.Wo, hp, wp, A, B);
  correlate_bordered(g, src, wp, w, b, true, g.H, g.W, dx);
  return true;
}

template <class T>
void backward_input_one(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
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

template <class T>
void backward_input(const ConvGeometry& g, const T* dy, const T* w, T* dx, const PlaneBatch& b) {
  if (g.sh == 1 && g.sw == 1 && backward_input_stride1(g, dy, w, dx, b)) return;
  for (int64_t r = 0; r < b.count; ++r)
    backward_input_one(g, dy, w + r * b.w_stride, dx + r * b.out_stride);
}

// At stride 1 along rows, on the plane bordered by its padding, every tap column meets
// the whole output row: one load of a dy vector serves the KW taps of a kernel row, each
// summing into its own vector accumulator (in registers: KW is a constant), reduced once
// per tap.
template <class T, int KW>
void backward_weight_rows(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
  using V = Vec<T>;
  constexpr int W = V::size;
  for (int64_t i = 0; i < g.kh; ++i) {
    V acc[KW];
    for (V& a : acc) a = V::zero();
    for (int64_t oh = 0; oh < g.Ho; ++oh) {
      const int64_t ih = oh * g.sh - g.ph + i * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      const T* gy = dy + oh * g.Wo;
      const T* r = x + ih * g.W;
      int64_t k = 0;
      for (; k + W <= g.Wo; k += W) {
        const V d = V::load(gy + k);
        for (int j = 0; j < KW; ++j) acc[j] = vfma(d, V::load(r + j * g.dw + k), acc[j]);
      }
      if (k < g.Wo) {
        const int c = static_cast<int>(g.Wo - k);
        const V d = V::load_first(gy + k, c);
        for (int j = 0; j < KW; ++j) acc[j] = vfma(d, V::load_first(r + j * g.dw + k, c), acc[j]);
      }
    }
    for (int j = 0; j < KW; ++j) dw[i * KW + j] += vreduce_add(acc[j]);
  }
}

// Otherwise (other kernel widths, strides) each tap's products are summed over all rows
// in two vector accumulators (even and odd rows) and reduced once per tap.
template <class T>
void backward_weight(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
  using V = Vec<T>;
  const int kw = static_cast<int>(g.kw);
  if (g.sw == 1 && (kw <= 5 || kw == 7)) {
    ConvGeometry gb = g;
    const T* src = x;
    if (g.ph != 0 || g.pw != 0) {
      gb.H = g.H + 2 * g.ph, gb.W = g.W + 2 * g.pw, gb.ph = gb.pw = 0;
      src = bordered(x, g.H, g.W, gb.H, gb.W, g.ph, g.pw);
    }
    switch (kw) {
      case 1: return backward_weight_rows<T, 1>(gb, src, dy, dw);
      case 2: return backward_weight_rows<T, 2>(gb, src, dy, dw);
      case 3: return backward_weight_rows<T, 3>(gb, src, dy, dw);
      case 4: return backward_weight_rows<T, 4>(gb, src, dy, dw);
      case 5: return backward_weight_rows<T, 5>(gb, src, dy, dw);
      default: return backward_weight_rows<T, 7>(gb, src, dy, dw);
    }
  }
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) {
      int64_t off, lo, hi;
      tap_columns(g, j, off, lo, hi);
      if (lo >= hi) continue;
      V acc[2] = {V::zero(), V::zero()};
      T s = T(0);
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        const int64_t ih = oh * g.sh - g.ph + i * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        const T* gy = dy + oh * g.Wo;
        const T* r = x + ih * g.W + off;
        if (g.sw == 1) {
          V& a = acc[oh & 1];
          vec_loop<T>(hi - lo, [&](int64_t k, int c) {
            a = vfma(load_n(gy + lo, k, c), load_n(r + lo, k, c), a);
          });
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) s += gy[ow] * r[ow * g.sw];
        }
      }
      dw[i * g.kw + j] += vreduce_add(vadd(acc[0], acc[1])) + s;
    }
}

// The patch matrix of one image, rows ld apart (kernels.h: im2col_f32): per tap and
// output row, zeros where the row meets the padding and a vector copy (stride 1) or a
// strided gather of the rest.
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* col, int64_t ld) {
  using V = Vec<T>;
  auto zero = [](T* p, int64_t n) {
    vec_loop<T>(n, [&](int64_t k, int c) { store_n(V::zero(), p, k, c); });
  };
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T* out = col + ((c * g.kh + i) * g.kw + j) * ld;
        const T* plane = x + c * g.H * g.W;
        int64_t off, lo, hi;
        tap_columns(g, j, off, lo, hi);
        for (int64_t oh = 0; oh < g.Ho; ++oh) {
          T* o = out + oh * g.Wo;
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.H) {
            zero(o, g.Wo);
            continue;
          }
          const T* row = plane + ih * g.W + off;
          zero(o, lo);
          if (g.sw == 1) {
            // Whole vectors; the last one unmasked too where it stays inside the plane it
            // reads and this tap's rows of the sample it writes (what it writes past the row
            // is written again by the next row or the zeros after it): masked stores across
            // cache lines cost more than the copy on rows of 10 or 14.
            const int64_t n = hi - lo, src = ih * g.W + off + lo, dst = oh * g.Wo + lo;
            int64_t k = 0;
            for (; k + V::size <= n; k += V::size) V::load(row + lo + k).store(o + lo + k);
            if (k < n) {
              if (src + k + V::size <= g.H * g.W && dst + k + V::size <= g.Ho * g.Wo)
                V::load(row + lo + k).store(o + lo + k);
              else
                store_n(load_n(row + lo, k, static_cast<int>(n - k)), o + lo, k,
                        static_cast<int>(n - k));
            }
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) o[ow] = row[ow * g.sw];
          }
          zero(o + hi, g.Wo - hi);
        }
      }
}

// Its adjoint (kernels.h: col2im_f32): dx += the patch matrix col (rows Ho Wo apart)
// summed back onto the image, in the order of (c, i, j, oh) as the generic loop did.
template <class T>
void col2im(const ConvGeometry& g, const T* col, T* dx) {
  const int64_t cols = g.cols(), kk = g.kh * g.kw;
  for (int64_t c = 0; c < g.C; ++c) {
    const T* in = col + c * kk * cols;
    T* plane = dx + c * g.H * g.W;
    for_tap_rows(g, [&](int64_t oh, int64_t in_row, int64_t lo, int64_t hi, int64_t t) {
      T* row = plane + in_row;
      const T* r = in + t * cols + oh * g.Wo;
      if (g.sw == 1) {
        vec_loop<T>(hi - lo, [&](int64_t k, int n) {
          store_n(vadd(load_n(row + lo, k, n), load_n(r + lo, k, n)), row + lo, k, n);
        });
      } else {
        for (int64_t ow = lo; ow < hi; ++ow) row[ow * g.sw] += r[ow];
      }
    });
  }
}

}  // namespace

void col2im_f32(const ConvGeometry& g, const float* col, float* dx) { col2im(g, col, dx); }
void col2im_f64(const ConvGeometry& g, const double* col, double* dx) { col2im(g, col, dx); }
void im2col_f32(const ConvGeometry& g, const float* x, float* col, int64_t ld) {
  im2col(g, x, col, ld);
}
void im2col_f64(const ConvGeometry& g, const double* x, double* col, int64_t ld) {
  im2col(g, x, col, ld);
}
void depthwise_forward_f32(const ConvGeometry& g, const float* x, const float* w, float* y,
                           const PlaneBatch& b) {
  forward(g, x, w, y, b);
}
void depthwise_forward_f64(const ConvGeometry& g, const double* x, const double* w, double* y,
                           const PlaneBatch& b) {
  forward(g, x, w, y, b);
}
void depthwise_backward_input_f32(const ConvGeometry& g, const float* dy, const float* w, float* dx,
                                  const PlaneBatch& b) {
  backward_input(g, dy, w, dx, b);
}
void depthwise_backward_input_f64(const ConvGeometry& g, const double* dy, const double* w,
                                  double* dx, const PlaneBatch& b) {
  backward_input(g, dy, w, dx, b);
}
void depthwise_backward_weight_f32(const ConvGeometry& g, const float* x, const float* dy,
                                   float* dw, const PlaneBatch&) {
  backward_weight(g, x, dy, dw);
}
void depthwise_backward_weight_f64(const ConvGeometry& g, const double* x, const double* dy,
                                   double* dw, const PlaneBatch&) {
  backward_weight(g, x, dy, dw);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
