// cross_entropy with class-index targets: log-softmax and NLL fused into one
// pass over each row forward, and one pass backward from the saved per-row
// log-sum-exp (kernels/cpu/cross_entropy.h has the formulas). Other losses are
// compositions of ops in python/dlcore/nn/functional.py.
#include <cmath>

#include "kernels/cpu/cross_entropy.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

struct CeShape {
  int64_t N = 1, C = 1, D = 1;
};

CeShape check_cross_entropy(const Tensor& x, const Tensor& y, const Tensor& w) {
  if (!is_floating(x.dtype()))
    throw TypeError(str_cat("cross_entropy: expected float logits, got ", dtype_name(x.dtype())));
  if (y.dtype() != DType::Int64 && y.dtype() != DType::Int32)
    throw TypeError(
        str_cat("cross_entropy: expected class indices of type int64 (or class probabilities of "
                "the logits' dtype), got ",
                dtype_name(y.dtype())));
  if (x.dim() < 1)
    throw ValueError(
        str_cat("cross_entropy: logits must have a class dim, got shape ", shape_str(x.shape())));
  CeShape s;
  Shape expected;
  if (x.dim() == 1) {
    s.C = x.shape()[0];
  } else {
    s.N = x.shape()[0], s.C = x.shape()[1];
    expected.push_back(s.N);
    for (int64_t d = 2; d < x.dim(); ++d) s.D *= x.shape()[d], expected.push_back(x.shape()[d]);
  }
  if (y.shape() != expected)
    throw ValueError(str_cat("cross_entropy: target of shape ", shape_str(y.shape()),
                             " does not match logits of shape ", shape_str(x.shape()),
                             " (expected target shape ", shape_str(expected), ")"));
  if (w.defined()) {
    if (w.dim() != 1 || w.shape()[0] != s.C)
      throw ValueError(
          str_cat("cross_entropy: weight must have shape (", s.C, "), got ", shape_str(w.shape())));
    if (w.dtype() != x.dtype())
      throw TypeError(str_cat("cross_entropy: weight is ", dtype_name(w.dtype()),
                              " but logits are ", dtype_name(x.dtype())));
  }
  return s;
}

// The active instruction set's row maximum and exp-and-sum, for rows of adjacent classes.
template <class T>
kernels::ExpRuns<T> exp_runs() {
  const auto& t = kernels::active();
  return {kernels::for_dtype<T>(t.extreme_f32, t.extreme_f64),
          kernels::for_dtype<T>(t.exp_shift_sum_f32, t.exp_shift_sum_f64)};
}

template <class T>
Tensor ce_backward(const Tensor& x, const Tensor& y, const Tensor& w, const Tensor& lse,
                   const Tensor& g, CeShape s, int64_t ignore, double smoothing, Reduction red,
                   double total_weight) {
  Tensor dx = empty(x.shape(), x.dtype());
  const T* pw = w.defined() ? w.data<T>() : nullptr;
  double sum_w = 0.0;
  for (int64_t c = 0; c < s.C; ++c) sum_w += pw ? static_cast<double>(pw[c]) : 1.0;
  Tensor gc = contiguous(g.to(x.dtype()));
  const int64_t stride = red == Reduction::None ? 1 : 0;
  const double mul = red == Reduction::Mean ? 1.0 / total_weight : 1.0;
  const kernels::ExpRuns<T> runs = exp_runs<T>();
  parallel_for(0, s.N * s.D, grain_for(s.C), [&](int64_t b, int64_t e) {
    kernels::cross_entropy_backward<T>(x.data<T>(), y.data<int64_t>(), pw, lse.data<T>(), s.C, s.D,
                                       ignore, smoothing, sum_w, gc.data<T>(), stride, mul, b, e,
                                       dx.data<T>(), runs);
  });
  return dx;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight_in,
                     int64_t ignore_index, double label_smoothing, Reduction reduction) {
  CeShape s = check_cross_entropy(logits, target, weight_in);
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw ValueError(
        str_cat("cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing));
  Tensor x = contiguous(logits);
  Tensor y = contiguous(target.to(DType::Int64));
  Tensor w = weight_in.defined() ? contiguous(weight_in) : weight_in;
  const int64_t rows = s.N * s.D;
  const int64_t* py = y.data<int64_t>();
  for (int64_t r = 0; r < rows; ++r)
    if (py[r] != ignore_index && (py[r] < 0 || py[r] >= s.C))
      throw IndexError(str_cat("cross_entropy: target ", py[r], " is out of bounds for ", s.C,
                               " classes (at flat position ", r, ")"));
  if (s.C == 0 && rows > 0) throw ValueError("cross_entropy: logits have 0 classes");
  Tensor loss_rows = empty({rows}, x.dtype()), lse = empty({rows}, x.dtype()),
         wrow = empty({rows}, x.dtype());
  double total = 0.0, total_weight = 0.0;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* pw = w.defined() ? w.data<T>() : nullptr;
      const kernels::ExpRuns<T> runs = exp_runs<T>();
      parallel_for(0, rows, grain_for(s.C), [&](int64_t b, int64_t e) {
        kernels::cross_entropy_forward<T>(x.data<T>(), py, pw, s.C, s.D, ignore_index,
                                          label_smoothing, b, e, loss_rows.data<T>(), lse.data<T>(),
                                          wrow.data<T>(), runs);
      });
      // Sums in row order: the same bits for any thread count.
      for (int64_t r = 0; r < rows; ++r) {
        total += static_cast<double>(loss_rows.data<T>()[r]);
        total_weight += static_cast<double>(wrow.data<T>()[r]);
      }
    }
  });
  Tensor out;
  if (reduction == Reduction::None) {
    out = reshape(loss_rows, target.shape());
  } else {
    double v =
        reduction == Reduction::Sum ? total : total / total_weight;  // 0/0 = NaN, as in PyTorch
    out = scalar_tensor(Scalar(v), x.dtype());
  }
  std::vector<Tensor> inputs{logits};
  if (weight_in.defined()) inputs.push_back(weight_in);
  if (auto node = make_node("cross_entropy", inputs)) {
    node->save(x);
    node->save(y);
    if (w.defined()) node->save(w);
    node->save(lse);
    const bool has_w = w.defined();
    node->backward = [s, ignore_index, label_smoothing, reduction, total_weight, has_w](
                         FunctionNode& n, const std::vector<Tensor>& g) {
      if (has_w && n.needs_input_grad(1))
        throw RuntimeError("cross_entropy: the gradient with respect to weight is not implemented");
      Tensor x = n.saved(0), y = n.saved(1), w = has_w ? n.saved(2) : Tensor(),
             lse = n.saved(has_w ? 3 : 2);
      check_first_order("cross_entropy", {&g[0], &x});
      Tensor dx = x.dtype() == DType::Float32
                      ? ce_backward<float>(x, y, w, lse, g[0], s, ignore_index, label_smoothing,
                                           reduction, total_weight)
                      : ce_backward<double>(x, y, w, lse, g[0], s, ignore_index, label_smoothing,
                                            reduction, total_weight);
      std::vector<Tensor> r(n.next_edges.size());
      r[0] = dx;
      return r;
    };
    set_history(out, node);
  }
  return out;
}

}  // namespace dlcore
