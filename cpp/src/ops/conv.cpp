// conv2d (and conv1d through it), NCHW, with stride, zero padding, dilation and
// groups, as GEMMs over gathered patches (kernels/cpu/conv_im2col.h).
// Shapes: x (N, C, H, W), w (O, C/G, kh, kw), b (O), y (N, O, Ho, Wo), with
//   Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1  (and the same for Wo).
// Per sample n and group g, with col = im2col(x[n, g]) of shape (C/G kh kw, Ho Wo):
//   y[n, g]  = w[g] col + b[g]           (bias added in the GEMM write-back; the GEMM
//                                         gathers col itself, GemmProblem::b_patches)
//   dx[n, g] = col2im(w[g]^T dy[n, g])   (at stride 1: the convolution of dy by the
//                                         flipped kernel, gathered the same way)
//   dw[g]   += dy[n, g] col^T            (summed over n in a fixed order, as
//                                         dw[g]^T += col dy^T with col read in place)
//   db       = sum of dy over n, Ho, Wo
// A 1x1 convolution with stride 1 and no padding multiplies x[n] itself (no patches);
// stride-1 layers without padding whose output rows are short run the same three products
// over flat rows, where each row of col is one run of the image (flat_rows).
// Samples run on separate threads when there are at least as many as threads (the
// GEMMs then run serially inside); otherwise the GEMMs use the threads. dw takes the
// samples in chunks of a size fixed by the shapes and the cache size alone, so every
// result has the same bits for any thread count.
#include <algorithm>
#include <vector>

#include "dlcore/gemm.h"
#include "kernels/cpu/conv_im2col.h"
#include "ops/common.h"
#include "ops/conv_winograd.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

using kernels::ConvGeometry;
// The patches and output gradients of dw's sample chunks take about the L2 cache (1 MiB
// here: 7-15% faster than 4 MiB chunks, which spill to memory), within these bounds.
constexpr int64_t kMinChunkBytes = int64_t(256) << 10, kMaxChunkBytes = int64_t(4) << 20;
int64_t chunk_bytes() {
  return std::clamp(gemm_blocking(false).l2_bytes, kMinChunkBytes, kMaxChunkBytes);
}

struct Conv {
  int64_t N, C, H, W, O, G, kh, kw, Ho, Wo;
  ConvGeometry geo;  // one group's geometry
  bool direct;       // 1x1, stride 1, no padding: x[n] is its own patch matrix
  int64_t Cg() const { return C / G; }
  int64_t Og() const { return O / G; }
  int64_t K() const { return geo.rows(); }
  int64_t P() const { return Ho * Wo; }
};

// Convolutions with few input channels per group run as sums of single-channel plane
// convolutions (kernels/cpu/conv_depthwise_simd.cpp) instead of GEMMs with a short
// K = C/G kh kw, whose patch gathering and packing cost more than the products:
// depthwise ones (one channel per group) at any stride, and stride-1 layers with up to
// 3 input and 16 output channels per group (LeNet's first layer; measured: with 64
// outputs the GEMM is faster). Each input plane is bordered once for all the outputs
// that read it. (sample, group) pairs go to threads; dw sums the samples in order for
// each (output, input) channel pair.
bool is_depthwise(const Conv& c) {
  return (c.Cg() == 1 && c.G > 1) ||
         (c.Cg() <= 3 && c.Og() <= 16 && c.geo.sh == 1 && c.geo.sw == 1);
}

template <class T>
struct DepthwiseKernels {
  kernels::DepthwiseFn<T> forward, backward_input, backward_weight;
};
template <class T>
DepthwiseKernels<T> depthwise_kernels() {
  const auto& kt = kernels::active();
  return {
      kernels::for_dtype<T>(kt.depthwise_forward_f32, kt.depthwise_forward_f64),
      kernels::for_dtype<T>(kt.depthwise_backward_input_f32, kt.depthwise_backward_input_f64),
      kernels::for_dtype<T>(kt.depthwise_backward_weight_f32, kt.depthwise_backward_weight_f64)};
}

// (sample, group) pairs per thread chunk: about 16K multiply-adds at least.
int64_t group_grain(const Conv& c) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, c.Og() * c.Cg() * c.P() * c.kh * c.kw));
}

// y[n, o] = b[o] + sum over the group's input channels ci of plane(x[n, ci], w[o, ci]).
template <class T>
void depthwise_forward(const Conv& c, const T* x, const T* w, const T* b, T* y) {
  const auto k = depthwise_kernels<T>();
  const int64_t kk = c.kh * c.kw, in_plane = c.H * c.W, cg = c.Cg(), og = c.Og();
  const kernels::PlaneBatch outs{og, cg * kk, c.P()};
  parallel_for(0, c.N * c.G, group_grain(c), [&](int64_t lo, int64_t hi) {
    for (int64_t ng = lo; ng < hi; ++ng) {
      const int64_t n = ng / c.G, g = ng % c.G;
      T* yg = y + (n * c.O + g * og) * c.P();
      for (int64_t m = 0; m < og; ++m)
        std::fill(yg + m * c.P(), yg + (m + 1) * c.P(), b ? b[g * og + m] : T(0));
      for (int64_t ci = 0; ci < cg; ++ci)
        k.forward(c.geo, x + (n * c.C + g * cg + ci) * in_plane, w + (g * og * cg + ci) * kk, yg,
                  outs);
    }
  });
}

