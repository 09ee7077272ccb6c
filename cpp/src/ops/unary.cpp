// Unary elementwise ops and clamp, with gradients. Float ops on integer or
// bool tensors compute in float32, as in PyTorch.
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/scalar_ops.h"
#include "ops/common.h"

namespace dlcore {
namespace {

using kernels::UnaryOp;
constexpr int64_t kGrain = 32768;
constexpr int64_t kStreamBytes = int64_t(8) << 20;

const char* unary_name(UnaryOp op) {
  static const char* names[] = {
      "neg",  "exp",    "log",   "sqrt",  "rsqrt", "abs",   "relu", "sigmoid", "tanh", "sin",
      "cos",  "square", "log1p", "expm1", "log2",  "log10", "exp2", "erf",     "erfc", "reciprocal",
      "sinh", "cosh",   "asin",  "acos",  "atan",  "floor", "ceil", "round",   "trunc"};
  static_assert(sizeof(names) / sizeof(names[0]) == kernels::kUnaryOpCount);
  return names[static_cast<int>(op)];
}

bool is_rounding(UnaryOp op) {
  return op == UnaryOp::Floor || op == UnaryOp::Ceil || op == UnaryOp::Round ||
         op == UnaryOp::Trunc;
}

// Whether the op computes in floating point (an integer or bool input becomes float32).
bool is_float_op(UnaryOp op) {
  return op != UnaryOp::Neg && op != UnaryOp::Abs && op != UnaryOp::Relu && op != UnaryOp::Square &&
         !is_rounding(op);
}

void unary_kernel(UnaryOp op, const Tensor& x, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  if (is_floating(x.dtype()) && x.is_contiguous() && out.is_contiguous()) {
    const auto& kt = kernels::active();
    int flags = n * static_cast<int64_t>(out.itemsize()) >= kStreamBytes ? kernels::kStreamStores : 0;
    if (x.dtype() == DType::Float32) {
      const float* px = x.data<float>();
      float* po = out.data<float>();
      parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { kt.unary_f32(op, px + b, po + b, e - b, flags); }, 16);
    } else {
      const double* px = x.data<double>();
      double* po = out.data<double>();
      parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { kt.unary_f64(op, px + b, po + b, e - b, flags); }, 8);
    }
    return;
  }
  StridedOperands<2> ops{{static_cast<char*>(out.data_ptr()), static_cast<char*>(x.data_ptr())},
                         {byte_strides(out), broadcast_byte_strides(x, out.shape())}};
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    strided_for_each<2>(out.shape(), ops, [op](char** p, const int64_t* st, int64_t m) {
      for (int64_t i = 0; i < m; ++i)
        *reinterpret_cast<T*>(p[0] + i * st[0]) = kernels::scalar_unary<T>(op, *reinterpret_cast<const T*>(p[1] + i * st[1]));
    });
  });
}

Tensor unary_forward(UnaryOp op, const Tensor& x) {
  if (x.dtype() == DType::Bool && (op == UnaryOp::Neg))
    throw TypeError("neg: negation of a bool tensor is not supported; use logical_not");
  Tensor in = x;
  if (is_float_op(op) && !is_floating(x.dtype())) in = detach(x).to(default_dtype());
  Tensor out = empty(in.shape(), in.dtype());
  unary_kernel(op, in, out);
  return out;
}

Tensor mask_grad(const Tensor& g, const Tensor& mask) { return mul(g, mask.to(g.dtype())); }
Tensor zero_of(const Tensor& t) { return scalar_tensor(Scalar(int64_t(0)), t.dtype()); }

