// Indexing: gather, scatter_add, index_select, index_add, nonzero, and
// subscripts t[...] (basic indexing gives views; integer and bool tensors
// give NumPy-style advanced indexing), with gradients.
//
// Advanced indexing of a view v by index tensors on dims a_1 < ... < a_k:
// the indices broadcast to shape S; with vp = v permuted so the indexed dims
// come first, result[s, r] = vp[idx_1[s], ..., idx_k[s], r] for r over the
// remaining dims. Its backward scatter-adds into zeros of v's shape.
#include <cstring>

#include "ops/common.h"

namespace dlcore {
namespace {

Tensor as_index(const Tensor& idx, const char* op) {
  if (idx.dtype() != DType::Int64 && idx.dtype() != DType::Int32)
    throw TypeError(str_cat(op, ": expected an int64 or int32 index tensor, got ", dtype_name(idx.dtype())));
  return contiguous(detach(idx).to(DType::Int64));
}

// Element offsets of each index position s and each remaining position r.
struct AdvOffsets {
  std::vector<int64_t> off, roff;
  Shape S, rest;
};

AdvOffsets adv_offsets(const Tensor& v, const std::vector<int64_t>& dims, const std::vector<Tensor>& idx,
                       const char* op) {
  AdvOffsets a;
  a.S = idx[0].shape();
  const int64_t ns = shape_numel(a.S);
  a.off.assign(ns, 0);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t size = v.shape()[dims[i]], stride = v.strides()[dims[i]];
    const int64_t* p = idx[i].data<int64_t>();
    for (int64_t s = 0; s < ns; ++s) {
      int64_t j = p[s];
      if (j < -size || j >= size)
        throw IndexError(str_cat(op, ": index ", j, " is out of bounds for dimension ", dims[i],
                                 " with size ", size));
      a.off[s] += (j < 0 ? j + size : j) * stride;
    }
  }
  Shape rest_strides;
  for (int64_t d = 0; d < v.dim(); ++d)
    if (std::find(dims.begin(), dims.end(), d) == dims.end()) {
      a.rest.push_back(v.shape()[d]);
      rest_strides.push_back(v.strides()[d]);
    }
  const int64_t nr = shape_numel(a.rest);
  a.roff.assign(nr, 0);
  for (int64_t r = 0; r < nr; ++r) {
    int64_t rem = r, o = 0;
    for (int64_t d = static_cast<int64_t>(a.rest.size()) - 1; d >= 0; --d) {
      o += (rem % a.rest[d]) * rest_strides[d];
      rem /= a.rest[d];
    }
    a.roff[r] = o;
  }
  return a;
}

Shape concat_shape(const Shape& a, const Shape& b) {
  Shape s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}

Tensor adv_scatter_add(const Tensor& g, const Shape& v_shape, const std::vector<int64_t>& dims,
                       const std::vector<Tensor>& idx);

// Returns v[idx...] with shape S + rest (indexed dims first).
Tensor adv_gather(const Tensor& v, const std::vector<int64_t>& dims, const std::vector<Tensor>& idx) {
  AdvOffsets a = adv_offsets(v, dims, idx, "index");
  Tensor out = empty(concat_shape(a.S, a.rest), v.dtype());
  const int64_t ns = a.off.size(), nr = a.roff.size();
  if (out.numel()) {
    visit_dtype(v.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* base = v.data<T>();
      T* po = out.data<T>();
      parallel_for(0, ns, std::max<int64_t>(1, 32768 / std::max<int64_t>(nr, 1)), [&](int64_t b, int64_t e) {
        for (int64_t s = b; s < e; ++s)
          for (int64_t r = 0; r < nr; ++r) po[s * nr + r] = base[a.off[s] + a.roff[r]];
      });
    });
  }
  if (is_floating(v.dtype()))
    if (auto node = make_node("index", {v})) {
      for (const Tensor& t : idx) node->save(t);
      Shape v_shape = v.shape();
      node->backward = [v_shape, dims](FunctionNode& n, const std::vector<Tensor>& g) {
        std::vector<Tensor> ix;
        for (size_t i = 0; i < dims.size(); ++i) ix.push_back(n.saved(i));
        return std::vector<Tensor>{adv_scatter_add(g[0], v_shape, dims, ix)};
      };
      set_history(out, node);
    }
  return out;
}

