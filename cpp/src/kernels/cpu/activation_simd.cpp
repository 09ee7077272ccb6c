// Activation kernels of the nn layers, forward and fused backward, compiled once
// per instruction set. For x of any shape flattened to n elements:
//   forward   out[i] = f(x[i])
//   backward  dx[i]  = g[i] * f'(x[i])        (one pass, from the saved input)
// The functions, with their parameters a and b:
//   LeakyRelu        x > 0 ? x : a x                         f' = x > 0 ? 1 : a
//   Elu              x > 0 ? x : a (e^x - 1)                 f' = x > 0 ? 1 : a e^x
//   Softplus         log(1 + e^(a x)) / a, x where a x > b   f' = sigmoid(a x), 1 where a x > b
//   Gelu             x Phi(x) = x erfc(-x / sqrt2) / 2       f' = Phi(x) + x phi(x)
//   GeluTanh         x (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3)
//   Silu             x sigmoid(x)                            f' = s (1 + x (1 - s))
//   Hardtanh         clamp(x, a, b)                          f' = a < x < b ? 1 : 0
//   Hardsigmoid      clamp(x / 6 + 1/2, 0, 1)                f' = -3 < x < 3 ? 1/6 : 0
//   PiecewiseLinear  clamp(x + 1/2, 0, 1)                    f' = -1/2 < x < 1/2 ? 1 : 0
//   Step             x > 0 ? 1 : x < 0 ? 0 : 1/2             f' = 0
// and, for the backward of relu, sigmoid and tanh, which reads their output y:
//   ReluOutput       f'(y) = y > 0 ? 1 : 0;  SigmoidOutput  y (1 - y);  TanhOutput  1 - y^2
// NaN inputs give NaN outputs. float32 Elu, Silu, Gelu and GeluTanh (and the clamps)
// use the vector forms of vmath.h on AVX2/AVX-512 (Gelu through vnormal_cdf); the rest
// are scalar loops the compiler vectorises where it can (erfc and log1p from libm).
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"
#include "kernels/cpu/vmath.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluCubic = 0.044715;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1 / sqrt(2 pi)

template <class T>
inline T scalar_sigmoid(T x) {
  T e = std::exp(-std::fabs(x));
  return x < T(0) ? e / (T(1) + e) : T(1) / (T(1) + e);
}

