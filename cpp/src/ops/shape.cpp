// Views (no copy) and their gradients, plus contiguous/clone/to/detach/copy_ and the
// copies that reorder or mask by position (flip, tril, triu).
// A view's backward maps the gradient back onto the input's shape: reshape and
// permute invert themselves, expand sums, and slicing views scatter the
// gradient into zeros (as_strided_scatter, whose own backward is the view).
#include <algorithm>
#include <cstring>
#include <numeric>

#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

// Records a view op: out shares t's storage; backward maps g to t's shape.
Tensor record_view(const Tensor& t, Tensor out, const char* name, FunctionNode::BackwardFn bw) {
  if (auto node = make_node(name, {t})) {
    node->backward = std::move(bw);
    set_history(out, node);
    out.impl()->meta().is_graph_view = true;
  }
  return out;
}

// Strides of a view of a contiguous tensor of shape `base` (for slice backward).
struct RelView {
  Shape shape, strides;
  int64_t offset = 0;
};

Tensor as_strided_scatter(const Tensor& g, const Shape& base, const RelView& v);

Tensor as_strided_gather(const Tensor& gg, const Shape& base, const RelView& v) {
  Tensor c = contiguous(gg);
  Tensor out = make_alias(c, v.shape, v.strides, c.offset() + v.offset);
  if (auto node = make_node("as_strided", {c})) {
    node->backward = [base, v](FunctionNode&, const std::vector<Tensor>& g) {
      return std::vector<Tensor>{as_strided_scatter(g[0], base, v)};
    };
    set_history(out, node);
    out.impl()->meta().is_graph_view = true;
  }
  return out;
}

// zeros(base) with g written into the view v of it.
Tensor as_strided_scatter(const Tensor& g, const Shape& base, const RelView& v) {
  Tensor out = zeros(base, g.dtype());
  copy_kernel(make_alias(out, v.shape, v.strides, v.offset), g);
  if (auto node = make_node("as_strided_scatter", {g})) {
    node->backward = [base, v](FunctionNode&, const std::vector<Tensor>& gg) {
      return std::vector<Tensor>{as_strided_gather(gg[0], base, v)};
    };
    set_history(out, node);
  }
  return out;
}

Tensor slice_view(const Tensor& t, const char* name, const Shape& shape, const Shape& strides,
                  int64_t offset, RelView rel) {
  Tensor out = make_alias(t, shape, strides, offset);
  Shape base = t.shape();
  return record_view(t, out, name, [base, rel](FunctionNode&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{as_strided_scatter(g[0], base, rel)};
  });
}

