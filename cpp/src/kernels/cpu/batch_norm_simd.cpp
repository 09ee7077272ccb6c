// Batch normalisation's passes over one run of a channel's values (kernels/cpu/
// batch_norm.h walks the runs; ops/norm.cpp runs the channels on threads), compiled
// once per instruction set:
//   sums:   with g null, s0 += sum (x - shift) and s1 += sum (x - shift)^2;
//           with g,      s0 += sum g           and s1 += sum g (x - shift)
//   affine: y = a (x - shift) + b g + c   (b g left out when g is null, a (x - shift)
//                                          when x is)
// Sums run in T over blocks of kBlock values (two vector accumulators each) and in
// double across blocks, so float32 statistics keep about double's accuracy for any run
// length. The shift (a value of T near the mean) keeps x - shift small, so neither the
// sums nor the affine map lose digits to a large mean.
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

constexpr int64_t kBlock = 256;

template <class T>
void channel_sums(const T* x, const T* g, int64_t n, double shift, double* s) {
  using V = Vec<T>;
  constexpr int W = V::size;
  const T sh = static_cast<T>(shift);
  const V vsh = V::broadcast(sh);
  double s0 = 0.0, s1 = 0.0;
  for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
    const int64_t b1 = std::min(n, b0 + kBlock);
    V a0 = V::zero(), a1 = V::zero(), q0 = V::zero(), q1 = V::zero();
    int64_t i = b0;
    for (; i + 2 * W <= b1; i += 2 * W) {
      const V d0 = vsub(V::load(x + i), vsh), d1 = vsub(V::load(x + i + W), vsh);
      if (g) {
        const V g0 = V::load(g + i), g1 = V::load(g + i + W);
        a0 = vadd(a0, g0), a1 = vadd(a1, g1);
        q0 = vfma(g0, d0, q0), q1 = vfma(g1, d1, q1);
      } else {
        a0 = vadd(a0, d0), a1 = vadd(a1, d1);
        q0 = vfma(d0, d0, q0), q1 = vfma(d1, d1, q1);
      }
    }
    T t0 = vreduce_add(vadd(a0, a1)), t1 = vreduce_add(vadd(q0, q1));
    for (; i < b1; ++i) {
      const T d = x[i] - sh;
      t0 += g ? g[i] : d;
      t1 += (g ? g[i] : d) * d;
    }
    s0 += static_cast<double>(t0);
    s1 += static_cast<double>(t1);
  }
  s[0] += s0;
  s[1] += s1;
}

template <class T>
void channel_affine(const T* x, const T* g, int64_t n, const ChannelAffine& m, T* y) {
  using V = Vec<T>;
  constexpr int W = V::size;
  const T sh = static_cast<T>(m.shift), a = static_cast<T>(m.a), b = static_cast<T>(m.b),
          c = static_cast<T>(m.c);
  const V vsh = V::broadcast(sh), va = V::broadcast(a), vb = V::broadcast(b), vc = V::broadcast(c);
  int64_t i = 0;
  if (!x) {  // y = b g + c: x is not read (its infinities would turn 0 (x - shift) to NaN)
    for (; i + W <= n; i += W) vfma(vb, V::load(g + i), vc).store(y + i);
    for (; i < n; ++i) y[i] = b * g[i] + c;
    return;
  }
  for (; i + W <= n; i += W) {
    const V base = g ? vfma(vb, V::load(g + i), vc) : vc;
    vfma(va, vsub(V::load(x + i), vsh), base).store(y + i);
  }
  for (; i < n; ++i) y[i] = a * (x[i] - sh) + (g ? b * g[i] + c : c);
}

}  // namespace

void channel_sums_f32(const float* x, const float* g, int64_t n, double shift, double* s) {
  channel_sums<float>(x, g, n, shift, s);
}
void channel_sums_f64(const double* x, const double* g, int64_t n, double shift, double* s) {
  channel_sums<double>(x, g, n, shift, s);
}
void channel_affine_f32(const float* x, const float* g, int64_t n, const ChannelAffine& m,
                        float* y) {
  channel_affine<float>(x, g, n, m, y);
}
void channel_affine_f64(const double* x, const double* g, int64_t n, const ChannelAffine& m,
                        double* y) {
  channel_affine<double>(x, g, n, m, y);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
