// Reductions over one dim, several dims or all: sum, mean, var, std, prod,
// amax/amin, max/min (with indices), argmax/argmin, logsumexp, and the scans cumsum,
// cumprod, cummax/cummin and logcumsumexp.
//
// Every reduction sees its input as x[outer, R, inner] (contiguous), reducing
// over R. When the reduced dims are not one contiguous block of a contiguous
// tensor, they are first permuted to the end and copied (inner = 1).
// Float sums use fixed chunks of kChunk elements combined in order, so the
// result has the same bits for any thread count.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/kernels.h"
#include "ops/common.h"

namespace dlcore {
namespace {

constexpr int64_t kChunk = 16384;

struct Plan {
  Tensor src;  // contiguous, viewed as (outer, R, inner)
  int64_t outer = 1, R = 1, inner = 1;
  std::vector<int64_t> dims;  // normalised reduced dims
  Shape out_keep, out_shape;  // with and without kept singleton dims
};

Plan make_plan(const Tensor& x, const Dims& dims_in, bool keepdim, const char* op) {
  Plan p;
  p.dims = reduce_dims(dims_in, x.dim(), op);
  const Shape& s = x.shape();
  std::vector<bool> red(x.dim(), false);
  for (int64_t d : p.dims) red[d] = true;
  for (int64_t d = 0; d < x.dim(); ++d) {
    p.out_keep.push_back(red[d] ? 1 : s[d]);
    if (!red[d]) p.out_shape.push_back(s[d]);
  }
  if (keepdim) p.out_shape = p.out_keep;
  bool block = p.dims.empty() || p.dims.back() - p.dims.front() + 1 == static_cast<int64_t>(p.dims.size());
  if (block && x.is_contiguous()) {
    p.src = x;
    int64_t d0 = p.dims.empty() ? x.dim() : p.dims.front();
    int64_t d1 = p.dims.empty() ? x.dim() - 1 : p.dims.back();
    for (int64_t d = 0; d < d0; ++d) p.outer *= s[d];
    for (int64_t d = d0; d <= d1; ++d) p.R *= s[d];
    for (int64_t d = d1 + 1; d < x.dim(); ++d) p.inner *= s[d];
  } else {
    Dims perm;
    for (int64_t d = 0; d < x.dim(); ++d)
      if (!red[d]) {
        perm.push_back(d);
        p.outer *= s[d];
      }
    for (int64_t d : p.dims) {
      perm.push_back(d);
      p.R *= s[d];
    }
    NoGradGuard guard;
    p.src = contiguous(permute(x, perm));
  }
  return p;
}

// ---- sum kernels on the plan layout
template <class T> void sum_float(const Plan& p, T* out) {
  const auto& kt = kernels::active();
  const T* x = p.src.data<T>();
  if (p.inner == 1) {
    const int64_t chunks = std::max<int64_t>((p.R + kChunk - 1) / kChunk, 1);
    std::vector<double> partial(p.outer * chunks, 0.0);
    parallel_for(0, p.outer * chunks, grain_for(std::min(kChunk, p.R)), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t row = t / chunks, c = t % chunks;
        int64_t s = c * kChunk, n = std::min(kChunk, p.R - s);
        const T* px = x + row * p.R + s;
        if (n > 0)
          partial[t] = std::is_same_v<T, float> ? kt.sum_f32(reinterpret_cast<const float*>(px), n)
                                                : kt.sum_f64(reinterpret_cast<const double*>(px), n);
      }
    });
    for (int64_t row = 0; row < p.outer; ++row) {
      double s = 0.0;
      for (int64_t c = 0; c < chunks; ++c) s += partial[row * chunks + c];
      out[row] = static_cast<T>(s);
    }
    return;
  }
  // Column sums: blocks of jb columns (an L1-sized accumulator) times chunks of
  // kRowChunk rows, each summed in row order into its own partial; partials are
  // then added in chunk order. The split depends only on the shape, never on
  // the thread count.
  constexpr int64_t kRowChunk = 256;
  const int64_t jb = 16384 / static_cast<int64_t>(sizeof(T));
  const int64_t nb = (p.inner + jb - 1) / jb;
  if (p.R == 0) {
    std::fill(out, out + p.outer * p.inner, T(0));
    return;
  }
  const int64_t rc = (p.R + kRowChunk - 1) / kRowChunk;
  std::vector<T> partial(rc > 1 ? p.outer * rc * p.inner : 0);
  const int64_t grain = grain_for(std::min(kRowChunk, p.R) * std::min(jb, p.inner));
  parallel_for(0, p.outer * nb * rc, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / (nb * rc), jblk = (t / rc) % nb, c = t % rc;
      int64_t j = jblk * jb, m = std::min(jb, p.inner - j);
      int64_t r0 = c * kRowChunk, rows = std::min(kRowChunk, p.R - r0);
      const T* px = x + (o * p.R + r0) * p.inner + j;
      T* po = rc > 1 ? partial.data() + (o * rc + c) * p.inner + j : out + o * p.inner + j;
      kernels::for_dtype<T>(kt.colsum_f32, kt.colsum_f64)(px, rows, p.inner, m, po);
    }
  });
  if (rc > 1) {
    parallel_for(0, p.outer, grain_for(rc * p.inner), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        T* po = out + o * p.inner;
        const T* pp = partial.data() + o * rc * p.inner;
        std::copy(pp, pp + p.inner, po);
        for (int64_t c = 1; c < rc; ++c)
          for (int64_t j = 0; j < p.inner; ++j) po[j] += pp[c * p.inner + j];
      }
    });
  }
}