// dx[n, ci] = sum over the group's output channels o of adjoint(dy[n, o], w[o, ci]).
template <class T>
void depthwise_backward_input(const Conv& c, const T* w, const T* dy, T* dx) {
  const auto k = depthwise_kernels<T>();
  const int64_t kk = c.kh * c.kw, in_plane = c.H * c.W, cg = c.Cg(), og = c.Og();
  const kernels::PlaneBatch ins{cg, kk, in_plane};
  parallel_for(0, c.N * c.G, group_grain(c), [&](int64_t lo, int64_t hi) {
    for (int64_t ng = lo; ng < hi; ++ng) {
      const int64_t n = ng / c.G, g = ng % c.G;
      T* dxg = dx + (n * c.C + g * cg) * in_plane;
      std::fill(dxg, dxg + cg * in_plane, T(0));
      for (int64_t m = 0; m < og; ++m) {
        const int64_t o = g * og + m;
        k.backward_input(c.geo, dy + (n * c.O + o) * c.P(), w + o * cg * kk, dxg, ins);
      }
    }
  });
}

// dw[o, ci] = sum over samples n, in order, of dy[n, o] . x[n, ci] at each tap.
template <class T>
void depthwise_backward_weight(const Conv& c, const T* x, const T* dy, T* dw) {
  const auto k = depthwise_kernels<T>();
  const int64_t kk = c.kh * c.kw, in_plane = c.H * c.W, cg = c.Cg();
  parallel_for(0, c.O * cg, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t pair = lo; pair < hi; ++pair) {
      const int64_t o = pair / cg, ci = pair % cg, ch = (o / c.Og()) * cg + ci;
      T* d = dw + pair * kk;
      std::fill(d, d + kk, T(0));
      for (int64_t n = 0; n < c.N; ++n)
        k.backward_weight(c.geo, x + (n * c.C + ch) * in_plane, dy + (n * c.O + o) * c.P(), d, {});
    }
  });
}

// The geometry of a convolution of x (N, C, H, W) by w (O, C / groups, kh, kw),
// checked; op names the caller in messages.
Conv conv_geometry(const char* op, const Shape& xs, const Shape& ws,
                   const std::array<int64_t, 2>& stride, const std::array<int64_t, 2>& padding,
                   const std::array<int64_t, 2>& dilation, int64_t groups) {
  if (groups < 1) throw ValueError(str_cat(op, ": groups must be positive, got ", groups));
  for (int d = 0; d < 2; ++d) {
    if (stride[d] < 1 || dilation[d] < 1 || padding[d] < 0)
      throw ValueError(str_cat(
          op, ": stride and dilation must be positive and padding non-negative, got stride (",
          stride[0], ", ", stride[1], "), padding (", padding[0], ", ", padding[1], "), dilation (",
          dilation[0], ", ", dilation[1], ")"));
  }
  Conv c{};
  c.N = xs[0], c.C = xs[1], c.H = xs[2], c.W = xs[3];
  c.O = ws[0], c.G = groups, c.kh = ws[2], c.kw = ws[3];
  const int64_t eh = dilation[0] * (c.kh - 1) + 1, ew = dilation[1] * (c.kw - 1) + 1;
  if (c.H + 2 * padding[0] < eh || c.W + 2 * padding[1] < ew)
    throw ValueError(str_cat(
        op, ": the (padded) input of size (", c.H + 2 * padding[0], ", ", c.W + 2 * padding[1],
        ") is smaller than the (dilated) kernel of size (", eh, ", ", ew, ")"));
  c.Ho = (c.H + 2 * padding[0] - eh) / stride[0] + 1;
  c.Wo = (c.W + 2 * padding[1] - ew) / stride[1] + 1;
  c.geo =
      ConvGeometry{c.C / groups, c.H,        c.W,         c.kh,        c.kw, stride[0], stride[1],
                   padding[0],   padding[1], dilation[0], dilation[1], c.Ho, c.Wo};
  c.direct = c.kh == 1 && c.kw == 1 && stride[0] == 1 && stride[1] == 1 && padding[0] == 0 &&
             padding[1] == 0;
  return c;
}

