// Contiguous elementwise kernels, compiled once per instruction set.
//   binary: out[i] = a[i*sa] op b[i*sb]      (sa, sb in {0, 1})
//   unary:  out[i] = op(x[i])
// float32 exp/tanh/sigmoid use a vectorised exp on AVX2/AVX-512:
//   exp(x) = 2^n * p(r),  n = round(x / ln2),  r = x - n ln2,  |r| <= ln2 / 2,
// p the degree-7 Taylor polynomial (relative error < 1e-8 before rounding). 2^n is
// added to p's exponent bits when every lane's result is a normal float, and applied
// as two factors 2^(n/2) 2^(n - n/2) otherwise, so results stay right down to
// subnormals and up to overflow. The generic set and float64 use libm.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/scalar_ops.h"
#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

template <class T, class Op>
inline void binary_loop(const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n,
                        bool stream, Op op) {
  using V = Vec<T>;
  constexpr int W = V::size;
  int64_t i = 0;
  if (stream) {  // scalar head up to an aligned output address
    while (i < n && (reinterpret_cast<uintptr_t>(out + i) % (W * sizeof(T))) != 0) {
      V r = op(V::broadcast(a[i * sa]), V::broadcast(b[i * sb]));
      T tmp[W];
      r.store(tmp);
      out[i] = tmp[0];
      ++i;
    }
  }
  V va = V::broadcast(a[0]), vb = V::broadcast(b[0]);
  for (; i + 2 * W <= n; i += 2 * W) {
    V a0 = sa ? V::load(a + i) : va, a1 = sa ? V::load(a + i + W) : va;
    V b0 = sb ? V::load(b + i) : vb, b1 = sb ? V::load(b + i + W) : vb;
    V r0 = op(a0, b0), r1 = op(a1, b1);
    if (stream) {
      r0.stream(out + i);
      r1.stream(out + i + W);
    } else {
      r0.store(out + i);
      r1.store(out + i + W);
    }
  }
  if (stream) stream_fence();
  for (; i < n; ++i) {
    V r = op(V::broadcast(a[i * sa]), V::broadcast(b[i * sb]));
    T tmp[W];
    r.store(tmp);
    out[i] = tmp[0];
  }
}

template <class T>
void binary(BinaryOp op, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n,
            int flags) {
  using V = Vec<T>;
  bool stream = (flags & kStreamStores) != 0 && sa + sb > 0;
  switch (op) {
    case BinaryOp::Add: return binary_loop(a, sa, b, sb, out, n, stream, [](V x, V y) { return vadd(x, y); });
    case BinaryOp::Sub: return binary_loop(a, sa, b, sb, out, n, stream, [](V x, V y) { return vsub(x, y); });
    case BinaryOp::Mul: return binary_loop(a, sa, b, sb, out, n, stream, [](V x, V y) { return vmul(x, y); });
    case BinaryOp::Div: return binary_loop(a, sa, b, sb, out, n, stream, [](V x, V y) { return vdiv(x, y); });
    case BinaryOp::Max: return binary_loop(a, sa, b, sb, out, n, stream, [](V x, V y) { return vmax(x, y); });
    case BinaryOp::Min: return binary_loop(a, sa, b, sb, out, n, stream, [](V x, V y) { return vmin(x, y); });
  }
  for (int64_t i = 0; i < n; ++i) out[i] = scalar_binary(op, a[i * sa], b[i * sb]);
}

template <class T, class Op>
inline void unary_loop(const T* x, T* out, int64_t n, bool stream, Op op) {
  using V = Vec<T>;
  constexpr int W = V::size;
  int64_t i = 0;
  if (stream) {
    while (i < n && (reinterpret_cast<uintptr_t>(out + i) % (W * sizeof(T))) != 0) {
      T tmp[W];
      op(V::broadcast(x[i])).store(tmp);
      out[i] = tmp[0];
      ++i;
    }
  }
  for (; i + 2 * W <= n; i += 2 * W) {
    V r0 = op(V::load(x + i)), r1 = op(V::load(x + i + W));
    if (stream) {
      r0.stream(out + i);
      r1.stream(out + i + W);
    } else {
      r0.store(out + i);
      r1.store(out + i + W);
    }
  }
  if (stream) stream_fence();
  for (; i < n; ++i) {
    T tmp[W];
    op(V::broadcast(x[i])).store(tmp);
    out[i] = tmp[0];
  }
}