// Generic ordered fold over R for each (outer, inner) element.
template <class T, class Acc, class F>
void fold(const Plan& p, Acc init, Acc* out, F f) {
  const T* x = p.src.data<T>();
  parallel_for(0, p.outer, grain_for(p.R * p.inner), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      Acc* po = out + o * p.inner;
      std::fill(po, po + p.inner, init);
      for (int64_t r = 0; r < p.R; ++r) {
        const T* row = x + (o * p.R + r) * p.inner;
        for (int64_t j = 0; j < p.inner; ++j) po[j] = f(po[j], row[j]);
      }
    }
  });
}

Tensor sum_forward(const Plan& p, DType out_dtype) {
  Tensor out = empty(p.out_shape, out_dtype);
  Tensor src = p.src.dtype() == out_dtype ? p.src : p.src.to(out_dtype);
  Plan q = p;
  q.src = src;
  visit_dtype(out_dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      sum_float<T>(q, out.data<T>());
    } else if constexpr (std::is_same_v<T, bool>) {
      throw TypeError("sum: cannot accumulate into a bool tensor");
    } else {
      fold<T, T>(q, T(0), out.data<T>(), [](T a, T v) { return static_cast<T>(a + v); });
    }
  });
  return out;
}

// Index of the max (is_max) or min along R: the first occurrence, NaN wins.
template <class T> void arg_extreme(const Plan& p, bool is_max, int64_t* idx, T* val) {
  const T* x = p.src.data<T>();
  // Values only, along adjacent elements: the SIMD kernel (four vector running extremes;
  // the loop below is one chain of compare-and-branch, and a 64 x 256 amax over rows took
  // 19 us in it against 2). The value is the loop's but for the sign of a zero tying with
  // the other zero.
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (!idx && p.inner == 1) {
      const auto& kt = kernels::active();
      const auto extreme = kernels::for_dtype<T>(kt.extreme_f32, kt.extreme_f64);
      parallel_for(0, p.outer, grain_for(p.R), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) val[o] = extreme(x + o * p.R, p.R, is_max);
      });
      return;
    }
  }
  parallel_for(0, p.outer, grain_for(p.R * p.inner), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      for (int64_t j = 0; j < p.inner; ++j) {
        T best = x[o * p.R * p.inner + j];
        int64_t bi = 0;
        for (int64_t r = 1; r < p.R; ++r) {
          T v = x[(o * p.R + r) * p.inner + j];
          bool take;
          if constexpr (std::is_floating_point_v<T>) {
            if (best != best) break;
            take = v != v || (is_max ? v > best : v < best);
          } else {
            take = is_max ? v > best : v < best;
          }
          if (take) {
            best = v;
            bi = r;
          }
        }
        if (idx) idx[o * p.inner + j] = bi;
        if (val) val[o * p.inner + j] = best;
      }
    }
  });
}