void check_operands(const char* op, const Tensor& x, const Tensor& w, const Tensor& b,
                    int64_t bias_size) {
  if (x.dim() != 4)
    throw ValueError(
        str_cat(op, ": expected input of shape (N, C, H, W), got ", shape_str(x.shape())));
  if (w.dim() != 4)
    throw ValueError(str_cat(op, ": expected a 4-D weight, got ", shape_str(w.shape())));
  if (!is_floating(x.dtype()) || x.dtype() != w.dtype())
    throw TypeError(str_cat(op, ": input and weight must be float tensors of one dtype, got ",
                            dtype_name(x.dtype()), " and ", dtype_name(w.dtype())));
  if (b.defined() && (b.dim() != 1 || b.shape()[0] != bias_size))
    throw ValueError(
        str_cat(op, ": bias must have shape (", bias_size, "), got ", shape_str(b.shape())));
  if (b.defined() && b.dtype() != x.dtype())
    throw TypeError(
        str_cat(op, ": bias is ", dtype_name(b.dtype()), " but input is ", dtype_name(x.dtype())));
}

// x (N, C, ...) against w (O, C / groups, ...): the channels and groups agree.
void check_channels(const char* op, const Tensor& x, const Tensor& w, int64_t groups) {
  const int64_t C = x.shape()[1], O = w.shape()[0];
  if (groups < 1 || C % groups || O % groups)
    throw ValueError(str_cat(op, ": in_channels (", C, ") and out_channels (", O,
                             ") must both be divisible by groups (", groups, ")"));
  if (w.shape()[1] != C / groups)
    throw ValueError(str_cat(op, ": weight of shape ", shape_str(w.shape()), " expects ",
                             w.shape()[1] * groups, " input channels (groups=", groups,
                             "), but the input of shape ", shape_str(x.shape()), " has ", C));
}

Conv make_conv(const Tensor& x, const Tensor& w, const Tensor& b,
               const std::array<int64_t, 2>& stride, const std::array<int64_t, 2>& padding,
               const std::array<int64_t, 2>& dilation, int64_t groups) {
  check_operands("conv2d", x, w, b, w.dim() == 4 ? w.shape()[0] : 0);
  check_channels("conv2d", x, w, groups);
  return conv_geometry("conv2d", x.shape(), w.shape(), stride, padding, dilation, groups);
}

// Runs f(n, col) for each sample; col is a per-thread buffer of col_size values.
// Samples go to threads when there are enough of them.
template <class T, class F>
void for_samples(const Conv& c, int64_t col_size, F f) {
  const bool across = c.N >= get_num_threads() && get_num_threads() > 1;
  auto range = [&](int64_t lo, int64_t hi) {
    std::vector<T> col(static_cast<size_t>(col_size));
    for (int64_t n = lo; n < hi; ++n) f(n, col.data());
  };
  if (across)
    parallel_for(0, c.N, 1, range);
  else
    range(0, c.N);
}

// The patch geometry of g on a copy of the image with its zero padding written out
// (borders on the top and left of ph, pw and on the bottom and right as far as the
// patches reach), so the GEMM gathers patches as plain copies; g itself where there is
// no padding or a negative one.
ConvGeometry bordered_geometry(const ConvGeometry& g) {
  if (g.ph < 0 || g.pw < 0 || (g.ph == 0 && g.pw == 0)) return g;
  ConvGeometry b = g;
  b.H = std::max(g.H + g.ph, (g.Ho - 1) * g.sh + (g.kh - 1) * g.dh + 1);
  b.W = std::max(g.W + g.pw, (g.Wo - 1) * g.sw + (g.kw - 1) * g.dw + 1);
  b.ph = b.pw = 0;
  return b;
}

// y[n, g] = w[g] @ patches(x[n, g]) + b[g] for the images x of geometry geo (per group;
// samples x_sample apart, outputs y_sample apart), as GEMMs that gather the patches
// themselves (GemmProblem::b_patches), from a bordered copy of the image where that helps.
template <class T>
void patch_gemms(const Conv& c, const ConvGeometry& geo, int64_t M, const T* a, const T* x,
                 int64_t x_sample, const T* bias, T* y, int64_t y_sample) {
  const ConvGeometry bg = bordered_geometry(geo);
  const bool copy = bg.H != geo.H || bg.W != geo.W;
  for_samples<T>(c, copy ? bg.C * bg.H * bg.W : 0, [&](int64_t n, T* buf) {
    for (int64_t g = 0; g < c.G; ++g) {
      const T* img = x + n * x_sample + g * geo.C * geo.H * geo.W;
      if (copy) kernels::copy_bordered(img, geo.C, geo.H, geo.W, bg.H, bg.W, geo.ph, geo.pw, buf);
      GemmProblem<T> p;
      p.M = M, p.N = geo.cols(), p.K = geo.rows();
      p.a = a + g * M * geo.rows(), p.a_rs = geo.rows(), p.a_cs = 1;
      p.b = copy ? buf : img, p.b_patches = &bg;
      p.c = y + n * y_sample + g * M * geo.cols(), p.ldc = geo.cols();
      if (bias) p.epilogue.bias = bias + g * M, p.epilogue.bias_per_row = true;
      gemm(p);
    }
  });
}

