// batch_norm over (N, C, *): per-channel statistics of the batch (training) or the
// running ones (eval), with the running statistics updated in place during
// training; one pass per channel forward and one backward (kernels/cpu/batch_norm.h).
// Channels run on threads; each channel's sums go in a fixed order, so the bits do
// not depend on the thread count.
#include <cmath>
#include <vector>

#include "kernels/cpu/batch_norm.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

using kernels::ChannelLayout;

struct BnShape {
  int64_t N, C, S;
  ChannelLayout layout() const { return {N, S, C * S}; }
};

void check_param(const Tensor& t, const char* name, const BnShape& s, DType dtype) {
  if (!t.defined()) return;
  if (t.dim() != 1 || t.shape()[0] != s.C)
    throw ValueError(
        str_cat("batch_norm: ", name, " must have shape (", s.C, "), got ", shape_str(t.shape())));
  if (t.dtype() != dtype)
    throw TypeError(str_cat("batch_norm: ", name, " is ", dtype_name(t.dtype()),
                            " but the input is ", dtype_name(dtype)));
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  if (input.dim() < 2)
    throw ValueError(
        str_cat("batch_norm: expected input of shape (N, C, ...), got ", shape_str(input.shape())));
  if (!is_floating(input.dtype()))
    throw TypeError(str_cat("batch_norm: expected a float input, got ", dtype_name(input.dtype())));
  BnShape s{input.shape()[0], input.shape()[1], 1};
  for (int64_t d = 2; d < input.dim(); ++d) s.S *= input.shape()[d];
  check_param(weight, "weight", s, input.dtype());
  check_param(bias, "bias", s, input.dtype());
  check_param(running_mean, "running_mean", s, input.dtype());
  check_param(running_var, "running_var", s, input.dtype());
  const bool batch_stats = training || !running_mean.defined();
  if (!batch_stats && !running_var.defined())
    throw ValueError("batch_norm: running_var is needed with running_mean outside training");
  if (batch_stats && s.N * s.S <= 1)
    throw ValueError(str_cat(
        "batch_norm: expected more than 1 value per channel when training, got input of shape ",
        shape_str(input.shape())));
  for (const Tensor* r : {&running_mean, &running_var})
    if (r->defined() && !r->is_contiguous())
      throw ValueError(
          "batch_norm: running statistics must be contiguous (they are updated in place)");
  Tensor x = contiguous(input);
  Tensor wc = weight.defined() ? contiguous(weight) : weight,
         bc = bias.defined() ? contiguous(bias) : bias;
  Tensor y = empty(x.shape(), x.dtype());
  Tensor mean = empty({s.C}, DType::Float64), invstd = empty({s.C}, DType::Float64);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T *pw = data_or_null<T>(wc), *pb = data_or_null<T>(bc);
      double* pm = mean.data<double>();
      double* pi = invstd.data<double>();
      const ChannelLayout l = s.layout();
      const auto k = kernels::ChannelKernels<T>::active();
      parallel_for(0, s.C, grain_for(s.N * s.S), [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
          const T* xc = x.data<T>() + c * s.S;
          double m, v;
          if (batch_stats) {
            kernels::channel_stats<T>(k, l, xc, m, v);
            if (training && running_mean.defined()) {
              T* rm = running_mean.data<T>() + c;
              *rm = static_cast<T>((1.0 - momentum) * static_cast<double>(*rm) + momentum * m);
            }
            if (training && running_var.defined()) {
              const double M = static_cast<double>(s.N * s.S);
              T* rv = running_var.data<T>() + c;
              *rv = static_cast<T>((1.0 - momentum) * static_cast<double>(*rv) +
                                   momentum * v * M / (M - 1.0));
            }
          } else {
            m = static_cast<double>(running_mean.data<T>()[c]);
            v = static_cast<double>(running_var.data<T>()[c]);
          }
          pm[c] = m;
          pi[c] = 1.0 / std::sqrt(v + eps);
          kernels::channel_normalize<T>(k, l, xc, m, pi[c], pw ? static_cast<double>(pw[c]) : 1.0,
                                        pb ? static_cast<double>(pb[c]) : 0.0,
                                        y.data<T>() + c * s.S);
        }
      });
    }
  });
  if (training) {
    if (running_mean.defined()) running_mean.bump_version();
    if (running_var.defined()) running_var.bump_version();
  }
  std::vector<Tensor> inputs{input};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  if (auto node = make_node("batch_norm", inputs)) {
    node->save(x);
    if (weight.defined()) node->save(wc);
    const bool has_w = weight.defined(), has_b = bias.defined();
    node->backward = [s, batch_stats, mean, invstd, has_w, has_b](
                         FunctionNode& n, const std::vector<Tensor>& grads) {
      Tensor x = n.saved(0), w = has_w ? n.saved(1) : Tensor();
      check_first_order("batch_norm", {&grads[0], &x});
      Tensor g = contiguous(grads[0].to(x.dtype()));
      Tensor dx = empty(x.shape(), x.dtype());
      Tensor dw = empty({s.C}, x.dtype()), db = empty({s.C}, x.dtype());
      visit_dtype(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_floating_point_v<T>) {
          const ChannelLayout l = s.layout();
          const auto k = kernels::ChannelKernels<T>::active();
          const T* pw = data_or_null<T>(w);
          parallel_for(0, s.C, grain_for(s.N * s.S), [&](int64_t lo, int64_t hi) {
            for (int64_t c = lo; c < hi; ++c) {
              const T* xc = x.data<T>() + c * s.S;
              const T* gc = g.data<T>() + c * s.S;
              const double m = mean.data<double>()[c], is = invstd.data<double>()[c];
              double sum_g, sum_gx;
              kernels::channel_grad_sums<T>(k, l, xc, gc, m, is, sum_g, sum_gx);
              dw.data<T>()[c] = static_cast<T>(sum_gx);
              db.data<T>()[c] = static_cast<T>(sum_g);
              kernels::channel_backward<T>(k, l, xc, gc, m, is,
                                           pw ? static_cast<double>(pw[c]) : 1.0, sum_g, sum_gx,
                                           batch_stats, dx.data<T>() + c * s.S);
            }
          });
        }
      });
      std::vector<Tensor> r;
      r.push_back(n.needs_input_grad(0) ? dx : Tensor());
      if (has_w) r.push_back(n.needs_input_grad(1) ? dw : Tensor());
      if (has_b) r.push_back(n.needs_input_grad(has_w ? 2 : 1) ? db : Tensor());
      return r;
    };
    set_history(y, node);
  }
  return y;
}

}  // namespace dlcore