// A reduction over an empty dimension has no value to give; over a full one of a tensor
// empty elsewhere, the result is just as empty.
void check_nonempty(const Tensor& x, const Plan& p, const char* op) {
  if (p.R == 0)
    throw ValueError(str_cat(op, ": cannot reduce an empty dimension of a tensor of shape ",
                             shape_str(x.shape()), " (the operation has no identity)"));
}

Tensor extreme_values(const Tensor& x, const Dims& dims, bool keepdim, bool is_max, const char* op) {
  Plan p = make_plan(x, dims, keepdim, op);
  check_nonempty(x, p, op);
  Tensor out = empty(p.out_shape, x.dtype());
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    arg_extreme<T>(p, is_max, nullptr, out.data<T>());
  });
  if (is_floating(x.dtype()))
    if (auto node = make_node(op, {x})) {
      node->save(x);
      node->save(out, true);
      std::vector<int64_t> rd = p.dims;
      node->backward = [rd, keepdim](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor xs = n.saved(0), o = n.saved(1);
        // Ties share the gradient evenly.
        Tensor oe = expand_reduced(o, xs.shape(), rd, keepdim);
        Tensor mask = eq(xs, oe).to(g[0].dtype());
        Tensor count = sum(mask, Dims(rd.begin(), rd.end()), true);
        Tensor ge = expand_reduced(g[0], xs.shape(), rd, keepdim);
        return std::vector<Tensor>{div(mul(ge, mask), count)};
      };
      set_history(out, node);
    }
  return out;
}

std::pair<Tensor, Tensor> extreme_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_max, const char* op) {
  int64_t d = normalize_dim(dim, x.dim(), op);
  Plan p = make_plan(x, x.dim() == 0 ? Dims{} : Dims{d}, keepdim, op);
  check_nonempty(x, p, op);
  Tensor values = empty(p.out_shape, x.dtype());
  Tensor indices = empty(p.out_shape, DType::Int64);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    arg_extreme<T>(p, is_max, indices.data<int64_t>(), values.data<T>());
  });
  if (is_floating(x.dtype()))
    if (auto node = make_node(op, {x})) {
      node->save(indices);
      Shape in_shape = x.shape();
      int64_t nd = x.dim();
      node->backward = [in_shape, d, keepdim, nd](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor idx = n.saved(0), gv = g[0];
        if (nd == 0) return std::vector<Tensor>{gv};
        if (!keepdim) {
          idx = unsqueeze(idx, d);
          gv = unsqueeze(gv, d);
        }
        return std::vector<Tensor>{scatter_add(zeros(in_shape, gv.dtype()), d, idx, gv)};
      };
      set_history(values, node);
    }
  return {values, indices};
}

Tensor arg_reduce(const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max, const char* op) {
  Tensor src = x;
  Dims dims;
  if (dim) {
    dims = {normalize_dim(*dim, x.dim(), op)};
  } else {
    src = reshape(detach(x), {x.numel()});
    keepdim = false;
  }
  Plan p = make_plan(src, x.dim() == 0 ? Dims{} : dims, keepdim, op);
  check_nonempty(x, p, op);
  Tensor out = empty(p.out_shape, DType::Int64);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    arg_extreme<T>(p, is_max, out.data<int64_t>(), static_cast<T*>(nullptr));
  });
  if (!dim && keepdim) return reshape(out, Shape(x.dim(), 1));
  return out;
}

// x with dim d moved last and made contiguous, as `rows` rows of length R, and
// an output of the same layout; move_back() restores the original dim order.
struct Rows {
  Tensor src, out;
  int64_t R, rows;
  Rows(const Tensor& x, int64_t d) {
    src = contiguous(transpose(detach(x), d, -1));
    out = empty(src.shape(), src.dtype());
    R = src.dim() ? src.shape().back() : 1;
    rows = R ? src.numel() / R : 0;
  }
  // Calls f(in_row, out_row) for every row, rows in parallel.
  template <class F> void for_each_row(F f) const {
    visit_dtype(src.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* px = src.data<T>();
      T* po = out.data<T>();
      parallel_for(0, rows, grain_for(R), [&](int64_t b, int64_t e) {
        for (int64_t row = b; row < e; ++row) f(px + row * R, po + row * R);
      });
    });
  }
  Tensor move_back(int64_t d) const { return transpose(out, d, -1); }
};

