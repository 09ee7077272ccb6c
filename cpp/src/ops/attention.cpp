// scaled_dot_product_attention: checks, broadcasting of the leading dimensions and the
// autograd node around the fused tile passes of attention_tiles.h (which has the
// equations), and a backward written as ops for create_graph=True.
#include "dlcore/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dlcore/random.h"
#include "ops/attention_tiles.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

using attention::AttnData;
using attention::AttnGeom;
using attention::MaskKind;

constexpr const char* kName = "scaled_dot_product_attention";

// Element offsets of each of the B flattened leading indices into t, whose leading
// dimensions broadcast to `lead` (size-1 and missing dimensions repeat).
std::vector<int64_t> batch_offsets(const Tensor& t, const Shape& lead, int64_t inner_dims) {
  const int64_t nl = static_cast<int64_t>(lead.size());
  const int64_t tl = t.dim() - inner_dims;
  std::vector<int64_t> stride(nl, 0);
  for (int64_t d = 0; d < tl; ++d)
    if (t.shape()[d] != 1) stride[nl - tl + d] = t.strides()[d];
  int64_t batch = 1;
  for (int64_t s : lead) batch *= s;
  std::vector<int64_t> off(batch, 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t rem = b, o = 0;
    for (int64_t d = nl - 1; d >= 0; --d) {
      o += (rem % lead[d]) * stride[d];
      rem /= lead[d];
    }
    off[b] = o;
  }
  return off;
}

Shape lead_shape(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

// Zero-filled gradients for q, k and v in one buffer, each at its input's place in the
// memory the three share, where they are the three pieces of one tensor (q, k, v =
// qkv(x).chunk(3, -1), viewed as heads; or chunks along another dimension): same shape
// (`shape`), dtype and strides, k `gap` elements after q and v gap after k, and the three
// together fill 3 x numel elements. Each input's innermost dimensions (by stride) then make
// a dense block of gap elements, and its outer ones step by whole blocks of 3 gap.
// The split's backward then joins the three as a view (join_grads), with no copy.
// Empty where they are not.
std::vector<Tensor> joint_grads(const Tensor& q, const Tensor& k, const Tensor& v,
                                const Shape& shape, DType dt) {
  const int64_t gap = k.offset() - q.offset();
  if (q.shape() != shape || k.shape() != shape || v.shape() != shape || q.dtype() != dt ||
      k.dtype() != dt || v.dtype() != dt || q.strides() != k.strides() ||
      q.strides() != v.strides() || q.impl()->storage != k.impl()->storage ||
      q.impl()->storage != v.impl()->storage || gap <= 0 || v.offset() - k.offset() != gap ||
      q.numel() == 0)
    return {};
  std::vector<int64_t> dims;  // those of more than one element, innermost first
  for (int64_t d = 0; d < q.dim(); ++d)
    if (shape[d] > 1) dims.push_back(d);
  std::stable_sort(dims.begin(), dims.end(),
                   [&](int64_t a, int64_t b) { return q.strides()[a] < q.strides()[b]; });
  int64_t step = 1;
  size_t i = 0;
  for (; i < dims.size() && step < gap; ++i) {  // the dense block
    if (q.strides()[dims[i]] != step) return {};
    step *= shape[dims[i]];
  }
  if (step != gap) return {};
  for (step = 3 * gap; i < dims.size(); ++i) {  // whole blocks of q, k and v
    if (q.strides()[dims[i]] != step) return {};
    step *= shape[dims[i]];
  }
  Tensor buf = zeros({3 * q.numel()}, dt);
  return {make_alias(buf, shape, q.strides(), 0), make_alias(buf, shape, q.strides(), gap),
          make_alias(buf, shape, q.strides(), 2 * gap)};
}

// t with unit stride along its last dimension (what the GEMM's row access needs).
Tensor rows_contiguous(const Tensor& t) {
  return t.dim() > 0 && t.shape().back() > 1 && t.strides().back() != 1 ? contiguous(t) : t;
}

// A new tensor of `shape` whose dimensions lie in memory in the order of like's (by
// stride; the last one innermost), where like has that rank and the same leading
// dimensions (no broadcasting); else contiguous. For a query that is a transposed view
// of (B, L, H, E), the output and the gradient are (B, L, H, E) in memory too: the
// transpose and reshape back to (B, L, H * E) that follows is then a view, not a copy.
Tensor alloc_in_order(const Tensor& like, const Shape& shape, DType dt, bool zero) {
  const int64_t n = static_cast<int64_t>(shape.size());
  bool follow = like.dim() == n && n >= 3;
  for (int64_t d = 0; follow && d < n - 2; ++d) follow = like.shape()[d] == shape[d];
  if (!follow) return zero ? zeros(shape, dt) : empty(shape, dt);
  std::vector<int64_t> order(n - 1);  // outermost first
  for (int64_t d = 0; d < n - 1; ++d) order[d] = d;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return like.strides()[a] > like.strides()[b]; });
  Shape mem_shape, strides(n);
  for (int64_t d : order) mem_shape.push_back(shape[d]);
  mem_shape.push_back(shape[n - 1]);
  Tensor t = zero ? zeros(mem_shape, dt) : empty(mem_shape, dt);
  int64_t st = shape[n - 1];
  strides[n - 1] = 1;
  for (int64_t i = n - 2; i >= 0; --i) {
    strides[order[i]] = st;
    st *= shape[order[i]];
  }
  return make_alias(t, shape, strides, t.offset());
}

