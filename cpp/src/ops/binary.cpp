// Binary elementwise ops (add, sub, mul, div, pow, maximum, minimum, remainder, fmod,
// floor_divide), the bitwise ops of integers and bools (and, or, xor, shifts), the
// comparisons, where/masked_fill, and the in-place variants, with gradients.
// Broadcasting follows NumPy; dtypes promote as in PyTorch (result_type).
#include <cmath>
#include <type_traits>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/scalar_ops.h"
#include "ops/common.h"

namespace dlcore {
namespace {

using kernels::BinaryOp;

// clang-format off
enum class BK {
  Add, Sub, Mul, Div, Max, Min, Pow, Rem, Fmod, FloorDiv,
  BitAnd, BitOr, BitXor, Shl, Shr,
  Eq, Ne, Lt, Le, Gt, Ge
};
// clang-format on
// Add..Min double as kernels::BinaryOp values.
static_assert(static_cast<int>(BK::Min) == static_cast<int>(BinaryOp::Min));

constexpr int64_t kGrain = 32768;
constexpr int64_t kStreamBytes = int64_t(8) << 20;

bool is_compare(BK k) { return k >= BK::Eq; }
bool is_bitwise(BK k) { return k >= BK::BitAnd && k <= BK::Shr; }

template <class T> inline T int_pow(T base, T exp) {
  T r = 1;
  while (exp > 0) {
    if (exp & 1) r *= base;
    base *= base;
    exp >>= 1;
  }
  return r;
}

// x mod y with the sign of y (Python's %, PyTorch's remainder); integers are checked for a
// zero divisor before the kernel runs.
template <class T>
inline T remainder_of(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    T m = std::fmod(x, y);
    return m != 0 && ((y < 0) != (m < 0)) ? m + y : m;
  } else {
    if (y == T(-1)) return T(0);  // the lowest value % -1 would trap
    T m = static_cast<T>(x % y);
    return m != 0 && ((y < 0) != (m < 0)) ? static_cast<T>(m + y) : m;
  }
}

// floor(x / y) as Python computes it for floats: from fmod, so that 1 // 0.1 is 9 (0.1 is
// a little above 1/10), with the quotient rounded to the nearest integer it is within 1/2
// of; integers round toward -inf.
template <class T>
inline T floor_divide_of(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    if (y == 0) return x / y;
    const T mod = std::fmod(x, y);
    T q = (x - mod) / y;
    if (mod != 0 && ((y < 0) != (mod < 0))) q -= 1;
    if (q == 0) return std::copysign(T(0), x / y);
    T f = std::floor(q);
    return q - f > T(0.5) ? f + 1 : f;
  } else {
    // The lowest value / -1 would trap: -x, wrapping as PyTorch's does.
    if (y == T(-1)) return static_cast<T>(T(0) - static_cast<std::make_unsigned_t<T>>(x));
    T q = static_cast<T>(x / y);
    return (x % y != 0 && ((x < 0) != (y < 0))) ? static_cast<T>(q - 1) : q;
  }
}

// Shifts as PyTorch defines them for any shift: left by a negative amount or by the width or
// more gives 0; right by such an amount fills with the sign (0 or -1). Shifting left goes
// through the unsigned type, so bits leave at the top without overflow.
template <class T>
inline T shift_of(BK k, T x, T y) {
  constexpr T width = static_cast<T>(sizeof(T) * 8);
  if (k == BK::Shl)
    return y < 0 || y >= width ? T(0)
                               : static_cast<T>(static_cast<std::make_unsigned_t<T>>(x) << y);
  return y < 0 || y >= width ? static_cast<T>(x < 0 ? -1 : 0) : static_cast<T>(x >> y);
}