// Products of all elements of each row except one: out[i] = prod_{j != i} x[j],
// from prefix and suffix products (exact with zeros in the row).
Tensor prod_except(const Tensor& x, int64_t d) {
  Rows r(x, d);
  const int64_t R = r.R;
  r.for_each_row([R](const auto* in, auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    T acc = T(1);
    for (int64_t i = 0; i < R; ++i) {
      o[i] = acc;
      acc = static_cast<T>(acc * in[i]);
    }
    acc = T(1);
    for (int64_t i = R - 1; i >= 0; --i) {
      o[i] = static_cast<T>(o[i] * acc);
      acc = static_cast<T>(acc * in[i]);
    }
  });
  return r.move_back(d);
}

Tensor cumsum_impl(const Tensor& x, int64_t d, bool reverse) {
  Rows r(x, d);
  const int64_t R = r.R;
  r.for_each_row([R, reverse](const auto* in, auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    T acc = T(0);
    for (int64_t k = 0; k < R; ++k) {
      int64_t i = reverse ? R - 1 - k : k;
      acc = static_cast<T>(acc + in[i]);
      o[i] = acc;
    }
  });
  Tensor res = contiguous(r.move_back(d));
  if (is_floating(x.dtype()))
    if (auto node = make_node("cumsum", {x})) {
      node->backward = [d, reverse](FunctionNode&, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{cumsum_impl(g[0], d, !reverse)};
      };
      set_history(res, node);
    }
  return res;
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim, std::optional<DType> dtype) {
  Plan p = make_plan(x, dims, keepdim, "sum");
  DType od = dtype.value_or(is_floating(x.dtype()) ? x.dtype() : DType::Int64);
  Tensor out = sum_forward(p, od);
  if (is_floating(od) && is_floating(x.dtype()))
    if (auto node = make_node("sum", {x})) {
      Shape in_shape = x.shape();
      DType in_dtype = x.dtype();
      std::vector<int64_t> rd = p.dims;
      node->backward = [in_shape, in_dtype, rd, keepdim](FunctionNode&, const std::vector<Tensor>& g) {
        Tensor r = expand_reduced(g[0], in_shape, rd, keepdim);
        return std::vector<Tensor>{r.dtype() == in_dtype ? r : r.to(in_dtype)};
      };
      set_history(out, node);
    }
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  if (lead < 0)
    throw ValueError(str_cat("sum_to: cannot sum shape ", shape_str(x.shape()), " to ", shape_str(shape)));
  Dims dims;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) dims.push_back(d);
  Tensor r = dims.empty() ? x : sum(x, dims, true);
  return reshape(r, shape);
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  if (!is_floating(x.dtype()))
    throw TypeError(str_cat("mean: could not infer output dtype; input dtype must be floating "
                            "point, got ", dtype_name(x.dtype())));
  std::vector<int64_t> rd = reduce_dims(dims, x.dim(), "mean");
  int64_t n = 1;
  for (int64_t d : rd) n *= x.shape()[d];
  return div(sum(x, dims, keepdim), Scalar(static_cast<double>(n)));
}

Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  if (!is_floating(x.dtype()))
    throw TypeError(str_cat("var: expected a floating point tensor, got ", dtype_name(x.dtype())));
  std::vector<int64_t> rd = reduce_dims(dims, x.dim(), "var");
  int64_t n = 1;
  for (int64_t d : rd) n *= x.shape()[d];
  Tensor m = mean(x, dims, true);
  Tensor dev = sub(x, m);
  Tensor ss = sum(mul(dev, dev), dims, keepdim);
  return div(ss, Scalar(std::max(0.0, static_cast<double>(n) - correction)));
}

Tensor std(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return sqrt(var(x, dims, correction, keepdim));
}

// prod_except composed of differentiable ops, for a backward that is itself differentiated:
// row i of an R x R block is x with x[i] replaced by 1, and its product is out[i].
Tensor prod_except_composed(const Tensor& x, int64_t d) {
  Tensor xl = transpose(x, d, -1);
  const int64_t R = xl.shape().back();
  Shape sq = xl.shape();
  sq.push_back(R);
  Tensor xi = where(eye(R, R, DType::Bool), ones({}, x.dtype()), expand(unsqueeze(xl, -2), sq));
  return transpose(prod(xi, -1, false), d, -1);
}