Tensor unary(UnaryOp op, const Tensor& x) {
  Tensor out = unary_forward(op, x);
  if (!is_floating(out.dtype())) return out;
  auto node = make_node(unary_name(op), {x});
  if (!node) return out;
  DType in_dtype = x.dtype();
  bool uses_out = op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt ||
                  op == UnaryOp::Tanh || op == UnaryOp::Sigmoid || op == UnaryOp::Relu ||
                  op == UnaryOp::Expm1 || op == UnaryOp::Exp2 || op == UnaryOp::Reciprocal;
  node->save(uses_out ? out : x, uses_out);
  node->backward = [op, in_dtype](FunctionNode& n, const std::vector<Tensor>& grads) {
    const Tensor& g = grads[0];
    Tensor s = n.saved(0);  // the output for uses_out ops, otherwise the input
    // Without a graph to build (no create_graph), relu, sigmoid and tanh run one
    // fused backward kernel; with one, the rules below are differentiable again.
    if (!grad_enabled() && g.dtype() == s.dtype()) {
      if (op == UnaryOp::Relu)
        return std::vector<Tensor>{activation_backward(kernels::ActOp::ReluOutput, 0, 0, s, g)};
      if (op == UnaryOp::Sigmoid)
        return std::vector<Tensor>{activation_backward(kernels::ActOp::SigmoidOutput, 0, 0, s, g)};
      if (op == UnaryOp::Tanh)
        return std::vector<Tensor>{activation_backward(kernels::ActOp::TanhOutput, 0, 0, s, g)};
    }
    Tensor r;
    switch (op) {
      case UnaryOp::Neg: r = neg(g); break;
      case UnaryOp::Exp: r = mul(g, s); break;
      case UnaryOp::Log: r = div(g, s); break;
      case UnaryOp::Sqrt: r = div(g, mul(s, Scalar(2.0))); break;
      case UnaryOp::Rsqrt: r = mul(g, mul(pow(s, Scalar(int64_t(3))), Scalar(-0.5))); break;
      case UnaryOp::Abs: r = mul(g, sign(s)); break;
      case UnaryOp::Relu: r = mask_grad(g, gt(s, zero_of(s))); break;
      case UnaryOp::Sigmoid: r = mul(g, mul(s, rsub(s, Scalar(1.0)))); break;
      case UnaryOp::Tanh: r = mul(g, rsub(mul(s, s), Scalar(1.0))); break;
      case UnaryOp::Sin: r = mul(g, cos(s)); break;
      case UnaryOp::Cos: r = neg(mul(g, sin(s))); break;
      case UnaryOp::Square: r = mul(g, mul(s, Scalar(2.0))); break;
      case UnaryOp::Log1p: r = div(g, add(s, scalar_tensor(Scalar(1.0)))); break;
      case UnaryOp::Expm1: r = mul(g, add(s, scalar_tensor(Scalar(1.0)))); break;
      case UnaryOp::Log2: r = div(g, mul(s, Scalar(M_LN2))); break;
      case UnaryOp::Log10: r = div(g, mul(s, Scalar(M_LN10))); break;
      case UnaryOp::Exp2: r = mul(g, mul(s, Scalar(M_LN2))); break;
      case UnaryOp::Erf:  // 2 / sqrt(pi) exp(-x^2)
        r = mul(g, mul(exp(neg(mul(s, s))), Scalar(M_2_SQRTPI)));
        break;
      case UnaryOp::Erfc: r = mul(g, mul(exp(neg(mul(s, s))), Scalar(-M_2_SQRTPI))); break;
      case UnaryOp::Reciprocal: r = neg(mul(g, mul(s, s))); break;
      case UnaryOp::Sinh: r = mul(g, cosh(s)); break;
      case UnaryOp::Cosh: r = mul(g, sinh(s)); break;
      case UnaryOp::Asin: r = mul(g, rsqrt(rsub(mul(s, s), Scalar(1.0)))); break;
      case UnaryOp::Acos: r = neg(mul(g, rsqrt(rsub(mul(s, s), Scalar(1.0))))); break;
      case UnaryOp::Atan: r = div(g, add(mul(s, s), scalar_tensor(Scalar(1.0)))); break;
      case UnaryOp::Floor:
      case UnaryOp::Ceil:
      case UnaryOp::Round:
      case UnaryOp::Trunc: r = zeros_like(g); break;
    }
    return std::vector<Tensor>{r.dtype() == in_dtype ? r : r.to(in_dtype)};
  };
  set_history(out, node);
  return out;
}

}  // namespace

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary(UnaryOp::Rsqrt, x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x); }
Tensor sin(const Tensor& x) { return unary(UnaryOp::Sin, x); }
Tensor cos(const Tensor& x) { return unary(UnaryOp::Cos, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::Square, x); }
Tensor log1p(const Tensor& x) { return unary(UnaryOp::Log1p, x); }
Tensor expm1(const Tensor& x) { return unary(UnaryOp::Expm1, x); }
Tensor log2(const Tensor& x) { return unary(UnaryOp::Log2, x); }
Tensor log10(const Tensor& x) { return unary(UnaryOp::Log10, x); }
Tensor exp2(const Tensor& x) { return unary(UnaryOp::Exp2, x); }
Tensor erf(const Tensor& x) { return unary(UnaryOp::Erf, x); }
Tensor erfc(const Tensor& x) { return unary(UnaryOp::Erfc, x); }
Tensor reciprocal(const Tensor& x) { return unary(UnaryOp::Reciprocal, x); }
Tensor sinh(const Tensor& x) { return unary(UnaryOp::Sinh, x); }
Tensor cosh(const Tensor& x) { return unary(UnaryOp::Cosh, x); }
Tensor asin(const Tensor& x) { return unary(UnaryOp::Asin, x); }
Tensor acos(const Tensor& x) { return unary(UnaryOp::Acos, x); }
Tensor atan(const Tensor& x) { return unary(UnaryOp::Atan, x); }
Tensor floor(const Tensor& x) { return unary(UnaryOp::Floor, x); }
Tensor ceil(const Tensor& x) { return unary(UnaryOp::Ceil, x); }
Tensor round(const Tensor& x) { return unary(UnaryOp::Round, x); }
Tensor trunc(const Tensor& x) { return unary(UnaryOp::Trunc, x); }

