// Optimizer updates, compiled once per instruction set: one pass over a
// parameter p, its gradient g and its state, following PyTorch's documented
// update rules (g is first negated under maximize; "wd" is weight_decay):
//   Sgd      g += wd p;  b = first ? g : momentum b + (1 - dampening) g;
//            d = nesterov ? g + momentum b : b  (d = g without momentum);  p -= lr d
//   Adam     g += wd p (Adam) or p *= 1 - lr wd (AdamW, decoupled);
//            m += (1 - beta1) (g - m);  v = beta2 v + (1 - beta2) g^2;
//            vmax = max(vmax, v) (amsgrad, used instead of v);
//            p -= step_size m / (sqrt(v) / bias_correction2_sqrt + eps)
//   Adagrad  g += wd p;  sum += g^2;  p -= lr g / (sqrt(sum) + eps)   (lr already decayed)
//   Rmsprop  g += wd p;  sa = alpha sa + (1 - alpha) g^2;
//            centered: ga += (1 - alpha) (g - ga), avg = sqrt(sa - ga^2) + eps, else sqrt(sa) +
//            eps; momentum: b = momentum b + g / avg, p -= lr b;  else p -= lr g / avg
//   Adamax   g += wd p;  m += (1 - beta1) (g - m);  u = max(beta2 u, |g| + eps);
//            p -= step_size m / u
//   Nadam    g += wd p, or p *= 1 - lr wd (decoupled);  m and v as Adam's;
//            d = sqrt(v) / bias_correction2_sqrt + eps;  p -= (c1 g + c2 m) / d
//   Radam    g += wd p, or p *= 1 - lr wd (decoupled);  m and v as Adam's;
//            c1 > 0: p -= step_size c1 m bias_correction2_sqrt / (sqrt(v) + eps),
//            else p -= step_size m
//   Adadelta g += wd p;  v = rho v + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(v + eps) g;
//            u = rho u + (1 - rho) d^2;  p -= lr d
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

