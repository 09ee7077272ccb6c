// dlcore's tensor operations. Binary elementwise ops broadcast with NumPy's
// rules and promote dtypes like PyTorch; every op on floating tensors records
// its gradient when grad mode is on and an input requires grad.
#pragma once
#include <array>
#include <optional>
#include <vector>

#include "dlcore/random.h"
#include "dlcore/tensor.h"

namespace dlcore {

// A number from the caller (Python int/float/bool): weak in dtype promotion.
struct Scalar {
  enum Kind { Bool, Int, Float } kind = Float;
  double f = 0.0;
  int64_t i = 0;
  Scalar() = default;
  Scalar(double v) : kind(Float), f(v), i(static_cast<int64_t>(v)) {}
  Scalar(int64_t v) : kind(Int), f(static_cast<double>(v)), i(v) {}
  Scalar(int v) : Scalar(static_cast<int64_t>(v)) {}
  Scalar(bool v) : kind(Bool), f(v), i(v) {}
  double to_double() const { return kind == Float ? f : static_cast<double>(i); }
};

using Dims = std::vector<int64_t>;

// ---------------------------------------------------------------- creation
Tensor empty(const Shape& shape, DType dtype = DType::Float32);
Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
Tensor ones(const Shape& shape, DType dtype = DType::Float32);
Tensor full(const Shape& shape, Scalar value, std::optional<DType> dtype = std::nullopt);
Tensor empty_like(const Tensor& t, std::optional<DType> dtype = std::nullopt);
Tensor zeros_like(const Tensor& t, std::optional<DType> dtype = std::nullopt);
Tensor ones_like(const Tensor& t, std::optional<DType> dtype = std::nullopt);
Tensor full_like(const Tensor& t, Scalar value, std::optional<DType> dtype = std::nullopt);
Tensor scalar_tensor(Scalar value, std::optional<DType> dtype = std::nullopt);
Tensor arange(Scalar start, Scalar end, Scalar step, std::optional<DType> dtype = std::nullopt);
Tensor linspace(double start, double end, int64_t steps, DType dtype = DType::Float32);
Tensor eye(int64_t n, int64_t m = -1, DType dtype = DType::Float32);
Tensor rand(const Shape& shape, DType dtype = DType::Float32, Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype = DType::Float32, Generator* gen = nullptr);
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = DType::Int64,
               Generator* gen = nullptr);
Tensor normal(double mean, double std, const Shape& shape, DType dtype = DType::Float32,
              Generator* gen = nullptr);
// Copies raw row-major data of the given dtype into a new tensor.
// num_samples category indices (int64) per row of probs (1-D: one row, 2-D: one per row),
// each row's non-negative weights giving the probabilities (they need not sum to 1).
// Without replacement, a row's samples are distinct, drawn in turn from the categories left
// (the order of successive draws). Draws come from gen (the default generator when null).
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false,
                   Generator* gen = nullptr);
Tensor from_blob_copy(const void* data, const Shape& shape, DType dtype);

// ---------------------------------------------------------------- views
Tensor reshape(const Tensor& t, const Shape& shape);
Tensor view(const Tensor& t, const Shape& shape);  // never copies; errors when impossible
Tensor permute(const Tensor& t, const Dims& dims);
Tensor transpose(const Tensor& t, int64_t d0, int64_t d1);
Tensor t(const Tensor& t);  // 2-D transpose (0-D and 1-D unchanged)
Tensor squeeze(const Tensor& t);
Tensor squeeze(const Tensor& t, int64_t dim);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor expand(const Tensor& t, const Shape& shape);  // -1 keeps a size
Tensor broadcast_to(const Tensor& t, const Shape& shape);
Tensor flatten(const Tensor& t, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& t, int64_t dim, std::optional<int64_t> start,
             std::optional<int64_t> end, int64_t step = 1);
