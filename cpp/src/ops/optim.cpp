// Fused optimizer steps: all parameters of a group updated by one kernel call per
// parameter slice, with the group's elements spread evenly over the threads
// (small parameters share a thread, large ones are split). Each element's update
// depends only on its own values, so the result is the same for any thread count.
#include "dlcore/optim.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

constexpr int kSlots = 3;
constexpr int64_t kGrain = 16384;

int slots_used(OptimKind kind) {
  switch (kind) {
    case OptimKind::Sgd: return 1;
    case OptimKind::Adam: return 3;
    case OptimKind::Adagrad: return 1;
    case OptimKind::Rmsprop: return 3;
    case OptimKind::Adamax:
    case OptimKind::Nadam:
    case OptimKind::Radam:
    case OptimKind::Adadelta: return 2;
  }
  return 0;
}

// Which slots a configuration reads and writes.
bool slot_needed(const OptimStep& h, int k) {
  switch (h.kind) {
    case OptimKind::Sgd: return k == 0 && h.momentum != 0.0;
    case OptimKind::Adam: return k < 2 || (k == 2 && h.amsgrad);
    case OptimKind::Adagrad: return k == 0;
    case OptimKind::Rmsprop:
      return k == 0 || (k == 1 && h.centered) || (k == 2 && h.momentum > 0.0);
    case OptimKind::Adamax:
    case OptimKind::Nadam:
    case OptimKind::Radam:
    case OptimKind::Adadelta: return k < 2;
  }
  return false;
}

void check_same(const Tensor& p, const Tensor& t, size_t i, const char* what) {
  if (!t.defined()) throw ValueError(str_cat("optimizer_step: parameter ", i, " has no ", what));
  if (t.shape() != p.shape())
    throw ValueError(str_cat("optimizer_step: parameter ", i, " has shape ", shape_str(p.shape()),
                             " but its ", what, " has shape ", shape_str(t.shape())));
  if (t.dtype() != p.dtype())
    throw TypeError(str_cat("optimizer_step: parameter ", i, " is ", dtype_name(p.dtype()),
                            " but its ", what, " is ", dtype_name(t.dtype())));
}

template <class T>
void run(const std::vector<OptimStep>& per_param, const std::vector<Tensor>& params,
         const std::vector<Tensor>& grads, const std::vector<std::array<Tensor, kSlots>>& st,
         const std::vector<int64_t>& offsets) {
  const auto& kt = kernels::active();
  const kernels::OptimFn<T> fn = kernels::for_dtype<T>(kt.optim_f32, kt.optim_f64);
  auto slot = [&](size_t i, int k) {
    return st[i][k].defined() ? st[i][k].template data<T>() : nullptr;
  };
  // The group's elements as one range [0, total): a thread's chunk may cover the
  // end of one parameter and the start of the next.
  parallel_for(
      0, offsets.back(), kGrain,
      [&](int64_t b, int64_t e) {
        size_t i = static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), b) -
                                       offsets.begin()) -
                   1;
        for (; i < params.size() && offsets[i] < e; ++i) {
          const int64_t lo = std::max(b, offsets[i]) - offsets[i],
                        hi = std::min(e, offsets[i + 1]) - offsets[i];
          if (hi <= lo) continue;
          T* s1 = slot(i, 0);
          T* s2 = slot(i, 1);
          T* s3 = slot(i, 2);
          fn(per_param[i], params[i].data<T>() + lo, grads[i].data<T>() + lo,
             s1 ? s1 + lo : nullptr, s2 ? s2 + lo : nullptr, s3 ? s3 + lo : nullptr, hi - lo);
        }
      },
      16);
}

}  // namespace