template <class T> inline T apply(BK k, T x, T y) {
  if (k < BK::Pow)
    return kernels::scalar_binary<T>(static_cast<BinaryOp>(static_cast<int>(k)), x, y);
  if constexpr (std::is_same_v<T, bool>) {
    switch (k) {
      case BK::BitAnd: return x && y;
      case BK::BitOr: return x || y;
      case BK::BitXor: return x != y;
      default: return x || !y;  // Pow (the others reject bool tensors)
    }
  } else {
    if constexpr (std::is_integral_v<T>) {
      switch (k) {
        case BK::BitAnd: return static_cast<T>(x & y);
        case BK::BitOr: return static_cast<T>(x | y);
        case BK::BitXor: return static_cast<T>(x ^ y);
        case BK::Shl:
        case BK::Shr: return shift_of(k, x, y);
        default: break;
      }
    }
    switch (k) {
      case BK::Rem: return remainder_of(x, y);
      case BK::Fmod:
        if constexpr (std::is_floating_point_v<T>)
          return std::fmod(x, y);
        else
          return y == T(-1) ? T(0) : static_cast<T>(x % y);
      case BK::FloorDiv: return floor_divide_of(x, y);
      default: break;
    }
    if constexpr (std::is_floating_point_v<T>)
      return std::pow(x, y);
    else
      return int_pow(x, y);
  }
}

template <class T> inline bool compare(BK k, T x, T y) {
  switch (k) {
    case BK::Eq: return x == y;
    case BK::Ne: return x != y;
    case BK::Lt: return x < y;
    case BK::Le: return x <= y;
    case BK::Gt: return x > y;
    default: return x >= y;
  }
}

const char* bk_name(BK k) {
  // clang-format off
  static const char* names[] = {
      "add", "sub", "mul", "div", "maximum", "minimum", "pow", "remainder", "fmod", "floor_divide",
      "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
      "eq", "ne", "lt", "le", "gt", "ge"};
  // clang-format on
  return names[static_cast<int>(k)];
}

// SIMD layout code for operand t against out: 1 contiguous, 0 broadcast scalar, -1 neither.
int simd_layout(const Tensor& t, const Tensor& out) {
  if (t.numel() == 1) return 0;
  return (t.shape() == out.shape() && t.is_contiguous()) ? 1 : -1;
}

// out = a op b; a and b already have the compute dtype; out has it too (or bool).
void binary_kernel(BK k, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  if (k <= BK::Min && is_floating(out.dtype()) && out.is_contiguous()) {
    int la = simd_layout(a, out), lb = simd_layout(b, out);
    if (la >= 0 && lb >= 0) {
      const auto& kt = kernels::active();
      auto op = static_cast<BinaryOp>(static_cast<int>(k));
      int flags = n * static_cast<int64_t>(out.itemsize()) >= kStreamBytes ? kernels::kStreamStores : 0;
      if (out.dtype() == DType::Float32) {
        const float *pa = a.data<float>(), *pb = b.data<float>();
        float* po = out.data<float>();
        parallel_for(0, n, kGrain, [&](int64_t s, int64_t e) {
          kt.binary_f32(op, pa + s * la, la, pb + s * lb, lb, po + s, e - s, flags);
        }, 16);
      } else {
        const double *pa = a.data<double>(), *pb = b.data<double>();
        double* po = out.data<double>();
        parallel_for(0, n, kGrain, [&](int64_t s, int64_t e) {
          kt.binary_f64(op, pa + s * la, la, pb + s * lb, lb, po + s, e - s, flags);
        }, 8);
      }
      return;
    }
  }
  StridedOperands<3> ops{
      {static_cast<char*>(out.data_ptr()), static_cast<char*>(a.data_ptr()),
       static_cast<char*>(b.data_ptr())},
      {byte_strides(out), broadcast_byte_strides(a, out.shape()), broadcast_byte_strides(b, out.shape())}};
  visit_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (is_compare(k)) {
      strided_for_each<3>(out.shape(), ops, [k](char** p, const int64_t* st, int64_t m) {
        for (int64_t i = 0; i < m; ++i)
          *reinterpret_cast<bool*>(p[0] + i * st[0]) = compare<T>(
              k, *reinterpret_cast<const T*>(p[1] + i * st[1]), *reinterpret_cast<const T*>(p[2] + i * st[2]));
      });
    } else {
      // Runs along which every operand is adjacent or fixed (a row against a keepdim
      // reduction of it, x - x.amax(-1, keepdim=True)) go to the SIMD kernel a run at a
      // time: per element, this loop cost ten times as much.
      constexpr bool kSimd = std::is_same_v<T, float> || std::is_same_v<T, double>;
      const auto& kt = kernels::active();
      const auto op = static_cast<BinaryOp>(static_cast<int>(k));
      const bool simd = kSimd && k <= BK::Min;
      strided_for_each<3>(out.shape(), ops, [&](char** p, const int64_t* st, int64_t m) {
        constexpr int64_t z = sizeof(T);
        if constexpr (kSimd) {
          if (simd && m >= 16 && st[0] == z && (st[1] == z || st[1] == 0) &&
              (st[2] == z || st[2] == 0)) {
            const T* pa = reinterpret_cast<const T*>(p[1]);
            const T* pb = reinterpret_cast<const T*>(p[2]);
            T* po = reinterpret_cast<T*>(p[0]);
            kernels::for_dtype<T>(kt.binary_f32, kt.binary_f64)(op, pa, st[1] / z, pb, st[2] / z,
                                                                po, m, 0);
            return;
          }
        }
        for (int64_t i = 0; i < m; ++i)
          *reinterpret_cast<T*>(p[0] + i * st[0]) = apply<T>(
              k, *reinterpret_cast<const T*>(p[1] + i * st[1]), *reinterpret_cast<const T*>(p[2] + i * st[2]));
      });
    }
  });
}

