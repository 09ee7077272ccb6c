// Contiguous elementwise kernels, compiled once per instruction set.
//   binary: out[i] = a[i*sa] op b[i*sb]      (sa, sb in {0, 1})
//   unary:  out[i] = op(x[i])
// float32 exp/tanh/sigmoid use the vector forms of vmath.h on AVX2/AVX-512; the
// generic set and float64 use libm.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/scalar_ops.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vmath.h"

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
