// Bindings: tensor operations, each as a module function (dlcore.add) and,
// where PyTorch has one, a Tensor method and an operator.
#include "bind.h"

namespace dlcore::python {
namespace {

using TT = const Tensor&;
// Runs the bound function with the GIL released (for ops whose arguments are C++ values).
using nogil = py::call_guard<py::gil_scoped_release>;

// Binds f as dlcore._C.<name>(input, ...) and Tensor.<name>(...).
template <class F, class... Extra>
void def_both(py::module_& m, py::class_<Tensor>& c, const char* name, F f, const Extra&... extra) {
  m.def(name, f, py::arg("input"), extra...);
  c.def(name, f, extra...);
}

// Converts the Python operand with the GIL held, then runs the op without it.
Tensor binop(const char* name, TT a, const py::handle& b, Tensor (*f)(TT, TT)) {
  Tensor other = to_tensor_operand(b, name);
  py::gil_scoped_release nogil;
  return f(a, other);
}

Tensor rbinop(const char* name, TT a, const py::handle& b, Tensor (*f)(TT, TT)) {
  Tensor other = to_tensor_operand(b, name);
  py::gil_scoped_release nogil;
  return f(other, a);
}

std::optional<Scalar> opt_scalar(const py::object& o) {
  if (o.is_none()) return std::nullopt;
  return o.cast<Scalar>();
}

py::object minmax(TT x, const py::object& dim, bool keepdim, bool is_max) {
  if (py::isinstance<Tensor>(dim)) {  // max(a, b) is maximum(a, b), as in PyTorch
    Tensor other = dim.cast<Tensor>(), r;
    {
      py::gil_scoped_release nogil;
      r = is_max ? maximum(x, other) : minimum(x, other);
    }
    return py::cast(r);
  }
  if (dim.is_none()) {
    Tensor r;
    {
      py::gil_scoped_release nogil;
      r = is_max ? max(x) : min(x);
    }
    return py::cast(r);
  }
  int64_t d = dim.cast<int64_t>();
  std::pair<Tensor, Tensor> r;
  {
    py::gil_scoped_release nogil;
    r = is_max ? max(x, d, keepdim) : min(x, d, keepdim);
  }
  py::object nt = py::module_::import("dlcore").attr("_MinMax");
  return nt(r.first, r.second);
}

// (values, indices) as the named tuple dlcore.<tuple_name> (sort, topk; as in PyTorch).
py::object values_indices(const char* tuple_name, std::pair<Tensor, Tensor> r) {
  return py::module_::import("dlcore").attr(tuple_name)(r.first, r.second);
}

Tensor& iop(Tensor& a, const py::handle& b, Tensor& (*f)(Tensor&, TT)) {
  Tensor other = to_tensor_operand(b, "inplace");
  py::gil_scoped_release nogil;
  return f(a, other);
}

// Reductions: dims converted with the GIL held, the op run without it.
template <class F> Tensor reduce_nogil(const py::object& dim, F f) {
  Dims dims = to_dims(dim);
  py::gil_scoped_release nogil;
  return f(dims);
}

Tensor& add_i(Tensor& a, TT b) { return add_(a, b); }
Tensor& sub_i(Tensor& a, TT b) { return sub_(a, b); }
Tensor add2(TT a, TT b) { return add(a, b); }
Tensor sub2(TT a, TT b) { return sub(a, b); }

}  // namespace

void init_ops(py::module_& m, py::class_<Tensor>& c) {
  using py::arg;
  // ---- binary arithmetic: tensor or number on either side
  def_both(m, c, "add", [](TT a, py::object b, Scalar alpha) {
    Tensor o = to_tensor_operand(b, "add");
    py::gil_scoped_release nogil;
    return add(a, o, alpha);
  },
           arg("other"), py::kw_only(), arg("alpha") = Scalar(int64_t(1)));
  def_both(m, c, "sub", [](TT a, py::object b, Scalar alpha) {
    Tensor o = to_tensor_operand(b, "sub");
    py::gil_scoped_release nogil;
    return sub(a, o, alpha);
  },
           arg("other"), py::kw_only(), arg("alpha") = Scalar(int64_t(1)));
  def_both(m, c, "mul", [](TT a, py::object b) { return binop("mul", a, b, &mul); }, arg("other"));
  def_both(m, c, "div", [](TT a, py::object b) { return binop("div", a, b, &div); }, arg("other"));
  def_both(m, c, "pow", [](TT a, py::object b) { return binop("pow", a, b, &pow); }, arg("exponent"));
  def_both(m, c, "maximum", [](TT a, TT b) { return maximum(a, b); }, arg("other"), nogil());
  def_both(m, c, "minimum", [](TT a, TT b) { return minimum(a, b); }, arg("other"), nogil());
  def_both(
      m, c, "remainder", [](TT a, py::object b) { return binop("remainder", a, b, &remainder); },
      arg("other"));
  def_both(
      m, c, "fmod", [](TT a, py::object b) { return binop("fmod", a, b, &fmod); }, arg("other"));
  def_both(
      m, c, "floor_divide",
      [](TT a, py::object b) { return binop("floor_divide", a, b, &floor_divide); }, arg("other"));
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, Tensor (*)(TT, TT)>>{
           {"eq", &eq},
           {"ne", &ne},
           {"lt", &lt},
           {"le", &le},
           {"gt", &gt},
           {"ge", &ge},
           {"bitwise_and", &bitwise_and},
           {"bitwise_or", &bitwise_or},
           {"bitwise_xor", &bitwise_xor},
           {"bitwise_left_shift", &bitwise_left_shift},
           {"bitwise_right_shift", &bitwise_right_shift}}) {
    std::string n = name;
    auto f = [fn, n](TT a, py::object b) { return binop(n.c_str(), a, b, fn); };
    m.def(name, f, arg("input"), arg("other"));
    c.def(name, f, arg("other"));
  }
  m.def("where", [](TT cond, py::object a, py::object b) {
    Tensor ta = to_tensor_operand(a, "where"), tb = to_tensor_operand(b, "where");
    py::gil_scoped_release nogil;
    return where(cond, ta, tb);
  }, arg("condition"), arg("input"), arg("other"));
  def_both(m, c, "masked_fill", [](TT x, TT mask, Scalar v) { return masked_fill(x, mask, v); },
           arg("mask"), arg("value"), nogil());
  def_both(m, c, "clamp", [](TT x, py::object lo, py::object hi) {
    return clamp(x, opt_scalar(lo), opt_scalar(hi));
  }, arg("min") = py::none(), arg("max") = py::none());
  def_both(m, c, "clip", [](TT x, py::object lo, py::object hi) {
    return clamp(x, opt_scalar(lo), opt_scalar(hi));
  }, arg("min") = py::none(), arg("max") = py::none());
  def_both(m, c, "logical_not", [](TT x) { return logical_not(x); });
  def_both(m, c, "bitwise_not", [](TT x) { return bitwise_not(x); });