template <class T>
inline T clamp_keep_nan(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

template <class T>
inline T act_scalar(ActOp op, T a, T b, T x) {
  switch (op) {
    case ActOp::LeakyRelu: return x > T(0) ? x : x * a;
    case ActOp::Elu: return x > T(0) ? x : a * std::expm1(x);
    case ActOp::Softplus: return x * a > b ? x : std::log1p(std::exp(x * a)) / a;
    case ActOp::Gelu:
      return T(0.5) * x * std::erfc(-x * T(kInvSqrt2));  // 1 + erf would cancel, x << 0
    case ActOp::GeluTanh: {
      T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
      return T(0.5) * x * (T(1) + std::tanh(u));
    }
    case ActOp::Silu: return x * scalar_sigmoid(x);
    case ActOp::Hardtanh: return clamp_keep_nan(x, a, b);
    case ActOp::Hardsigmoid: return clamp_keep_nan(x / T(6) + T(0.5), T(0), T(1));
    case ActOp::PiecewiseLinear: return clamp_keep_nan(x + T(0.5), T(0), T(1));
    case ActOp::Step: return x != x ? x : (x > T(0) ? T(1) : (x < T(0) ? T(0) : T(0.5)));
    case ActOp::ReluOutput: return (x > T(0) || x != x) ? x : T(0);
    case ActOp::SigmoidOutput: return scalar_sigmoid(x);
    case ActOp::TanhOutput: return std::tanh(x);
  }
  return x;
}

// f'(x); NaN where x is NaN, so a NaN input never turns into a finite gradient.
template <class T>
inline T act_derivative(ActOp op, T a, T b, T x) {
  if (op == ActOp::ReluOutput)
    return (x > T(0) || x != x) ? T(1) : T(0);  // passes g where y is NaN
  if (x != x) return x;
  switch (op) {
    case ActOp::LeakyRelu: return x > T(0) ? T(1) : a;
    case ActOp::Elu: return x > T(0) ? T(1) : a * std::exp(x);
    case ActOp::Softplus: return x * a > b ? T(1) : scalar_sigmoid(x * a);
    case ActOp::Gelu:
      return T(0.5) * std::erfc(-x * T(kInvSqrt2)) + x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    case ActOp::GeluTanh: {
      T x2 = x * x;
      T t = std::tanh(T(kSqrt2OverPi) * (x + T(kGeluCubic) * x2 * x));
      return T(0.5) * (T(1) + t) +
             T(0.5) * x * (T(1) - t * t) * T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x2);
    }
    case ActOp::Silu: {
      T s = scalar_sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case ActOp::Hardtanh: return (x > a && x < b) ? T(1) : T(0);
    case ActOp::Hardsigmoid: return (x > T(-3) && x < T(3)) ? T(1) / T(6) : T(0);
    case ActOp::PiecewiseLinear: return (x > T(-0.5) && x < T(0.5)) ? T(1) : T(0);
    case ActOp::Step: return T(0);
    case ActOp::ReluOutput: return T(1);  // handled above
    case ActOp::SigmoidOutput: return x * (T(1) - x);
    case ActOp::TanhOutput: return T(1) - x * x;
  }
  return T(0);
}

#if !defined(DLCORE_ISA_generic)
// f(x) and f'(x) together, for the ops whose derivative has a vector form: run(f) gets
// f(v, d), which returns f(v) and sets d = f'(v). The backward (dx = g f'(x)) and the
// forward that keeps f'(x) for it both take f' from here, so they give the same bits.
template <class Run>
inline bool with_derivative_vec(ActOp op, Run&& run) {
  const VF one = VF::broadcast(1.0f), half = VF::broadcast(0.5f);
  switch (op) {
    case ActOp::Silu:
      return run([=](VF v, VF& d) {
        const VF s = vsigmoid(v);
        d = vmul(s, vfma(v, vsub(one, s), one));
        return vmul(v, s);
      });
    case ActOp::Gelu:  // Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
      return run([=](VF v, VF& d) {
        VF gauss;
        const VF cdf = vnormal_cdf(v, &gauss);
        d = vfma(vmul(v, VF::broadcast(float(kInvSqrt2Pi))), gauss, cdf);
        return vmul(v, cdf);
      });
    case ActOp::GeluTanh:
      return run([=](VF v, VF& d) {
        const VF k = VF::broadcast(float(kSqrt2OverPi));
        const VF x2 = vmul(v, v);
        const VF t = vtanh(vmul(k, vfma(vmul(VF::broadcast(float(kGeluCubic)), x2), v, v)));
        const VF du = vmul(k, vfma(VF::broadcast(float(3 * kGeluCubic)), x2, one));
        d = vfma(vmul(vmul(half, v), vsub(one, vmul(t, t))), du, vmul(half, vadd(one, t)));
        return vmul(vmul(half, v), vadd(one, t));
      });
    default: return false;
  }
}

// out = f(x) and deriv = f'(x) where with_derivative_vec has op; false otherwise.
inline bool act_forward_derivative_vec(ActOp op, const float* x, float* out, float* deriv,
                                       int64_t n) {
  return with_derivative_vec(op, [&](auto f) {
    vec_loop<float>(n, [&](int64_t i, int c) {
      VF d;
      store_n(f(load_n(x, i, c), d), out, i, c);
      store_n(d, deriv, i, c);
    });
    return true;
  });
}

// Vector forms for float32; false when op has none.
inline bool act_forward_vec(ActOp op, float a, float b, const float* x, float* out, int64_t n) {
  const VF one = VF::broadcast(1.0f), half = VF::broadcast(0.5f);
  auto run = [&](auto f) {
    vec_loop<float>(n, [&](int64_t i, int c) { store_n(f(load_n(x, i, c)), out, i, c); });
    return true;
  };
  switch (op) {
    case ActOp::Elu:
      return run(
          [&](VF v) { return vselect_neg(v, vmul(VF::broadcast(a), vsub(vexp(v), one)), v); });
    case ActOp::Silu: return run([&](VF v) { return vmul(v, vsigmoid(v)); });
    case ActOp::Gelu: return run([&](VF v) { return vmul(v, vnormal_cdf(v)); });
    case ActOp::GeluTanh:
      return run([&](VF v) {
        VF u = vmul(VF::broadcast(float(kSqrt2OverPi)),
                    vfma(vmul(VF::broadcast(float(kGeluCubic)), vmul(v, v)), v, v));
        return vmul(vmul(half, v), vadd(one, vtanh(u)));
      });
    case ActOp::Hardtanh: return run([&](VF v) { return vclamp(v, a, b); });
    case ActOp::Hardsigmoid:
      return run(
          [&](VF v) { return vclamp(vfma(v, VF::broadcast(1.0f / 6.0f), half), 0.0f, 1.0f); });
    case ActOp::PiecewiseLinear:
      return run([&](VF v) { return vclamp(vadd(v, half), 0.0f, 1.0f); });
    default: return false;
  }
}

inline bool act_backward_vec(ActOp op, const float* x, const float* g, float* dx, int64_t n) {
  const VF one = VF::broadcast(1.0f);
  auto run = [&](auto f) {
    vec_loop<float>(
        n, [&](int64_t i, int c) { store_n(f(load_n(x, i, c), load_n(g, i, c)), dx, i, c); });
    return true;
  };
  switch (op) {
    case ActOp::SigmoidOutput:
      return run([&](VF y, VF gv) { return vmul(gv, vmul(y, vsub(one, y))); });
    case ActOp::TanhOutput:
      return run([&](VF y, VF gv) { return vmul(gv, vsub(one, vmul(y, y))); });
    default:
      return with_derivative_vec(op, [&](auto f) {
        return run([&](VF v, VF gv) {
          VF d;
          f(v, d);
          return vmul(gv, d);
        });
      });
  }
}
#endif

// out = f(x), and deriv = f'(x) where deriv is not null (each f'(x) the value the backward
// would multiply g by).
template <class T>
void act_forward(ActOp op, double a, double b, const T* x, T* out, T* deriv, int64_t n) {
  const T ta = static_cast<T>(a), tb = static_cast<T>(b);
#if !defined(DLCORE_ISA_generic)
  if constexpr (sizeof(T) == 4)
    if (deriv && act_forward_derivative_vec(op, x, out, deriv, n)) return;
  if constexpr (sizeof(T) == 4)
    if (act_forward_vec(op, static_cast<float>(a), static_cast<float>(b), x, out, n)) {
      if (deriv)
        for (int64_t i = 0; i < n; ++i) deriv[i] = act_derivative<T>(op, ta, tb, x[i]);
      return;
    }
#endif
  if (deriv) {
    for (int64_t i = 0; i < n; ++i) {
      out[i] = act_scalar<T>(op, ta, tb, x[i]);
      deriv[i] = act_derivative<T>(op, ta, tb, x[i]);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = act_scalar<T>(op, ta, tb, x[i]);
}

template <class T>
void act_backward(ActOp op, double a, double b, const T* x, const T* g, T* dx, int64_t n) {
  if (op == ActOp::ReluOutput) {  // one unordered compare: g passes where y > 0 or y is NaN
    for (int64_t i = 0; i < n; ++i) dx[i] = x[i] <= T(0) ? T(0) : g[i];
    return;
  }
#if !defined(DLCORE_ISA_generic)
  if constexpr (sizeof(T) == 4)
    if (act_backward_vec(op, x, g, dx, n)) return;
#endif
  const T ta = static_cast<T>(a), tb = static_cast<T>(b);
  for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * act_derivative<T>(op, ta, tb, x[i]);
}

}  // namespace

void act_forward_f32(ActOp op, double a, double b, const float* x, float* out, float* deriv,
                     int64_t n) {
  act_forward<float>(op, a, b, x, out, deriv, n);
}
void act_forward_f64(ActOp op, double a, double b, const double* x, double* out, double* deriv,
                     int64_t n) {
  act_forward<double>(op, a, b, x, out, deriv, n);
}
void act_backward_f32(ActOp op, double a, double b, const float* x, const float* g, float* dx,
                      int64_t n) {
  act_backward<float>(op, a, b, x, g, dx, n);
}
void act_backward_f64(ActOp op, double a, double b, const double* x, const double* g, double* dx,
                      int64_t n) {
  act_backward<double>(op, a, b, x, g, dx, n);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
