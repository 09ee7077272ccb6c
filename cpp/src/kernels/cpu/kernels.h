// The table of SIMD kernels. Each instruction set (generic, avx2, avx512)
// compiles the same sources into its own namespace and fills one table;
// runtime/dispatch.cpp picks the table at load time. Kernels take raw
// pointers and sizes, never Tensors, and never know about autograd or threads:
// the ops split work with parallel_for and call a kernel per range. (The GEMM
// is the exception for threads: gemm/gemm_driver.cpp owns its blocking and
// spreads output tiles over threads itself, never splitting K.)
#pragma once
#include <cstdint>
#include <type_traits>

#include "dlcore/optim.h"
#include "dlcore/rnn.h"
#include "kernels/cpu/conv_im2col.h"
#include "kernels/cpu/gemm/gemm_kernels.h"

namespace dlcore::kernels {

using dlcore::OptimKind;
using dlcore::OptimStep;
using dlcore::RnnCell;

enum class BinaryOp : int { Add, Sub, Mul, Div, Max, Min };
// clang-format off
enum class UnaryOp : int {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Relu, Sigmoid, Tanh, Sin, Cos, Square,
  Log1p, Expm1, Log2, Log10, Exp2, Erf, Erfc, Reciprocal, Sinh, Cosh, Asin, Acos, Atan,
  Floor, Ceil, Round, Trunc  // the rounding ops keep integer inputs as they are
};
// clang-format on
constexpr int kUnaryOpCount = static_cast<int>(UnaryOp::Trunc) + 1;

// Activations of the nn layers, each with a fused backward (dx = g * f'(x)).
// a and b are the op's parameters (see activation_simd.cpp for each formula).
enum class ActOp : int {
  LeakyRelu,  // a = negative_slope
  Elu,        // a = alpha
  Softplus,   // a = beta, b = threshold
  Gelu,       // exact, with erf
  GeluTanh,   // the tanh approximation
  Silu,
  Hardtanh,         // a = min_val, b = max_val
  Hardsigmoid,      // clip(x / 6 + 1/2, 0, 1)
  PiecewiseLinear,  // clip(x + 1/2, 0, 1)
  Step,             // Heaviside step, 1/2 at 0, zero gradient
  // relu, sigmoid and tanh (unary ops): their backward reads the saved output y
  // in place of x, dx = g * f'(y).
  ReluOutput,
  SigmoidOutput,
  TanhOutput,
};

// One batch row of a recurrent cell's step (rnn_cell_simd.cpp has the equations).
template <class T>
using RnnForwardFn = void (*)(RnnCell cell, int64_t H, const T* gx, const T* gh, const T* prev,
                              T* saved, T* c_out, T* h_out);
template <class T>
using RnnBackwardFn = void (*)(RnnCell cell, int64_t H, const T* saved, const T* prev,
                               const T* cur, const T* dh, T* dstate, T* dgx, T* dgh);

// The softmax steps of fused attention on one tile of scores (attention_simd.cpp has
// the equations): the online update of the forward, the probabilities from the saved
// log-sum-exp, and the score gradient of the backward.
template <class T>
using AttnOnlineFn = void (*)(int64_t rows, int64_t cols, T* s, int64_t lds, T* m, T* l, T* acc,
                              int64_t ldacc, int64_t dv, T scale);
template <class T>
using AttnProbsFn = void (*)(int64_t rows, int64_t cols, T* s, int64_t lds, const T* lse, T scale);
template <class T>
using AttnDscoresFn = void (*)(int64_t rows, int64_t cols, const T* p, int64_t lds, T* dp,
                               const T* delta, T scale);
// out[r] = a[r] . b[r] over n adjacent values (rows at strides lda and ldb): the backward's
// delta, dO . O or, from a tile, rowsum(P dP).
template <class T>
using AttnRowDotsFn = void (*)(int64_t rows, int64_t n, const T* a, int64_t lda, const T* b,
                               int64_t ldb, T* out);
// The forward's last step for `rows` rows of n outputs (row stride ldo): o /= l and
// lse = a m + log2(l) per row; a row with l = 0 (every key masked) gets zeros and lse = inf.
template <class T>
using AttnFinishFn = void (*)(int64_t rows, int64_t n, T* o, int64_t ldo, const T* m, const T* l,
                              T a, T* lse);

// One row of layer normalisation (or RMS normalisation, rms = true), and the backward of
// `rows` consecutive rows (layer_norm_simd.cpp has the equations); dw and db accumulate in
// double, and are given together (both or neither; dx may be null).
template <class T>
using RowNormForwardFn = void (*)(bool rms, int64_t D, const T* x, const T* w, const T* b,
                                  double eps, T* y, double& mean, double& rstd);
template <class T>
using RowsNormBackwardFn = void (*)(bool rms, int64_t D, int64_t rows, const T* x, const T* g,
                                    const T* w, const double* mean, const double* rstd, T* dx,
                                    double* dw, double* db);

// Batch normalisation's passes over one run of a channel (batch_norm_simd.cpp): sums
// added to s[0], s[1] in double, and the map y = a (x - shift) + b g + c.
struct ChannelAffine {
  double shift, a, b, c;
};
template <class T>
using ChannelSumsFn = void (*)(const T* x, const T* g, int64_t n, double shift, double* s);
template <class T>
using ChannelAffineFn = void (*)(const T* x, const T* g, int64_t n, const ChannelAffine& m,
                                 T* y);

template <class T>
using OptimFn = void (*)(const OptimStep& s, T* p, const T* g, T* s1, T* s2, T* s3, int64_t n);

// Several single-channel plane convolutions sharing one input plane: output r < count
// at out + r out_stride, its weights at w + r w_stride.
struct PlaneBatch {
  int64_t count = 1, w_stride = 0, out_stride = 0;
};
template <class T>
using DepthwiseFn = void (*)(const ConvGeometry& g, const T* a, const T* b, T* out,
                             const PlaneBatch& batch);

// One row of tiles of Winograd's F(2x2, 3x3) (conv_winograd_simd.cpp), channel-last:
// strip value (i, col, c) at s[i s_row + col C + c]; tile t's sixteen transformed
// values of channel c at out[t ld + xi x + c], x = 4 i + j < 16.
struct WinogradRow {
  int64_t C, tiles, s_row, ld, xi;
};
// input: strip rows 0-3 to B^T d B; output: A^T m A + bias (bias may be null) to strip
// rows 0-1; grad_output: strip rows 0-1 of dy to A dy A^T.
template <class T>
using WinogradInputFn = void (*)(const WinogradRow& r, const T* s, T* v);
template <class T>
using WinogradOutputFn = void (*)(const WinogradRow& r, const T* m, T* s, const T* bias);

// Bit flags for elementwise kernels.
constexpr int kStreamStores = 1;  // write with non-temporal stores (output larger than cache)

struct KernelTable {
  const char* name;
  // out[i] = a[i * sa] op b[i * sb], i < n, where sa and sb are 0 (broadcast) or 1.
  void (*binary_f32)(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                     float* out, int64_t n, int flags);
  void (*binary_f64)(BinaryOp op, const double* a, int64_t sa, const double* b, int64_t sb,
                     double* out, int64_t n, int flags);
  // out[i] = op(x[i]), i < n.
  void (*unary_f32)(UnaryOp op, const float* x, float* out, int64_t n, int flags);
  void (*unary_f64)(UnaryOp op, const double* x, double* out, int64_t n, int flags);
  // Sum of x[0..n) in a fixed order (the same bits whatever the caller's threads).
  double (*sum_f32)(const float* x, int64_t n);
  double (*sum_f64)(const double* x, int64_t n);
  // The largest (is_max) or smallest of x[0..n) (n >= 1), NaN if any is NaN.
  float (*extreme_f32)(const float* x, int64_t n, bool is_max);
  double (*extreme_f64)(const double* x, int64_t n, bool is_max);
  // out[j] = sum over r < rows of x[r * ld + j], j < m (rows >= 1), in order of r.
  void (*colsum_f32)(const float* x, int64_t rows, int64_t ld, int64_t m, float* out);
  void (*colsum_f64)(const double* x, int64_t rows, int64_t ld, int64_t m, double* out);
  // out[i] = f(x[i]) (and deriv[i] = f'(x[i]) where deriv is not null) and
  // dx[i] = g[i] * f'(x[i]), i < n.
  void (*act_forward_f32)(ActOp op, double a, double b, const float* x, float* out, float* deriv,
                          int64_t n);
  void (*act_forward_f64)(ActOp op, double a, double b, const double* x, double* out, double* deriv,
                          int64_t n);
  void (*act_backward_f32)(ActOp op, double a, double b, const float* x, const float* g, float* dx,
                           int64_t n);
  void (*act_backward_f64)(ActOp op, double a, double b, const double* x, const double* g,
                           double* dx, int64_t n);
  // An optimizer's update of p[0..n) from its gradient g and state.
  OptimFn<float> optim_f32;
  OptimFn<double> optim_f64;
  // Depthwise convolution, one plane (conv_depthwise_simd.cpp): y += w * x, its
  // input gradient dx += adjoint(w, dy), and its weight gradient dw += dy . x.
  DepthwiseFn<float> depthwise_forward_f32;
  DepthwiseFn<double> depthwise_forward_f64;
  DepthwiseFn<float> depthwise_backward_input_f32;
  DepthwiseFn<double> depthwise_backward_input_f64;
  DepthwiseFn<float> depthwise_backward_weight_f32;
  DepthwiseFn<double> depthwise_backward_weight_f64;
  // The patch matrix of one image (conv_im2col.h's index map), rows ld apart.
  void (*im2col_f32)(const ConvGeometry& g, const float* x, float* col, int64_t ld);
  void (*im2col_f64)(const ConvGeometry& g, const double* x, double* col, int64_t ld);
  // Its adjoint: dx += the patch matrix col (rows Ho Wo apart) summed onto the image.
  void (*col2im_f32)(const ConvGeometry& g, const float* col, float* dx);
  void (*col2im_f64)(const ConvGeometry& g, const double* col, double* dx);
  // dst[j ldd + i] = src[i lds + j] for i < rows, j < cols.
  void (*transpose_f32)(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst,
                        int64_t ldd);
  void (*transpose_f64)(const double* src, int64_t rows, int64_t cols, int64_t lds, double* dst,
                        int64_t ldd);
  // Winograd F(2x2, 3x3) transforms of one row of tiles.
  WinogradInputFn<float> winograd_input_f32;
  WinogradInputFn<double> winograd_input_f64;
  WinogradOutputFn<float> winograd_output_f32;
  WinogradOutputFn<double> winograd_output_f64;
  WinogradInputFn<float> winograd_grad_output_f32;
  WinogradInputFn<double> winograd_grad_output_f64;
  // Max pooling over 2x2 windows at stride 2 without padding, one plane (pool_simd.cpp):
  // y[oh][ow] and its flat index idx[oh][ow] for ho x wo outputs, input rows in_w apart.
  void (*max_pool_2x2_f32)(const float* x, int64_t in_w, int64_t ho, int64_t wo, float* y,
                           int64_t* idx);
  void (*max_pool_2x2_f64)(const double* x, int64_t in_w, int64_t ho, int64_t wo, double* y,
                           int64_t* idx);
  // Average pooling over the same windows, y = window sum / div, and its backward
  // (dx += dy / div over each window).
  void (*avg_pool_2x2_f32)(const float* x, int64_t in_w, int64_t ho, int64_t wo, float div,
                           float* y);
  void (*avg_pool_2x2_f64)(const double* x, int64_t in_w, int64_t ho, int64_t wo, double div,
                           double* y);
  void (*avg_pool_2x2_backward_f32)(const float* dy, int64_t in_w, int64_t ho, int64_t wo,
                                    float div, float* dx);
  void (*avg_pool_2x2_backward_f64)(const double* dy, int64_t in_w, int64_t ho, int64_t wo,
                                    double div, double* dx);
  // The gate step of RNN, LSTM and GRU cells, one batch row, forward and backward.
  RnnForwardFn<float> rnn_cell_forward_f32;
  RnnForwardFn<double> rnn_cell_forward_f64;
  RnnBackwardFn<float> rnn_cell_backward_f32;
  RnnBackwardFn<double> rnn_cell_backward_f64;
  // Fused attention's softmax on a tile of scores, forward and backward.
  AttnOnlineFn<float> attn_softmax_online_f32;
  AttnOnlineFn<double> attn_softmax_online_f64;
  AttnProbsFn<float> attn_softmax_probs_f32;
  AttnProbsFn<double> attn_softmax_probs_f64;
  AttnDscoresFn<float> attn_softmax_dscores_f32;
  AttnDscoresFn<double> attn_softmax_dscores_f64;
  AttnRowDotsFn<float> attn_row_dots_f32;
  AttnRowDotsFn<double> attn_row_dots_f64;
  AttnFinishFn<float> attn_finish_f32;
  AttnFinishFn<double> attn_finish_f64;
  // The softmax (log false) and log_softmax (log true) ops over rows of n adjacent
  // values, forward (x to y) and backward (dx from y and the gradient g of y).
  void (*softmax_rows_f32)(const float* x, float* y, int64_t rows, int64_t n, bool log);
  void (*softmax_rows_f64)(const double* x, double* y, int64_t rows, int64_t n, bool log);
  void (*softmax_rows_backward_f32)(const float* y, const float* g, float* dx, int64_t rows,
                                    int64_t n, bool log);
  void (*softmax_rows_backward_f64)(const double* y, const double* g, double* dx, int64_t rows,
                                    int64_t n, bool log);
  // The same along a dimension of n values `inner` apart, over `cols` adjacent columns
  // (value r of column j at [r inner + j]).
  void (*softmax_cols_f32)(const float* x, float* y, int64_t n, int64_t inner, int64_t cols,
                           bool log);
  void (*softmax_cols_f64)(const double* x, double* y, int64_t n, int64_t inner, int64_t cols,
                           bool log);
  void (*softmax_cols_backward_f32)(const float* y, const float* g, float* dx, int64_t n,
                                    int64_t inner, int64_t cols, bool log);
  void (*softmax_cols_backward_f64)(const double* y, const double* g, double* dx, int64_t n,
                                    int64_t inner, int64_t cols, bool log);
  // out[c] = exp(a in[c] - sub) over n adjacent values (out may be in), returning their
  // sum; for arguments at most about 0 (a shift by the maximum or a log-sum-exp), exactly 0
  // from -87 down (attention_simd.cpp).
  float (*exp_shift_sum_f32)(const float* in, float* out, int64_t n, float sub, float a);
  double (*exp_shift_sum_f64)(const double* in, double* out, int64_t n, double sub, double a);
  // Layer and RMS normalisation, one row.
  RowNormForwardFn<float> row_norm_forward_f32;
  RowNormForwardFn<double> row_norm_forward_f64;
  RowsNormBackwardFn<float> rows_norm_backward_f32;
  RowsNormBackwardFn<double> rows_norm_backward_f64;
  // Batch normalisation, one run of a channel.
  ChannelSumsFn<float> channel_sums_f32;
  ChannelSumsFn<double> channel_sums_f64;
  ChannelAffineFn<float> channel_affine_f32;
  ChannelAffineFn<double> channel_affine_f64;
  // Packing and micro-kernels of the GEMM (gemm/gemm_driver.cpp runs the loops).
  GemmKernels<float> gemm_f32;
  GemmKernels<double> gemm_f64;
};

// The float32 or the float64 member of a pair in the table, for code templated on T:
// for_dtype<T>(t.rnn_cell_forward_f32, t.rnn_cell_forward_f64).
template <class T, class F32, class F64>
constexpr auto for_dtype(F32 f32, F64 f64) {
  if constexpr (std::is_same_v<T, float>)
    return f32;
  else
    return f64;
}

// The table in use (set at load time, or by set_isa / DLCORE_ISA).
const KernelTable& active();

// Each compiled instruction set's table.
namespace generic { const KernelTable& table(); }
namespace avx2 { const KernelTable& table(); }
namespace avx512 { const KernelTable& table(); }

}  // namespace dlcore::kernels