Tensor prod(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Tensor src = dim ? x : reshape(x, {x.numel()});
  int64_t d = dim ? normalize_dim(*dim, x.dim(), "prod") : 0;
  Plan p = make_plan(src, (src.dim() == 0) ? Dims{} : Dims{d}, dim ? keepdim : false, "prod");
  DType od = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Tensor out = empty(p.out_shape, od);
  if (p.src.dtype() != od) p.src = p.src.to(od);
  visit_dtype(od, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>)
      fold<T, T>(p, T(1), out.data<T>(), [](T a, T v) { return static_cast<T>(a * v); });
  });
  if (is_floating(od))
    if (auto node = make_node("prod", {x})) {
      node->save(x);
      bool has_dim = dim.has_value();
      node->backward = [d, keepdim, has_dim](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor xs = n.saved(0);
        // Differentiated again: the products of the others composed of ops (R x R a row).
        const bool composed = grad_enabled() && (g[0].requires_grad() || xs.requires_grad());
        auto except = [composed](const Tensor& t, int64_t dd) {
          return composed ? prod_except_composed(t, dd) : prod_except(t, dd);
        };
        if (!has_dim) {
          Tensor flat = reshape(xs, {xs.numel()});
          return std::vector<Tensor>{
              reshape(mul(expand(g[0], flat.shape()), except(flat, 0)), xs.shape())};
        }
        if (xs.dim() == 0) return std::vector<Tensor>{g[0]};
        Tensor ge = keepdim ? g[0] : unsqueeze(g[0], d);
        return std::vector<Tensor>{mul(expand(ge, xs.shape()), except(xs, d))};
      };
      set_history(out, node);
    }
  return out;
}

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) { return extreme_values(x, dims, keepdim, true, "amax"); }
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) { return extreme_values(x, dims, keepdim, false, "amin"); }
Tensor max(const Tensor& x) { return extreme_values(x, {}, false, true, "max"); }
Tensor min(const Tensor& x) { return extreme_values(x, {}, false, false, "min"); }
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, true, "max"); }
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, false, "min"); }
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_reduce(x, dim, keepdim, true, "argmax"); }
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_reduce(x, dim, keepdim, false, "argmin"); }

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor xf = is_floating(x.dtype()) ? x : x.to(default_dtype());
  Tensor m = detach(amax(xf, dims, true));
  // An all -inf (or +inf) slice would give inf - inf: shift by 0 there instead.
  Tensor finite = eq(abs(m), scalar_tensor(Scalar(std::numeric_limits<double>::infinity()), m.dtype()));
  m = where(finite, scalar_tensor(Scalar(0.0), m.dtype()), m);
  Tensor r = add(log(sum(exp(sub(xf, m)), dims, true)), m);
  if (keepdim) return r;
  std::vector<int64_t> rd = reduce_dims(dims, x.dim(), "logsumexp");
  Shape s;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (std::find(rd.begin(), rd.end(), d) == rd.end()) s.push_back(x.shape()[d]);
  return reshape(r, s);
}

Tensor cumsum(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim(dim, x.dim(), "cumsum");
  if (x.dim() == 0) return clone(x);
  Tensor src = is_floating(x.dtype()) ? x : x.to(DType::Int64);
  return cumsum_impl(src, d, false);
}

// ---------------------------------------------------------------- scans
namespace {

// The rows of x and of g along dimension d, adjacent and of x's dtype, and a result of
// their shape: for backward kernels that read both.
struct RowPairs {
  Tensor x, g, out;
  int64_t R, rows;
  RowPairs(const Tensor& x_in, const Tensor& g_in, int64_t d) {
    x = contiguous(transpose(detach(x_in), d, -1));
    g = contiguous(transpose(detach(g_in), d, -1).to(x.dtype()));
    out = empty(x.shape(), x.dtype());
    R = x.shape().back();
    rows = R ? x.numel() / R : 0;
  }
  // f(x_row, g_row, out_row) for every row, rows in parallel (floating dtypes).
  template <class F>
  void for_each_row(F f) const {
    auto run = [&](auto tag) {
      using T = decltype(tag);
      const T *px = x.data<T>(), *pg = g.data<T>();
      T* po = out.data<T>();
      parallel_for(0, rows, grain_for(R), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) f(px + r * R, pg + r * R, po + r * R);
      });
    };
    if (x.dtype() == DType::Float32)
      run(float{});
    else
      run(double{});
  }
  Tensor move_back(int64_t d) const { return contiguous(transpose(out, d, -1)); }
};