// Stride-1 convolutions without padding whose output rows are short (LeNet's second
// layer: 10 of 14 columns) would gather and scatter their patches a few values at a
// time. Over "flat" positions q = oh W + ow, with ow running over the input's whole
// width, patch row r = (ci kh + i) kw + j is one run of the flattened planes,
// x[offset(r) + q] for q < Ho W (GemmPatches::flat). The columns ow >= Wo are junk
// (they run on into the next row): the forward drops them, dw's GEMM finds zeros there
// (in the patches and in dy), and dx's GEMM yields zeros there (dy's are zero), which
// are added harmlessly. Used where such short segments cost more than the W / Wo times
// the multiply-adds (LeNet's 6->16 layer, batch 64, 1 thread: forward 1.0 -> 0.6 ms,
// with dx 2.9 -> 1.9 ms, with dw 2.8 -> 2.1 ms).
constexpr int64_t kFlatMaxWo = 16;
bool flat_rows(const Conv& c) {
  const ConvGeometry& g = c.geo;
  return !c.direct && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && c.Wo < kFlatMaxWo &&
         c.W <= 2 * c.Wo;
}
// Calls f(r, offset, run) for patch rows r in [r0, r1): the row's first value in a
// group's flattened planes and how many of its values lie inside them (the rest are junk).
template <class F>
void for_flat_rows(const Conv& c, int64_t r0, int64_t r1, F f) {
  const int64_t kk = c.kh * c.kw, end = c.Cg() * c.H * c.W, Pw = c.Ho * c.W;
  int64_t ci = r0 / kk, i = r0 / c.kw % c.kh, j = r0 % c.kw;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t off = (ci * c.H + i * c.geo.dh) * c.W + j * c.geo.dw;
    f(r, off, std::min(Pw, end - off));
    if (++j == c.kw) {
      j = 0;
      if (++i == c.kh) i = 0, ++ci;
    }
  }
}
// Rows [r0, r1) of the flat patch matrix of one group's planes x into col (rows ld
// apart), junk columns zero.
template <class T>
void flat_patches(const Conv& c, const T* x, int64_t r0, int64_t r1, T* col, int64_t ld) {
  for_flat_rows(c, r0, r1, [&](int64_t r, int64_t off, int64_t run) {
    T* dst = col + r * ld;
    std::copy(x + off, x + off + run, dst);
    for (T* junk = dst + c.Wo; junk < dst + c.Ho * c.W; junk += c.W)
      for (int64_t t = 0; t < c.W - c.Wo; ++t) junk[t] = T(0);
  });
}
// One group's dy planes (Og, Ho, Wo) as flat rows (Og, Ho W), ld apart, junk zero.
template <class T>
void flat_grads(const Conv& c, const T* dy, T* out, int64_t ld) {
  for (int64_t o = 0; o < c.Og(); ++o)
    for (int64_t oh = 0; oh < c.Ho; ++oh) {
      const T* src = dy + (o * c.Ho + oh) * c.Wo;
      T* dst = out + o * ld + oh * c.W;
      std::copy(src, src + c.Wo, dst);
      for (int64_t t = c.Wo; t < c.W; ++t) dst[t] = T(0);
    }
}

// y[n, g] = w[g] flat_patches(x[n, g]) + b[g], of which each output row keeps its
// first Wo of W values (flat_rows).
template <class T>
void flat_forward(const Conv& c, const T* x, const T* w, const T* b, T* y) {
  ConvGeometry fg = c.geo;
  fg.Wo = c.W, fg.flat = true;
  const int64_t Og = c.Og(), Pw = c.Ho * c.W, planes = c.Cg() * c.H * c.W;
  // The GEMM reads the planes in place from a copy with the slack a flat B needs.
  for_samples<T>(c, Og * Pw + planes + fg.flat_slack(), [&](int64_t n, T* out) {
    T* img = out + Og * Pw;
    for (int64_t g = 0; g < c.G; ++g) {
      const T* src = x + (n * c.C + g * c.Cg()) * c.H * c.W;
      std::copy(src, src + planes, img);
      GemmProblem<T> p;
      p.M = Og, p.N = Pw, p.K = c.K();
      p.a = w + g * Og * c.K(), p.a_rs = c.K(), p.a_cs = 1;
      p.b = img, p.b_patches = &fg;
      p.c = out, p.ldc = Pw;
      if (b) p.epilogue.bias = b + g * Og, p.epilogue.bias_per_row = true;
      gemm(p);
      T* ys = y + (n * c.O + g * Og) * c.P();
      for (int64_t row = 0; row < Og * c.Ho; ++row)
        std::copy(out + row * c.W, out + row * c.W + c.Wo, ys + row * c.Wo);
    }
  });
}