Tensor select(const Tensor& t, int64_t dim, int64_t index);
Tensor as_strided_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset);
// resize_: t takes shape (row-major strides) from its offset on; its storage grows, keeping
// the values it holds, where it is too small (the tensor then no longer shares memory with
// views or arrays of the old storage). Refused for a tensor that requires grad or is a
// view into a graph. Returns t.
Tensor& resize_(Tensor& t, const Shape& shape);
Tensor contiguous(const Tensor& t);
Tensor clone(const Tensor& t);
Tensor to_dtype(const Tensor& t, DType dtype);
Tensor detach(const Tensor& t);

// ---------------------------------------------------------------- reordering copies
// flip: the values in reverse order along each of dims (a copy, as in PyTorch).
Tensor flip(const Tensor& t, const Dims& dims);
// tril / triu: the lower / upper triangle of the last two dims, the rest zero. Element
// (i, j) is kept where j - i <= diagonal (tril) or j - i >= diagonal (triu).
Tensor tril(const Tensor& t, int64_t diagonal = 0);
Tensor triu(const Tensor& t, int64_t diagonal = 0);
// Sorting along dim. sort returns (values, indices); the order is stable (equal values
// keep their order) and NaN sorts above every number, so it comes last ascending and first
// descending. topk returns the k largest (or smallest) values and their indices, always
// in sorted order, ties broken by position. The values carry gather's gradient.
std::pair<Tensor, Tensor> sort(const Tensor& t, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& t, int64_t dim = -1, bool descending = false);
std::pair<Tensor, Tensor> topk(const Tensor& t, int64_t k, int64_t dim = -1, bool largest = true);