// Moves dimension d of x last, as (..., R) with R = x.shape()[d].
Tensor dim_last(const Tensor& x, int64_t d) { return transpose(x, d, -1); }

// The backward of cumprod composed of differentiable ops, for a backward that is itself
// differentiated: with C[i, j] = prod_{k <= j, k != i} x[k] (a running product of x with
// x[i] replaced by 1), dx[i] = sum_{j >= i} g[j] C[i, j]. R x R values per row.
Tensor cumprod_backward_composed(const Tensor& x, const Tensor& g, int64_t d) {
  Tensor xl = dim_last(x, d), gl = dim_last(g, d);
  const int64_t R = xl.shape().back();
  Shape sq = xl.shape();
  sq.push_back(R);  // (..., R, R): row i is x with x[i] replaced by 1
  Tensor eye_r = eye(R, R, DType::Bool);
  Tensor xi = where(eye_r, ones({}, x.dtype()), expand(unsqueeze(xl, -2), sq));
  Tensor upper = triu(ones({R, R}, x.dtype()), 0);  // j >= i
  Tensor dx = sum(mul(mul(cumprod(xi, -1), upper), unsqueeze(gl, -2)), {-1});
  return transpose(dx, d, -1);
}

// The backward of logcumsumexp composed of differentiable ops (see above):
// dx[i] = sum_{j >= i} g[j] exp(x[i] - y[j]), y = logcumsumexp(x), recomputed.
Tensor logcumsumexp_backward_composed(const Tensor& x, const Tensor& g, int64_t d) {
  Tensor xl = dim_last(x, d), gl = dim_last(g, d);
  const int64_t R = xl.shape().back();
  Tensor y = logcumsumexp(xl, -1);
  Tensor upper = triu(ones({R, R}, DType::Bool), 0);
  Tensor w = where(upper, exp(sub(unsqueeze(xl, -1), unsqueeze(y, -2))), zeros({}, x.dtype()));
  return transpose(sum(mul(w, unsqueeze(gl, -2)), {-1}), d, -1);
}

// log(exp(a) + exp(b)), exact at -inf and +inf, NaN for a NaN.
template <class T>
T log_add_exp(T a, T b) {
  if (a != a || b != b) return a + b;
  if (a == -std::numeric_limits<T>::infinity()) return b;
  if (b == -std::numeric_limits<T>::infinity()) return a;
  if (a == b) return a + static_cast<T>(0.69314718055994530942);  // log 2
  return std::max(a, b) + std::log1p(std::exp(-std::abs(a - b)));
}

std::pair<Tensor, Tensor> cum_extreme(const Tensor& x, int64_t dim, bool is_max) {
  const char* name = is_max ? "cummax" : "cummin";
  const int64_t d = normalize_dim(dim, x.dim(), name);
  if (x.dim() == 0) return {clone(x), zeros({}, DType::Int64)};
  Rows r(x, d);
  Tensor idx = empty(r.src.shape(), DType::Int64);
  const int64_t R = r.R;
  int64_t* pidx = idx.data<int64_t>();
  r.for_each_row([&](const auto* in, auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    int64_t* ix = pidx + (o - static_cast<T*>(r.out.data_ptr()));
    T best = T();
    int64_t at = 0;
    for (int64_t i = 0; i < R; ++i) {
      const T v = in[i];
      bool take = i == 0 || (is_max ? v >= best : v <= best);
      if constexpr (std::is_floating_point_v<T>) take = i == 0 || v != v || (best == best && take);
      if (take) best = v, at = i;
      o[i] = best;
      ix[i] = at;
    }
  });
  Tensor values = r.move_back(d), indices = contiguous(transpose(idx, d, -1));
  values = contiguous(values);
  if (is_floating(x.dtype()))
    if (auto node = make_node(name, {x})) {
      node->backward = [d, indices, shape = x.shape()](FunctionNode&,
                                                       const std::vector<Tensor>& g) {
        return std::vector<Tensor>{scatter_add(zeros(shape, g[0].dtype()), d, indices, g[0])};
      };
      set_history(values, node);
    }
  return {values, indices};
}

}  // namespace

