// Scalar forms of the elementwise ops, shared by the SIMD kernels (for tails
// and ops without a vector form) and the generic strided loops in ops/.
// Everything here has internal linkage, so each instruction set's copy stays
// its own (no cross-ISA merging by the linker).
#pragma once
#include <cmath>
#include <type_traits>

#include "kernels/cpu/kernels.h"

namespace dlcore::kernels {
namespace {

template <class T> inline T scalar_binary(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add: return static_cast<T>(x + y);
    case BinaryOp::Sub: return static_cast<T>(x - y);
    case BinaryOp::Mul: return static_cast<T>(x * y);
    case BinaryOp::Div:
      if constexpr (std::is_floating_point_v<T>) return x / y;
      else return y == 0 ? T(0) : static_cast<T>(x / y);
    // max/min propagate NaN from either side.
    case BinaryOp::Max:
      if constexpr (std::is_floating_point_v<T>) return (x != x || x > y) ? x : y;
      else return x > y ? x : y;
    case BinaryOp::Min:
      if constexpr (std::is_floating_point_v<T>) return (x != x || x < y) ? x : y;
      else return x < y ? x : y;
  }
  return x;
}

// Float unary ops; integer types support Neg, Abs, Relu and Square only.
template <class T> inline T scalar_unary(UnaryOp op, T x) {
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Exp: return std::exp(x);
      case UnaryOp::Log: return std::log(x);
      case UnaryOp::Sqrt: return std::sqrt(x);
      case UnaryOp::Rsqrt: return T(1) / std::sqrt(x);
      case UnaryOp::Abs: return std::fabs(x);
      case UnaryOp::Relu: return (x > T(0) || x != x) ? x : T(0);
      case UnaryOp::Sigmoid: {  // e = exp(-|x|) cannot overflow
        T e = std::exp(-std::fabs(x));
        return x < T(0) ? e / (T(1) + e) : T(1) / (T(1) + e);
      }
      case UnaryOp::Tanh: return std::tanh(x);
      case UnaryOp::Sin: return std::sin(x);
      case UnaryOp::Cos: return std::cos(x);
      case UnaryOp::Square: return x * x;
      case UnaryOp::Log1p: return std::log1p(x);
      case UnaryOp::Expm1: return std::expm1(x);
      case UnaryOp::Log2: return std::log2(x);
      case UnaryOp::Log10: return std::log10(x);
      case UnaryOp::Exp2: return std::exp2(x);
      case UnaryOp::Erf: return std::erf(x);
      case UnaryOp::Erfc: return std::erfc(x);
      case UnaryOp::Reciprocal: return T(1) / x;
      case UnaryOp::Sinh: return std::sinh(x);
      case UnaryOp::Cosh: return std::cosh(x);
      case UnaryOp::Asin: return std::asin(x);
      case UnaryOp::Acos: return std::acos(x);
      case UnaryOp::Atan: return std::atan(x);
      case UnaryOp::Floor: return std::floor(x);
      case UnaryOp::Ceil: return std::ceil(x);
      case UnaryOp::Round: return std::nearbyint(x);  // halves to even, as PyTorch
      case UnaryOp::Trunc: return std::trunc(x);
    }
  } else {
    switch (op) {
      case UnaryOp::Neg: return static_cast<T>(-x);
      case UnaryOp::Abs: return x < 0 ? static_cast<T>(-x) : x;
      case UnaryOp::Relu: return x > 0 ? x : T(0);
      case UnaryOp::Square: return static_cast<T>(x * x);
      default: break;
    }
  }
  return x;
}

}  // namespace
}  // namespace dlcore::kernels