// Adds src (shape S + rest) into v at the indexed positions, in order of s,
// so repeated indices accumulate deterministically; or assigns (last wins).
void adv_scatter_kernel(const Tensor& v, const std::vector<int64_t>& dims, const std::vector<Tensor>& idx,
                        const Tensor& src_in, bool accumulate, const char* op) {
  AdvOffsets a = adv_offsets(v, dims, idx, op);
  Tensor src = contiguous(broadcast_to(detach(src_in).to(v.dtype()), concat_shape(a.S, a.rest)));
  const int64_t ns = a.off.size(), nr = a.roff.size();
  if (!ns || !nr) return;
  visit_dtype(v.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* base = v.data<T>();
    const T* ps = src.data<T>();
    // Parallel over r: for a fixed r, positions differ between distinct r.
    parallel_for(0, nr, std::max<int64_t>(1, 32768 / std::max<int64_t>(ns, 1)), [&](int64_t b, int64_t e) {
      for (int64_t s = 0; s < ns; ++s)
        for (int64_t r = b; r < e; ++r) {
          T& dst = base[a.off[s] + a.roff[r]];
          dst = accumulate ? static_cast<T>(dst + ps[s * nr + r]) : ps[s * nr + r];
        }
    });
  });
}

Tensor adv_scatter_add(const Tensor& g, const Shape& v_shape, const std::vector<int64_t>& dims,
                       const std::vector<Tensor>& idx) {
  Tensor out = zeros(v_shape, g.dtype());
  adv_scatter_kernel(out, dims, idx, g, true, "index");
  if (auto node = make_node("index_backward", {g})) {
    for (const Tensor& t : idx) node->save(t);
    node->backward = [dims](FunctionNode& n, const std::vector<Tensor>& gg) {
      std::vector<Tensor> ix;
      for (size_t i = 0; i < dims.size(); ++i) ix.push_back(n.saved(i));
      return std::vector<Tensor>{adv_gather(gg[0], dims, ix)};
    };
    set_history(out, node);
  }
  return out;
}

// Applies the basic part of a subscript and collects the advanced part.
struct ParsedIndex {
  Tensor view;
  std::vector<int64_t> dims;  // indexed dims of view, ascending
  std::vector<Tensor> idx;    // int64 index tensors, broadcast together
};

ParsedIndex parse_index(const Tensor& t, const std::vector<TensorIndex>& items) {
  int64_t consumed = 0;
  int ellipses = 0;
  for (const auto& it : items) {
    if (it.kind == TensorIndex::Integer || it.kind == TensorIndex::Slice) consumed++;
    else if (it.kind == TensorIndex::Tensor_)
      consumed += it.tensor.dtype() == DType::Bool ? it.tensor.dim() : 1;
    else if (it.kind == TensorIndex::Ellipsis) ellipses++;
  }
  if (ellipses > 1) throw IndexError("an index can only have a single ellipsis ('...')");
  if (consumed > t.dim())
    throw IndexError(str_cat("too many indices for tensor of dimension ", t.dim(), " (got ", consumed, ")"));
  ParsedIndex p;
  Tensor v = t;
  int64_t d = 0;
  std::vector<std::pair<int64_t, Tensor>> adv;
  for (const auto& it : items) {
    switch (it.kind) {
      case TensorIndex::Integer: v = select(v, d, it.integer); break;
      case TensorIndex::Slice: v = slice(v, d, it.start, it.stop, it.step); d++; break;
      case TensorIndex::None: v = unsqueeze(v, d); d++; break;
      case TensorIndex::Ellipsis: d += t.dim() - consumed; break;
      case TensorIndex::Tensor_: {
        const Tensor& ix = it.tensor;
        if (ix.dtype() == DType::Bool) {
          for (int64_t k = 0; k < ix.dim(); ++k)
            if (ix.shape()[k] != v.shape()[d + k])
              throw IndexError(str_cat("the shape of the mask ", shape_str(ix.shape()), " at index ", k,
                                       " does not match the shape of the indexed tensor ",
                                       shape_str(v.shape()), " at index ", d + k));
          Tensor nz = nonzero(ix);
          for (int64_t k = 0; k < ix.dim(); ++k) adv.push_back({d + k, contiguous(select(nz, 1, k))});
          d += ix.dim();
        } else {
          adv.push_back({d, as_index(ix, "index")});
          d++;
        }
        break;
      }
    }
  }
  p.view = v;
  if (!adv.empty()) {
    Shape s = adv[0].second.shape();
    for (auto& a : adv) s = broadcast_shapes(s, a.second.shape(), "index");
    for (auto& a : adv) {
      p.dims.push_back(a.first);
      p.idx.push_back(contiguous(broadcast_to(a.second, s)));
    }
  }
  return p;
}

