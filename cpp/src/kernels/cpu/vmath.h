// Vector math for float32 on AVX2/AVX-512 (internal linkage: each instruction
// set's copy stays its own). Not defined for the generic set, which uses libm.
//   exp(x) = 2^n * p(r),  n = round(x / ln2),  r = x - n ln2,  |r| <= ln2 / 2,
// p a degree-6 polynomial (relative error 2e-9 before rounding). 2^n is
// added to p's exponent bits when every lane's result is a normal float, and applied
// as two factors 2^(n/2) 2^(n - n/2) otherwise, so results stay right down to
// subnormals and up to overflow.
#pragma once
#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

#if !defined(DLCORE_ISA_generic)
// p(r) ~ exp(r) for |r| <= ln2 / 2: degree 6, fitted for the least largest relative
// error (2.0e-9; 7.1e-8 evaluated in float32, where the degree-7 Taylor polynomial gives
// 6.3e-8 with one more FMA).
inline VF exp_poly(VF r) {
  VF p = VF::broadcast(1.38435618e-3f);
  p = vfma(p, r, VF::broadcast(8.37412942e-3f));
  p = vfma(p, r, VF::broadcast(4.16680016e-2f));
  p = vfma(p, r, VF::broadcast(1.66664317e-1f));
  p = vfma(p, r, VF::broadcast(4.99999940e-1f));
  p = vfma(p, r, VF::broadcast(1.0f));
  return vfma(p, r, VF::broadcast(1.0f));
}
inline VF exp_reduce(VF x, VF& n) {
  n = vround(vmul(x, VF::broadcast(1.44269504088896341f)));
  VF r = vfma(n, VF::broadcast(-0.693359375f), x);  // ln2 split in two for exact n*ln2
  return vfma(n, VF::broadcast(2.12194440e-4f), r);
}
// x = n ln2 + r. n = round(x log2(e)) comes from adding 1.5 * 2^23 (t), which leaves n in
// the sum's low mantissa bits: no rounding instruction and no conversion to integers.
inline VF exp_magic_reduce(VF x, VF& t, VF& n) {
  const VF magic = VF::broadcast(12582912.0f);
  t = vfma(x, VF::broadcast(1.44269504088896341f), magic);
  n = vsub(t, magic);
  VF r = vfma(n, VF::broadcast(-0.693359375f), x);  // ln2 split in two for exact n*ln2
  return vfma(n, VF::broadcast(2.12194440e-4f), r);
}
// exp(x) for x in [-87, 88], where 2^n is a normal float: n goes into p's exponent bits.
inline VF exp_normal_range(VF x) {
  VF t, n;
  const VF r = exp_magic_reduce(x, t, n);
  return vscale_pow2_low_bits(exp_poly(r), t);
}
// exp(x) for x <= 88, exactly 0 where x < -87 (and at -inf): the same values as
// exp_normal_range where that is defined, one instruction fewer on AVX-512.
inline VF exp_zero_below_87(VF x) {
  VF t, n;
  const VF r = exp_magic_reduce(x, t, n);
  return vscale_pow2_zero_below(exp_poly(r), n, t, x, -87.0f);
}
// 2^y for y <= 64, exactly 0 where y < -125.5 (2^y below about 2.4e-38, and at -inf); within
// 2 ulp. NaN gives NaN on AVX-512; on AVX2 a NaN's payload bits reach the exponent
// arithmetic, so callers keep NaN away (the softmax kernels write NaN rows themselves).
// With W = VF::size (8 or 16) lanes:
//   y = floor(n) + k / W + f,  n = round(W y) / W,  k = W n mod W,  |f| <= 1 / (2W)
//   2^y = 2^floor(n) 2^(k/W) 2^f
// One magic addition gives n, with W n in the sum's low mantissa bits (k in its lowest
// bits), and f = y - n is exact. 2^(k/W) is one permute from a table of W entries (one
// vector, exp2_table()), and 2^f - 1 a Taylor polynomial: degree 3 for W = 16 (|f ln2| <=
// 0.0217, error below 1e-8), 4 for W = 8 (1.3e-9). About half the floating-point work of
// exp_zero_below_87: no split ln2 and a shorter polynomial.
inline VF exp2_table() {
#if defined(DLCORE_ISA_avx512)
  alignas(64) static constexpr float kTable[16] = {
      0x1p+0f,        0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
      0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
      0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
      0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};  // 2^(k/16), rounded
#else
  alignas(32) static constexpr float kTable[8] = {
      0x1p+0f,        0x1.172b84p+0f, 0x1.306fe0p+0f, 0x1.4bfdaep+0f,
      0x1.6a09e6p+0f, 0x1.8ace54p+0f, 0x1.ae89fap+0f, 0x1.d5818ep+0f};  // 2^(k/8), rounded
#endif
  static_assert(sizeof(kTable) / sizeof(float) == VF::size);
  return VF::load(kTable);
}
inline VF exp2_zero_below(VF y, VF table) {
  constexpr int W = VF::size, kBits = W == 16 ? 4 : 3;
  const VF magic = VF::broadcast(0x1.8p23f / W);
  const VF t = vadd(y, magic);
  const VF n = vsub(t, magic);
  const VF f = vsub(y, n);
  // ln2^i / i!
  VF p = W == 16 ? VF::broadcast(5.55041086648e-2f)
                 : vfma(f, VF::broadcast(9.61812910763e-3f), VF::broadcast(5.55041086648e-2f));
  p = vfma(p, f, VF::broadcast(2.40226506959e-1f));
  p = vfma(p, f, VF::broadcast(6.93147180560e-1f));
  p = vmul(p, f);
  const VF s = vlookup_low_bits(table, t);
  return vscale_pow2_zero_below<kBits>(vfma(s, p, s), n, t, y, -125.5f);
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
// The standard normal CDF Phi(x) = erfc(-x / sqrt2) / 2 with a small relative error in
// both tails (below 1e-6 to |x| = 13, where Phi reaches float's subnormals), for GELU.
// With z = |x| / sqrt2 and t = 1 / (1 + z/2):
//   erfc(z) = t exp(-x^2 / 2) f(z),  f(z) = erfc(z) exp(z^2) / t,
// where f is smooth, between 1 and 0.33, and fitted (least squares reweighted toward
// the largest relative error, degree 8) as a polynomial in t mapped from [1/7, 1]
// (z in [0, 12]) onto [-1, 1]: relative error 4.4e-8, about 2e-7 evaluated in float32.
// Phi = erfc(z) / 2 for x < 0 and 1 - erfc(z) / 2 for x >= 0: no cancellation in the
// lower tail, and no second formula near 0, where erfc(z) is near 1.
//   - exp(-x^2 / 2) is exp(-w / 2) (1 - l / 2) for x^2 = w + l, w the rounded square
//     and l its rounding error (one FMA): exp(-w / 2) alone would carry w's rounding,
//     a relative error of x^2 2^-25 (4e-6 at |x| = 12).
//   - |x| is capped at 15, past which exp(-x^2 / 2) is 0 in float (and so Phi is 0 or
//     1): infinities then need no case of their own, and z stays in the fit's range.
//   - t comes from the hardware's reciprocal estimate and one Newton step (relative
//     error about 1e-7) instead of a division.
// Returns Phi(x), and exp(-x^2 / 2) (the standard normal density times sqrt(2 pi)) in
// *gauss.
inline VF vnormal_cdf(VF x, VF* gauss) {
  static constexpr float c[9] = {0.562774489f,    0.329561702f,    0.107370338f,
                                 0.00725100207f,  -0.00677605692f, -0.00084137552f,
                                 0.000688551699f, 3.88686341e-05f, -6.75631049e-05f};
  const VF one = VF::broadcast(1.0f), minus_half = VF::broadcast(-0.5f);
  const VF a = vmin(vabs(x), VF::broadcast(15.0f));  // NaN stays NaN
  const VF w = vmul(a, a), l = vfma(a, a, vneg(w));
  const VF g = vexp(vmul(w, minus_half));
  *gauss = vfma(g, vmul(l, minus_half), g);
  const VF d = vfma(a, VF::broadcast(0.5f * 0.7071067811865476f), one);  // 1 + z/2
  const VF r = vrcp_estimate(d);
  const VF t = vmul(r, vfma(vneg(d), r, VF::broadcast(2.0f)));
  // u = (2 t - (1 + 1/7)) / (1 - 1/7)
  const VF u = vfma(t, VF::broadcast(7.0f / 3.0f), VF::broadcast(-4.0f / 3.0f));
  VF f = VF::broadcast(c[8]);
  for (int k = 7; k >= 0; --k) f = vfma(f, u, VF::broadcast(c[k]));
  const VF e = vmul(vmul(vmul(t, VF::broadcast(0.5f)), f), *gauss);  // erfc(z) / 2
  return vselect_neg(x, e, vsub(one, e));
}
inline VF vnormal_cdf(VF x) {
  VF gauss;
  return vnormal_cdf(x, &gauss);
}
#endif

}  // namespace
}  // namespace dlcore::kernels::DLCORE_ISA_NS