template <class T>
void conv_forward(const Conv& c, const T* x, const T* w, const T* b, T* y) {
  if (c.G == 1 && winograd::suitable(c.N, c.geo, c.O))
    return winograd::forward(c.N, c.geo, c.O, x, c.C * c.H * c.W, w, b, y, c.O * c.P());
  if (flat_rows(c)) return flat_forward(c, x, w, b, y);
  if (!c.direct) return patch_gemms(c, c.geo, c.Og(), w, x, c.C * c.H * c.W, b, y, c.O * c.P());
  // A 1x1 convolution: x[n, g] is its own patch matrix.
  for_samples<T>(c, 0, [&](int64_t n, T*) {
    for (int64_t g = 0; g < c.G; ++g) {
      GemmProblem<T> p;
      p.M = c.Og(), p.N = c.P(), p.K = c.K();
      p.a = w + g * c.Og() * c.K(), p.a_rs = c.K(), p.a_cs = 1;
      p.b = x + (n * c.C + g * c.Cg()) * c.H * c.W, p.b_rs = c.P(), p.b_cs = 1;
      p.c = y + (n * c.O + g * c.Og()) * c.P(), p.ldc = c.P();
      if (b) p.epilogue.bias = b + g * c.Og(), p.epilogue.bias_per_row = true;
      gemm(p);
    }
  });
}

// At stride 1 the input gradient is itself a convolution: dy, padded by
// d (k - 1) - p, correlated with the kernel turned by 180 degrees and with input and
// output channels swapped. Its geometry, or false where a stride is above 1 or the
// group has fewer than kFlippedMinChannels input channels: that GEMM has one row per
// input channel, and few rows run far below the rate of col2im's GEMM with C kh kw.
constexpr int64_t kFlippedMinChannels = 16;
bool flipped_geometry(const Conv& c, ConvGeometry& out) {
  const ConvGeometry& g = c.geo;
  if (g.sh != 1 || g.sw != 1 || c.Cg() < kFlippedMinChannels) return false;
  out = ConvGeometry{
      c.Og(), c.Ho, c.Wo, g.kh, g.kw, 1, 1, g.dh * (g.kh - 1) - g.ph, g.dw * (g.kw - 1) - g.pw,
      g.dh,   g.dw, c.H,  c.W};
  return true;
}

// wf[g][ci][(o kh + i) kw + j] = w[g Og + o][ci][kh - 1 - i][kw - 1 - j]: each group's
// weight as the (Cg, Og kh kw) matrix of the flipped convolution.
template <class T>
std::vector<T> flipped_weight(const Conv& c, const T* w) {
  const int64_t Og = c.Og(), Cg = c.Cg(), kk = c.kh * c.kw;
  std::vector<T> wf(static_cast<size_t>(c.O * Cg * kk));
  for (int64_t g = 0; g < c.G; ++g)
    for (int64_t o = 0; o < Og; ++o)
      for (int64_t ci = 0; ci < Cg; ++ci) {
        const T* src = w + ((g * Og + o) * Cg + ci) * kk;
        T* dst = wf.data() + (g * Cg + ci) * Og * kk + o * kk;
        for (int64_t t = 0; t < kk; ++t) dst[t] = src[kk - 1 - t];
      }
  return wf;
}

// dx[n, g]: the flat columns w[g]^T flat_grads(dy[n, g]), each row added back onto the
// planes where it was read from (flat_rows).
template <class T>
void flat_backward_input(const Conv& c, const T* w, const T* dy, T* dx) {
  const int64_t K = c.K(), Pw = c.Ho * c.W, plane = c.Cg() * c.H * c.W;
  const auto add =
      kernels::for_dtype<T>(kernels::active().binary_f32, kernels::active().binary_f64);
  for_samples<T>(c, (K + c.Og()) * Pw, [&](int64_t n, T* col) {
    T* grads = col + K * Pw;
    for (int64_t g = 0; g < c.G; ++g) {
      flat_grads(c, dy + (n * c.O + g * c.Og()) * c.P(), grads, Pw);
      GemmProblem<T> p;
      p.M = K, p.N = Pw, p.K = c.Og();
      p.a = w + g * c.Og() * K, p.a_rs = 1, p.a_cs = K;  // w[g]^T
      p.b = grads, p.b_rs = Pw, p.b_cs = 1;
      p.c = col, p.ldc = Pw;
      gemm(p);
      T* dxs = dx + (n * c.C + g * c.Cg()) * c.H * c.W;
      std::fill(dxs, dxs + plane, T(0));
      for_flat_rows(c, 0, K, [&](int64_t r, int64_t off, int64_t run) {
        add(kernels::BinaryOp::Add, dxs + off, 1, col + r * Pw, 1, dxs + off, run, 0);
      });
    }
  });
}