// t itself when its rows have unit stride and no dimension is broadcast (stride 0), so
// the tile passes can read it in place; else a contiguous copy.
Tensor readable_rows(const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.shape()[d] > 1 && t.strides()[d] == 0) return contiguous(t);
  return rows_contiguous(t);
}

template <class T>
AttnData<T> attn_data(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                      const Tensor& o, const Tensor& lse) {
  AttnData<T> d{};
  d.q = q.data<T>(), d.k = k.data<T>(), d.v = v.data<T>();
  d.mask = mask.defined() ? mask.data_ptr() : nullptr;
  d.o = o.data<T>(), d.lse = lse.data<T>();
  return d;
}

// The backward written with differentiable ops, for when a graph of the gradient is
// being built (create_graph=True). It forms the full L x S probabilities, so it costs
// what an unfused attention costs; the first-order backward never comes here.
std::vector<Tensor> composed_backward(const AttnGeom& g, const Tensor& q, const Tensor& k,
                                      const Tensor& v, const Tensor& mask, const Tensor& dout) {
  const DType dt = q.dtype();
  Tensor s = mul(matmul(q, transpose(k, -1, -2)), Scalar(g.scale));
  // allowed (Lq, Lk) for the causal triangle; rows with no key at all get zero weights.
  Tensor allowed;
  if (g.causal) {
    allowed = empty({g.Lq, g.Lk}, DType::Bool);
    bool* pa = allowed.data<bool>();
    for (int64_t i = 0; i < g.Lq; ++i)
      for (int64_t j = 0; j < g.Lk; ++j) pa[i * g.Lk + j] = j <= i;
  } else if (g.mask == MaskKind::Bool) {
    allowed = mask;
  }
  const Tensor ninf = full({}, Scalar(-std::numeric_limits<double>::infinity()), dt);
  if (allowed.defined()) s = where(allowed, s, ninf);
  if (g.mask == MaskKind::Additive) s = add(s, mask);
  // A row whose scores are all -inf: softmax over zeros instead, then weights of 0.
  Tensor row_ok = gt(amax(detach(s), {-1}, true), ninf);
  Tensor p = mul(softmax(where(row_ok, s, zeros_like(s)), -1), row_ok.to(dt));
  Tensor keep;  // the forward's dropout mask, scaled, regenerated from its seed
  if (g.dropout > 0.0)
    keep = dropout_seeded(ones({g.batch, g.Lq, g.Lk}, dt), g.dropout, g.seed).reshape(p.shape());
  const Tensor pd = keep.defined() ? mul(p, keep) : p;
  Tensor dv = matmul(transpose(pd, -1, -2), dout);
  Tensor dp = matmul(dout, transpose(v, -1, -2));
  if (keep.defined()) dp = mul(dp, keep);
  const Tensor ds = mul(p, sub(dp, sum(mul(p, dp), {-1}, true)));
  std::vector<Tensor> r{grad_for(mul(matmul(ds, k), Scalar(g.scale)), q),
                        grad_for(mul(matmul(transpose(ds, -1, -2), q), Scalar(g.scale)), k),
                        grad_for(dv, v)};
  if (g.mask == MaskKind::Additive) r.push_back(grad_for(ds, mask));
  return r;
}

