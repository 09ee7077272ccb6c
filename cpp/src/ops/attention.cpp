// scaled_dot_product_attention: O = softmax(scale Q K^T + mask) V, tile by tile.
//
// Shapes: B = the leading dimensions broadcast and flattened (batch x heads), Q is
// (B, Lq, E), K (B, Lk, E), V (B, Lk, Ev), O (B, Lq, Ev); lse (B, Lq) is saved for the
// backward. Tiles are bq query rows by bk keys (constants below, one pair per pass).
//
// Forward, per (b, query tile), on one thread: for each key tile, S = scale Q_i K_j^T
// (a GEMM), add the mask, the online softmax update (kernels: attention_simd.cpp), then
// acc += P V_j (a GEMM); finally O = acc / l and lse = m + log(l). Nothing T x T is
// kept: per thread one bq x bk tile.
//
// Backward, with delta[r] = dO[r] . O[r] and the tile recomputed from lse:
//   P = exp(S - lse),  dV_j += P^T dO_i,  dP = dO_i V_j^T,  dS = P (dP - delta)
//   dQ_i += scale dS K_j,  dK_j += scale dS^T Q_i,  dmask = dS
// Each dQ_i is summed over key tiles in increasing j, each dK_j and dV_j over query
// tiles in increasing i. With many (b) per thread, one pass per b does both; with few,
// one pass over (b, key tile) gives dK and dV and another over (b, query tile) gives
// dQ, recomputing the tiles. Both run the same tile arithmetic in the same order, so
// the bits do not depend on the thread count.
//
// Dropout keeps weight (b, r, c) when a hash of (seed, b, r, c) says so, so the backward
// regenerates the same mask without storing it; l (the softmax normaliser) uses the
// weights before dropout.
#include "dlcore/attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "dlcore/gemm.h"
#include "dlcore/random.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

// Tile sizes (query rows x keys): larger key tiles in the forward (fewer rescales of the
// accumulator), square ones in the backward (five GEMMs per tile, two of them with the
// query rows as their depth). Measured at head dim 64 on AVX2 and AVX-512.
constexpr int64_t kForwardQ = 84, kForwardK = 512, kBackwardQ = 128, kBackwardK = 128;
constexpr const char* kName = "scaled_dot_product_attention";

enum class MaskKind { None, Bool, Additive };

struct AttnGeom {
  int64_t batch = 1, Lq = 0, Lk = 0, E = 0, Ev = 0;
  Shape lead;
  std::vector<int64_t> q_off, k_off, v_off, m_off;  // element offset of each b
  int64_t q_rs = 0, k_rs = 0, v_rs = 0, m_rs = 0, m_cs = 0;
  MaskKind mask = MaskKind::None;
  bool causal = false;
  double scale = 1.0, dropout = 0.0;
  uint64_t seed = 0;
  int64_t bq = kForwardQ, bk = kForwardK;  // the tile of the pass running

  // The row stride of a score tile: bk plus one cache line (of floats), so the rows of a
  // tile read at once as a GEMM operand do not share L1 sets (512 floats are 2 KiB).
  int64_t ld() const { return bk + 16; }
  int64_t q_tiles() const { return (Lq + bq - 1) / bq; }
  int64_t k_tiles() const { return (Lk + bk - 1) / bk; }
  // Keys [0, key_end) are seen by query rows [i0, i0 + rows).
  int64_t key_end(int64_t i0, int64_t rows) const { return causal ? std::min(Lk, i0 + rows) : Lk; }
  // The first query tile that sees key j0.
  int64_t first_q_tile(int64_t j0) const { return causal ? j0 / bq : 0; }
};

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

// t with unit stride along its last dimension (what the GEMM's row access needs).
Tensor rows_contiguous(const Tensor& t) {
  return t.dim() > 0 && t.shape().back() > 1 && t.strides().back() != 1 ? contiguous(t) : t;
}

template <class T>
struct AttnData {
  const T *q, *k, *v;
  const void* mask;
  T *o, *lse;
  // Backward only.
  const T *dout, *delta;
  T *dq, *dk, *dv, *dmask;
};