template <class T>
void conv_backward_input(const Conv& c, const T* w, const T* dy, T* dx) {
  ConvGeometry fg;
  if (!c.direct && flipped_geometry(c, fg)) {
    const std::vector<T> wf = flipped_weight(c, w);
    if (c.G == 1 && winograd::suitable(c.N, fg, c.C))
      return winograd::forward<T>(c.N, fg, c.C, dy, c.O * c.P(), wf.data(), nullptr, dx,
                                  c.C * c.H * c.W);
    return patch_gemms<T>(c, fg, c.Cg(), wf.data(), dy, c.O * c.P(), nullptr, dx, c.C * c.H * c.W);
  }
  if (flat_rows(c)) return flat_backward_input(c, w, dy, dx);
  const auto col2im =
      kernels::for_dtype<T>(kernels::active().col2im_f32, kernels::active().col2im_f64);
  for_samples<T>(c, c.direct ? 0 : c.K() * c.P(), [&](int64_t n, T* col) {
    for (int64_t g = 0; g < c.G; ++g) {
      T* dxs = dx + (n * c.C + g * c.Cg()) * c.H * c.W;
      GemmProblem<T> p;
      p.M = c.K(), p.N = c.P(), p.K = c.Og();
      p.a = w + g * c.Og() * c.K(), p.a_rs = 1, p.a_cs = c.K();  // w[g]^T
      p.b = dy + (n * c.O + g * c.Og()) * c.P(), p.b_rs = c.P(), p.b_cs = 1;
      p.c = c.direct ? dxs : col, p.ldc = c.P();
      gemm(p);
      if (!c.direct) {
        std::fill(dxs, dxs + c.Cg() * c.H * c.W, T(0));
        col2im(c.geo, col, dxs);
      }
    }
  });
}

// dw[g] = sum_n dy[n, g] col(x[n, g])^T, over chunks of B samples: the chunk's
// patches side by side (K x B P, rows ld apart) and its output gradients packed to
// (Og x B P); per group, one GEMM per chunk accumulates dw[g]^T in chunk order, and
// dw[g] is its transpose.
template <class T>
void conv_backward_weight(const Conv& c, const T* x, const T* dy, T* dw) {
  if (c.G == 1 && winograd::suitable(c.N, c.geo, c.O, true))
    return winograd::backward_weight(c.N, c.geo, c.O, x, dy, dw);
  const int64_t K = c.K(), Og = c.Og();
  const bool flat = flat_rows(c);
  const int64_t P = flat ? c.Ho * c.W : c.P();  // columns per sample (flat: with junk)
  const int64_t per_sample = (c.direct ? 0 : K * P) + Og * P;
  const int64_t B = std::max<int64_t>(
      1, std::min<int64_t>(c.N,
                           chunk_bytes() / std::max<int64_t>(1, per_sample * int64_t(sizeof(T)))));
  // The patches' row stride: B P, off any multiple of 4 KiB (the GEMM reads MR rows at once).
  int64_t ld = B * P;
  if (ld * int64_t(sizeof(T)) % 4096 == 0) ld += 64 / int64_t(sizeof(T));
  const auto im2col =
      kernels::for_dtype<T>(kernels::active().im2col_f32, kernels::active().im2col_f64);
  std::vector<T> cols(static_cast<size_t>(c.direct ? 0 : K * ld)),
      grads(static_cast<size_t>(Og * B * P)), dwt(static_cast<size_t>(c.direct ? 0 : K * Og));
  for (int64_t g = 0; g < c.G; ++g) {
    for (int64_t n0 = 0; n0 < c.N; n0 += B) {
      const int64_t nb = std::min(B, c.N - n0);
      // Jobs of (sample, input channel), so that a chunk of one sample still uses every
      // thread: channel 0 also copies the sample's output gradients. Sample s's patches
      // are columns [s P, (s + 1) P) of the chunk's (K, nb P) matrix; channel ci's are
      // its rows [ci kh kw, (ci + 1) kh kw).
      const int64_t cg = c.direct ? 1 : c.Cg(), kk = c.kh * c.kw;
      ConvGeometry plane = c.geo;
      plane.C = 1;
      parallel_for(0, nb * cg, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t job = lo; job < hi; ++job) {
          const int64_t s = job / cg, ci = job % cg, n = n0 + s;
          const T* dys = dy + (n * c.O + g * Og) * c.P();
          const T* xs = x + (n * c.C + g * c.Cg()) * c.H * c.W;
          if (ci == 0 && flat) flat_grads(c, dys, grads.data() + s * P, nb * P);
          if (ci == 0 && !flat)
            for (int64_t o = 0; o < Og; ++o)
              std::copy(dys + o * P, dys + (o + 1) * P, grads.data() + o * nb * P + s * P);
          if (flat)
            flat_patches(c, xs, ci * kk, (ci + 1) * kk, cols.data() + s * P, ld);
          else if (!c.direct)
            im2col(plane, xs + ci * c.H * c.W, cols.data() + ci * kk * ld + s * P, ld);
        }
      });
      if (c.direct) {
        // x[n, g] is its own (K, P) patch matrix: one GEMM per sample, read in place.
        for (int64_t s = 0; s < nb; ++s) {
          GemmProblem<T> q;
          q.M = Og, q.N = K, q.K = P;
          q.a = grads.data() + s * P, q.a_rs = nb * P, q.a_cs = 1;
          q.b = x + ((n0 + s) * c.C + g * c.Cg()) * c.H * c.W, q.b_rs = 1, q.b_cs = P;
          q.c = dw + g * Og * K, q.ldc = K;
          q.beta = (n0 == 0 && s == 0) ? T(0) : T(1);
          gemm(q);
        }
      } else {
        // dw[g]^T (K, Og) += patches (K, nb P) dy^T: the patches, read in place as A,
        // need no packing, where as B they would be transposed into slivers.
        GemmProblem<T> p;
        p.M = K, p.N = Og, p.K = nb * P;
        p.a = cols.data(), p.a_rs = ld, p.a_cs = 1;
        p.b = grads.data(), p.b_rs = 1, p.b_cs = nb * P;
        p.c = dwt.data(), p.ldc = Og;
        p.beta = n0 == 0 ? T(0) : T(1);
        gemm(p);
      }
    }
    if (!c.direct)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t o = 0; o < Og; ++o) dw[(g * Og + o) * K + k] = dwt[k * Og + o];
  }
}