template <class T>
void optim(const OptimStep& s, T* p, const T* g, T* s1, T* s2, T* s3, int64_t n) {
  using V = Vec<T>;
  const V zero = V::zero();
  const V wd = V::broadcast(static_cast<T>(s.weight_decay)),
          lr = V::broadcast(static_cast<T>(s.lr));
  const bool has_wd = s.weight_decay != 0.0;
  // The gradient with maximize and (coupled) weight decay applied.
  auto grad = [&](const V& pv, int64_t i, int c) {
    V gv = load_n(g, i, c);
    if (s.maximize) gv = vsub(zero, gv);
    if (has_wd && !s.decoupled) gv = vfma(wd, pv, gv);
    return gv;
  };
  const V eps = V::broadcast(static_cast<T>(s.eps));
  // Adam's moment estimates, shared by Adam, Nadam and Radam (and beta1 by Adamax): p is
  // first decayed where the weight decay is decoupled; m += (1 - beta1) (g - m) and
  // v = beta2 v + (1 - beta2) g^2 are stored in slots 1 and 2.
  const V b1c = V::broadcast(static_cast<T>(1.0 - s.beta1)),
          b2 = V::broadcast(static_cast<T>(s.beta2)),
          b2c = V::broadcast(static_cast<T>(1.0 - s.beta2));
  const V bc2 = V::broadcast(static_cast<T>(s.bias_correction2_sqrt));
  const V decay = V::broadcast(static_cast<T>(1.0 - s.lr * s.weight_decay));
  const V step = V::broadcast(static_cast<T>(s.step_size));
  auto moments = [&](V& pv, const V& gv, int64_t i, int c, V& m, V& v) {
    if (has_wd && s.decoupled) pv = vmul(pv, decay);
    m = load_n(s1, i, c);
    m = vfma(b1c, vsub(gv, m), m);
    v = vfma(b2c, vmul(gv, gv), vmul(b2, load_n(s2, i, c)));
    store_n(m, s1, i, c);
    store_n(v, s2, i, c);
  };
  switch (s.kind) {
    case OptimKind::Sgd: {
      const V mom = V::broadcast(static_cast<T>(s.momentum));
      const V damp = V::broadcast(static_cast<T>(1.0 - s.dampening));
      vec_loop<T>(n, [&](int64_t i, int c) {
        V pv = load_n(p, i, c);
        V d = grad(pv, i, c);
        if (s.momentum != 0.0) {
          V b = s.first ? d : vfma(mom, load_n(s1, i, c), vmul(damp, d));
          store_n(b, s1, i, c);
          d = s.nesterov ? vfma(mom, b, d) : b;
        }
        store_n(vsub(pv, vmul(lr, d)), p, i, c);
      });
      break;
    }
    case OptimKind::Adam: {
      vec_loop<T>(n, [&](int64_t i, int c) {
        V pv = load_n(p, i, c);
        V gv = grad(pv, i, c);
        V m, v;
        moments(pv, gv, i, c, m, v);
        if (s.amsgrad) {
          v = vmax(load_n(s3, i, c), v);
          store_n(v, s3, i, c);
        }
        V denom = vadd(vdiv(vsqrt(v), bc2), eps);
        store_n(vsub(pv, vdiv(vmul(step, m), denom)), p, i, c);
      });
      break;
    }
    case OptimKind::Adagrad: {
      vec_loop<T>(n, [&](int64_t i, int c) {
        V pv = load_n(p, i, c);
        V gv = grad(pv, i, c);
        V sum = vfma(gv, gv, load_n(s1, i, c));
        store_n(sum, s1, i, c);
        store_n(vsub(pv, vdiv(vmul(lr, gv), vadd(vsqrt(sum), eps))), p, i, c);
      });
      break;
    }
    case OptimKind::Rmsprop: {
      const V alpha = V::broadcast(static_cast<T>(s.alpha)),
              ac = V::broadcast(static_cast<T>(1.0 - s.alpha));
      const V mom = V::broadcast(static_cast<T>(s.momentum));
      vec_loop<T>(n, [&](int64_t i, int c) {
        V pv = load_n(p, i, c);
        V gv = grad(pv, i, c);
        V sa = vfma(ac, vmul(gv, gv), vmul(alpha, load_n(s1, i, c)));
        store_n(sa, s1, i, c);
        V avg;
        if (s.centered) {
          V ga = load_n(s2, i, c);
          ga = vfma(ac, vsub(gv, ga), ga);
          store_n(ga, s2, i, c);
          avg = vadd(vsqrt(vsub(sa, vmul(ga, ga))), eps);
        } else {
          avg = vadd(vsqrt(sa), eps);
        }
        V d = vdiv(gv, avg);
        if (s.momentum > 0.0) {
          d = vfma(mom, load_n(s3, i, c), d);
          store_n(d, s3, i, c);
        }
        store_n(vsub(pv, vmul(lr, d)), p, i, c);
      });
      break;
    }
    case OptimKind::Adamax: {
      vec_loop<T>(n, [&](int64_t i, int c) {
        V pv = load_n(p, i, c);
        V gv = grad(pv, i, c);
        V m = load_n(s1, i, c);
        m = vfma(b1c, vsub(gv, m), m);
        V u = vmax(vmul(b2, load_n(s2, i, c)), vadd(vabs(gv), eps));
        store_n(m, s1, i, c);
        store_n(u, s2, i, c);
        store_n(vsub(pv, vdiv(vmul(step, m), u)), p, i, c);
      });
      break;
    }
    case OptimKind::Nadam:
    case OptimKind::Radam: {
      const V c1 = V::broadcast(static_cast<T>(s.c1)), c2 = V::broadcast(static_cast<T>(s.c2));
      const V rect = V::broadcast(static_cast<T>(s.step_size * s.c1 * s.bias_correction2_sqrt));
      const bool nadam = s.kind == OptimKind::Nadam;
      vec_loop<T>(n, [&](int64_t i, int c) {
        V pv = load_n(p, i, c);
        V gv = grad(pv, i, c);
        V m, v;
        moments(pv, gv, i, c, m, v);
        if (nadam) {
          V d = vadd(vdiv(vsqrt(v), bc2), eps);
          store_n(vsub(pv, vdiv(vfma(c1, gv, vmul(c2, m)), d)), p, i, c);
        } else if (s.c1 > 0.0) {
          store_n(vsub(pv, vdiv(vmul(rect, m), vadd(vsqrt(v), eps))), p, i, c);
        } else {
          store_n(vsub(pv, vmul(step, m)), p, i, c);
        }
      });
      break;
    }
    case OptimKind::Adadelta: {
      const V rho = V::broadcast(static_cast<T>(s.rho)),
              rc = V::broadcast(static_cast<T>(1.0 - s.rho));
      vec_loop<T>(n, [&](int64_t i, int c) {
        V pv = load_n(p, i, c);
        V gv = grad(pv, i, c);
        V v = vfma(rc, vmul(gv, gv), vmul(rho, load_n(s1, i, c)));
        V u = load_n(s2, i, c);
        V d = vmul(vdiv(vsqrt(vadd(u, eps)), vsqrt(vadd(v, eps))), gv);
        store_n(v, s1, i, c);
        store_n(vfma(rc, vmul(d, d), vmul(rho, u)), s2, i, c);
        store_n(vsub(pv, vmul(lr, d)), p, i, c);
      });
      break;
    }
  }
}

}  // namespace

void optim_f32(const OptimStep& s, float* p, const float* g, float* s1, float* s2, float* s3,
               int64_t n) {
  optim<float>(s, p, g, s1, s2, s3, n);
}
void optim_f64(const OptimStep& s, double* p, const double* g, double* s1, double* s2, double* s3,
               int64_t n) {
  optim<double>(s, p, g, s1, s2, s3, n);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