Tensor cumprod(const Tensor& x, int64_t dim) {
  const int64_t d = normalize_dim(dim, x.dim(), "cumprod");
  if (x.dim() == 0) return is_floating(x.dtype()) ? clone(x) : x.to(DType::Int64);
  Rows r(is_floating(x.dtype()) ? x : x.to(DType::Int64), d);
  const int64_t R = r.R;
  r.for_each_row([R](const auto* in, auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    T acc = T(1);
    for (int64_t i = 0; i < R; ++i) o[i] = acc = static_cast<T>(acc * in[i]);
  });
  Tensor res = r.move_back(d);
  res = contiguous(res);
  if (is_floating(x.dtype()))
    if (auto node = make_node("cumprod", {x})) {
      node->save(x);
      node->backward = [d](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor xs = n.saved(0);
        if (grad_enabled() && (g[0].requires_grad() || xs.requires_grad()))
          return std::vector<Tensor>{cumprod_backward_composed(xs, g[0], d)};
        // dx[i] = P[i] S[i]: P[i] = prod_{k < i} x[k], S[i] = g[i] + x[i + 1] S[i + 1]
        // (so S[i] = sum_{j >= i} g[j] prod_{i < k <= j} x[k]): no division, exact with zeros.
        RowPairs rp(xs, g[0], d);
        const int64_t R = rp.R;
        rp.for_each_row([R](const auto* xr, const auto* gr, auto* o) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(xr)>>;
          T acc = T(1);
          for (int64_t i = 0; i < R; ++i) o[i] = acc, acc *= xr[i];
          T s = T(0);
          for (int64_t i = R - 1; i >= 0; --i) {
            s = i + 1 < R ? gr[i] + xr[i + 1] * s : gr[i];
            o[i] *= s;
          }
        });
        return std::vector<Tensor>{rp.move_back(d)};
      };
      set_history(res, node);
    }
  return res;
}

std::pair<Tensor, Tensor> cummax(const Tensor& x, int64_t dim) { return cum_extreme(x, dim, true); }
std::pair<Tensor, Tensor> cummin(const Tensor& x, int64_t dim) {
  return cum_extreme(x, dim, false);
}

Tensor logcumsumexp(const Tensor& x, int64_t dim) {
  const int64_t d = normalize_dim(dim, x.dim(), "logcumsumexp");
  Tensor xf = is_floating(x.dtype()) ? x : x.to(default_dtype());
  if (x.dim() == 0) return clone(xf);
  Rows r(xf, d);
  const int64_t R = r.R;
  r.for_each_row([R](const auto* in, auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    if constexpr (std::is_floating_point_v<T>) {
      T acc = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < R; ++i) o[i] = acc = log_add_exp(acc, in[i]);
    }
  });
  Tensor res = r.move_back(d);
  res = contiguous(res);
  if (auto node = make_node("logcumsumexp", {xf})) {
    node->save(xf);
    node->save(res);
    node->backward = [d](FunctionNode& n, const std::vector<Tensor>& g) {
      Tensor xs = n.saved(0);
      if (grad_enabled() && (g[0].requires_grad() || xs.requires_grad()))
        return std::vector<Tensor>{logcumsumexp_backward_composed(xs, g[0], d)};
      // dx[i] = exp(x[i] - y[i]) Q[i], Q[i] = g[i] + exp(y[i] - y[i + 1]) Q[i + 1]: every
      // factor is at most 1 (y does not decrease). x[i] = -inf takes no part (0; also where
      // y[i] is -inf).
      Tensor y = contiguous(transpose(detach(n.saved(1)), d, -1));
      RowPairs rp(xs, g[0], d);
      const int64_t R = rp.R;
      rp.for_each_row([R, &y, &rp](const auto* xr, const auto* gr, auto* o) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(xr)>>;
        const T* yr = y.data<T>() + (xr - rp.x.data<T>());
        constexpr T ninf = -std::numeric_limits<T>::infinity();
        T q = T(0);
        for (int64_t i = R - 1; i >= 0; --i) {
          const T f = i + 1 < R && yr[i + 1] != ninf ? std::exp(yr[i] - yr[i + 1]) : T(0);
          q = gr[i] + f * q;
          o[i] = xr[i] == ninf ? T(0) : std::exp(xr[i] - yr[i]) * q;
        }
      });
      return std::vector<Tensor>{rp.move_back(d)};
    };
    set_history(res, node);
  }
  return res;
}