// layer_norm and rms_norm over the last dimensions (kernels/cpu/layer_norm_simd.cpp): rows of D
// values on threads; the weight and bias gradients are summed per fixed block of rows,
// then over the blocks in order, so the bits do not depend on the thread count.
namespace dlcore {
namespace {

// The weight and bias gradients are summed over at most kNormBlocks blocks of at least
// kNormMinRows rows each (the split depends on the row count only).
constexpr int64_t kNormBlocks = 64, kNormMinRows = 32;

template <class T>
struct RowNormKernels {
  kernels::RowNormForwardFn<T> forward;
  kernels::RowsNormBackwardFn<T> backward;
};

template <class T>
RowNormKernels<T> row_norm_kernels() {
  const auto& t = kernels::active();
  return {kernels::for_dtype<T>(t.row_norm_forward_f32, t.row_norm_forward_f64),
          kernels::for_dtype<T>(t.rows_norm_backward_f32, t.rows_norm_backward_f64)};
}

// The backward written with differentiable ops, for when a graph of the gradient is being
// built (create_graph=True): the same formulas as the kernels, with the statistics
// recomputed from x so that they are differentiated too.
std::vector<Tensor> composed_backward(bool rms, const Tensor& x, const Tensor& w, bool has_b,
                                      const Tensor& g, int64_t nd, double eps) {
  Dims last, lead;
  for (int64_t d = 0; d < x.dim(); ++d) (d < x.dim() - nd ? lead : last).push_back(d);
  const Tensor xc = rms ? x : sub(x, mean(x, last, true));
  const Tensor rstd = rsqrt(add(mean(mul(xc, xc), last, true), Scalar(eps)));
  const Tensor xhat = mul(xc, rstd);
  const Tensor gw = w.defined() ? mul(g, w) : g;
  Tensor inner = sub(gw, mul(xhat, mean(mul(gw, xhat), last, true)));
  if (!rms) inner = sub(inner, mean(gw, last, true));
  auto over_rows = [&](const Tensor& t) { return lead.empty() ? t : sum(t, lead); };
  std::vector<Tensor> r{mul(rstd, inner)};
  if (w.defined()) r.push_back(over_rows(mul(g, xhat)));
  if (has_b) r.push_back(over_rows(g));
  return r;
}

Tensor row_norm(const char* name, bool rms, const Tensor& input, int64_t nd, const Tensor& weight,
                const Tensor& bias, double eps) {
  if (nd < 1 || nd > input.dim())
    throw ValueError(str_cat(name, ": cannot normalise the last ", nd,
                             " dimensions of input of shape ", shape_str(input.shape())));
  if (!is_floating(input.dtype()))
    throw TypeError(str_cat(name, ": expected a float input, got ", dtype_name(input.dtype())));
  const Shape norm_shape(input.shape().end() - nd, input.shape().end());
  for (const auto& [t, what] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}}) {
    if (!t->defined()) continue;
    if (t->shape() != norm_shape)
      throw ValueError(str_cat(name, ": ", what, " of shape ", shape_str(t->shape()),
                               " does not match the normalized shape ", shape_str(norm_shape),
                               " of input ", shape_str(input.shape())));
    if (t->dtype() != input.dtype())
      throw TypeError(str_cat(name, ": ", what, " is ", dtype_name(t->dtype()),
                              " but the input is ", dtype_name(input.dtype())));
  }
  int64_t D = 1;
  for (int64_t s : norm_shape) D *= s;
  const int64_t R = D == 0 ? 0 : input.numel() / D;
  Tensor x = contiguous(input);
  Tensor w = weight.defined() ? contiguous(weight) : weight;
  Tensor b = bias.defined() ? contiguous(bias) : bias;
  Tensor y = empty(x.shape(), x.dtype());
  Tensor mean = empty({R}, DType::Float64), rstd = empty({R}, DType::Float64);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T *px = x.data<T>(), *pw = data_or_null<T>(w), *pb = data_or_null<T>(b);
      T* py = y.data<T>();
      double *pm = mean.data<double>(), *pr = rstd.data<double>();
      const RowNormKernels<T> kern = row_norm_kernels<T>();
      parallel_for(0, R, grain_for(D), [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r)
          kern.forward(rms, D, px + r * D, pw, pb, eps, py + r * D, pm[r], pr[r]);
      });
    }
  });
  std::vector<Tensor> inputs{input};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  auto node = make_node(name, inputs);
  if (!node) return y;
  node->save(x);
  if (w.defined()) node->save(w);
  const bool has_w = weight.defined(), has_b = bias.defined();
  node->backward = [rms, R, D, nd, eps, norm_shape, mean, rstd, has_w, has_b](
                       FunctionNode& n, const std::vector<Tensor>& grads) {
    Tensor x = n.saved(0), w = has_w ? n.saved(1) : Tensor();
    Tensor g = grads[0].to(x.dtype());
    if (grad_enabled() && (g.requires_grad() || x.requires_grad() || (has_w && w.requires_grad())))
      return composed_backward(rms, x, w, has_b, g, nd, eps);
    g = contiguous(g);
    const bool want_dx = n.needs_input_grad(0);
    const bool want_dw = has_w && n.needs_input_grad(1);
    const bool want_db = has_b && n.needs_input_grad(has_w ? 2 : 1);
    Tensor dx = want_dx ? empty(x.shape(), x.dtype()) : Tensor();
    const int64_t per_block = std::max(kNormMinRows, (R + kNormBlocks - 1) / kNormBlocks);
    const int64_t blocks = (R + per_block - 1) / per_block;
    // Per block of rows: the partial sums of dw (first D) and db (next D).
    std::vector<double> part(want_dw || want_db ? blocks * 2 * D : 0, 0.0);
    Tensor dw, db;
    visit_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        const T *px = x.data<T>(), *pg = g.data<T>(), *pw = data_or_null<T>(w);
        T* pdx = want_dx ? dx.data<T>() : nullptr;
        const double *pm = mean.data<double>(), *pr = rstd.data<double>();
        const RowNormKernels<T> kern = row_norm_kernels<T>();
        parallel_for(0, blocks, grain_for(per_block * D), [&](int64_t lo, int64_t hi) {
          for (int64_t k = lo; k < hi; ++k) {
            // The kernel takes dw and db together: both or neither.
            double* pdw = part.empty() ? nullptr : part.data() + k * 2 * D;
            double* pdb = part.empty() ? nullptr : pdw + D;
            const int64_t r = k * per_block;
            kern.backward(rms, D, std::min(R, r + per_block) - r, px + r * D, pg + r * D, pw,
                          pm + r, pr + r, pdx ? pdx + r * D : nullptr, pdw, pdb);
          }
        });
        // The blocks' partial sums added in block order (the first block's row holds the
        // total), a row at a time.
        for (int64_t k = 1; k < blocks && !part.empty(); ++k)
          for (int64_t i = 0; i < 2 * D; ++i) part[i] += part[k * 2 * D + i];
        for (int which = 0; which < 2; ++which) {
          if (!(which == 0 ? want_dw : want_db)) continue;
          Tensor t = empty(norm_shape, x.dtype());
          T* pt = t.data<T>();
          for (int64_t i = 0; i < D; ++i) pt[i] = static_cast<T>(part[which * D + i]);
          (which == 0 ? dw : db) = t;
        }
      }
    });
    std::vector<Tensor> r{dx};
    if (has_w) r.push_back(dw);
    if (has_b) r.push_back(db);
    return r;
  };
  set_history(y, node);
  return y;
}

}  // namespace

Tensor layer_norm(const Tensor& x, int64_t normalized_dims, const Tensor& weight,
                  const Tensor& bias, double eps) {
  return row_norm("layer_norm", false, x, normalized_dims, weight, bias, eps);
}

Tensor rms_norm(const Tensor& x, int64_t normalized_dims, const Tensor& weight, double eps) {
  return row_norm("rms_norm", true, x, normalized_dims, weight, Tensor(), eps);
}

}  // namespace dlcore