#if !defined(DLCORE_ISA_generic)
// p(r) ~ exp(r) for |r| <= ln2 / 2 (degree-7 Taylor polynomial).
inline VF exp_poly(VF r) {
  VF p = VF::broadcast(1.0f / 5040.0f);
  p = vfma(p, r, VF::broadcast(1.0f / 720.0f));
  p = vfma(p, r, VF::broadcast(1.0f / 120.0f));
  p = vfma(p, r, VF::broadcast(1.0f / 24.0f));
  p = vfma(p, r, VF::broadcast(1.0f / 6.0f));
  p = vfma(p, r, VF::broadcast(0.5f));
  p = vfma(p, r, VF::broadcast(1.0f));
  return vfma(p, r, VF::broadcast(1.0f));
}
inline VF exp_reduce(VF x, VF& n) {
  n = vround(vmul(x, VF::broadcast(1.44269504088896341f)));
  VF r = vfma(n, VF::broadcast(-0.693359375f), x);  // ln2 split in two for exact n*ln2
  return vfma(n, VF::broadcast(2.12194440e-4f), r);
}
inline VF vexp(VF x) {
  VF n;
  if (vall_in(x, -86.0f, 87.0f)) {  // the common case: 2^n scales into a normal float
    VF r = exp_reduce(x, n);
    return vscale_pow2(exp_poly(r), n);
  }
  // Overflow, subnormal results, inf and NaN: scale by 2^(n/2) twice.
  x = vclamp(x, -104.0f, 89.0f);
  VF r = exp_reduce(x, n);
  VF n1 = vround(vmul(n, VF::broadcast(0.5f)));
  VF n2 = vsub(n, n1);
  return vmul(vmul(exp_poly(r), vexp2_int(n1)), vexp2_int(n2));
}
// sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, e = exp(-|x|):
// e never overflows, so tiny results for very negative x keep their precision.
inline VF vsigmoid(VF x) {
  const VF one = VF::broadcast(1.0f);
  VF e = vexp(vneg(vabs(x)));
  VF s = vdiv(one, vadd(one, e));
  return vselect_neg(x, vmul(e, s), s);
}
// tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|); an odd Taylor polynomial
// for |x| < 0.25, where 1 - e would lose relative precision.
inline VF vtanh(VF x) {
  const VF one = VF::broadcast(1.0f);
  VF e = vexp(vmul(VF::broadcast(-2.0f), vabs(x)));
  VF big = vcopysign(vdiv(vsub(one, e), vadd(one, e)), x);
  VF x2 = vmul(x, x);
  VF p = VF::broadcast(-1382.0f / 155925.0f);
  p = vfma(p, x2, VF::broadcast(62.0f / 2835.0f));
  p = vfma(p, x2, VF::broadcast(-17.0f / 315.0f));
  p = vfma(p, x2, VF::broadcast(2.0f / 15.0f));
  p = vfma(p, x2, VF::broadcast(-1.0f / 3.0f));
  VF small = vfma(vmul(p, x2), x, x);
  return vselect_abs_lt(x, 0.25f, small, big);
}
#endif

template <class T> void unary_scalar_loop(UnaryOp op, const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = scalar_unary(op, x[i]);
}

template <class T> void unary(UnaryOp op, const T* x, T* out, int64_t n, int flags) {
  using V = Vec<T>;
  bool stream = (flags & kStreamStores) != 0;
  switch (op) {
    case UnaryOp::Relu: return unary_loop(x, out, n, stream, [](V v) { return vrelu(v); });
    case UnaryOp::Abs: return unary_loop(x, out, n, stream, [](V v) { return vabs(v); });
    case UnaryOp::Sqrt: return unary_loop(x, out, n, stream, [](V v) { return vsqrt(v); });
    case UnaryOp::Square: return unary_loop(x, out, n, stream, [](V v) { return vmul(v, v); });
    case UnaryOp::Rsqrt:
      return unary_loop(x, out, n, stream, [](V v) { return vdiv(V::broadcast(T(1)), vsqrt(v)); });
    case UnaryOp::Neg:
      return unary_loop(x, out, n, stream, [](V v) { return vsub(V::zero(), v); });
    default: break;
  }
#if !defined(DLCORE_ISA_generic)
  if constexpr (sizeof(T) == 4) {
    switch (op) {
      case UnaryOp::Exp: return unary_loop(x, out, n, stream, [](VF v) { return vexp(v); });
      case UnaryOp::Sigmoid: return unary_loop(x, out, n, stream, [](VF v) { return vsigmoid(v); });
      case UnaryOp::Tanh: return unary_loop(x, out, n, stream, [](VF v) { return vtanh(v); });
      default: break;
    }
  }
#endif
  unary_scalar_loop(op, x, out, n);
}

}  // namespace

void binary_f32(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                int64_t n, int flags) {
  binary<float>(op, a, sa, b, sb, out, n, flags);
}
void binary_f64(BinaryOp op, const double* a, int64_t sa, const double* b, int64_t sb,
                double* out, int64_t n, int flags) {
  binary<double>(op, a, sa, b, sb, out, n, flags);
}
void unary_f32(UnaryOp op, const float* x, float* out, int64_t n, int flags) {
  unary<float>(op, x, out, n, flags);
}
void unary_f64(UnaryOp op, const double* x, double* out, int64_t n, int flags) {
  unary<double>(op, x, out, n, flags);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