void check_int_pow(const Tensor& b) {
  if (is_floating(b.dtype()) || b.dtype() == DType::Bool) return;
  Tensor neg = lt(b, scalar_tensor(Scalar(int64_t(0)), b.dtype()));
  if (sum(neg).item() != 0)
    throw ValueError("pow: integers to negative integer powers are not allowed");
}

DType compute_dtype(BK k, const Tensor& a, const Tensor& b) {
  DType d = result_type(a, b);
  if (k == BK::Div && !is_floating(d)) d = default_dtype();  // true division
  if (k == BK::Sub && d == DType::Bool)
    throw TypeError("sub: subtraction of two bool tensors is not supported; use logical_xor");
  if ((k == BK::Rem || k == BK::Fmod || k == BK::FloorDiv) && d == DType::Bool)
    throw TypeError(str_cat(bk_name(k), ": not supported on bool tensors"));
  if (is_bitwise(k) && (is_floating(d) || ((k == BK::Shl || k == BK::Shr) && d == DType::Bool)))
    throw TypeError(str_cat(bk_name(k), ": only supported on integer",
                            k == BK::Shl || k == BK::Shr ? "" : " and bool", " tensors, got ",
                            dtype_name(a.dtype()), " and ", dtype_name(b.dtype())));
  return d;
}

// Integer remainder, fmod and floor_divide by zero have no value (floats give inf or NaN).
void check_int_divisor(BK k, const Tensor& b) {
  if (is_floating(b.dtype())) return;
  if (sum(eq(b, scalar_tensor(Scalar(int64_t(0)), b.dtype()))).item() != 0)
    throw ValueError(str_cat(bk_name(k), ": integer division by zero"));
}

// Forward without autograd.
Tensor binary_forward(BK k, const Tensor& a, const Tensor& b) {
  DType cd = compute_dtype(k, a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), bk_name(k));
  Tensor A = a.dtype() == cd ? a : detach(a).to(cd);
  Tensor B = b.dtype() == cd ? b : detach(b).to(cd);
  if (k == BK::Pow) check_int_pow(B);
  if (k == BK::Rem || k == BK::Fmod || k == BK::FloorDiv) check_int_divisor(k, B);
  Tensor out = empty(shape, is_compare(k) ? DType::Bool : cd);
  binary_kernel(k, A, B, out);
  return out;
}

struct InMeta {
  Shape shape;
  DType dtype;
};
Tensor reduce_grad(const Tensor& g, const InMeta& m) {
  Tensor r = sum_to(g, m.shape);
  return r.dtype() == m.dtype ? r : r.to(m.dtype);
}

Tensor zero_scalar(DType d) { return scalar_tensor(Scalar(int64_t(0)), d); }