template <class T>
AttnData<T> attn_data(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                      const Tensor& o, const Tensor& lse) {
  AttnData<T> d{};
  d.q = q.data<T>(), d.k = k.data<T>(), d.v = v.data<T>();
  d.mask = mask.defined() ? mask.data_ptr() : nullptr;
  d.o = o.data<T>(), d.lse = lse.data<T>();
  return d;
}

template <class T>
void tile_gemm(int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t a_rs, int64_t a_cs,
               const T* b, int64_t b_rs, int64_t b_cs, T beta, T* c, int64_t ldc,
               const GemmPackedB<T>* b_packed = nullptr) {
  GemmProblem<T> p;
  p.b_packed = b_packed;
  p.M = M, p.N = N, p.K = K, p.alpha = alpha, p.beta = beta;
  p.a = a, p.a_rs = a_rs, p.a_cs = a_cs;
  p.b = b, p.b_rs = b_rs, p.b_cs = b_cs;
  p.c = c, p.ldc = ldc;
  gemm(p);
}

// Query rows [i0, i0 + rows) of batch entry b times the scale, into qs (row stride E):
// the scores' product then runs with alpha 1 and the GEMM's plain write-back. The forward
// and the backward scale the same way, so their scores have the same bits.
template <class T>
const T* scaled_queries(const AttnGeom& g, const AttnData<T>& d, int64_t b, int64_t i0,
                        int64_t rows, std::vector<T>& qs) {
  const T scale = static_cast<T>(g.scale);
  const T* q = d.q + g.q_off[b] + i0 * g.q_rs;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t e = 0; e < g.E; ++e) qs[r * g.E + e] = q[r * g.q_rs + e] * scale;
  return qs.data();
}

// The masked, scaled scores of query rows [i0, i0 + rows) (qs: from scaled_queries)
// against keys [j0, j0 + cols) of batch entry b, into s (row stride ld()).
template <class T>
void scores_tile(const AttnGeom& g, const AttnData<T>& d, int64_t b, int64_t i0, int64_t rows,
                 int64_t j0, int64_t cols, const T* qs, T* s,
                 const GemmPackedB<T>* kt_packed = nullptr) {
  const T* k = d.k + g.k_off[b] + j0 * g.k_rs;
  tile_gemm<T>(rows, cols, g.E, T(1), qs, g.E, 1, k, 1, g.k_rs, T(0), s, g.ld(), kt_packed);
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  if (g.mask == MaskKind::Bool) {
    const bool* m = static_cast<const bool*>(d.mask) + g.m_off[b] + i0 * g.m_rs + j0 * g.m_cs;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        if (!m[r * g.m_rs + c * g.m_cs]) s[r * g.ld() + c] = ninf;
  } else if (g.mask == MaskKind::Additive) {
    const T* m = static_cast<const T*>(d.mask) + g.m_off[b] + i0 * g.m_rs + j0 * g.m_cs;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) s[r * g.ld() + c] += m[r * g.m_rs + c * g.m_cs];
  }
  if (g.causal && j0 + cols - 1 > i0)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = std::max<int64_t>(0, i0 + r - j0 + 1); c < cols; ++c)
        s[r * g.ld() + c] = ninf;
}

// out = p * keep / (1 - dropout) for the weights of the same block (out may be p).
template <class T>
void dropout_tile(const AttnGeom& g, int64_t b, int64_t i0, int64_t rows, int64_t j0, int64_t cols,
                  const T* p, T* out) {
  const uint32_t threshold = dropout_threshold(g.dropout);
  const T inv = g.dropout < 1.0 ? static_cast<T>(1.0 / (1.0 - g.dropout)) : T(0);
  for (int64_t r = 0; r < rows; ++r) {
    const uint64_t row = static_cast<uint64_t>((b * g.Lq + i0 + r) * g.Lk + j0);
    for (int64_t c = 0; c < cols; ++c) {
      const bool keep = dropout_keeps(g.seed, row + c, threshold);
      out[r * g.ld() + c] = keep ? p[r * g.ld() + c] * inv : T(0);
    }
  }
}