void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                  double dropout_p, bool is_causal) {
  for (const Tensor* t : {&q, &k, &v})
    if (!t->defined() || t->dim() < 2)
      throw ValueError(str_cat(kName, ": expected query, key and value of at least 2 dimensions ",
                               "(..., L, E), got query ",
                               q.defined() ? shape_str(q.shape()) : "None", ", key ",
                               k.defined() ? shape_str(k.shape()) : "None", ", value ",
                               v.defined() ? shape_str(v.shape()) : "None"));
  if (!is_floating(q.dtype()) || k.dtype() != q.dtype() || v.dtype() != q.dtype())
    throw TypeError(str_cat(kName, ": expected query, key and value of one float dtype, got ",
                            dtype_name(q.dtype()), ", ", dtype_name(k.dtype()), ", ",
                            dtype_name(v.dtype())));
  const auto& qs = q.shape();
  const auto& ks = k.shape();
  const auto& vs = v.shape();
  if (ks.back() != qs.back())
    throw ValueError(str_cat(kName, ": query ", shape_str(qs), " and key ", shape_str(ks),
                             " differ in their last dimension (the embedding size E)"));
  if (vs[vs.size() - 2] != ks[ks.size() - 2])
    throw ValueError(str_cat(kName, ": key ", shape_str(ks), " and value ", shape_str(vs),
                             " differ in their sequence length (dimension -2)"));
  if (!(dropout_p >= 0.0 && dropout_p <= 1.0))
    throw ValueError(str_cat(kName, ": dropout_p must be in [0, 1], got ", dropout_p));
  if (mask.defined()) {
    if (is_causal)
      throw ValueError(str_cat(kName, ": give either attn_mask or is_causal=True, not both"));
    if (mask.dtype() != DType::Bool && mask.dtype() != q.dtype())
      throw TypeError(str_cat(kName, ": attn_mask must be bool or ", dtype_name(q.dtype()),
                              " like the query, got ", dtype_name(mask.dtype())));
  }
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  check_inputs(query, key, value, attn_mask, dropout_p, is_causal);
  AttnGeom g;
  g.Lq = query.shape()[query.dim() - 2];
  g.Lk = key.shape()[key.dim() - 2];
  g.E = query.shape().back();
  g.Ev = value.shape().back();
  const std::string what = str_cat(kName, " (leading dimensions of query, key and value)");
  g.lead = broadcast_shapes(broadcast_shapes(lead_shape(query), lead_shape(key), what.c_str()),
                            lead_shape(value), what.c_str());
  g.batch = 1;
  for (int64_t s : g.lead) g.batch *= s;
  Shape out_shape = g.lead;
  out_shape.push_back(g.Lq);
  out_shape.push_back(g.Ev);
  Shape scores_shape = g.lead;
  scores_shape.push_back(g.Lq);
  scores_shape.push_back(g.Lk);

  Tensor q = rows_contiguous(detach(query)), k = rows_contiguous(detach(key)),
         v = rows_contiguous(detach(value));
  Tensor mask;
  if (attn_mask.defined()) {
    Shape full;
    try {
      full = broadcast_shapes(attn_mask.shape(), scores_shape, kName);
    } catch (const ValueError&) {
      full.clear();
    }
    if (full != scores_shape)
      throw ValueError(str_cat(kName, ": attn_mask of shape ", shape_str(attn_mask.shape()),
                               " does not broadcast to the scores' shape ", shape_str(scores_shape),
                               " (..., Lq, Lk)"));
    mask = detach(attn_mask);
    g.mask = mask.dtype() == DType::Bool ? MaskKind::Bool : MaskKind::Additive;
    g.m_off = batch_offsets(mask.dim() >= 2 ? mask : mask.reshape({1, mask.numel()}), g.lead, 2);
    const int64_t md = mask.dim();
    g.m_rs = md >= 2 && mask.shape()[md - 2] != 1 ? mask.strides()[md - 2] : 0;
    g.m_cs = md >= 1 && mask.shape()[md - 1] != 1 ? mask.strides()[md - 1] : 0;
  }
  g.q_off = batch_offsets(q, g.lead, 2);
  g.k_off = batch_offsets(k, g.lead, 2);
  g.v_off = batch_offsets(v, g.lead, 2);
  g.q_rs = q.strides()[q.dim() - 2];
  g.k_rs = k.strides()[k.dim() - 2];
  g.v_rs = v.strides()[v.dim() - 2];
  g.causal = is_causal;
  g.scale = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(g.E));
  g.dropout = dropout_p;
  if (dropout_p > 0.0) {
    Generator& gen = default_generator();
    std::lock_guard<std::mutex> lock(gen.mutex);
    g.seed = gen.next_u64();
  }

  const DType dt = q.dtype();
  Tensor out = alloc_in_order(q, out_shape, dt, false);
  g.o_off = batch_offsets(out, g.lead, 2);
  g.o_rs = out.strides()[out.dim() - 2];
  Tensor lse = empty({g.batch, g.Lq}, dt);
  if (g.batch * g.Lq > 0) {
    if (dt == DType::Float32)
      attention::forward<float>(g, attn_data<float>(q, k, v, mask, out, lse));
    else
      attention::forward<double>(g, attn_data<double>(q, k, v, mask, out, lse));
  }

  std::vector<Tensor> inputs{query, key, value};
  if (g.mask == MaskKind::Additive) inputs.push_back(attn_mask);
  auto node = make_node(kName, inputs);
  if (!node) return out;
  // The inputs themselves are saved (with their history, for a backward built as ops).
  for (const Tensor& t : {query, key, value, detach(out), lse}) node->save(t);
  if (attn_mask.defined()) node->save(attn_mask);
  node->backward = [g](FunctionNode& n, const std::vector<Tensor>& grads) {
    const Tensor mask_in = g.mask != MaskKind::None ? n.saved(5) : Tensor();
    if (grad_enabled()) {
      bool graph = grads[0].requires_grad() || (mask_in.defined() && mask_in.requires_grad());
      for (int i = 0; i < 3; ++i) graph = graph || n.saved(i).requires_grad();
      if (graph)
        return composed_backward(g, n.saved(0), n.saved(1), n.saved(2), mask_in,
                                 grads[0].to(n.saved(0).dtype()));
    }
    Tensor q = rows_contiguous(detach(n.saved(0))), k = rows_contiguous(detach(n.saved(1))),
           v = rows_contiguous(detach(n.saved(2)));
    Tensor o = n.saved(3), lse = n.saved(4);
    Tensor mask = mask_in.defined() ? detach(mask_in) : Tensor();
    const DType dt = q.dtype();
    AttnGeom gb = g;
    Tensor dout = readable_rows(grads[0].to(dt));
    gb.do_off = batch_offsets(dout, g.lead, 2);
    gb.do_rs = dout.strides()[dout.dim() - 2];
    // dQ, dK and dV in their inputs' memory order, zeros to start (the passes add to them);
    // place records where a gradient's batch entries and rows lie.
    auto place = [&](const Tensor& t, std::vector<int64_t>& off, int64_t& rs) {
      off = batch_offsets(t, g.lead, 2);
      rs = t.strides()[t.dim() - 2];
      return t;
    };
    auto grad_if = [&](int64_t i, const Tensor& like, int64_t rows, int64_t cols,
                       std::vector<int64_t>& off, int64_t& rs) {
      if (!n.needs_input_grad(i)) return Tensor();
      Shape shape = g.lead;
      shape.push_back(rows);
      shape.push_back(cols);
      return place(alloc_in_order(like, shape, dt, true), off, rs);
    };
    Tensor dq, dk, dv;
    Shape qshape = g.lead;
    qshape.push_back(g.Lq);
    qshape.push_back(g.E);
    std::vector<Tensor> joint;
    if (n.needs_input_grad(0) && n.needs_input_grad(1) && n.needs_input_grad(2))
      joint = joint_grads(q, k, v, qshape, dt);
    if (!joint.empty()) {
      dq = place(joint[0], gb.dq_off, gb.dq_rs);
      dk = place(joint[1], gb.dk_off, gb.dk_rs);
      dv = place(joint[2], gb.dv_off, gb.dv_rs);
    } else {
      dq = grad_if(0, q, g.Lq, g.E, gb.dq_off, gb.dq_rs);
      dk = grad_if(1, k, g.Lk, g.E, gb.dk_off, gb.dk_rs);
      dv = grad_if(2, v, g.Lk, g.Ev, gb.dv_off, gb.dv_rs);
    }
    Tensor dmask = g.mask == MaskKind::Additive && n.needs_input_grad(3)
                       ? zeros({g.batch, g.Lq, g.Lk}, dt)
                       : Tensor();
    Tensor delta = empty({g.batch, g.Lq}, dt);
    visit_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        AttnData<T> d = attn_data<T>(q, k, v, mask, o, lse);
        d.dout = dout.data<T>(), d.delta = delta.data<T>();
        d.dq = dq.defined() ? dq.data<T>() : nullptr;
        d.dk = dk.defined() ? dk.data<T>() : nullptr;
        d.dv = dv.defined() ? dv.data<T>() : nullptr;
        d.dmask = dmask.defined() ? dmask.data<T>() : nullptr;
        if (g.batch * g.Lq > 0) attention::backward<T>(gb, d);
      }
    });
    auto reduced = [&](const Tensor& t, const Tensor& like) {
      return t.defined() ? grad_for(t, like) : Tensor();
    };
    std::vector<Tensor> r{reduced(dq, q), reduced(dk, k), reduced(dv, v)};
    if (g.mask == MaskKind::Additive) {
      Shape s = g.lead;
      s.push_back(g.Lq);
      s.push_back(g.Lk);
      r.push_back(reduced(dmask.defined() ? dmask.reshape(s) : dmask, mask));
    }
    return r;
  };
  set_history(out, node);
  return out;
}

}  // namespace dlcore