Tensor binary(BK k, const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(k, a, b);
  if (is_compare(k) || !is_floating(out.dtype())) return out;
  auto node = make_node(bk_name(k), {a, b});
  if (!node) return out;
  InMeta ma{a.shape(), a.dtype()}, mb{b.shape(), b.dtype()};
  switch (k) {
    case BK::Add:
      node->backward = [ma, mb](FunctionNode& n, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{n.needs_input_grad(0) ? reduce_grad(g[0], ma) : Tensor(),
                                   n.needs_input_grad(1) ? reduce_grad(g[0], mb) : Tensor()};
      };
      break;
    case BK::Sub:
      node->backward = [ma, mb](FunctionNode& n, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{n.needs_input_grad(0) ? reduce_grad(g[0], ma) : Tensor(),
                                   n.needs_input_grad(1) ? reduce_grad(neg(g[0]), mb) : Tensor()};
      };
      break;
    case BK::Mul:
      node->save(a);
      node->save(b);
      node->backward = [ma, mb](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor x = n.saved(0), y = n.saved(1);
        return std::vector<Tensor>{n.needs_input_grad(0) ? reduce_grad(mul(g[0], y), ma) : Tensor(),
                                   n.needs_input_grad(1) ? reduce_grad(mul(g[0], x), mb) : Tensor()};
      };
      break;
    case BK::Div:
      node->save(a);
      node->save(b);
      node->backward = [ma, mb](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor x = n.saved(0), y = n.saved(1);
        Tensor ga, gb;
        if (n.needs_input_grad(0)) ga = reduce_grad(div(g[0], y), ma);
        if (n.needs_input_grad(1)) gb = reduce_grad(neg(div(mul(g[0], x), mul(y, y))), mb);
        return std::vector<Tensor>{ga, gb};
      };
      break;
    case BK::Max:
    case BK::Min:
      node->save(a);
      node->save(b);
      node->backward = [ma, mb, k](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor x = n.saved(0), y = n.saved(1);
        // The larger (smaller) input takes the gradient; ties split it evenly.
        Tensor wins = k == BK::Max ? gt(x, y) : lt(x, y);
        Tensor share = add(wins.to(g[0].dtype()), mul(eq(x, y).to(g[0].dtype()), Scalar(0.5)));
        Tensor ga_full = mul(g[0], share);
        return std::vector<Tensor>{n.needs_input_grad(0) ? reduce_grad(ga_full, ma) : Tensor(),
                                   n.needs_input_grad(1) ? reduce_grad(sub(g[0], ga_full), mb) : Tensor()};
      };
      break;
    case BK::Pow:
      node->save(a);
      node->save(b);
      node->save(out, true);
      node->backward = [ma, mb](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor x = n.saved(0), y = n.saved(1);
        Tensor ga, gb;
        if (n.needs_input_grad(0)) {
          // d/dx x^y = y x^(y-1), taken as 0 where y == 0 (so 0^0 has gradient 0).
          Tensor d = mul(y, pow(x, sub(y, Scalar(int64_t(1)))));
          d = where(eq(y, zero_scalar(y.dtype())), zero_scalar(d.dtype()), d);
          ga = reduce_grad(mul(g[0], d), ma);
        }
        if (n.needs_input_grad(1)) {
          Tensor o = n.saved(2);
          // d/dy x^y = x^y log x, taken as 0 where x == 0 and y >= 0.
          Tensor d = mul(o, log(x));
          Tensor mask = mul(eq(x, zero_scalar(x.dtype())), ge(y, zero_scalar(y.dtype())));
          d = where(mask, zero_scalar(d.dtype()), d);
          gb = reduce_grad(mul(g[0], d), mb);
        }
        return std::vector<Tensor>{ga, gb};
      };
      break;
    case BK::Rem:
    case BK::Fmod:
      // a - q b with q = floor(a / b) (remainder) or trunc(a / b) (fmod), piecewise constant.
      node->save(a);
      node->save(b);
      node->backward = [ma, mb, k](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor x = n.saved(0), y = n.saved(1);
        Tensor gb;
        if (n.needs_input_grad(1)) {
          Tensor q = k == BK::Rem ? floor_divide(x, y) : trunc(div(x, y));
          gb = reduce_grad(neg(mul(g[0], q)), mb);
        }
        return std::vector<Tensor>{n.needs_input_grad(0) ? reduce_grad(g[0], ma) : Tensor(), gb};
      };
      break;
    case BK::FloorDiv:  // piecewise constant
      node->backward = [ma, mb](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor z = zeros_like(g[0]);
        return std::vector<Tensor>{n.needs_input_grad(0) ? reduce_grad(z, ma) : Tensor(),
                                   n.needs_input_grad(1) ? reduce_grad(z, mb) : Tensor()};
      };
      break;
    default: break;
  }
  set_history(out, node);
  return out;
}