// ---------------------------------------------------------------- elementwise
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha = Scalar(int64_t(1)));
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha = Scalar(int64_t(1)));
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// remainder: a - floor(a / b) b, the sign of b (Python's %); fmod: the sign of a (C's
// fmod); floor_divide: floor(a / b) (Python's //). Integers keep their dtype and reject a
// zero divisor; bool tensors are rejected.
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, const Tensor& b);
// Bitwise ops of integer tensors (and of bools, but for the shifts), no gradient. A shift
// by a negative amount or by the width or more gives 0 (left) or the sign fill (right).
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);
Tensor bitwise_left_shift(const Tensor& a, const Tensor& b);
Tensor bitwise_right_shift(const Tensor& a, const Tensor& b);
Tensor bitwise_not(const Tensor& a);
Tensor add(const Tensor& a, Scalar b);
Tensor sub(const Tensor& a, Scalar b);
Tensor rsub(const Tensor& a, Scalar b);  // b - a
Tensor mul(const Tensor& a, Scalar b);
Tensor div(const Tensor& a, Scalar b);
Tensor rdiv(const Tensor& a, Scalar b);  // b / a
Tensor pow(const Tensor& a, Scalar b);
Tensor rpow(const Tensor& a, Scalar b);  // b ** a

Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor log1p(const Tensor& x);  // log(1 + x), accurate for small x
Tensor expm1(const Tensor& x);  // exp(x) - 1, accurate for small x
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor exp2(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor erfc(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
// Rounding (zero gradient; integer tensors come back unchanged). round takes halves to
// the even neighbour, as PyTorch.
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);
Tensor trunc(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor square(const Tensor& x);
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);

// ---------------------------------------------------------------- in place
// Each bumps the version counter of the tensor's storage.
Tensor& add_(Tensor& a, const Tensor& b, Scalar alpha = Scalar(int64_t(1)));
Tensor& sub_(Tensor& a, const Tensor& b, Scalar alpha = Scalar(int64_t(1)));
Tensor& mul_(Tensor& a, const Tensor& b);
Tensor& div_(Tensor& a, const Tensor& b);
Tensor& copy_(Tensor& dst, const Tensor& src);  // broadcasts src, converts dtype
Tensor& zero_(Tensor& t);
Tensor& fill_(Tensor& t, Scalar value);
Tensor& clamp_(Tensor& t, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor& masked_fill_(Tensor& t, const Tensor& mask, Scalar value);
// In-place unary ops on floating tensors: neg_, exp_, log_, sqrt_, rsqrt_, abs_,
// sin_, cos_, tanh_, sigmoid_, relu_, square_ (name without the underscore).
Tensor& unary_(Tensor& t, const std::string& name);

// ---------------------------------------------------------------- reductions
// dims empty = all dims.
Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const Dims& dims = {}, double correction = 1.0, bool keepdim = false);
Tensor std(const Tensor& x, const Dims& dims = {}, double correction = 1.0, bool keepdim = false);
Tensor prod(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements
Tensor min(const Tensor& x);
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor cumsum(const Tensor& x, int64_t dim);
// Running product (integers and bools in int64), and its gradient exact where x holds
// zeros.
Tensor cumprod(const Tensor& x, int64_t dim);
// Running maximum / minimum with the index where it was reached: a tie takes the later
// index, and a NaN, once reached, stays the value (with the index of the latest NaN).
std::pair<Tensor, Tensor> cummax(const Tensor& x, int64_t dim);
std::pair<Tensor, Tensor> cummin(const Tensor& x, int64_t dim);
// log(cumsum(exp(x))) without overflow (integers in the default dtype).
Tensor logcumsumexp(const Tensor& x, int64_t dim);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Sums a broadcast gradient back to shape (used by backward rules).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---------------------------------------------------------------- linear algebra
Tensor matmul(const Tensor& a, const Tensor& b);

// ---------------------------------------------------------------- neural-network ops
// y = x W^T + b for x (..., in), W (out, in), b (out) or undefined: one GEMM with
// the bias added in its write-back. Gradients for x, W and b.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// Activations, each one fused SIMD kernel forward and one backward (formulas in
// kernels/cpu/activation_simd.cpp). Their backward is not differentiable again.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// Dropout: each element kept with probability 1 - p and scaled by 1 / (1 - p), else 0.
// The mask is drawn from a seed taken from gen (the default generator when null), one
// counter-based draw per element (dropout_keeps in random.h), so it is the same for any
// thread count and the backward regenerates it: nothing but the seed is stored.
Tensor dropout(const Tensor& x, double p, Generator* gen = nullptr);
// The same with the seed given (the backward of dropout, and tests).
Tensor dropout_seeded(const Tensor& x, double p, uint64_t seed);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
Tensor silu(const Tensor& x);
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);
Tensor hardsigmoid(const Tensor& x);
Tensor piecewise_linear(const Tensor& x);  // clip(x + 1/2, 0, 1)
Tensor heaviside_step(const Tensor& x);    // 1 for x > 0, 1/2 at 0, 0 below; zero gradient

// 2-D convolution, NCHW: x (N, C, H, W), weight (O, C / groups, kh, kw), bias (O) or
// undefined, zero padding of padding[d] on both sides; y (N, O, Ho, Wo). Patches are
// gathered per sample and multiplied by the packed GEMM (ops/conv.cpp).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              std::array<int64_t, 2> stride = {1, 1}, std::array<int64_t, 2> padding = {0, 0},
              std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1);
// Transposed convolution (the adjoint of conv2d): x (N, Cin, H, W), weight
// (Cin, Cout / groups, kh, kw); output size (H - 1) s - 2 p + d (k - 1) + output_padding + 1.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        std::array<int64_t, 2> stride = {1, 1},
                        std::array<int64_t, 2> padding = {0, 0},
                        std::array<int64_t, 2> output_padding = {0, 0}, int64_t groups = 1,
                        std::array<int64_t, 2> dilation = {1, 1});
// 1-D convolution, NCL: x (N, C, L), weight (O, C / groups, k); conv2d over H = 1.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