void optimizer_step(const OptimStep& hyper, const std::vector<Tensor>& params,
                    const std::vector<Tensor>& grads,
                    const std::vector<std::vector<Tensor>>& states,
                    const std::vector<int64_t>& steps, const std::vector<double>& mu_products) {
  const size_t n = params.size();
  if (grads.size() != n || steps.size() != n)
    throw ValueError(str_cat("optimizer_step: got ", n, " parameters, ", grads.size(),
                             " gradients and ", steps.size(), " step counts"));
  if (hyper.kind == OptimKind::Nadam && mu_products.size() != n)
    throw ValueError(str_cat("optimizer_step: NAdam needs one momentum product per parameter; got ",
                             mu_products.size(), " for ", n, " parameters"));
  if (static_cast<int>(states.size()) < slots_used(hyper.kind))
    throw ValueError(str_cat("optimizer_step: expected ", slots_used(hyper.kind),
                             " state lists, got ", states.size()));
  if (!(hyper.lr >= 0.0))
    throw ValueError(str_cat("optimizer_step: invalid learning rate ", hyper.lr));
  std::vector<OptimStep> per_param(n, hyper);
  std::vector<std::array<Tensor, kSlots>> st(n);
  std::vector<Tensor> g(n);
  std::vector<int64_t> offsets(n + 1, 0);
  DType dtype = n ? params[0].dtype() : DType::Float32;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& p = params[i];
    if (!p.defined()) throw ValueError(str_cat("optimizer_step: parameter ", i, " is undefined"));
    if (!is_floating(p.dtype()))
      throw TypeError(str_cat("optimizer_step: parameter ", i, " is ", dtype_name(p.dtype()),
                              "; only float32 and float64 parameters can be optimized"));
    if (p.dtype() != dtype)
      throw TypeError(
          str_cat("optimizer_step: parameters of one call must share a dtype; parameter ", i,
                  " is ", dtype_name(p.dtype()), ", parameter 0 is ", dtype_name(dtype)));
    if (!p.is_contiguous())
      throw ValueError(str_cat("optimizer_step: parameter ", i, " is not contiguous"));
    if (steps[i] < 1)
      throw ValueError(str_cat("optimizer_step: step count of parameter ", i, " is ", steps[i]));
    check_same(p, grads[i], i, "gradient");
    g[i] = grads[i].is_contiguous() ? grads[i] : contiguous(grads[i]);
    for (int k = 0; k < kSlots; ++k) {
      if (!slot_needed(hyper, k)) continue;
      const Tensor s = states[k].size() > i ? states[k][i] : Tensor();
      check_same(p, s, i, "optimizer state");
      if (!s.is_contiguous())
        throw ValueError(
            str_cat("optimizer_step: the state of parameter ", i, " is not contiguous"));
      st[i][k] = s;
    }
    OptimStep& h = per_param[i];
    const double t = static_cast<double>(steps[i]);
    h.first = steps[i] == 1;
    const double b1t = std::pow(hyper.beta1, t), b2t = std::pow(hyper.beta2, t);
    switch (hyper.kind) {
      case OptimKind::Adam:
      case OptimKind::Adamax:
        h.step_size = hyper.lr / (1.0 - b1t);
        h.bias_correction2_sqrt = std::sqrt(1.0 - b2t);
        break;
      case OptimKind::Adagrad: h.lr = hyper.lr / (1.0 + (t - 1.0) * hyper.lr_decay); break;
      case OptimKind::Nadam: {
        // mu_t = beta1 (1 - 0.96^(t psi) / 2), psi the momentum decay.
        const double mu = hyper.beta1 * (1.0 - 0.5 * std::pow(0.96, t * hyper.momentum_decay));
        const double mu_next =
            hyper.beta1 * (1.0 - 0.5 * std::pow(0.96, (t + 1.0) * hyper.momentum_decay));
        const double prod = mu_products[i];
        h.c1 = hyper.lr * (1.0 - mu) / (1.0 - prod);
        h.c2 = hyper.lr * mu_next / (1.0 - prod * mu_next);
        h.bias_correction2_sqrt = std::sqrt(1.0 - b2t);
        break;
      }
      case OptimKind::Radam: {
        // The variance rectification: the length rho_t of the approximated simple moving
        // average; the adaptive step only where rho_t > 5.
        const double rho_inf = 2.0 / (1.0 - hyper.beta2) - 1.0;
        const double rho_t = rho_inf - 2.0 * t * b2t / (1.0 - b2t);
        h.step_size = hyper.lr / (1.0 - b1t);
        h.bias_correction2_sqrt = std::sqrt(1.0 - b2t);
        h.c1 = rho_t > 5.0 ? std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                       ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                           : 0.0;
        break;
      }
      default: break;
    }
    offsets[i + 1] = offsets[i] + p.numel();
  }
  if (n == 0 || offsets.back() == 0) return;
  if (dtype == DType::Float32)
    run<float>(per_param, params, g, st, offsets);
  else
    run<double>(per_param, params, g, st, offsets);
  for (const Tensor& p : params) p.bump_version();
  for (const auto& s : st)
    for (const Tensor& t : s)
      if (t.defined()) t.bump_version();
}

}  // namespace dlcore