template <class T>
struct SoftmaxKernels {
  kernels::AttnOnlineFn<T> online;
  kernels::AttnProbsFn<T> probs;
  kernels::AttnDscoresFn<T> dscores;
};

template <class T>
SoftmaxKernels<T> softmax_kernels() {
  const auto& t = kernels::active();
  return {kernels::for_dtype<T>(t.attn_softmax_online_f32, t.attn_softmax_online_f64),
          kernels::for_dtype<T>(t.attn_softmax_probs_f32, t.attn_softmax_probs_f64),
          kernels::for_dtype<T>(t.attn_softmax_dscores_f32, t.attn_softmax_dscores_f64)};
}

template <class T>
void forward(AttnGeom g, const AttnData<T>& d) {
  // Query tiles of at most kForwardQ rows, as equal as can be (no thin last tile); a
  // row's output does not depend on how the rows are tiled.
  const int64_t parts = std::max<int64_t>(1, (g.Lq + kForwardQ - 1) / kForwardQ);
  g.bq = std::max<int64_t>(1, (g.Lq + parts - 1) / parts);
  const SoftmaxKernels<T> kern = softmax_kernels<T>();
  const int64_t nqt = g.q_tiles(), nkt = g.k_tiles();
  parallel_for(0, g.batch * nqt, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> s(g.bq * g.ld()), m(g.bq), l(g.bq), qs(g.bq * g.E);
    // K^T and V of each key tile of the batch entry this thread is on, packed when it
    // first reads them and kept for its next query tiles of the same entry.
    std::vector<GemmPackedB<T>> kt_packed(nkt), v_packed(nkt);
    int64_t packed_b = -1;
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t b = item / nqt, i0 = item % nqt * g.bq;
      const int64_t rows = std::min(g.bq, g.Lq - i0);
      // Packing pays when this thread has another query tile of b to come.
      const bool reuse = std::min(hi, (b + 1) * nqt) - item > 1 || b == packed_b;
      if (b != packed_b) {
        std::fill(kt_packed.begin(), kt_packed.end(), GemmPackedB<T>());
        std::fill(v_packed.begin(), v_packed.end(), GemmPackedB<T>());
        packed_b = b;
      }
      T* o = d.o + (b * g.Lq + i0) * g.Ev;
      const T* q = scaled_queries(g, d, b, i0, rows, qs);
      std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
      std::fill(l.begin(), l.end(), T(0));
      const int64_t kend = g.key_end(i0, rows);
      for (int64_t j0 = 0; j0 < kend; j0 += g.bk) {
        const int64_t cols = std::min(g.bk, kend - j0), jt = j0 / g.bk;
        const T* k = d.k + g.k_off[b] + j0 * g.k_rs;
        const T* v = d.v + g.v_off[b] + j0 * g.v_rs;
        // A causal tile cut short by the diagonal is narrower than the packed one.
        const bool whole = reuse && cols == std::min(g.bk, g.Lk - j0);
        if (whole && !kt_packed[jt].defined()) {
          kt_packed[jt] = GemmPackedB<T>(g.E, cols, k, 1, g.k_rs);
          v_packed[jt] = GemmPackedB<T>(cols, g.Ev, v, g.v_rs, 1);
        }
        scores_tile(g, d, b, i0, rows, j0, cols, q, s.data(), whole ? &kt_packed[jt] : nullptr);
        // The first key tile scales o by 0 (whatever o held) and then overwrites it.
        kern.online(rows, cols, s.data(), g.ld(), m.data(), l.data(), o, g.Ev, g.Ev);
        if (g.dropout > 0.0) dropout_tile(g, b, i0, rows, j0, cols, s.data(), s.data());
        tile_gemm<T>(rows, g.Ev, cols, T(1), s.data(), g.ld(), 1, v, g.v_rs, 1, T(j0 > 0), o, g.Ev,
                     whole ? &v_packed[jt] : nullptr);
      }
      T* lse = d.lse + b * g.Lq + i0;
      for (int64_t r = 0; r < rows; ++r) {
        T* orow = o + r * g.Ev;
        if (l[r] == T(0)) {  // every key masked: zeros, and P = exp(S - inf) = 0 backward
          std::fill(orow, orow + g.Ev, T(0));
          lse[r] = std::numeric_limits<T>::infinity();
          continue;
        }
        const T inv = T(1) / l[r];  // NaN scores: NaN output and lse
        for (int64_t e = 0; e < g.Ev; ++e) orow[e] *= inv;
        lse[r] = m[r] + std::log(l[r]);
      }
    }
  });
}