// In-place a op= b: checks, then either a direct kernel (no autograd) or an
// out-of-place computation committed into a (autograd follows the new value).
Tensor& binary_inplace(BK k, Tensor& a, const Tensor& b) {
  std::string name = std::string(bk_name(k)) + "_";
  check_inplace(a, name.c_str());
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name.c_str());
  if (shape != a.shape())
    throw ValueError(str_cat(name, ": output with shape ", shape_str(a.shape()),
                             " doesn't match the broadcast shape ", shape_str(shape)));
  DType cd = compute_dtype(k, a, b);
  if (dtype_category(cd) > dtype_category(a.dtype()))
    throw TypeError(str_cat(name, ": result type ", dtype_name(cd),
                            " can't be cast to the desired output type ", dtype_name(a.dtype())));
  if (grad_enabled() && (a.requires_grad() || b.requires_grad())) {
    if (!is_floating(a.dtype()))
      throw TypeError(str_cat(name, ": an integer tensor cannot hold a result that requires grad"));
    return commit_inplace(a, binary(k, clone(a), b).to(a.dtype()));
  }
  Tensor B = b.dtype() == a.dtype() ? b : detach(b).to(a.dtype());
  if (k == BK::Pow) check_int_pow(B);
  if (k == BK::Rem || k == BK::Fmod || k == BK::FloorDiv) check_int_divisor(k, B);
  binary_kernel(k, a, B, a);
  a.bump_version();
  return a;
}