// Pooling over the last two dims of x (N, C, H, W). max_pool2d returns the values
// and the flat index h W + w of each maximum within its plane; its gradient goes to
// that element only. avg_pool2d divides by the window clipped to the padded input
// (count_include_pad) or by the real elements; divisor_override > 0 replaces both.
// The adaptive forms cover the input with output_size windows of near-equal size.
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel,
                                     std::array<int64_t, 2> stride,
                                     std::array<int64_t, 2> padding = {0, 0},
                                     std::array<int64_t, 2> dilation = {1, 1},
                                     bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding = {0, 0}, bool ceil_mode = false,
                  bool count_include_pad = true, int64_t divisor_override = 0);
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& x, std::array<int64_t, 2> output_size);

// Batch normalisation of x (N, C, ...) per channel: with batch statistics when
// training (or when no running statistics are given), updating running_mean and
// running_var in place as (1 - momentum) r + momentum stat (the variance unbiased);
// with the running statistics otherwise. weight and bias (C) may be undefined.
// Normalises over the last `normalized_dims` dimensions (their sizes must match
// weight's and bias's shapes when given): layer_norm subtracts the mean and divides by
// the standard deviation, rms_norm divides by the root mean square; then y * w + b.
// One fused kernel forward and one backward (statistics in double).
Tensor layer_norm(const Tensor& x, int64_t normalized_dims, const Tensor& weight,
                  const Tensor& bias, double eps);
Tensor rms_norm(const Tensor& x, int64_t normalized_dims, const Tensor& weight, double eps);
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);

enum class Reduction { None, Mean, Sum };
// Cross-entropy of logits (N, C), (C) or (N, C, d1, ...) against class indices
// (N), () or (N, d1, ...): log-softmax and negative log-likelihood in one fused
// kernel, forward and backward. weight (C) rescales each class; targets equal to
// ignore_index contribute nothing; label_smoothing mixes the one-hot target with
// the uniform distribution. Mean divides by the summed weight of the counted
// targets. Targets outside [0, C) (other than ignore_index) raise IndexError.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, double label_smoothing = 0.0,
                     Reduction reduction = Reduction::Mean);

// ---------------------------------------------------------------- joining, indexing
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split_sizes(const Tensor& t, const std::vector<int64_t>& sizes,
                                int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim = 0);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor nonzero(const Tensor& x);  // (n, ndim) int64

// One entry of a subscript t[...]: an integer, a slice, None, Ellipsis, or an
// integer/bool tensor (advanced indexing).
struct TensorIndex {
  enum Kind { Integer, Slice, None, Ellipsis, Tensor_ } kind = None;
  int64_t integer = 0;
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Tensor tensor;
  static TensorIndex make_int(int64_t i) {
    TensorIndex r;
    r.kind = Integer;
    r.integer = i;
    return r;
  }
  static TensorIndex make_slice(std::optional<int64_t> a, std::optional<int64_t> b, int64_t s) {
    TensorIndex r;
    r.kind = Slice;
    r.start = a;
    r.stop = b;
    r.step = s;
    return r;
  }
  static TensorIndex make_none() { return TensorIndex(); }
  static TensorIndex make_ellipsis() {
    TensorIndex r;
    r.kind = Ellipsis;
    return r;
  }
  static TensorIndex make_tensor(const Tensor& t) {
    TensorIndex r;
    r.kind = Tensor_;
    r.tensor = t;
    return r;
  }
};
Tensor index(const Tensor& t, const std::vector<TensorIndex>& indices);
// t[indices] = value (value broadcasts to the indexed shape).
void index_put_(Tensor& t, const std::vector<TensorIndex>& indices, const Tensor& value);

// ---------------------------------------------------------------- operators
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
inline Tensor operator*(Scalar a, const Tensor& b) { return mul(b, a); }

// ---------------------------------------------------------------- helpers
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// The dtype an op on a and b computes in (PyTorch's promotion rules).
DType result_type(const Tensor& a, const Tensor& b);
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace dlcore
