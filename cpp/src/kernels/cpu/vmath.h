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

}  // namespace
}  // namespace dlcore::kernels::DLCORE_ISA_NS