// A caller's number as a 0-d wrapped tensor (weak in dtype promotion).
Tensor wrap(Scalar s) { return scalar_tensor(s); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  if (alpha.to_double() == 1.0) return binary(BK::Add, a, b);
  return binary(BK::Add, a, mul(b, alpha));
}
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  if (alpha.to_double() == 1.0) return binary(BK::Sub, a, b);
  return binary(BK::Sub, a, mul(b, alpha));
}
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BK::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BK::Div, a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(BK::Pow, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BK::Max, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BK::Min, a, b); }
Tensor remainder(const Tensor& a, const Tensor& b) { return binary(BK::Rem, a, b); }
Tensor fmod(const Tensor& a, const Tensor& b) { return binary(BK::Fmod, a, b); }
Tensor floor_divide(const Tensor& a, const Tensor& b) { return binary(BK::FloorDiv, a, b); }
Tensor bitwise_and(const Tensor& a, const Tensor& b) { return binary_forward(BK::BitAnd, a, b); }
Tensor bitwise_or(const Tensor& a, const Tensor& b) { return binary_forward(BK::BitOr, a, b); }
Tensor bitwise_xor(const Tensor& a, const Tensor& b) { return binary_forward(BK::BitXor, a, b); }
Tensor bitwise_left_shift(const Tensor& a, const Tensor& b) {
  return binary_forward(BK::Shl, a, b);
}
Tensor bitwise_right_shift(const Tensor& a, const Tensor& b) {
  return binary_forward(BK::Shr, a, b);
}
Tensor bitwise_not(const Tensor& a) {
  if (a.dtype() == DType::Bool) return logical_not(a);
  if (is_floating(a.dtype()))
    throw TypeError(str_cat("bitwise_not: only supported on integer and bool tensors, got ",
                            dtype_name(a.dtype())));
  return binary_forward(BK::BitXor, a, scalar_tensor(Scalar(int64_t(-1)), a.dtype()));
}
Tensor add(const Tensor& a, Scalar b) { return binary(BK::Add, a, wrap(b)); }
Tensor sub(const Tensor& a, Scalar b) { return binary(BK::Sub, a, wrap(b)); }
Tensor rsub(const Tensor& a, Scalar b) { return binary(BK::Sub, wrap(b), a); }
Tensor mul(const Tensor& a, Scalar b) { return binary(BK::Mul, a, wrap(b)); }
Tensor div(const Tensor& a, Scalar b) { return binary(BK::Div, a, wrap(b)); }
Tensor rdiv(const Tensor& a, Scalar b) { return binary(BK::Div, wrap(b), a); }
Tensor pow(const Tensor& a, Scalar b) { return binary(BK::Pow, a, wrap(b)); }
Tensor rpow(const Tensor& a, Scalar b) { return binary(BK::Pow, wrap(b), a); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary_forward(BK::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_forward(BK::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_forward(BK::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_forward(BK::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_forward(BK::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_forward(BK::Ge, a, b); }

Tensor& add_(Tensor& a, const Tensor& b, Scalar alpha) {
  return binary_inplace(BK::Add, a, alpha.to_double() == 1.0 ? b : mul(b, alpha));
}
Tensor& sub_(Tensor& a, const Tensor& b, Scalar alpha) {
  return binary_inplace(BK::Sub, a, alpha.to_double() == 1.0 ? b : mul(b, alpha));
}
Tensor& mul_(Tensor& a, const Tensor& b) { return binary_inplace(BK::Mul, a, b); }
Tensor& div_(Tensor& a, const Tensor& b) { return binary_inplace(BK::Div, a, b); }

// ---------------------------------------------------------------- where, masked_fill
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (cond.dtype() != DType::Bool)
    throw TypeError(str_cat("where: expected condition to be a bool tensor, got ", dtype_name(cond.dtype())));
  DType d = result_type(a, b);
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor A = a.dtype() == d ? a : detach(a).to(d);
  Tensor B = b.dtype() == d ? b : detach(b).to(d);
  Tensor out = empty(shape, d);
  if (out.numel()) {
    StridedOperands<4> ops{
        {static_cast<char*>(out.data_ptr()), static_cast<char*>(cond.data_ptr()),
         static_cast<char*>(A.data_ptr()), static_cast<char*>(B.data_ptr())},
        {byte_strides(out), broadcast_byte_strides(cond, shape), broadcast_byte_strides(A, shape),
         broadcast_byte_strides(B, shape)}};
    visit_dtype(d, [&](auto tag) {
      using T = decltype(tag);
      strided_for_each<4>(shape, ops, [](char** p, const int64_t* st, int64_t m) {
        for (int64_t i = 0; i < m; ++i)
          *reinterpret_cast<T*>(p[0] + i * st[0]) =
              *reinterpret_cast<const bool*>(p[1] + i * st[1])
                  ? *reinterpret_cast<const T*>(p[2] + i * st[2])
                  : *reinterpret_cast<const T*>(p[3] + i * st[3]);
      });
    });
  }
  if (!is_floating(d)) return out;
  if (auto node = make_node("where", {a, b})) {
    node->save(cond);
    InMeta ma{a.shape(), a.dtype()}, mb{b.shape(), b.dtype()};
    node->backward = [ma, mb](FunctionNode& n, const std::vector<Tensor>& g) {
      Tensor c = n.saved(0);
      Tensor z = zero_scalar(g[0].dtype());
      return std::vector<Tensor>{
          n.needs_input_grad(0) ? reduce_grad(where(c, g[0], z), ma) : Tensor(),
          n.needs_input_grad(1) ? reduce_grad(where(c, z, g[0]), mb) : Tensor()};
    };
    set_history(out, node);
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  if (mask.dtype() != DType::Bool)
    throw TypeError(str_cat("masked_fill: expected a bool mask, got ", dtype_name(mask.dtype())));
  if (broadcast_shapes(x.shape(), mask.shape(), "masked_fill") != x.shape())
    throw ValueError(str_cat("masked_fill: mask of shape ", shape_str(mask.shape()),
                             " cannot be broadcast to the tensor's shape ", shape_str(x.shape())));
  return where(mask, scalar_tensor(value, x.dtype()), x);
}

Tensor& masked_fill_(Tensor& x, const Tensor& mask, Scalar value) {
  check_inplace(x, "masked_fill_");
  Tensor r = masked_fill(x, mask, value);
  if (r.requires_grad()) return commit_inplace(x, r);
  copy_kernel(x, r);
  x.bump_version();
  return x;
}

}  // namespace dlcore