// Per-thread tiles of the backward.
template <class T>
struct BackwardTiles {
  std::vector<T> p, pd, dp, qs;
  explicit BackwardTiles(const AttnGeom& g)
      : p(g.bq * g.ld()), pd(g.bq * g.ld()), dp(g.bq * g.ld()), qs(g.bq * g.E) {}
};

// The B operands of the backward's products, packed once for every block that reads
// them instead of once per block: per query tile Q_i and dO_i (dK_j and dV_j), per key
// tile K_j^T, V_j^T and K_j (S, dP and dQ_i). A pack left undefined is packed by the
// GEMM itself; so is one that a causal block cut short by the diagonal cannot use.
template <class T>
struct QueryPacks {
  GemmPackedB<T> q, dout;
};

template <class T>
struct KeyPacks {
  GemmPackedB<T> kt, vt, k;
};

// A query (key) tile's packs pay off when three or more key (query) tiles read them;
// the other blocks' GEMMs pack for themselves.
template <class T>
QueryPacks<T> pack_query_tile(const AttnGeom& g, const AttnData<T>& d, int64_t b, int64_t i0) {
  QueryPacks<T> qp;
  if (g.k_tiles() <= 2) return qp;
  const int64_t rows = std::min(g.bq, g.Lq - i0);
  if (d.dk) qp.q = GemmPackedB<T>(rows, g.E, d.q + g.q_off[b] + i0 * g.q_rs, g.q_rs, 1);
  if (d.dv) qp.dout = GemmPackedB<T>(rows, g.Ev, d.dout + (b * g.Lq + i0) * g.Ev, g.Ev, 1);
  return qp;
}

template <class T>
KeyPacks<T> pack_key_tile(const AttnGeom& g, const AttnData<T>& d, int64_t b, int64_t j0,
                          bool want_dq) {
  KeyPacks<T> kp;
  if (g.q_tiles() - g.first_q_tile(j0) <= 2) return kp;
  const int64_t cols = std::min(g.bk, g.Lk - j0);
  const T* k = d.k + g.k_off[b] + j0 * g.k_rs;
  kp.kt = GemmPackedB<T>(g.E, cols, k, 1, g.k_rs);
  kp.vt = GemmPackedB<T>(g.Ev, cols, d.v + g.v_off[b] + j0 * g.v_rs, 1, g.v_rs);
  if (want_dq && d.dq) kp.k = GemmPackedB<T>(cols, g.E, k, g.k_rs, 1);
  return kp;
}

// pack when it was made and fits this product, else null (the GEMM packs B itself).
template <class T>
const GemmPackedB<T>* fitting(const GemmPackedB<T>& pack, int64_t K, int64_t N) {
  return pack.defined() && pack.K() == K && pack.N() == N ? &pack : nullptr;
}