// Strides for viewing t as `shape` without copying, or empty when impossible.
bool view_strides(const Tensor& t, const Shape& shape, Shape& out) {
  out.assign(shape.size(), 0);
  if (t.numel() == 0 || t.is_contiguous()) {
    out = contiguous_strides(shape);
    return true;
  }
  // Walk chunks of t's dims that are contiguous among themselves.
  const Shape& os = t.shape();
  const Shape& ost = t.strides();
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.empty() ? 1 : ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t td = static_cast<int64_t>(os.size()) - 1; td >= 0; --td) {
    tensor_numel *= os[td];
    if (td == 0 || (os[td - 1] != 1 && ost[td - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return false;
      if (td > 0) {
        chunk_base_stride = ost[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) throw ValueError(str_cat(op, ": only one dimension can be inferred"));
      infer = static_cast<int64_t>(i);
    } else if (out[i] < 0) {
      throw ValueError(str_cat(op, ": invalid shape dimension ", out[i]));
    } else {
      known *= out[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw ValueError(str_cat(op, ": shape ", shape_str(shape), " is invalid for input of size ", numel));
    out[infer] = numel / known;
  } else if (known != numel) {
    throw ValueError(str_cat(op, ": shape ", shape_str(shape), " is invalid for input of size ", numel));
  }
  return out;
}

Tensor reshape_alias(const Tensor& t, const Shape& shape, const Shape& strides, const char* name) {
  Tensor out = make_alias(t, shape, strides, t.offset());
  Shape in_shape = t.shape();
  return record_view(t, out, name, [in_shape](FunctionNode&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{reshape(g[0], in_shape)};
  });
}

}  // namespace

Tensor view(const Tensor& t, const Shape& shape) {
  Shape s = infer_shape(shape, t.numel(), "view");
  Shape st;
  if (!view_strides(t, s, st))
    throw RuntimeError(str_cat("view: size ", shape_str(s), " is not compatible with the input's "
                               "shape ", shape_str(t.shape()), " and strides ", shape_str(t.strides()),
                               "; use reshape() instead"));
  return reshape_alias(t, s, st, "view");
}

Tensor reshape(const Tensor& t, const Shape& shape) {
  Shape s = infer_shape(shape, t.numel(), "reshape");
  Shape st;
  if (view_strides(t, s, st)) return reshape_alias(t, s, st, "reshape");
  return reshape_alias(contiguous(t), s, contiguous_strides(s), "reshape");
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
  if (t.dim() == 0) return reshape(t, {1});
  int64_t s = normalize_dim(start_dim, t.dim(), "flatten");
  int64_t e = normalize_dim(end_dim, t.dim(), "flatten");
  if (s > e) throw ValueError("flatten: start_dim cannot come after end_dim");
  Shape shape(t.shape().begin(), t.shape().begin() + s);
  int64_t m = 1;
  for (int64_t d = s; d <= e; ++d) m *= t.shape()[d];
  shape.push_back(m);
  shape.insert(shape.end(), t.shape().begin() + e + 1, t.shape().end());
  return reshape(t, shape);
}

Tensor permute(const Tensor& t, const Dims& dims) {
  int64_t n = t.dim();
  if (static_cast<int64_t>(dims.size()) != n)
    throw ValueError(str_cat("permute: number of dims ", dims.size(), " doesn't match the "
                             "tensor's ", n, " dims"));
  Shape shape(n), strides(n);
  std::vector<int64_t> inverse(n, -1);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = normalize_dim(dims[i], n, "permute");
    if (inverse[d] != -1) throw ValueError(str_cat("permute: repeated dim ", d));
    inverse[d] = i;
    shape[i] = t.shape()[d];
    strides[i] = t.strides()[d];
  }
  Tensor out = make_alias(t, shape, strides, t.offset());
  return record_view(t, out, "permute", [inverse](FunctionNode&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{permute(g[0], inverse)};
  });
}

Tensor transpose(const Tensor& t, int64_t d0, int64_t d1) {
  if (t.dim() == 0) {
    normalize_dim(d0, 0, "transpose");
    normalize_dim(d1, 0, "transpose");
    return permute(t, {});
  }
  Dims p(t.dim());
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[normalize_dim(d0, t.dim(), "transpose")], p[normalize_dim(d1, t.dim(), "transpose")]);
  return permute(t, p);
}

Tensor t(const Tensor& x) {
  if (x.dim() > 2)
    throw ValueError(str_cat("t: expects a tensor with <= 2 dimensions, got ", x.dim()));
  return x.dim() < 2 ? permute(x, x.dim() == 1 ? Dims{0} : Dims{}) : transpose(x, 0, 1);
}

Tensor squeeze(const Tensor& x) {
  Shape s, st;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (x.shape()[i] != 1) {
      s.push_back(x.shape()[i]);
      st.push_back(x.strides()[i]);
    }
  return reshape_alias(x, s, st, "squeeze");
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim(dim, x.dim(), "squeeze");
  if (x.dim() == 0 || x.shape()[d] != 1) return reshape_alias(x, x.shape(), x.strides(), "squeeze");
  Shape s = x.shape(), st = x.strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return reshape_alias(x, s, st, "squeeze");
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape(), st = x.strides();
  int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return reshape_alias(x, s, st, "unsqueeze");
}

Tensor expand(const Tensor& x, const Shape& shape) {
  int64_t n = static_cast<int64_t>(shape.size());
  if (n < x.dim())
    throw ValueError(str_cat("expand: the number of sizes provided (", n, ") must be greater or "
                             "equal to the number of dimensions in the tensor (", x.dim(), ")"));
  Shape s(n), st(n);
  int64_t off = n - x.dim();
  for (int64_t i = 0; i < n; ++i) {
    int64_t want = shape[i];
    if (i < off) {
      if (want < 0) throw ValueError(str_cat("expand: -1 is not allowed in a leading, new dimension"));
      s[i] = want;
      st[i] = 0;
      continue;
    }
    int64_t have = x.shape()[i - off];
    if (want == -1) want = have;
    if (have != want && have != 1)
      throw ValueError(str_cat("expand: the expanded size of the tensor (", want, ") must match "
                               "the existing size (", have, ") at non-singleton dimension ", i,
                               "; target shape ", shape_str(shape), ", tensor shape ",
                               shape_str(x.shape())));
    s[i] = want;
    st[i] = have == want ? x.strides()[i - off] : 0;
  }
  if (s == x.shape()) return x;
  Tensor out = make_alias(x, s, st, x.offset());
  Shape in_shape = x.shape();
  return record_view(x, out, "expand", [in_shape](FunctionNode&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{sum_to(g[0], in_shape)};
  });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  broadcast_shapes(x.shape(), shape, "broadcast_to");
  return expand(x, shape);
}

Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end,
             int64_t step) {
  if (x.dim() == 0) throw IndexError("slice: cannot slice a 0-d tensor");
  int64_t d = normalize_dim(dim, x.dim(), "slice");
  if (step <= 0) throw ValueError(str_cat("slice: step must be greater than zero, got ", step));
  int64_t n = x.shape()[d];
  auto clampi = [n](int64_t v) { return v < 0 ? std::max<int64_t>(v + n, 0) : std::min(v, n); };
  int64_t s = start ? clampi(*start) : 0;
  int64_t e = end ? clampi(*end) : n;
  int64_t len = e > s ? (e - s + step - 1) / step : 0;
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = len;
  strides[d] *= step;
  RelView rel{shape, contiguous_strides(x.shape()), 0};
  rel.offset = s * rel.strides[d];
  rel.strides[d] *= step;
  return slice_view(x, "slice", shape, strides, x.offset() + s * x.strides()[d], rel);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int64_t d = normalize_dim(dim, x.dim(), "narrow");
  int64_t n = x.dim() ? x.shape()[d] : 0;
  if (start < 0) start += n;
  if (start < 0 || length < 0 || start + length > n)
    throw IndexError(str_cat("narrow: start (", start, ") + length (", length,
                             ") exceeds dimension size (", n, ")"));
  return slice(x, d, start, start + length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  if (x.dim() == 0) throw IndexError("select: invalid index of a 0-dim tensor");
  int64_t d = normalize_dim(dim, x.dim(), "select");
  int64_t n = x.shape()[d];
  if (index < -n || index >= n)
    throw IndexError(str_cat("index ", index, " is out of bounds for dimension ", d, " with size ", n));
  if (index < 0) index += n;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Shape cst = contiguous_strides(x.shape());
  RelView rel{shape, cst, index * cst[d]};
  rel.strides.erase(rel.strides.begin() + d);
  return slice_view(x, "select", shape, strides, x.offset() + index * x.strides()[d], rel);
}

Tensor as_strided_view(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset) {
  if (shape.size() != strides.size())
    throw ValueError("as_strided: shape and strides must have the same length");
  return make_alias(x, shape, strides, offset);
}

Tensor& resize_(Tensor& t, const Shape& shape) {
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw ValueError(str_cat("resize_: sizes must be non-negative, got ", shape_str(shape)));
    if (d > 0 && numel > (int64_t(1) << 60) / d)
      throw MemoryError(str_cat("resize_: a tensor of shape ", shape_str(shape), " is too large"));
    numel *= d;
  }
  if (t.requires_grad() || (t.impl()->autograd && t.impl()->autograd->is_graph_view))
    throw RuntimeError(
        "resize_: cannot resize a tensor that requires grad (or a view into a graph)");
  TensorImpl* impl = t.impl();
  const size_t needed = static_cast<size_t>(impl->offset + numel) * t.itemsize();
  if (needed > impl->storage->nbytes) {
    auto grown = std::make_shared<Storage>(needed, impl->storage->device);
    std::memcpy(grown->data, impl->storage->data, impl->storage->nbytes);
    grown->version.store(impl->storage->version.load());
    impl->storage = std::move(grown);
  }
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  t.bump_version();
  return t;
}

