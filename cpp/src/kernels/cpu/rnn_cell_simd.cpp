// The gate step of the recurrent cells, one batch row at a time, forward and
// backward, compiled once per instruction set. H is the hidden size; the matrix
// products around a step (x W_ih^T + b_ih for every time step at once, h W_hh^T + b_hh
// per step) are GEMMs run by ops/rnn.cpp, which hands this kernel their rows:
//   gx  the input projection of this row, G * H values (G = 4 LSTM, 3 GRU, 1 RNN)
//   gh  the hidden projection of this row, G * H values
//
// LSTM (gates in the order i, f, g, o):
//   i = s(gx_i + gh_i)  f = s(gx_f + gh_f)  g = tanh(gx_g + gh_g)  o = s(gx_o + gh_o)
//   c = f c_prev + i g,  h = o tanh(c)
//   saved = (i, f, g, o) (not written when null: no backward); prev = c_prev; c_out = c;
//   h_out = h.
//   Backward, given dh (of h) and dc (of c, from later steps; becomes dc_prev):
//   dc += dh o (1 - tanh(c)^2);  do = dh tanh(c);  di = dc g;  dg = dc i;  df = dc c_prev
//   dgx = (di i (1 - i), df f (1 - f), dg (1 - g^2), do o (1 - o)) = dgh;  dc_prev = dc f.
// GRU (gates r, z, n):
//   r = s(gx_r + gh_r)  z = s(gx_z + gh_z)  n = tanh(gx_n + r gh_n)  h = (1 - z) n + z h_prev
//   saved = (r, z, n, gh_n); prev = h_prev.
//   Backward, given dh: dn = dh (1 - z) (1 - n^2); dz = dh (h_prev - n) z (1 - z);
//   dr = dn gh_n r (1 - r); dgx = (dr, dz, dn); dgh = (dr, dz, dn r); dstate = dh z
//   (the direct part of dh_prev; ops/rnn.cpp adds dgh W_hh).
// RNN: h = tanh(gx + gh) or relu(gx + gh); backward dgx = dgh = dh f'(h) from h
//   (cur).
// float32 runs on vector forms of sigmoid and tanh on AVX2/AVX-512 (see VecMath);
// float64 and the generic set use libm.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"
#include "kernels/cpu/vmath.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// The elementwise functions, as scalars (any T) and, where vmath.h has them, as
// float32 vectors; the gate formulas below are written once over either.
template <class T>
struct ScalarMath {
  using V = T;
  static constexpr int W = 1;
  static V load(const T* p, int64_t i, int) { return p[i]; }
  static void store(V v, T* p, int64_t i, int) { p[i] = v; }
  static V bc(T x) { return x; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V sigmoid(V x) {
    T e = std::exp(-std::fabs(x));
    return x < T(0) ? e / (T(1) + e) : T(1) / (T(1) + e);
  }
  static V tanh(V x) { return std::tanh(x); }
  static V relu(V x) { return x > T(0) || x != x ? x : T(0); }
  static V relu_grad(V h, V g) { return h > T(0) ? g : T(0); }
  template <class F>
  static void loop(int64_t n, F f) {
    for (int64_t i = 0; i < n; ++i) f(i, 1);
  }
};

#if !defined(DLCORE_ISA_generic)
struct VecMath {
  using V = VF;
  static V load(const float* p, int64_t i, int c) { return load_n(p, i, c); }
  static void store(V v, float* p, int64_t i, int c) { store_n(v, p, i, c); }
  static V bc(float x) { return VF::broadcast(x); }
  static V add(V a, V b) { return vadd(a, b); }
  static V sub(V a, V b) { return vsub(a, b); }
  static V mul(V a, V b) { return vmul(a, b); }
  // sigmoid and tanh through e = exp(-|x|) or exp(-2|x|) in (0, 1] and one reciprocal of
  // 1 + e in [1, 2): a hardware estimate refined by a Newton step instead of a division
  // (absolute error below 1e-7, which the gates need; vmath.h keeps the exact forms).
  static V exp_nonpositive(V x) {  // exp(x) for x <= 0, flushed at exp(-87) ~ 1.6e-38
    return exp_normal_range(vclamp(x, -87.0f, 0.0f));
  }
  static V recip_1p(V e) {  // 1 / (1 + e), e in [0, 1]
    const V d = vadd(VF::broadcast(1.0f), e);
    const V r = vrcp_estimate(d);
    return vmul(r, vfma(vneg(d), r, VF::broadcast(2.0f)));
  }
  static V sigmoid(V x) {
    const V e = exp_nonpositive(vneg(vabs(x)));
    const V s = recip_1p(e);
    return vselect_neg(x, vmul(e, s), s);
  }
  static V tanh(V x) {
    const V e = exp_nonpositive(vmul(VF::broadcast(-2.0f), vabs(x)));
    return vcopysign(vmul(vsub(VF::broadcast(1.0f), e), recip_1p(e)), x);
  }
  static V relu(V x) { return vrelu(x); }
  static V relu_grad(V h, V g) { return vselect_neg(vneg(h), g, VF::zero()); }
  template <class F>
  static void loop(int64_t n, F f) {
    vec_loop<float>(n, f);
  }
};
template <class T>
using Math = std::conditional_t<sizeof(T) == 4, VecMath, ScalarMath<T>>;
#else
template <class T>
using Math = ScalarMath<T>;
#endif

template <class T>
void cell_forward(RnnCell cell, int64_t H, const T* gx, const T* gh, const T* prev, T* saved,
                  T* c_out, T* h_out) {
  using M = Math<T>;
  using V = typename M::V;
  switch (cell) {
    case RnnCell::Lstm:
      M::loop(H, [&](int64_t j, int c) {
        V i = M::sigmoid(M::add(M::load(gx, j, c), M::load(gh, j, c)));
        V f = M::sigmoid(M::add(M::load(gx + H, j, c), M::load(gh + H, j, c)));
        V g = M::tanh(M::add(M::load(gx + 2 * H, j, c), M::load(gh + 2 * H, j, c)));
        V o = M::sigmoid(M::add(M::load(gx + 3 * H, j, c), M::load(gh + 3 * H, j, c)));
        V cn = M::add(M::mul(f, M::load(prev, j, c)), M::mul(i, g));
        if (saved) {
          M::store(i, saved, j, c);
          M::store(f, saved + H, j, c);
          M::store(g, saved + 2 * H, j, c);
          M::store(o, saved + 3 * H, j, c);
        }
        M::store(cn, c_out, j, c);
        M::store(M::mul(o, M::tanh(cn)), h_out, j, c);
      });
      break;
    case RnnCell::Gru:
      M::loop(H, [&](int64_t j, int c) {
        V r = M::sigmoid(M::add(M::load(gx, j, c), M::load(gh, j, c)));
        V z = M::sigmoid(M::add(M::load(gx + H, j, c), M::load(gh + H, j, c)));
        V ghn = M::load(gh + 2 * H, j, c);
        V n = M::tanh(M::add(M::load(gx + 2 * H, j, c), M::mul(r, ghn)));
        V hp = M::load(prev, j, c);
        if (saved) {
          M::store(r, saved, j, c);
          M::store(z, saved + H, j, c);
          M::store(n, saved + 2 * H, j, c);
          M::store(ghn, saved + 3 * H, j, c);
        }
        M::store(M::add(n, M::mul(z, M::sub(hp, n))), h_out, j, c);  // (1 - z) n + z h_prev
      });
      break;
    case RnnCell::RnnTanh:
      M::loop(H, [&](int64_t j, int c) {
        M::store(M::tanh(M::add(M::load(gx, j, c), M::load(gh, j, c))), h_out, j, c);
      });
      break;
    case RnnCell::RnnRelu:
      M::loop(H, [&](int64_t j, int c) {
        M::store(M::relu(M::add(M::load(gx, j, c), M::load(gh, j, c))), h_out, j, c);
      });
      break;
  }
}

template <class T>
void cell_backward(RnnCell cell, int64_t H, const T* saved, const T* prev, const T* cur,
                   const T* dh, T* dstate, T* dgx, T* dgh) {
  using M = Math<T>;
  using V = typename M::V;
  const V one = M::bc(T(1));
  switch (cell) {
    case RnnCell::Lstm:
      M::loop(H, [&](int64_t j, int c) {
        V i = M::load(saved, j, c), f = M::load(saved + H, j, c);
        V g = M::load(saved + 2 * H, j, c), o = M::load(saved + 3 * H, j, c);
        V tc = M::tanh(M::load(cur, j, c));
        V d = M::load(dh, j, c);
        V dc = M::add(M::load(dstate, j, c), M::mul(M::mul(d, o), M::sub(one, M::mul(tc, tc))));
        V d_o = M::mul(d, tc);
        M::store(M::mul(M::mul(dc, g), M::mul(i, M::sub(one, i))), dgx, j, c);
        M::store(M::mul(M::mul(dc, M::load(prev, j, c)), M::mul(f, M::sub(one, f))), dgx + H, j, c);
        M::store(M::mul(M::mul(dc, i), M::sub(one, M::mul(g, g))), dgx + 2 * H, j, c);
        M::store(M::mul(d_o, M::mul(o, M::sub(one, o))), dgx + 3 * H, j, c);
        M::store(M::mul(dc, f), dstate, j, c);
      });
      break;
    case RnnCell::Gru:
      M::loop(H, [&](int64_t j, int c) {
        V r = M::load(saved, j, c), z = M::load(saved + H, j, c);
        V n = M::load(saved + 2 * H, j, c), ghn = M::load(saved + 3 * H, j, c);
        V d = M::load(dh, j, c);
        V dn = M::mul(M::mul(d, M::sub(one, z)), M::sub(one, M::mul(n, n)));
        V dz = M::mul(M::mul(d, M::sub(M::load(prev, j, c), n)), M::mul(z, M::sub(one, z)));
        V dr = M::mul(M::mul(dn, ghn), M::mul(r, M::sub(one, r)));
        M::store(dr, dgx, j, c);
        M::store(dz, dgx + H, j, c);
        M::store(dn, dgx + 2 * H, j, c);
        M::store(dr, dgh, j, c);
        M::store(dz, dgh + H, j, c);
        M::store(M::mul(dn, r), dgh + 2 * H, j, c);
        M::store(M::mul(d, z), dstate, j, c);
      });
      break;
    case RnnCell::RnnTanh:
      M::loop(H, [&](int64_t j, int c) {
        V h = M::load(cur, j, c);
        M::store(M::mul(M::load(dh, j, c), M::sub(one, M::mul(h, h))), dgx, j, c);
      });
      break;
    case RnnCell::RnnRelu:
      M::loop(H, [&](int64_t j, int c) {
        M::store(M::relu_grad(M::load(cur, j, c), M::load(dh, j, c)), dgx, j, c);
      });
      break;
  }
}

}  // namespace

void rnn_cell_forward_f32(RnnCell cell, int64_t H, const float* gx, const float* gh,
                          const float* prev, float* saved, float* c_out, float* h_out) {
  cell_forward<float>(cell, H, gx, gh, prev, saved, c_out, h_out);
}
void rnn_cell_forward_f64(RnnCell cell, int64_t H, const double* gx, const double* gh,
                          const double* prev, double* saved, double* c_out, double* h_out) {
  cell_forward<double>(cell, H, gx, gh, prev, saved, c_out, h_out);
}
void rnn_cell_backward_f32(RnnCell cell, int64_t H, const float* saved, const float* prev,
                           const float* cur, const float* dh, float* dstate, float* dgx,
                           float* dgh) {
  cell_backward<float>(cell, H, saved, prev, cur, dh, dstate, dgx, dgh);
}
void rnn_cell_backward_f64(RnnCell cell, int64_t H, const double* saved, const double* prev,
                           const double* cur, const double* dh, double* dstate, double* dgx,
                           double* dgh) {
  cell_backward<double>(cell, H, saved, prev, cur, dh, dstate, dgx, dgh);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