// One (query tile, key tile) block of the backward: adds its share to dQ_i when
// want_dq, to dK_j, dV_j (and writes dmask) when want_dkv.
template <class T>
void backward_block(const AttnGeom& g, const AttnData<T>& d, const SoftmaxKernels<T>& kern,
                    BackwardTiles<T>& w, const QueryPacks<T>& qp, const KeyPacks<T>& kp, int64_t b,
                    int64_t i0, int64_t j0, bool want_dq, bool want_dkv) {
  const int64_t rows = std::min(g.bq, g.Lq - i0);
  const int64_t cols = std::min(g.bk, g.key_end(i0, rows) - j0);
  T* p = w.p.data();
  T* dp = w.dp.data();
  scores_tile(g, d, b, i0, rows, j0, cols, scaled_queries(g, d, b, i0, rows, w.qs), p,
              fitting(kp.kt, g.E, cols));
  kern.probs(rows, cols, p, g.ld(), d.lse + b * g.Lq + i0);
  const T* pused = p;
  if (g.dropout > 0.0) {
    dropout_tile(g, b, i0, rows, j0, cols, p, w.pd.data());
    pused = w.pd.data();
  }
  const T* dout = d.dout + (b * g.Lq + i0) * g.Ev;
  const T* k = d.k + g.k_off[b] + j0 * g.k_rs;
  const T* v = d.v + g.v_off[b] + j0 * g.v_rs;
  if (want_dkv && d.dv)
    tile_gemm<T>(cols, g.Ev, rows, T(1), pused, 1, g.ld(), dout, g.Ev, 1, T(1),
                 d.dv + (b * g.Lk + j0) * g.Ev, g.Ev, fitting(qp.dout, rows, g.Ev));
  tile_gemm<T>(rows, cols, g.Ev, T(1), dout, g.Ev, 1, v, 1, g.v_rs, T(0), dp, g.ld(),
               fitting(kp.vt, g.Ev, cols));
  if (g.dropout > 0.0) dropout_tile(g, b, i0, rows, j0, cols, dp, dp);
  // dS takes the scale, and dQ and dK run with alpha 1, unless dS itself is wanted (dmask).
  const T scale = static_cast<T>(g.scale), alpha = d.dmask ? scale : T(1);
  kern.dscores(rows, cols, p, g.ld(), dp, d.delta + b * g.Lq + i0, d.dmask ? T(1) : scale);
  if (want_dq && d.dq)
    tile_gemm<T>(rows, g.E, cols, alpha, dp, g.ld(), 1, k, g.k_rs, 1, T(1),
                 d.dq + (b * g.Lq + i0) * g.E, g.E, fitting(kp.k, cols, g.E));
  if (!want_dkv) return;
  if (d.dk)
    tile_gemm<T>(cols, g.E, rows, alpha, dp, 1, g.ld(), d.q + g.q_off[b] + i0 * g.q_rs, g.q_rs, 1,
                 T(1), d.dk + (b * g.Lk + j0) * g.E, g.E, fitting(qp.q, rows, g.E));
  if (d.dmask)
    for (int64_t r = 0; r < rows; ++r)
      std::copy(dp + r * g.ld(), dp + r * g.ld() + cols, d.dmask + (b * g.Lq + i0 + r) * g.Lk + j0);
}

