// Bindings: the neural-network ops (linear, activations, cross_entropy) and the
// fused optimizer step. dlcore.nn.functional and dlcore.optim wrap them.
#include "bind.h"

namespace dlcore::python {
namespace {

using nogil = py::call_guard<py::gil_scoped_release>;
using OptTensor = std::optional<Tensor>;

Tensor or_undefined(const OptTensor& t) { return t ? *t : Tensor(); }

Reduction to_reduction(const std::string& r, const char* op) {
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  if (r == "none") return Reduction::None;
  throw ValueError(str_cat(op, ": reduction must be 'mean', 'sum' or 'none', got '", r, "'"));
}

OptimKind to_kind(const std::string& k) {
  if (k == "sgd") return OptimKind::Sgd;
  if (k == "adam") return OptimKind::Adam;
  if (k == "adagrad") return OptimKind::Adagrad;
  if (k == "rmsprop") return OptimKind::Rmsprop;
  if (k == "adamax") return OptimKind::Adamax;
  if (k == "nadam") return OptimKind::Nadam;
  if (k == "radam") return OptimKind::Radam;
  if (k == "adadelta") return OptimKind::Adadelta;
  throw ValueError("optimizer_step: unknown optimizer '" + k + "'");
}

// Reads the hyperparameters named in `hyper` (unknown names are an error).
OptimStep to_step(const std::string& kind, const py::dict& hyper) {
  OptimStep s;
  s.kind = to_kind(kind);
  for (auto item : hyper) {
    std::string k = item.first.cast<std::string>();
    py::handle v = item.second;
    if (k == "lr")
      s.lr = v.cast<double>();
    else if (k == "weight_decay")
      s.weight_decay = v.cast<double>();
    else if (k == "maximize")
      s.maximize = v.cast<bool>();
    else if (k == "momentum")
      s.momentum = v.cast<double>();
    else if (k == "dampening")
      s.dampening = v.cast<double>();
    else if (k == "nesterov")
      s.nesterov = v.cast<bool>();
    else if (k == "beta1")
      s.beta1 = v.cast<double>();
    else if (k == "beta2")
      s.beta2 = v.cast<double>();
    else if (k == "eps")
      s.eps = v.cast<double>();
    else if (k == "amsgrad")
      s.amsgrad = v.cast<bool>();
    else if (k == "decoupled")
      s.decoupled = v.cast<bool>();
    else if (k == "lr_decay")
      s.lr_decay = v.cast<double>();
    else if (k == "alpha")
      s.alpha = v.cast<double>();
    else if (k == "centered")
      s.centered = v.cast<bool>();
    else if (k == "momentum_decay")
      s.momentum_decay = v.cast<double>();
    else if (k == "rho")
      s.rho = v.cast<double>();
    else
      throw ValueError("optimizer_step: unknown hyperparameter '" + k + "'");
  }
  return s;
}

RnnCell to_cell(const std::string& mode) {
  if (mode == "lstm") return RnnCell::Lstm;
  if (mode == "gru") return RnnCell::Gru;
  if (mode == "rnn_tanh") return RnnCell::RnnTanh;
  if (mode == "rnn_relu") return RnnCell::RnnRelu;
  throw ValueError("rnn_layer: mode must be 'lstm', 'gru', 'rnn_tanh' or 'rnn_relu', got '" + mode +
                   "'");
}

}  // namespace

void init_nn(py::module_& m) {
  m.def(
      "linear",
      [](const Tensor& x, const Tensor& w, const OptTensor& b) {
        return linear(x, w, or_undefined(b));
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), nogil());
  m.def(
      "_conv2d",
      [](const Tensor& x, const Tensor& w, const OptTensor& b, std::array<int64_t, 2> stride,
         std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation, int64_t groups) {
        return conv2d(x, w, or_undefined(b), stride, padding, dilation, groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
      py::arg("dilation"), py::arg("groups"), nogil());
  m.def(
      "_conv_transpose2d",
      [](const Tensor& x, const Tensor& w, const OptTensor& b, std::array<int64_t, 2> stride,
         std::array<int64_t, 2> padding, std::array<int64_t, 2> output_padding, int64_t groups,
         std::array<int64_t, 2> dilation) {
        return conv_transpose2d(x, w, or_undefined(b), stride, padding, output_padding, groups,
                                dilation);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
      py::arg("output_padding"), py::arg("groups"), py::arg("dilation"), nogil());
  m.def(
      "_conv1d",
      [](const Tensor& x, const Tensor& w, const OptTensor& b, int64_t stride, int64_t padding,
         int64_t dilation, int64_t groups) {
        return conv1d(x, w, or_undefined(b), stride, padding, dilation, groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
      py::arg("dilation"), py::arg("groups"), nogil());
  using Pair = std::array<int64_t, 2>;
  m.def("_max_pool2d", &max_pool2d, py::arg("input"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("ceil_mode"), nogil());
  m.def("_avg_pool2d", &avg_pool2d, py::arg("input"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("ceil_mode"), py::arg("count_include_pad"),
        py::arg("divisor_override"), nogil());
  m.def(
      "_adaptive_avg_pool2d",
      [](const Tensor& x, Pair size) { return adaptive_avg_pool2d(x, size); }, py::arg("input"),
      py::arg("output_size"), nogil());
  m.def(
      "_adaptive_max_pool2d",
      [](const Tensor& x, Pair size) { return adaptive_max_pool2d(x, size); }, py::arg("input"),
      py::arg("output_size"), nogil());
  m.def(
      "_batch_norm",
      [](const Tensor& x, const OptTensor& rm, const OptTensor& rv, const OptTensor& w,
         const OptTensor& b, bool training, double momentum, double eps) {
        return batch_norm(x, or_undefined(rm), or_undefined(rv), or_undefined(w), or_undefined(b),
                          training, momentum, eps);
      },
      py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight"),
      py::arg("bias"), py::arg("training"), py::arg("momentum"), py::arg("eps"), nogil());
  // One layer of a recurrent network, all its directions: each direction is
  // (h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, reverse).
  using Direction =
      std::tuple<OptTensor, OptTensor, Tensor, Tensor, OptTensor, OptTensor, OptTensor, bool>;
  m.def(
      "_rnn_layer",
      [](const std::string& mode, const Tensor& x, const std::vector<Direction>& directions,
         const OptTensor& lengths) {
        RnnCell cell = to_cell(mode);
        std::vector<RnnDirection> dirs;
        for (const auto& [h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse] : directions)
          dirs.push_back({or_undefined(h0), or_undefined(c0), w_ih, w_hh, or_undefined(b_ih),
                          or_undefined(b_hh), or_undefined(w_hr), reverse});
        std::vector<std::vector<Tensor>> outs;
        {
          py::gil_scoped_release release;
          outs = rnn_layer_directions(cell, x, dirs, or_undefined(lengths));
        }
        py::list r;
        for (const auto& o : outs)
          r.append(py::make_tuple(o[0], o[1], o[2].defined() ? py::cast(o[2]) : py::none()));
        return r;
      },
      py::arg("mode"), py::arg("input"), py::arg("directions"), py::arg("lengths"));
  m.def(
      "_layer_norm",
      [](const Tensor& x, int64_t nd, const OptTensor& w, const OptTensor& b, double eps) {
        return layer_norm(x, nd, or_undefined(w), or_undefined(b), eps);
      },
      py::arg("input"), py::arg("normalized_dims"), py::arg("weight"), py::arg("bias"),
      py::arg("eps"), nogil());
  m.def(
      "_rms_norm",
      [](const Tensor& x, int64_t nd, const OptTensor& w, double eps) {
        return rms_norm(x, nd, or_undefined(w), eps);
      },
      py::arg("input"), py::arg("normalized_dims"), py::arg("weight"), py::arg("eps"), nogil());
  m.def(
      "scaled_dot_product_attention",
      [](const Tensor& q, const Tensor& k, const Tensor& v, const OptTensor& mask, double dropout_p,
         bool is_causal, std::optional<double> scale) {
        return scaled_dot_product_attention(q, k, v, or_undefined(mask), dropout_p, is_causal,
                                            scale);
      },
      py::arg("query"), py::arg("key"), py::arg("value"), py::arg("attn_mask") = py::none(),
      py::arg("dropout_p") = 0.0, py::arg("is_causal") = false, py::arg("scale") = py::none(),
      nogil());
  m.def(
      "_dropout", [](const Tensor& x, double p) { return dropout(x, p); }, py::arg("input"),
      py::arg("p"), nogil());
  m.def("_dropout_seeded", &dropout_seeded, py::arg("input"), py::arg("p"), py::arg("seed"),
        nogil());
  m.def("leaky_relu", &leaky_relu, py::arg("input"), py::arg("negative_slope") = 0.01, nogil());
  m.def("elu", &elu, py::arg("input"), py::arg("alpha") = 1.0, nogil());
  m.def("softplus", &softplus, py::arg("input"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0,
        nogil());
  m.def(
      "gelu",
      [](const Tensor& x, const std::string& approximate) {
        if (approximate != "none" && approximate != "tanh")
          throw ValueError("gelu: approximate must be 'none' or 'tanh', got '" + approximate + "'");
        py::gil_scoped_release release;
        return gelu(x, approximate == "tanh");
      },
      py::arg("input"), py::arg("approximate") = "none");
  m.def("silu", &silu, py::arg("input"), nogil());
  m.def("hardtanh", &hardtanh, py::arg("input"), py::arg("min_val") = -1.0,
        py::arg("max_val") = 1.0, nogil());
  m.def("hardsigmoid", &hardsigmoid, py::arg("input"), nogil());
  m.def("piecewise_linear", &piecewise_linear, py::arg("input"), nogil());
  m.def("heaviside_step", &heaviside_step, py::arg("input"), nogil());
  m.def(
      "cross_entropy",
      [](const Tensor& x, const Tensor& y, const OptTensor& w, int64_t ignore_index,
         const std::string& reduction, double label_smoothing) {
        Reduction r = to_reduction(reduction, "cross_entropy");
        py::gil_scoped_release release;
        return cross_entropy(x, y, or_undefined(w), ignore_index, label_smoothing, r);
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
      py::arg("ignore_index") = -100, py::arg("reduction") = "mean",
      py::arg("label_smoothing") = 0.0);
  m.def(
      "_optimizer_step",
      [](const std::string& kind, const py::dict& hyper, const std::vector<Tensor>& params,
         const std::vector<Tensor>& grads, const std::vector<std::vector<OptTensor>>& states,
         const std::vector<int64_t>& steps, const std::vector<double>& mu_products) {
        OptimStep s = to_step(kind, hyper);
        std::vector<std::vector<Tensor>> st;
        for (const auto& list : states) {
          st.emplace_back();
          for (const auto& t : list) st.back().push_back(or_undefined(t));
        }
        py::gil_scoped_release release;
        optimizer_step(s, params, grads, st, steps, mu_products);
      },
      py::arg("kind"), py::arg("hyper"), py::arg("params"), py::arg("grads"), py::arg("states"),
      py::arg("steps"), py::arg("mu_products") = std::vector<double>{});
}

}  // namespace dlcore::python