// The three products of a convolution, each by the plane kernels or the GEMM path as
// is_depthwise decides; conv2d and conv_transpose2d both run through these.
template <class T>
void run_forward(const Conv& c, const T* x, const T* w, const T* b, T* y) {
  if (is_depthwise(c))
    depthwise_forward<T>(c, x, w, b, y);
  else
    conv_forward<T>(c, x, w, b, y);
}
template <class T>
void run_backward_input(const Conv& c, const T* w, const T* dy, T* dx) {
  if (is_depthwise(c))
    depthwise_backward_input<T>(c, w, dy, dx);
  else
    conv_backward_input<T>(c, w, dy, dx);
}
template <class T>
void run_backward_weight(const Conv& c, const T* x, const T* dy, T* dw) {
  if (is_depthwise(c))
    depthwise_backward_weight<T>(c, x, dy, dw);
  else
    conv_backward_weight<T>(c, x, dy, dw);
}

// The autograd node of conv2d (transposed false) or conv_transpose2d (true), whose
// saved input x and weight w are the contiguous copies. Let ci and co be the input and
// output of the underlying convolution c: (x, dy) for conv2d, (dy, x) for the
// transposed one. Then dw = backward_weight(ci, co) for both, dx is backward_input(w, dy)
// for conv2d and forward(dy, w) for the transposed one, and db sums dy over N, H, W.
void record_conv(const char* op, const Conv& c, bool transposed, const Tensor& input,
                 const Tensor& weight, const Tensor& bias, const Tensor& x, const Tensor& w,
                 Tensor& y) {
  std::vector<Tensor> inputs{input, weight};
  if (bias.defined()) inputs.push_back(bias);
  auto node = make_node(op, inputs);
  if (!node) return;
  node->save(x);
  node->save(w);
  node->backward = [c, op, transposed](FunctionNode& n, const std::vector<Tensor>& grads) {
    Tensor x = n.saved(0), w = n.saved(1);
    check_first_order(op, {&grads[0], &x, &w});
    Tensor dy = contiguous(grads[0].to(x.dtype()));
    const Tensor& ci = transposed ? dy : x;
    const Tensor& co = transposed ? x : dy;
    std::vector<Tensor> r(n.next_edges.size());
    visit_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        const bool work = c.K() > 0 && co.numel() > 0;
        if (n.needs_input_grad(0)) {
          r[0] = zeros_like(x);
          if (work && transposed)
            run_forward<T>(c, dy.data<T>(), w.data<T>(), nullptr, r[0].data<T>());
          else if (work)
            run_backward_input<T>(c, w.data<T>(), dy.data<T>(), r[0].data<T>());
        }
        if (n.needs_input_grad(1)) {
          r[1] = zeros_like(w);
          if (work) run_backward_weight<T>(c, ci.data<T>(), co.data<T>(), r[1].data<T>());
        }
      }
    });
    if (r.size() > 2 && n.needs_input_grad(2)) r[2] = sum(dy, Dims{0, 2, 3});
    return r;
  };
  set_history(y, node);
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias_in,
              std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
              std::array<int64_t, 2> dilation, int64_t groups) {
  Conv c = make_conv(input, weight, bias_in, stride, padding, dilation, groups);
  Tensor x = contiguous(input), w = contiguous(weight);
  Tensor b = bias_in.defined() ? contiguous(bias_in) : bias_in;
  Tensor y = empty({c.N, c.O, c.Ho, c.Wo}, x.dtype());
  if (y.numel() > 0) {
    visit_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        if (c.K() == 0) {
          fill_kernel(y, Scalar(0.0));
          if (b.defined()) y = add(y, reshape(b, {1, c.O, 1, 1}));
        } else {
          run_forward<T>(c, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr,
                         y.data<T>());
        }
      }
    });
  }
  record_conv("conv2d", c, false, input, weight, bias_in, x, w, y);
  return y;
}