template <class T>
void backward(AttnGeom g, const AttnData<T>& d) {
  g.bq = kBackwardQ, g.bk = kBackwardK;
  const SoftmaxKernels<T> kern = softmax_kernels<T>();
  const int64_t nqt = g.q_tiles(), nkt = g.k_tiles();
  const int nt = get_num_threads();
  const bool need_dkv = d.dk || d.dv || d.dmask;
  if (nt <= 1 || g.batch >= 2 * nt) {
    // One pass per batch entry: key tiles outside, query tiles inside.
    parallel_for(0, g.batch, 1, [&](int64_t lo, int64_t hi) {
      BackwardTiles<T> w(g);
      std::vector<QueryPacks<T>> qp(nqt);
      for (int64_t b = lo; b < hi; ++b) {
        for (int64_t it = 0; it < nqt; ++it) qp[it] = pack_query_tile(g, d, b, it * g.bq);
        for (int64_t jt = 0; jt < nkt; ++jt) {
          const KeyPacks<T> kp = pack_key_tile(g, d, b, jt * g.bk, true);
          for (int64_t it = g.first_q_tile(jt * g.bk); it < nqt; ++it)
            backward_block(g, d, kern, w, qp[it], kp, b, it * g.bq, jt * g.bk, true, true);
        }
      }
    });
    return;
  }
  if (need_dkv) {
    // Every key tile's pass reads every query tile's packs: made once for all.
    std::vector<QueryPacks<T>> qp(g.batch * nqt);
    parallel_for(0, g.batch * nqt, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t item = lo; item < hi; ++item)
        qp[item] = pack_query_tile(g, d, item / nqt, item % nqt * g.bq);
    });
    parallel_for(0, g.batch * nkt, 1, [&](int64_t lo, int64_t hi) {
      BackwardTiles<T> w(g);
      for (int64_t item = lo; item < hi; ++item) {
        const int64_t b = item / nkt, j0 = item % nkt * g.bk;
        const KeyPacks<T> kp = pack_key_tile(g, d, b, j0, false);
        for (int64_t it = g.first_q_tile(j0); it < nqt; ++it)
          backward_block(g, d, kern, w, qp[b * nqt + it], kp, b, it * g.bq, j0, false, true);
      }
    });
  }
  if (d.dq) {
    // Every query tile's pass reads every key tile's packs.
    std::vector<KeyPacks<T>> kp(g.batch * nkt);
    parallel_for(0, g.batch * nkt, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t item = lo; item < hi; ++item)
        kp[item] = pack_key_tile(g, d, item / nkt, item % nkt * g.bk, true);
    });
    const QueryPacks<T> no_query;
    parallel_for(0, g.batch * nqt, 1, [&](int64_t lo, int64_t hi) {
      BackwardTiles<T> w(g);
      for (int64_t item = lo; item < hi; ++item) {
        const int64_t b = item / nqt, i0 = item % nqt * g.bq;
        const int64_t kend = g.key_end(i0, std::min(g.bq, g.Lq - i0));
        for (int64_t j0 = 0; j0 < kend; j0 += g.bk)
          backward_block(g, d, kern, w, no_query, kp[b * nkt + j0 / g.bk], b, i0, j0, true, false);
      }
    });
  }
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
  Tensor out = empty(out_shape, dt);
  Tensor lse = empty({g.batch, g.Lq}, dt);
  if (g.batch * g.Lq > 0) {
    if (dt == DType::Float32)
      forward<float>(g, attn_data<float>(q, k, v, mask, out, lse));
    else
      forward<double>(g, attn_data<double>(q, k, v, mask, out, lse));
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
    Tensor dout = contiguous(grads[0].to(dt));
    auto zeros_if = [&](int64_t i, Shape shape) {
      return n.needs_input_grad(i) ? zeros(shape, dt) : Tensor();
    };
    Tensor dq = zeros_if(0, {g.batch, g.Lq, g.E}), dk = zeros_if(1, {g.batch, g.Lk, g.E}),
           dv = zeros_if(2, {g.batch, g.Lk, g.Ev});
    Tensor dmask = g.mask == MaskKind::Additive ? zeros_if(3, {g.batch, g.Lq, g.Lk}) : Tensor();
    Tensor delta = empty({g.batch, g.Lq}, dt);
    visit_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        const T *po = o.data<T>(), *pg = dout.data<T>();
        T* pd = delta.data<T>();
        parallel_for(0, g.batch * g.Lq, 256, [&](int64_t lo, int64_t hi) {
          for (int64_t r = lo; r < hi; ++r) {
            T acc = 0;
            for (int64_t e = 0; e < g.Ev; ++e) acc += po[r * g.Ev + e] * pg[r * g.Ev + e];
            pd[r] = acc;
          }
        });
        AttnData<T> d = attn_data<T>(q, k, v, mask, o, lse);
        d.dout = pg, d.delta = pd;
        d.dq = dq.defined() ? dq.data<T>() : nullptr;
        d.dk = dk.defined() ? dk.data<T>() : nullptr;
        d.dv = dv.defined() ? dv.data<T>() : nullptr;
        d.dmask = dmask.defined() ? dmask.data<T>() : nullptr;
        if (g.batch * g.Lq > 0) backward<T>(g, d);
      }
    });
    auto full = [&](const Tensor& t, int64_t rows, int64_t cols, const Tensor& like) {
      if (!t.defined()) return Tensor();
      Shape s = g.lead;
      s.push_back(rows);
      s.push_back(cols);
      return grad_for(t.reshape(s), like);
    };
    std::vector<Tensor> r{full(dq, g.Lq, g.E, q), full(dk, g.Lk, g.E, k), full(dv, g.Lk, g.Ev, v)};
    if (g.mask == MaskKind::Additive) r.push_back(full(dmask, g.Lq, g.Lk, mask));
    return r;
  };
  set_history(out, node);
  return out;
}

}  // namespace dlcore
