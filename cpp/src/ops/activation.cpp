// The activations of the nn layers (leaky_relu, elu, softplus, gelu, silu,
// hardtanh, hardsigmoid, piecewise_linear, heaviside_step): one kernel call per
// thread's slice forward, and one fused backward dx = g * f'(x) from the saved
// input. Where f' costs about as much as f (gelu, silu, elu, softplus), a forward that
// records a node writes f'(x) next to f(x) in the same pass and the node keeps it in
// place of x: the backward is then one multiply, g * f'(x), with the same bits.
// Formulas are in kernels/cpu/activation_simd.cpp. (relu, sigmoid and tanh are unary
// ops: ops/unary.cpp.)
#include "kernels/cpu/kernels.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

using kernels::ActOp;

const char* act_name(ActOp op) {
  static const char* names[] = {
      "leaky_relu", "elu",         "softplus",         "gelu",           "gelu", "silu",
      "hardtanh",   "hardsigmoid", "piecewise_linear", "heaviside_step", "relu", "sigmoid",
      "tanh"};
  return names[static_cast<int>(op)];
}

// Whether the forward keeps f'(x) for the backward (see the top of the file).
bool keeps_derivative(ActOp op) {
  return op == ActOp::Gelu || op == ActOp::GeluTanh || op == ActOp::Silu || op == ActOp::Elu ||
         op == ActOp::Softplus;
}

// One kernel call per thread's slice of n elements, slices of whole cache lines:
// forward out = f(x) (g null; deriv = f'(x) too where not null), or backward dx = g f'(x).
template <class T>
void run_slices(ActOp op, double a, double b, const T* x, const T* g, T* out, int64_t n,
                T* deriv = nullptr) {
  const auto& kt = kernels::active();
  const auto forward = kernels::for_dtype<T>(kt.act_forward_f32, kt.act_forward_f64);
  const auto backward = kernels::for_dtype<T>(kt.act_backward_f32, kt.act_backward_f64);
  parallel_for(
      0, n, kMinElementsPerThread,
      [&](int64_t lo, int64_t hi) {
        if (g)
          backward(op, a, b, x + lo, g + lo, out + lo, hi - lo);
        else
          forward(op, a, b, x + lo, out + lo, deriv ? deriv + lo : nullptr, hi - lo);
      },
      64 / static_cast<int64_t>(sizeof(T)));
}

}  // namespace

// dx = g * f'(x) (f'(y) for the *Output ops), x any layout, g of x's shape.
Tensor activation_backward(ActOp op, double a, double b, const Tensor& x_in, const Tensor& g_in) {
  Tensor x = contiguous(x_in), g = contiguous(g_in.to(x_in.dtype()));
  Tensor dx = empty(x.shape(), x.dtype());
  if (x.dtype() == DType::Float32)
    run_slices<float>(op, a, b, x.data<float>(), g.data<float>(), dx.data<float>(), x.numel());
  else
    run_slices<double>(op, a, b, x.data<double>(), g.data<double>(), dx.data<double>(), x.numel());
  return dx;
}

namespace {

Tensor activation(ActOp op, const Tensor& x_in, double a = 0.0, double b = 0.0) {
  const char* name = act_name(op);
  if (!is_floating(x_in.dtype()))
    throw TypeError(
        str_cat(name, ": expected a float32 or float64 tensor, got ", dtype_name(x_in.dtype())));
  Tensor x = contiguous(x_in);
  Tensor out = empty(x.shape(), x.dtype());
  auto node = make_node(name, {x_in});
  const bool keep = node && keeps_derivative(op);
  Tensor deriv = keep ? empty(x.shape(), x.dtype()) : Tensor();
  if (x.dtype() == DType::Float32)
    run_slices<float>(op, a, b, x.data<float>(), nullptr, out.data<float>(), x.numel(),
                      keep ? deriv.data<float>() : nullptr);
  else
    run_slices<double>(op, a, b, x.data<double>(), nullptr, out.data<double>(), x.numel(),
                       keep ? deriv.data<double>() : nullptr);
  if (node) {
    node->save(keep ? deriv : x_in);
    node->backward = [op, a, b, name, keep](FunctionNode& n, const std::vector<Tensor>& g) {
      Tensor s = n.saved(0);                       // f'(x) where keep, else x
      check_first_order(name, {&g[0], &s}, keep);  // f'(x) depends on x
      if (keep) return std::vector<Tensor>{mul(g[0].to(s.dtype()), s)};
      return std::vector<Tensor>{activation_backward(op, a, b, s, g[0])};
    };
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation(ActOp::LeakyRelu, x, negative_slope);
}
Tensor elu(const Tensor& x, double alpha) { return activation(ActOp::Elu, x, alpha); }
Tensor softplus(const Tensor& x, double beta, double threshold) {
  if (beta == 0.0) throw ValueError("softplus: beta must be nonzero");
  return activation(ActOp::Softplus, x, beta, threshold);
}
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return activation(tanh_approximation ? ActOp::GeluTanh : ActOp::Gelu, x);
}
Tensor silu(const Tensor& x) { return activation(ActOp::Silu, x); }
Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  if (min_val > max_val)
    throw ValueError(
        str_cat("hardtanh: min_val (", min_val, ") must not exceed max_val (", max_val, ")"));
  return activation(ActOp::Hardtanh, x, min_val, max_val);
}
Tensor hardsigmoid(const Tensor& x) { return activation(ActOp::Hardsigmoid, x); }
Tensor piecewise_linear(const Tensor& x) { return activation(ActOp::PiecewiseLinear, x); }
Tensor heaviside_step(const Tensor& x) { return activation(ActOp::Step, x); }

}  // namespace dlcore