Tensor clone(const Tensor& x) {
  Tensor out = empty(x.shape(), x.dtype());
  copy_kernel(out, x);
  if (auto node = make_node("clone", {x})) {
    node->backward = [](FunctionNode&, const std::vector<Tensor>& g) {
      return std::vector<Tensor>{g[0]};
    };
    set_history(out, node);
  }
  return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }

Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), dtype);
  copy_kernel(out, x);
  if (is_floating(dtype)) {
    if (auto node = make_node("to", {x})) {
      DType in = x.dtype();
      node->backward = [in](FunctionNode&, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{g[0].to(in)};
      };
      set_history(out, node);
    }
  }
  return out;
}

Tensor detach(const Tensor& x) { return make_alias(x, x.shape(), x.strides(), x.offset()); }

Tensor flip(const Tensor& x, const Dims& dims) {
  std::vector<bool> flipped(static_cast<size_t>(std::max<int64_t>(x.dim(), 1)), false);
  Dims norm;
  for (int64_t d : dims) {
    const int64_t k = normalize_dim(d, x.dim(), "flip");
    if (flipped[k]) throw ValueError(str_cat("flip: dim ", k, " appears more than once in dims"));
    flipped[k] = true;
    norm.push_back(k);
  }
  // The input read backwards along the flipped dims: an alias with negative strides that
  // starts at the last element of each (it never leaves this function).
  Shape strides = x.strides();
  int64_t offset = x.offset();
  for (int64_t k = 0; k < x.dim(); ++k)
    if (flipped[k] && x.shape()[k] > 1) {
      offset += (x.shape()[k] - 1) * strides[k];
      strides[k] = -strides[k];
    }
  Tensor out = empty(x.shape(), x.dtype());
  copy_kernel(out, make_alias(x, x.shape(), strides, offset));
  if (is_floating(x.dtype()))
    if (auto node = make_node("flip", {x})) {
      node->backward = [norm](FunctionNode&, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{flip(g[0], norm)};
      };
      set_history(out, node);
    }
  return out;
}

