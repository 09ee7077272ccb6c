// Fused optimizer updates: one multithreaded pass over a group's parameters,
// their gradients and their state, with PyTorch's update rules (SGD with
// momentum/dampening/Nesterov, Adam/AdamW with amsgrad, Adagrad, RMSprop with
// momentum and centering, Adamax, NAdam, RAdam, Adadelta). The formulas are spelled out in
// cpp/src/kernels/cpu/optim_simd.cpp.
#pragma once
#include <vector>

#include "dlcore/tensor.h"

namespace dlcore {

enum class OptimKind : int { Sgd, Adam, Adagrad, Rmsprop, Adamax, Nadam, Radam, Adadelta };

// The hyperparameters of one update. State slots per kind: Sgd (momentum buffer),
// Adam (exp_avg, exp_avg_sq, max_exp_avg_sq), Adagrad (sum), Rmsprop (square_avg,
// grad_avg, momentum buffer), Adamax (exp_avg, exp_inf), Nadam and Radam (exp_avg,
// exp_avg_sq), Adadelta (square_avg, acc_delta).
struct OptimStep {
  OptimKind kind = OptimKind::Sgd;
  double lr = 0, weight_decay = 0;
  bool maximize = false;
  double momentum = 0, dampening = 0;       // Sgd, Rmsprop (momentum)
  bool nesterov = false;                    // Sgd
  double beta1 = 0.9, beta2 = 0.999;        // Adam
  double eps = 1e-8;                        // Adam, Adagrad, Rmsprop
  bool amsgrad = false, decoupled = false;  // Adam; decoupled = AdamW's weight decay
  double lr_decay = 0;                      // Adagrad
  double alpha = 0.99;                      // Rmsprop smoothing constant
  bool centered = false;                    // Rmsprop
  double momentum_decay = 4e-3;             // Nadam
  double rho = 0.9;                         // Adadelta
  // Filled per parameter by optimizer_step from its step count t:
  bool first = false;  // Sgd: t == 1, the buffer starts as the gradient
  // Adam, Adamax, Radam: lr / (1 - beta1^t); Adam, Nadam, Radam: sqrt(1 - beta2^t)
  double step_size = 0, bias_correction2_sqrt = 1;
  // Nadam: the factors of g and of m, lr (1 - mu_t) / (1 - prod_t) and
  // lr mu_{t+1} / (1 - prod_t mu_{t+1}); Radam: c1 the rectification r_t (0: a plain
  // momentum step while the variance estimate is not yet tractable).
  double c1 = 0, c2 = 0;
};

// Updates params[i] in place (without recording autograd history) from grads[i]
// and its state tensors states[k][i] (k < the kind's slot count; pass empty
// Tensors for slots a configuration does not use). steps[i] is the parameter's
// step count t after this step (1 on the first). Nadam also takes mu_products[i],
// the product mu_1 ... mu_t of the parameter's momentum coefficients including this
// step's (the caller keeps it, as PyTorch's state does). Parameters and state must be
// contiguous float32/float64 tensors of one shape; throws ValueError/TypeError
// naming the parameter otherwise. All checks run before any parameter changes.
void optimizer_step(const OptimStep& hyper, const std::vector<Tensor>& params,
                    const std::vector<Tensor>& grads,
                    const std::vector<std::vector<Tensor>>& states,
                    const std::vector<int64_t>& steps, const std::vector<double>& mu_products = {});

}  // namespace dlcore