// sign has a zero gradient everywhere (where defined), as in PyTorch.
Tensor sign(const Tensor& x) {
  Tensor out = empty(x.shape(), x.dtype());
  if (out.numel()) {
    StridedOperands<2> ops{{static_cast<char*>(out.data_ptr()), static_cast<char*>(x.data_ptr())},
                           {byte_strides(out), byte_strides(x)}};
    visit_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      strided_for_each<2>(out.shape(), ops, [](char** p, const int64_t* st, int64_t m) {
        for (int64_t i = 0; i < m; ++i) {
          T v = *reinterpret_cast<const T*>(p[1] + i * st[1]);
          T r;
          if constexpr (std::is_same_v<T, bool>) r = v;
          else if constexpr (std::is_floating_point_v<T>) r = v != v ? v : static_cast<T>((v > 0) - (v < 0));
          else r = static_cast<T>((v > 0) - (v < 0));
          *reinterpret_cast<T*>(p[0] + i * st[0]) = r;
        }
      });
    });
  }
  if (is_floating(x.dtype()))
    if (auto node = make_node("sign", {x})) {
      node->backward = [](FunctionNode&, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{zeros_like(g[0])};
      };
      set_history(out, node);
    }
  return out;
}

Tensor logical_not(const Tensor& x) { return eq(x, scalar_tensor(Scalar(int64_t(0)), x.dtype())); }