// ---------------------------------------------------------------- softmax
namespace {

// softmax and log_softmax run as one kernel pass per row where the dimension's values
// are adjacent (the last dimension), and per block of columns where they lie `inner`
// apart, forward and backward (kernels/cpu/attention_simd.cpp); a backward that is itself
// differentiated is built from the reductions and elementwise ops.

// softmax (log: log_softmax) of x along dimension d; with g, the gradient from y = x
// instead.
Tensor softmax_kernel(const Tensor& x_in, const Tensor& g_in, int64_t d, bool log) {
  const Tensor x = contiguous(x_in);
  const Tensor g = g_in.defined() ? contiguous(g_in.to(x.dtype())) : g_in;
  const int64_t n = x.dim() ? x.shape()[d] : 1;
  int64_t inner = 1;
  for (int64_t k = d + 1; k < x.dim(); ++k) inner *= x.shape()[k];
  const int64_t outer = n * inner ? x.numel() / (n * inner) : 0;
  // Columns per task along an inner dimension.
  constexpr int64_t kCols = 256;
  const int64_t col_blocks = (inner + kCols - 1) / kCols;
  Tensor out = empty(x.shape(), x.dtype());
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const auto& k = kernels::active();
      const T* px = x.data<T>();
      const T* pg = g.defined() ? g.data<T>() : nullptr;
      T* po = out.data<T>();
      if (inner == 1) {
        const auto fwd = kernels::for_dtype<T>(k.softmax_rows_f32, k.softmax_rows_f64);
        const auto bwd =
            kernels::for_dtype<T>(k.softmax_rows_backward_f32, k.softmax_rows_backward_f64);
        parallel_for(0, outer, grain_for(n), [&](int64_t lo, int64_t hi) {
          if (pg)
            bwd(px + lo * n, pg + lo * n, po + lo * n, hi - lo, n, log);
          else
            fwd(px + lo * n, po + lo * n, hi - lo, n, log);
        });
        return;
      }
      const auto fwd = kernels::for_dtype<T>(k.softmax_cols_f32, k.softmax_cols_f64);
      const auto bwd =
          kernels::for_dtype<T>(k.softmax_cols_backward_f32, k.softmax_cols_backward_f64);
      parallel_for(0, outer * col_blocks, grain_for(n * std::min(inner, kCols)),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t t = lo; t < hi; ++t) {
                       const int64_t j0 = t % col_blocks * kCols;
                       const int64_t off = t / col_blocks * n * inner + j0;
                       const int64_t cols = std::min(kCols, inner - j0);
                       if (pg)
                         bwd(px + off, pg + off, po + off, n, inner, cols, log);
                       else
                         fwd(px + off, po + off, n, inner, cols, log);
                     }
                   });
    }
  });
  return out;
}

Tensor softmax_op(const Tensor& x, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  const int64_t d = normalize_dim(dim, x.dim(), name);
  Tensor xf = is_floating(x.dtype()) ? x : x.to(default_dtype());
  Tensor out;
  {
    NoGradGuard guard;  // the node below is the only one
    out = softmax_kernel(xf, Tensor(), d, log);
  }
  if (auto node = make_node(name, {xf})) {
    node->save(out, true);
    node->backward = [d, log](FunctionNode& n, const std::vector<Tensor>& g) {
      Tensor y = n.saved(0);
      if (!(grad_enabled() && (g[0].requires_grad() || y.requires_grad())))
        return std::vector<Tensor>{softmax_kernel(y, g[0], d, log)};
      // As ops, to be differentiated again. log_softmax: dx = g - softmax * sum(g);
      // softmax: dx = y * (g - sum(g * y)).
      const Dims dd = y.dim() ? Dims{d} : Dims{};
      if (log) return std::vector<Tensor>{sub(g[0], mul(exp(y), sum(g[0], dd, true)))};
      return std::vector<Tensor>{mul(y, sub(g[0], sum(mul(g[0], y), dd, true)))};
    };
    set_history(out, node);
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true); }

}  // namespace dlcore