// conv_transpose2d: the adjoint of conv2d. x (N, Cin, H, W), w (Cin, Cout / G, kh, kw),
// y (N, Cout, Ho, Wo) with Ho = (H - 1) sh - 2 ph + dh (kh - 1) + output_padding + 1.
// It is conv2d's input gradient for a conv from y's shape to x's with weight w, so
//   y = conv2d_backward_input(w, x) + b,  dx = conv2d(dy, w),  dw = conv2d_backward_weight(dy, x).
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias_in,
                        std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                        std::array<int64_t, 2> output_padding, int64_t groups,
                        std::array<int64_t, 2> dilation) {
  const char* op = "conv_transpose2d";
  check_operands(op, input, weight, Tensor(), 0);
  if (groups < 1 || weight.shape()[0] != input.shape()[1] || input.shape()[1] % groups)
    throw ValueError(str_cat(op, ": weight of shape ", shape_str(weight.shape()), " expects ",
                             weight.shape()[0], " input channels divisible by groups (", groups,
                             "), got input of shape ", shape_str(input.shape())));
  const int64_t Cout = weight.shape()[1] * groups;
  check_operands(op, input, weight, bias_in, Cout);
  Shape ys{input.shape()[0], Cout, 0, 0};
  for (int d = 0; d < 2; ++d) {
    if (output_padding[d] < 0 || output_padding[d] >= std::max(stride[d], dilation[d]))
      throw ValueError(str_cat(op, ": output_padding (", output_padding[0], ", ", output_padding[1],
                               ") must be non-negative and smaller than stride or dilation"));
    ys[2 + d] = (input.shape()[2 + d] - 1) * stride[d] - 2 * padding[d] +
                dilation[d] * (weight.shape()[2 + d] - 1) + output_padding[d] + 1;
    if (ys[2 + d] <= 0)
      throw ValueError(str_cat(op, ": the output size would be ", ys[2 + d], " for input of shape ",
                               shape_str(input.shape())));
  }
  Conv c = conv_geometry(op, ys, weight.shape(), stride, padding, dilation, groups);
  Tensor x = contiguous(input), w = contiguous(weight);
  Tensor y = zeros(ys, x.dtype());
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      if (y.numel() > 0 && c.K() > 0 && x.numel() > 0)
        run_backward_input<T>(c, w.data<T>(), x.data<T>(), y.data<T>());
  });
  if (bias_in.defined()) {
    NoGradGuard guard;
    y = add(y, reshape(bias_in, {1, Cout, 1, 1}));
  }
  record_conv(op, c, true, input, weight, bias_in, x, w, y);
  return y;
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation, int64_t groups) {
  if (input.dim() != 3)
    throw ValueError(
        str_cat("conv1d: expected input of shape (N, C, L), got ", shape_str(input.shape())));
  if (weight.dim() != 3)
    throw ValueError(
        str_cat("conv1d: expected weight of shape (out_channels, in_channels / groups, k), got ",
                shape_str(weight.shape())));
  // conv2d below would check all this too, but in the 2-D terms of the unsqueezed operands.
  const Tensor x = unsqueeze(input, 2), w = unsqueeze(weight, 2);
  check_operands("conv1d", x, w, bias, weight.shape()[0]);
  check_channels("conv1d", input, weight, groups);
  const int64_t L = input.shape()[2];
  if (stride < 1 || dilation < 1 || padding < 0)
    throw ValueError(str_cat("conv1d: stride and dilation must be positive and padding ",
                             "non-negative, got stride ", stride, ", padding ", padding,
                             ", dilation ", dilation));
  const int64_t span = dilation * (weight.shape()[2] - 1) + 1;
  if (L + 2 * padding < span)
    throw ValueError(str_cat("conv1d: the (padded) input of length ", L + 2 * padding,
                             " is shorter than the (dilated) kernel of length ", span));
  return squeeze(conv2d(x, w, bias, {1, stride}, {0, padding}, {1, dilation}, groups), 2);
}

}  // namespace dlcore
