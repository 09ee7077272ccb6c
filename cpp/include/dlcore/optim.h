// Fused optimizer updates: one multithreaded pass over a group's parameters,
// their gradients and their state, with PyTorch's update rules (SGD with
// momentum/dampening/Nesterov, Adam/AdamW with amsgrad, Adagrad, RMSprop with
// momentum and centering). The formulas are spelled out in
// cpp/src/kernels/cpu/optim_simd.cpp.
#pragma once
#include <vector>

#include "dlcore/tensor.h"

namespace dlcore {

enum class OptimKind : int { Sgd, Adam, Adagrad, Rmsprop };

// The hyperparameters of one update. State slots per kind: Sgd (momentum buffer),
// Adam (exp_avg, exp_avg_sq, max_exp_avg_sq), Adagrad (sum), Rmsprop (square_avg,
// grad_avg, momentum buffer).
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
  // Filled per parameter by optimizer_step from its step count t:
  bool first = false;  // Sgd: t == 1, the buffer starts as the gradient
  double step_size = 0, bias_correction2_sqrt = 1;  // Adam: lr / (1 - beta1^t), sqrt(1 - beta2^t)
};

// Updates params[i] in place (without recording autograd history) from grads[i]
// and its state tensors states[k][i] (k < the kind's slot count; pass empty
// Tensors for slots a configuration does not use). steps[i] is the parameter's
// step count t after this step (1 on the first). Parameters and state must be
// contiguous float32/float64 tensors of one shape; throws ValueError/TypeError
// naming the parameter otherwise. All checks run before any parameter changes.
void optimizer_step(const OptimStep& hyper, const std::vector<Tensor>& params,
                    const std::vector<Tensor>& grads,
                    const std::vector<std::vector<Tensor>>& states,
                    const std::vector<int64_t>& steps);

}  // namespace dlcore