namespace {

// tril (lower) or triu: each row i of the last two dims keeps columns [0, i + diagonal]
// (tril) or [i + diagonal, C) (triu) and is zero elsewhere.
Tensor triangle(const Tensor& x, int64_t diagonal, bool lower, const char* name) {
  if (x.dim() < 2)
    throw ValueError(
        str_cat(name, ": input must have at least 2 dimensions, got shape ", shape_str(x.shape())));
  const int64_t R = x.shape()[x.dim() - 2], C = x.shape()[x.dim() - 1];
  const int64_t dg = std::clamp<int64_t>(diagonal, -R - 1, C + 1);  // no overflow below
  Tensor src = contiguous(detach(x));
  Tensor out = empty(x.shape(), x.dtype());
  const int64_t rows = C ? out.numel() / C : 0, item = static_cast<int64_t>(x.itemsize());
  const char* s = static_cast<const char*>(src.data_ptr());
  char* o = static_cast<char*>(out.data_ptr());
  parallel_for(0, rows, grain_for(C), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t i = r % R;
      // Kept columns [j0, j1) of this row, clamped to the row (diagonal may be any int).
      const int64_t edge = std::clamp<int64_t>(i + dg + (lower ? 1 : 0), 0, C);
      const int64_t j0 = lower ? 0 : edge, j1 = lower ? edge : C;
      char* row = o + r * C * item;
      std::memset(row, 0, static_cast<size_t>(j0 * item));
      std::memcpy(row + j0 * item, s + (r * C + j0) * item, static_cast<size_t>((j1 - j0) * item));
      std::memset(row + j1 * item, 0, static_cast<size_t>((C - j1) * item));
    }
  });
  if (is_floating(x.dtype()))
    if (auto node = make_node(name, {x})) {
      node->backward = [diagonal, lower, name](FunctionNode&, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{triangle(g[0], diagonal, lower, name)};
      };
      set_history(out, node);
    }
  return out;
}

}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, true, "tril"); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, false, "triu"); }

Tensor& copy_(Tensor& dst, const Tensor& src) {
  check_inplace(dst, "copy_");
  if (broadcast_shapes(dst.shape(), src.shape(), "copy_") != dst.shape())
    throw ValueError(str_cat("copy_: source of shape ", shape_str(src.shape()),
                             " cannot be broadcast to the destination's shape ",
                             shape_str(dst.shape())));
  copy_kernel(dst, src);
  dst.bump_version();
  if (grad_enabled() && (src.requires_grad() || dst.requires_grad())) {
    auto node = std::make_shared<FunctionNode>("copy_");
    node->next_edges.push_back(gradient_edge(src));
    Shape src_shape = src.shape();
    DType src_dtype = src.dtype();
    node->backward = [src_shape, src_dtype](FunctionNode& n, const std::vector<Tensor>& g) {
      if (!n.needs_input_grad(0)) return std::vector<Tensor>{Tensor()};
      return std::vector<Tensor>{sum_to(g[0], src_shape).to(src_dtype)};
    };
    if (is_floating(dst.dtype())) set_history(dst, node);
  }
  return dst;
}

}  // namespace dlcore