Tensor clamp(const Tensor& x, std::optional<Scalar> lo, std::optional<Scalar> hi) {
  if (!lo && !hi) throw ValueError("clamp: at least one of min or max must be given");
  // The bounds promote like numbers in a binary op (an int tensor clamped to 0.5 is of the
  // default dtype).
  DType d = x.dtype();
  for (const auto& s : {lo, hi})
    if (s && dtype_category(scalar_tensor(*s).dtype()) > dtype_category(d))
      d = is_floating(scalar_tensor(*s).dtype()) ? default_dtype() : DType::Int64;
  Tensor in = x.dtype() == d ? x : detach(x).to(d);
  Tensor out = empty(in.shape(), d);
  if (out.numel()) {
    StridedOperands<2> ops{{static_cast<char*>(out.data_ptr()), static_cast<char*>(in.data_ptr())},
                           {byte_strides(out), byte_strides(in)}};
    visit_dtype(d, [&](auto tag) {
      using T = decltype(tag);
      bool has_lo = lo.has_value(), has_hi = hi.has_value();
      T vlo = has_lo ? scalar_as<T>(*lo) : T(0), vhi = has_hi ? scalar_as<T>(*hi) : T(0);
      strided_for_each<2>(out.shape(), ops, [=](char** p, const int64_t* st, int64_t m) {
        for (int64_t i = 0; i < m; ++i) {
          T v = *reinterpret_cast<const T*>(p[1] + i * st[1]);
          if (has_lo && v < vlo) v = vlo;
          if (has_hi && v > vhi) v = vhi;
          *reinterpret_cast<T*>(p[0] + i * st[0]) = v;
        }
      });
    });
  }
  if (!is_floating(d)) return out;
  if (auto node = make_node("clamp", {x})) {
    node->save(x);
    node->backward = [lo, hi](FunctionNode& n, const std::vector<Tensor>& g) {
      Tensor s = n.saved(0);
      // Gradient passes where lo <= x <= hi (boundaries included, as in PyTorch).
      Tensor mask = ones_like(s, DType::Bool);
      if (lo) mask = mul(mask, ge(s, scalar_tensor(*lo)));
      if (hi) mask = mul(mask, le(s, scalar_tensor(*hi)));
      Tensor r = mask_grad(g[0], mask);
      return std::vector<Tensor>{r.dtype() == s.dtype() ? r : r.to(s.dtype())};
    };
    set_history(out, node);
  }
  return out;
}

Tensor& clamp_(Tensor& t, std::optional<Scalar> lo, std::optional<Scalar> hi) {
  check_inplace(t, "clamp_");
  Tensor r = clamp(t, lo, hi);
  if (r.dtype() != t.dtype())
    throw TypeError(str_cat("clamp_: result type ", dtype_name(r.dtype()),
                            " can't be cast to the desired output type ", dtype_name(t.dtype())));
  if (r.requires_grad()) return commit_inplace(t, r);
  copy_kernel(t, r);
  t.bump_version();
  return t;
}

Tensor& unary_(Tensor& t, const std::string& name) {
  std::optional<UnaryOp> op;
  for (int k = 0; k < kernels::kUnaryOpCount; ++k)
    if (name == unary_name(static_cast<UnaryOp>(k))) op = static_cast<UnaryOp>(k);
  if (!op) throw ValueError(str_cat("unary_: unknown in-place op '", name, "_'"));
  std::string opname = name + "_";
  check_inplace(t, opname.c_str());
  if (is_float_op(*op) && !is_floating(t.dtype()))
    throw TypeError(str_cat(opname, ": result type float32 can't be cast to the desired output type ",
                            dtype_name(t.dtype())));
  if (grad_enabled() && t.requires_grad()) return commit_inplace(t, unary(*op, clone(t)));
  unary_kernel(*op, t, t);  // each element depends only on itself: safe in place
  t.bump_version();
  return t;
}

Tensor& zero_(Tensor& t) { return fill_(t, Scalar(int64_t(0))); }

Tensor& fill_(Tensor& t, Scalar value) {
  check_inplace(t, "fill_");
  fill_kernel(t, value);
  t.bump_version();
  if (grad_enabled() && t.requires_grad()) {
    // The old value no longer matters: t's history becomes a constant.
    auto node = std::make_shared<FunctionNode>("fill_");
    node->backward = [](FunctionNode&, const std::vector<Tensor>&) { return std::vector<Tensor>{}; };
    set_history(t, node);
  }
  return t;
}

}  // namespace dlcore
