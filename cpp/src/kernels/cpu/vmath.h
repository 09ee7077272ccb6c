// Vector math for float32 on AVX2/AVX-512 (internal linkage: each instruction
// set's copy stays its own). Not defined for the generic set, which uses libm.
//   exp(x) = 2^n * p(r),  n = round(x / ln2),  r = x - n ln2,  |r| <= ln2 / 2,
// p the degree-7 Taylor polynomial (relative error < 1e-8 before rounding). 2^n is
// added to p's exponent bits when every lane's result is a normal float, and applied
// as two factors 2^(n/2) 2^(n - n/2) otherwise, so results stay right down to
// subnormals and up to overflow.
#pragma once
#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

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
// exp(x) for x in [-87, 88], where 2^n is a normal float. n = round(x log2(e)) comes from
// adding 1.5 * 2^23, which leaves n in the sum's low mantissa bits: no rounding
// instruction and no conversion to integers.
inline VF exp_normal_range(VF x) {
  const VF magic = VF::broadcast(12582912.0f);
  const VF t = vfma(x, VF::broadcast(1.44269504088896341f), magic);
  const VF n = vsub(t, magic);
  VF r = vfma(n, VF::broadcast(-0.693359375f), x);  // ln2 split in two for exact n*ln2
  r = vfma(n, VF::broadcast(2.12194440e-4f), r);
  return vscale_pow2_low_bits(exp_poly(r), t);
}
inline VF vexp(VF x) {
  VF n;
  // The common case: 2^n scales into a normal float.
  if (vall_in(x, -86.0f, 87.0f)) return exp_normal_range(x);
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
// The standard normal CDF Phi(x) = (1 + erf(x / sqrt2)) / 2 with a small relative error
// in both tails (about 1e-6), for GELU. With z = |x| / sqrt2:
//   z < 1/2:  erf(z) from its Taylor series, 7 terms (truncation below 1e-9);
//   z >= 1/2: erfc(z) = exp(-z^2) g(z), where g(z) = erfc(z) exp(z^2) is smooth and
//             fitted (least squares, Chebyshev basis, degree 9) in t = 1 / (1 + z/2),
//             mapped from [1/7, 4/5] (z in [1/2, 12]) onto [-1, 1]; relative error 1e-6.
//   Phi = 1 - erfc(z) / 2 for x > 0 and erfc(z) / 2 for x < 0: no cancellation in the
//   lower tail.
inline VF verf_taylor(VF z) {
  const VF z2 = vmul(z, z);
  VF p = VF::broadcast(1.0f / 9360.0f);
  p = vfma(p, z2, VF::broadcast(-1.0f / 1320.0f));
  p = vfma(p, z2, VF::broadcast(1.0f / 216.0f));
  p = vfma(p, z2, VF::broadcast(-1.0f / 42.0f));
  p = vfma(p, z2, VF::broadcast(1.0f / 10.0f));
  p = vfma(p, z2, VF::broadcast(-1.0f / 3.0f));
  p = vfma(p, z2, VF::broadcast(1.0f));
  return vmul(vmul(p, z), VF::broadcast(1.1283791670955126f));  // 2 / sqrt(pi)
}
inline VF verfc_tail(VF z) {  // z >= 0
  static constexpr float c[10] = {0.2317594587802887f,    0.263079434633255f,
                                  0.0985473245382309f,    0.02210637554526329f,
                                  0.0010600162204355001f, -0.0008133501978591084f,
                                  -9.92919594864361e-05f, 4.890030322712846e-05f,
                                  4.781285497301724e-06f, -3.3087378596974304e-06f};
  const VF one = VF::broadcast(1.0f);
  const VF t = vdiv(one, vfma(z, VF::broadcast(0.5f), one));
  const VF u = vfma(t, VF::broadcast(2.0f / (0.8f - 1.0f / 7.0f)),
                    VF::broadcast(-(0.8f + 1.0f / 7.0f) / (0.8f - 1.0f / 7.0f)));
  VF g = VF::broadcast(c[9]);
  for (int k = 8; k >= 0; --k) g = vfma(g, u, VF::broadcast(c[k]));
  return vmul(vexp(vneg(vmul(z, z))), g);
}
inline VF vnormal_cdf(VF x) {
  const VF half = VF::broadcast(0.5f);
  const VF zs = vmul(x, VF::broadcast(0.7071067811865476f));
  const VF e = vmul(half, verfc_tail(vabs(zs)));
  const VF tail = vselect_neg(x, e, vsub(VF::broadcast(1.0f), e));
  const VF small = vfma(half, verf_taylor(zs), half);
  return vselect_abs_lt(zs, 0.5f, small, tail);
}
#endif

}  // namespace
}  // namespace dlcore::kernels::DLCORE_ISA_NS