// Whether the indexed dims are adjacent (then the result keeps their place).
bool adjacent(const std::vector<int64_t>& dims) {
  for (size_t i = 1; i < dims.size(); ++i)
    if (dims[i] != dims[i - 1] + 1) return false;
  return true;
}

// Permutation taking (S..., rest...) to (before..., S..., after...) when adjacent.
Dims result_perm(const ParsedIndex& p, int64_t out_dim) {
  int64_t ns = p.idx[0].dim(), before = p.dims[0];
  Dims perm;
  for (int64_t i = 0; i < before; ++i) perm.push_back(ns + i);
  for (int64_t i = 0; i < ns; ++i) perm.push_back(i);
  for (int64_t i = ns + before; i < out_dim; ++i) perm.push_back(i);
  return perm;
}

}  // namespace

Tensor index(const Tensor& t, const std::vector<TensorIndex>& items) {
  ParsedIndex p = parse_index(t, items);
  if (p.dims.empty()) return p.view;
  Tensor out = adv_gather(p.view, p.dims, p.idx);
  if (adjacent(p.dims) && p.dims[0] > 0) out = permute(out, result_perm(p, out.dim()));
  return out;
}

void index_put_(Tensor& t, const std::vector<TensorIndex>& items, const Tensor& value) {
  ParsedIndex p = parse_index(t, items);
  if (p.dims.empty()) {
    copy_(p.view, value);
    return;
  }
  check_inplace(t, "index_put_");
  if (grad_enabled() && (value.requires_grad() || t.requires_grad()))
    throw RuntimeError("index_put_: assigning through an integer or bool index into a tensor that "
                       "takes part in autograd is not supported; build the result with where() "
                       "or index_add()");
  Tensor val = value;
  if (adjacent(p.dims) && p.dims[0] > 0) {
    // value is given in result order (before, S, after): bring S to the front.
    int64_t ns = p.idx[0].dim(), before = p.dims[0];
    Shape rshape;
    for (int64_t i = 0; i < before; ++i) rshape.push_back(p.view.shape()[i]);
    for (int64_t s : p.idx[0].shape()) rshape.push_back(s);
    for (int64_t i = before + static_cast<int64_t>(p.dims.size()); i < p.view.dim(); ++i)
      rshape.push_back(p.view.shape()[i]);
    val = broadcast_to(detach(value), rshape);
    Dims perm;
    for (int64_t i = 0; i < ns; ++i) perm.push_back(before + i);
    for (int64_t i = 0; i < before; ++i) perm.push_back(i);
    for (int64_t i = before + ns; i < val.dim(); ++i) perm.push_back(i);
    val = permute(val, perm);
  }
  adv_scatter_kernel(p.view, p.dims, p.idx, val, false, "index_put_");
  t.bump_version();
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index_in) {
  int64_t d = normalize_dim(dim, x.dim(), "index_select");
  if (index_in.dim() > 1)
    throw ValueError(str_cat("index_select: index must be 0-D or 1-D, got shape ", shape_str(index_in.shape())));
  Tensor ix = reshape(as_index(index_in, "index_select"), {index_in.numel()});
  if (x.dim() == 0) return index(reshape(x, {1}), {TensorIndex::make_tensor(ix)});
  std::vector<TensorIndex> items;
  for (int64_t i = 0; i < d; ++i) items.push_back(TensorIndex::make_slice(std::nullopt, std::nullopt, 1));
  items.push_back(TensorIndex::make_tensor(ix));
  return index(x, items);
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index_in, const Tensor& src) {
  int64_t d = normalize_dim(dim, x.dim(), "index_add");
  if (index_in.dim() > 1)
    throw ValueError(str_cat("index_add: index must be 0-D or 1-D, got shape ", shape_str(index_in.shape())));
  Tensor ix = reshape(as_index(index_in, "index_add"), {index_in.numel()});
  Shape want = x.shape();
  if (x.dim()) want[d] = ix.numel();
  if (src.shape() != want)
    throw ValueError(str_cat("index_add: source of shape ", shape_str(src.shape()),
                             " does not match the expected shape ", shape_str(want)));
  Tensor out = clone(detach(x));
  if (x.dim() == 0) {
    if (ix.numel()) out = add(out, sum(src));
  } else {
    Dims perm{d};
    for (int64_t i = 0; i < x.dim(); ++i)
      if (i != d) perm.push_back(i);
    adv_scatter_kernel(out, {d}, {ix}, permute(detach(src), perm), true, "index_add");
  }
  if (is_floating(out.dtype()))
    if (auto node = make_node("index_add", {x, src})) {
      node->save(ix);
      node->backward = [d](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor i = n.saved(0);
        return std::vector<Tensor>{n.needs_input_grad(0) ? g[0] : Tensor(),
                                   n.needs_input_grad(1) ? index_select(g[0], d, i) : Tensor()};
      };
      set_history(out, node);
    }
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index_in) {
  int64_t d = normalize_dim(dim, x.dim(), "gather");
  Tensor ix = as_index(index_in, "gather");
  if (ix.dim() != x.dim())
    throw ValueError(str_cat("gather: index tensor must have the same number of dimensions as "
                             "input; got index shape ", shape_str(ix.shape()), " and input shape ",
                             shape_str(x.shape())));
  for (int64_t k = 0; k < x.dim(); ++k)
    if (k != d && ix.shape()[k] > x.shape()[k])
      throw ValueError(str_cat("gather: size of index ", shape_str(ix.shape()), " exceeds the input's ",
                               shape_str(x.shape()), " in dimension ", k));
  Tensor out = empty(ix.shape(), x.dtype());
  if (out.numel()) {
    std::vector<int64_t> xs = byte_strides(x);
    int64_t size = x.dim() ? x.shape()[d] : 1, sd = x.dim() ? xs[d] : 0;
    if (x.dim()) xs[d] = 0;
    StridedOperands<3> ops{{static_cast<char*>(out.data_ptr()), static_cast<char*>(ix.data_ptr()),
                            static_cast<char*>(x.data_ptr())},
                           {byte_strides(out), byte_strides(ix), xs}};
    visit_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      strided_for_each<3>(ix.shape(), ops, [=](char** p, const int64_t* st, int64_t m) {
        for (int64_t i = 0; i < m; ++i) {
          int64_t j = *reinterpret_cast<const int64_t*>(p[1] + i * st[1]);
          if (j < -size || j >= size)
            throw IndexError(str_cat("gather: index ", j, " is out of bounds for dimension ", d, " with size ", size));
          if (j < 0) j += size;
          *reinterpret_cast<T*>(p[0] + i * st[0]) = *reinterpret_cast<const T*>(p[2] + i * st[2] + j * sd);
        }
      });
    });
  }
  if (is_floating(x.dtype()))
    if (auto node = make_node("gather", {x})) {
      node->save(ix);
      Shape xshape = x.shape();
      node->backward = [d, xshape](FunctionNode& n, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{scatter_add(zeros(xshape, g[0].dtype()), d, n.saved(0), g[0])};
      };
      set_history(out, node);
    }
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index_in, const Tensor& src) {
  int64_t d = normalize_dim(dim, x.dim(), "scatter_add");
  Tensor ix = as_index(index_in, "scatter_add");
  if (ix.dim() != x.dim() || src.dim() != x.dim())
    throw ValueError(str_cat("scatter_add: index ", shape_str(ix.shape()), ", source ",
                             shape_str(src.shape()), " and input ", shape_str(x.shape()),
                             " must have the same number of dimensions"));
  for (int64_t k = 0; k < x.dim(); ++k)
    if (ix.shape()[k] > src.shape()[k] || (k != d && ix.shape()[k] > x.shape()[k]))
      throw ValueError(str_cat("scatter_add: index of shape ", shape_str(ix.shape()),
                               " is larger than source ", shape_str(src.shape()), " or input ",
                               shape_str(x.shape()), " in dimension ", k));
  Tensor out = clone(detach(x));
  Tensor s = detach(src).to(x.dtype());
  if (ix.numel()) {
    std::vector<int64_t> os = byte_strides(out);
    int64_t size = x.dim() ? x.shape()[d] : 1, sd = x.dim() ? os[d] : 0;
    if (x.dim()) os[d] = 0;
    StridedOperands<3> ops{{static_cast<char*>(out.data_ptr()), static_cast<char*>(ix.data_ptr()),
                            static_cast<char*>(s.data_ptr())},
                           {os, byte_strides(ix), byte_strides(s)}};
    visit_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      // Serial: repeated indices add in a fixed order.
      strided_for_each<3>(ix.shape(), ops, [=](char** p, const int64_t* st, int64_t m) {
        for (int64_t i = 0; i < m; ++i) {
          int64_t j = *reinterpret_cast<const int64_t*>(p[1] + i * st[1]);
          if (j < -size || j >= size)
            throw IndexError(str_cat("scatter_add: index ", j, " is out of bounds for dimension ", d, " with size ", size));
          if (j < 0) j += size;
          T& dst = *reinterpret_cast<T*>(p[0] + i * st[0] + j * sd);
          dst = static_cast<T>(dst + *reinterpret_cast<const T*>(p[2] + i * st[2]));
        }
      }, INT64_MAX);
    });
  }
  if (is_floating(x.dtype()))
    if (auto node = make_node("scatter_add", {x, src})) {
      node->save(ix);
      DType sdt = src.dtype();
      node->backward = [d, sdt](FunctionNode& n, const std::vector<Tensor>& g) {
        Tensor i = n.saved(0);
        return std::vector<Tensor>{n.needs_input_grad(0) ? g[0] : Tensor(),
                                   n.needs_input_grad(1) ? gather(g[0], d, i).to(sdt) : Tensor()};
      };
      set_history(out, node);
    }
  return out;
}

Tensor nonzero(const Tensor& x) {
  Tensor c = contiguous(detach(x));
  const int64_t n = c.numel(), nd = c.dim();
  std::vector<int64_t> hits;
  visit_dtype(c.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = c.data<T>();
    for (int64_t i = 0; i < n; ++i)
      if (p[i] != T(0)) hits.push_back(i);
  });
  Tensor out = empty({static_cast<int64_t>(hits.size()), nd}, DType::Int64);
  int64_t* po = out.data<int64_t>();
  for (size_t h = 0; h < hits.size(); ++h) {
    int64_t rem = hits[h];
    for (int64_t k = nd - 1; k >= 0; --k) {
      po[h * nd + k] = rem % c.shape()[k];
      rem /= c.shape()[k];
    }
  }
  return out;
}

}  // namespace dlcore