  // ---- unary
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, Tensor (*)(TT)>>{
           {"neg", &neg},       {"exp", &exp},         {"log", &log},
           {"sqrt", &sqrt},     {"rsqrt", &rsqrt},     {"abs", &abs},
           {"sign", &sign},     {"sin", &sin},         {"cos", &cos},
           {"tanh", &tanh},     {"sigmoid", &sigmoid}, {"relu", &relu},
           {"square", &square}, {"log1p", &log1p},     {"expm1", &expm1},
           {"log2", &log2},     {"log10", &log10},     {"exp2", &exp2},
           {"erf", &erf},       {"erfc", &erfc},       {"reciprocal", &reciprocal},
           {"sinh", &sinh},     {"cosh", &cosh},       {"asin", &asin},
           {"acos", &acos},     {"atan", &atan},       {"floor", &floor},
           {"ceil", &ceil},     {"round", &round},     {"trunc", &trunc}}) {
    m.def(name, fn, arg("input"), nogil());
    c.def(name, fn, nogil());
    if (std::string(name) == "sign") continue;
    std::string n = name;
    auto inplace = [n](Tensor& t) -> Tensor& { return unary_(t, n); };
    c.def((n + "_").c_str(), inplace, nogil());
    m.def((n + "_").c_str(), inplace, arg("input"), nogil());
  }

  // ---- operators
  c.def(
       "__add__", [](TT a, py::object b) { return binop("add", a, b, &add2); }, py::is_operator())
      .def(
          "__radd__", [](TT a, py::object b) { return rbinop("add", a, b, &add2); },
          py::is_operator())
      .def(
          "__sub__", [](TT a, py::object b) { return binop("sub", a, b, &sub2); },
          py::is_operator())
      .def(
          "__rsub__", [](TT a, py::object b) { return rbinop("sub", a, b, &sub2); },
          py::is_operator())
      .def(
          "__mul__", [](TT a, py::object b) { return binop("mul", a, b, &mul); }, py::is_operator())
      .def(
          "__rmul__", [](TT a, py::object b) { return rbinop("mul", a, b, &mul); },
          py::is_operator())
      .def(
          "__truediv__", [](TT a, py::object b) { return binop("div", a, b, &div); },
          py::is_operator())
      .def(
          "__rtruediv__", [](TT a, py::object b) { return rbinop("div", a, b, &div); },
          py::is_operator())
      .def(
          "__pow__", [](TT a, py::object b) { return binop("pow", a, b, &pow); }, py::is_operator())
      .def(
          "__rpow__", [](TT a, py::object b) { return rbinop("pow", a, b, &pow); },
          py::is_operator())
      .def(
          "__mod__", [](TT a, py::object b) { return binop("remainder", a, b, &remainder); },
          py::is_operator())
      .def(
          "__rmod__", [](TT a, py::object b) { return rbinop("remainder", a, b, &remainder); },
          py::is_operator())
      .def(
          "__floordiv__",
          [](TT a, py::object b) { return binop("floor_divide", a, b, &floor_divide); },
          py::is_operator())
      .def(
          "__rfloordiv__",
          [](TT a, py::object b) { return rbinop("floor_divide", a, b, &floor_divide); },
          py::is_operator())
      .def(
          "__matmul__", [](TT a, TT b) { return matmul(a, b); }, py::is_operator(), nogil())
      .def("__neg__", [](TT a) { return neg(a); })
      .def("__abs__", [](TT a) { return abs(a); })
      .def("__invert__", [](TT a) { return bitwise_not(a); })
      .def(
          "__and__", [](TT a, py::object b) { return binop("bitwise_and", a, b, &bitwise_and); },
          py::is_operator())
      .def(
          "__rand__", [](TT a, py::object b) { return rbinop("bitwise_and", a, b, &bitwise_and); },
          py::is_operator())
      .def(
          "__or__", [](TT a, py::object b) { return binop("bitwise_or", a, b, &bitwise_or); },
          py::is_operator())
      .def(
          "__ror__", [](TT a, py::object b) { return rbinop("bitwise_or", a, b, &bitwise_or); },
          py::is_operator())
      .def(
          "__xor__", [](TT a, py::object b) { return binop("bitwise_xor", a, b, &bitwise_xor); },
          py::is_operator())
      .def(
          "__rxor__", [](TT a, py::object b) { return rbinop("bitwise_xor", a, b, &bitwise_xor); },
          py::is_operator())
      .def(
          "__lshift__",
          [](TT a, py::object b) { return binop("bitwise_left_shift", a, b, &bitwise_left_shift); },
          py::is_operator())
      .def(
          "__rlshift__",
          [](TT a, py::object b) { return rbinop("bitwise_left_shift", a, b, &bitwise_left_shift); },
          py::is_operator())
      .def(
          "__rshift__",
          [](TT a, py::object b) { return binop("bitwise_right_shift", a, b, &bitwise_right_shift); },
          py::is_operator())
      .def(
          "__rrshift__",
          [](TT a, py::object b) { return rbinop("bitwise_right_shift", a, b, &bitwise_right_shift); },
          py::is_operator())
      .def("__round__", [](TT a) { return round(a); })
      .def(
          "__eq__", [](TT a, py::object b) { return binop("eq", a, b, &eq); }, py::is_operator())
      .def(
          "__ne__", [](TT a, py::object b) { return binop("ne", a, b, &ne); }, py::is_operator())
      .def(
          "__lt__", [](TT a, py::object b) { return binop("lt", a, b, &lt); }, py::is_operator())
      .def(
          "__le__", [](TT a, py::object b) { return binop("le", a, b, &le); }, py::is_operator())
      .def(
          "__gt__", [](TT a, py::object b) { return binop("gt", a, b, &gt); }, py::is_operator())
      .def(
          "__ge__", [](TT a, py::object b) { return binop("ge", a, b, &ge); }, py::is_operator())
      .def(
          "__iadd__", [](Tensor& a, py::object b) -> Tensor& { return iop(a, b, &add_i); },
          py::is_operator())
      .def(
          "__isub__", [](Tensor& a, py::object b) -> Tensor& { return iop(a, b, &sub_i); },
          py::is_operator())
      .def(
          "__imul__", [](Tensor& a, py::object b) -> Tensor& { return iop(a, b, &mul_); },
          py::is_operator())
      .def(
          "__itruediv__", [](Tensor& a, py::object b) -> Tensor& { return iop(a, b, &div_); },
          py::is_operator());

  // ---- in place
  c.def("add_", [](Tensor& a, py::object b, Scalar alpha) -> Tensor& {
     return add_(a, to_tensor_operand(b, "add_"), alpha);
   }, arg("other"), py::kw_only(), arg("alpha") = Scalar(int64_t(1)))
      .def("sub_", [](Tensor& a, py::object b, Scalar alpha) -> Tensor& {
        return sub_(a, to_tensor_operand(b, "sub_"), alpha);
      }, arg("other"), py::kw_only(), arg("alpha") = Scalar(int64_t(1)))
      .def("mul_", [](Tensor& a, py::object b) -> Tensor& { return iop(a, b, &mul_); }, arg("other"))
      .def("div_", [](Tensor& a, py::object b) -> Tensor& { return iop(a, b, &div_); }, arg("other"))
      .def("copy_", [](Tensor& a, TT b) -> Tensor& { return copy_(a, b); }, arg("src"))
      .def("zero_", [](Tensor& a) -> Tensor& { return zero_(a); })
      .def("fill_", [](Tensor& a, Scalar v) -> Tensor& { return fill_(a, v); }, arg("value"))
      .def("clamp_", [](Tensor& a, py::object lo, py::object hi) -> Tensor& {
        return clamp_(a, opt_scalar(lo), opt_scalar(hi));
      }, arg("min") = py::none(), arg("max") = py::none())
      .def("masked_fill_", [](Tensor& a, TT mask, Scalar v) -> Tensor& { return masked_fill_(a, mask, v); },
           arg("mask"), arg("value"));
  c.def("_resize_", [](Tensor& a, const Shape& shape) -> Tensor& { return resize_(a, shape); });

  // ---- reductions
  def_both(m, c, "sum", [](TT x, py::object dim, bool keepdim, std::optional<DType> dtype) {
    return reduce_nogil(dim, [&](const Dims& d) { return sum(x, d, keepdim, dtype); });
  }, arg("dim") = py::none(), arg("keepdim") = false, py::kw_only(), arg("dtype") = py::none());
  def_both(m, c, "mean", [](TT x, py::object dim, bool keepdim) {
    return reduce_nogil(dim, [&](const Dims& d) { return mean(x, d, keepdim); });
  },
           arg("dim") = py::none(), arg("keepdim") = false);
  auto var_like = [](bool is_std) {
    return [is_std](TT x, py::object dim, py::object unbiased, bool keepdim, py::object correction) {
      double corr = 1.0;
      if (!correction.is_none()) corr = correction.cast<double>();
      else if (!unbiased.is_none()) corr = unbiased.cast<bool>() ? 1.0 : 0.0;
      return reduce_nogil(dim, [&](const Dims& d) {
        return is_std ? dlcore::std(x, d, corr, keepdim) : var(x, d, corr, keepdim);
      });
    };
  };
  def_both(m, c, "var", var_like(false), arg("dim") = py::none(), arg("unbiased") = py::none(),
           arg("keepdim") = false, py::kw_only(), arg("correction") = py::none());
  def_both(m, c, "std", var_like(true), arg("dim") = py::none(), arg("unbiased") = py::none(),
           arg("keepdim") = false, py::kw_only(), arg("correction") = py::none());
  def_both(m, c, "prod", [](TT x, std::optional<int64_t> dim, bool keepdim) { return prod(x, dim, keepdim); },
           arg("dim") = py::none(), arg("keepdim") = false, nogil());
  def_both(m, c, "amax", [](TT x, py::object dim, bool keepdim) {
    return reduce_nogil(dim, [&](const Dims& d) { return amax(x, d, keepdim); });
  },
           arg("dim") = py::none(), arg("keepdim") = false);
  def_both(m, c, "amin", [](TT x, py::object dim, bool keepdim) {
    return reduce_nogil(dim, [&](const Dims& d) { return amin(x, d, keepdim); });
  },
           arg("dim") = py::none(), arg("keepdim") = false);
  def_both(m, c, "max", [](TT x, py::object dim, bool keepdim) { return minmax(x, dim, keepdim, true); },
           arg("dim") = py::none(), arg("keepdim") = false);
  def_both(m, c, "min", [](TT x, py::object dim, bool keepdim) { return minmax(x, dim, keepdim, false); },
           arg("dim") = py::none(), arg("keepdim") = false);
  def_both(m, c, "argmax", [](TT x, std::optional<int64_t> dim, bool keepdim) { return argmax(x, dim, keepdim); },
           arg("dim") = py::none(), arg("keepdim") = false, nogil());
  def_both(m, c, "argmin", [](TT x, std::optional<int64_t> dim, bool keepdim) { return argmin(x, dim, keepdim); },
           arg("dim") = py::none(), arg("keepdim") = false, nogil());
  def_both(m, c, "logsumexp", [](TT x, py::object dim, bool keepdim) {
    return reduce_nogil(dim, [&](const Dims& d) { return logsumexp(x, d, keepdim); });
  },
           arg("dim"), arg("keepdim") = false);
  def_both(m, c, "cumsum", [](TT x, int64_t dim) { return cumsum(x, dim); }, arg("dim"), nogil());
  def_both(m, c, "cumprod", [](TT x, int64_t dim) { return cumprod(x, dim); }, arg("dim"), nogil());
  def_both(m, c, "logcumsumexp", [](TT x, int64_t dim) { return logcumsumexp(x, dim); }, arg("dim"),
           nogil());
  for (bool is_max : {true, false})
    def_both(m, c, is_max ? "cummax" : "cummin", [is_max](TT x, int64_t dim) {
      std::pair<Tensor, Tensor> r;
      {
        py::gil_scoped_release nogil;
        r = is_max ? cummax(x, dim) : cummin(x, dim);
      }
      return values_indices(is_max ? "_CumMax" : "_CumMin", std::move(r));
    }, arg("dim"));
  def_both(m, c, "softmax", [](TT x, int64_t dim) { return softmax(x, dim); }, arg("dim"), nogil());
  def_both(m, c, "log_softmax", [](TT x, int64_t dim) { return log_softmax(x, dim); }, arg("dim"), nogil());

  // ---- linear algebra
  def_both(m, c, "matmul", [](TT a, TT b) { return matmul(a, b); }, arg("other"), nogil());

  // ---- joining and indexing
  m.def("cat", [](const std::vector<Tensor>& ts, int64_t dim) { return cat(ts, dim); }, arg("tensors"),
        arg("dim") = 0, nogil());
  m.def("stack", [](const std::vector<Tensor>& ts, int64_t dim) { return stack(ts, dim); }, arg("tensors"),
        arg("dim") = 0, nogil());
  def_both(m, c, "split", [](TT x, py::object size, int64_t dim) {
    if (py::isinstance<py::int_>(size)) return split(x, size.cast<int64_t>(), dim);
    return split_sizes(x, size.cast<std::vector<int64_t>>(), dim);
  }, arg("split_size_or_sections"), arg("dim") = 0);
  def_both(m, c, "chunk", [](TT x, int64_t chunks, int64_t dim) { return chunk(x, chunks, dim); },
           arg("chunks"), arg("dim") = 0);
  def_both(m, c, "gather", [](TT x, int64_t dim, TT idx) { return gather(x, dim, idx); }, arg("dim"), arg("index"), nogil());
  def_both(m, c, "scatter_add", [](TT x, int64_t dim, TT idx, TT src) { return scatter_add(x, dim, idx, src); },
           arg("dim"), arg("index"), arg("src"));
  def_both(m, c, "index_select", [](TT x, int64_t dim, TT idx) { return index_select(x, dim, idx); },
           arg("dim"), arg("index"), nogil());
  def_both(m, c, "index_add", [](TT x, int64_t dim, TT idx, TT src) { return index_add(x, dim, idx, src); },
           arg("dim"), arg("index"), arg("source"));
  def_both(m, c, "nonzero", [](TT x) { return nonzero(x); });
  def_both(
      m, c, "flip",
      [](TT x, py::object dims) {
        Dims d = to_dims(dims);
        py::gil_scoped_release nogil;
        return flip(x, d);
      },
      arg("dims"));
  def_both(m, c, "tril", [](TT x, int64_t k) { return tril(x, k); }, arg("diagonal") = 0, nogil());
  def_both(m, c, "triu", [](TT x, int64_t k) { return triu(x, k); }, arg("diagonal") = 0, nogil());

  // ---- sorting and sampling (sort is always stable: `stable` is accepted for PyTorch's
  // signature; topk always returns its values sorted)
  def_both(
      m, c, "sort",
      [](TT x, int64_t dim, bool descending, bool) {
        std::pair<Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = sort(x, dim, descending);
        }
        return values_indices("_Sort", std::move(r));
      },
      arg("dim") = -1, arg("descending") = false, py::kw_only(), arg("stable") = false);
  def_both(
      m, c, "argsort",
      [](TT x, int64_t dim, bool descending, bool) { return argsort(x, dim, descending); },
      arg("dim") = -1, arg("descending") = false, py::kw_only(), arg("stable") = false, nogil());
  def_both(
      m, c, "topk",
      [](TT x, int64_t k, int64_t dim, bool largest, bool) {
        std::pair<Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = topk(x, k, dim, largest);
        }
        return values_indices("_TopK", std::move(r));
      },
      arg("k"), arg("dim") = -1, arg("largest") = true, arg("sorted") = true);
  def_both(
      m, c, "multinomial",
      [](TT p, int64_t n, bool replacement, Generator* g) {
        return multinomial(p, n, replacement, g);
      },
      arg("num_samples"), arg("replacement") = false, py::kw_only(), arg("generator") = py::none(),
      nogil());

  // ---- shape functions (methods are in tensor.cpp)
  m.def("reshape", [](TT x, const Shape& s) { return reshape(x, s); }, arg("input"), arg("shape"));
  m.def("permute", [](TT x, const Dims& d) { return permute(x, d); }, arg("input"), arg("dims"));
  m.def("transpose", [](TT x, int64_t a, int64_t b) { return transpose(x, a, b); }, arg("input"), arg("dim0"), arg("dim1"));
  m.def("t", [](TT x) { return t(x); }, arg("input"));
  m.def("squeeze", [](TT x, py::object dim) { return dim.is_none() ? squeeze(x) : squeeze(x, dim.cast<int64_t>()); },
        arg("input"), arg("dim") = py::none());
  m.def("unsqueeze", [](TT x, int64_t d) { return unsqueeze(x, d); }, arg("input"), arg("dim"));
  m.def("flatten", [](TT x, int64_t s, int64_t e) { return flatten(x, s, e); }, arg("input"),
        arg("start_dim") = 0, arg("end_dim") = -1);
  m.def("narrow", [](TT x, int64_t d, int64_t s, int64_t l) { return narrow(x, d, s, l); }, arg("input"),
        arg("dim"), arg("start"), arg("length"));
  m.def("broadcast_to", [](TT x, const Shape& s) { return broadcast_to(x, s); }, arg("input"), arg("shape"));
  m.def("clone", [](TT x) { return clone(x); }, arg("input"));
  m.def("detach", [](TT x) { return detach(x); }, arg("input"));

  // ---- creation (Python wrappers in dlcore/creation.py take *size and requires_grad)
  m.def("_empty", [](const Shape& s, DType d) { return empty(s, d); });
  m.def("_zeros", [](const Shape& s, DType d) { return zeros(s, d); });
  m.def("_ones", [](const Shape& s, DType d) { return ones(s, d); });
  m.def("_full", [](const Shape& s, Scalar v, std::optional<DType> d) { return full(s, v, d); });
  m.def("_arange", [](Scalar a, Scalar b, Scalar s, std::optional<DType> d) { return arange(a, b, s, d); });
  m.def("_linspace", [](double a, double b, int64_t n, DType d) { return linspace(a, b, n, d); });
  m.def("_eye", [](int64_t n, int64_t mm, DType d) { return eye(n, mm, d); });
  m.def("_rand", [](const Shape& s, DType d, Generator* g) { return rand(s, d, g); });
  m.def("_randn", [](const Shape& s, DType d, Generator* g) { return randn(s, d, g); });
  m.def("_randint", [](int64_t lo, int64_t hi, const Shape& s, DType d, Generator* g) {
    return randint(lo, hi, s, d, g);
  });
  m.def("_normal", [](double mean, double sd, const Shape& s, DType d, Generator* g) {
    return normal(mean, sd, s, d, g);
  });
}

}  // namespace dlcore::python
