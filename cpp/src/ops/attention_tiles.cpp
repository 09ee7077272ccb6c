// The tile passes of fused attention: attention_tiles.h has the equations.
#include "ops/attention_tiles.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "dlcore/gemm.h"
#include "dlcore/random.h"
#include "kernels/cpu/kernels.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore::attention {
namespace {

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

// Whether the tiles hold scaled scores. Unscaled tiles come straight from Q: no scaled
// copy per tile, and the kernels' exp takes the scale in the FMA that shifts its argument.
// An additive mask is added to scaled scores, and a scale of 0 or below would turn the row
// maximum into a minimum: those tiles are scaled first.
inline bool tiles_scaled(const AttnGeom& g) {
  return g.mask == MaskKind::Additive || !(g.scale > 0.0);
}

// The factor of the softmax kernels' base-2 exponent: log2(e), times the scale where the
// tiles do not hold it yet.
template <class T>
T exp_scale(const AttnGeom& g) {
  constexpr double kLog2e = 1.44269504088896340736;
  return static_cast<T>(tiles_scaled(g) ? kLog2e : g.scale * kLog2e);
}

// Query rows [i0, i0 + rows) of batch entry b as the scores' A operand, with their row
// stride: in place when the kernels take the scale (tiles_scaled), else times the scale
// into qs (row stride E), so that the product runs with alpha 1 and the GEMM's plain
// write-back. The forward and the backward take the same path, so their scores have the
// same bits.
template <class T>
std::pair<const T*, int64_t> tile_queries(const AttnGeom& g, const AttnData<T>& d, int64_t b,
                                          int64_t i0, int64_t rows, std::vector<T>& qs) {
  const T* q = d.q + g.q_off[b] + i0 * g.q_rs;
  if (!tiles_scaled(g) || g.scale == 1.0) return {q, g.q_rs};
  const T scale = static_cast<T>(g.scale);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t e = 0; e < g.E; ++e) qs[r * g.E + e] = q[r * g.q_rs + e] * scale;
  return {qs.data(), g.E};
}

// The masked scores (scaled, where tiles_scaled says so) of query rows
// [i0, i0 + rows) (q: from tile_queries) against keys [j0, j0 + cols) of batch entry b,
// into s (row stride ld()).
template <class T>
void scores_tile(const AttnGeom& g, const AttnData<T>& d, int64_t b, int64_t i0, int64_t rows,
                 int64_t j0, int64_t cols, std::pair<const T*, int64_t> q, T* s,
                 const GemmPackedB<T>* kt_packed = nullptr) {
  const T* k = d.k + g.k_off[b] + j0 * g.k_rs;
  tile_gemm<T>(rows, cols, g.E, T(1), q.first, q.second, 1, k, 1, g.k_rs, T(0), s, g.ld(),
               kt_packed);
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

// Whether the GEMM packs a row-major B (row stride ld) for an M x N product over K, so
// that packing it once ahead for several such products pays; where B fits in L2 it is
// read in place instead, faster than from a packed copy (2-5% of the forward at T = 128 to
// 2048 on a Zen 4 VM).
template <class T>
bool packs_row_major_b(int64_t M, int64_t N, int64_t K, int64_t ld) {
  GemmProblem<T> p;
  p.M = M, p.N = N, p.K = K, p.b_rs = ld, p.b_cs = 1;
  return !gemm_reads_in_place(p);
}

// pack when it was made and fits this product (its K, its first N columns), else null
// (the GEMM packs B itself).
template <class T>
const GemmPackedB<T>* fitting(const GemmPackedB<T>& pack, int64_t K, int64_t N) {
  return pack.defined() && pack.K() == K && pack.N() >= N ? &pack : nullptr;
}

// Calls f(r0, r1, nc) for the strips [r0, r1) of a block's query rows (from i0) against
// keys [j0, j0 + cols): the whole block at once, or where the causal diagonal cuts it,
// strips of g.strip rows, each with the nc keys its last row sees (a strip that sees none
// is left out, and no key strip reads its rows).
template <class F>
void for_each_strip(const AttnGeom& g, int64_t i0, int64_t rows, int64_t j0, int64_t cols, F&& f) {
  if (!g.cut(i0, j0, cols)) return f(0, rows, cols);
  for (int64_t r0 = 0; r0 < rows; r0 += g.strip) {
    const int64_t r1 = std::min(rows, r0 + g.strip), nc = std::min(cols, i0 + r1 - j0);
    if (nc > 0) f(r0, r1, nc);
  }
}

// Calls f(c0, c1, r0) for the key strips [c0, c1) of the same block, with r0 the first row
// of the query strip where they start to be seen: rows above r0 see none of them, and the
// strips from r0 on computed all of them (for_each_strip's nc reaches c1).
template <class F>
void for_each_key_strip(const AttnGeom& g, int64_t i0, int64_t rows, int64_t j0, int64_t cols,
                        F&& f) {
  if (!g.cut(i0, j0, cols)) return f(0, cols, 0);
  int64_t c_prev = 0, r_prev = 0;
  for (int64_t r = 0;; r += g.strip) {
    const int64_t rb = std::min(rows, r);
    const int64_t c = std::clamp<int64_t>(i0 + rb - j0, 0, cols);
    if (c > c_prev) f(c_prev, c, r_prev);
    c_prev = c, r_prev = rb;
    if (rb == rows) break;
  }
}

// The rows of a batch entry's operands, asked for into L2 a part at a time: the next
// entry's, while this one computes, where they come from memory (in a Transformer they
// lie a few row lengths apart, in rows of 32-64 values). Asked for all at once, this
// entry's own loads queued behind them; so each pass asks for 1 / kPrefetchSteps of them
// after each product of its strips (a T = 128 causal block has about 25, a block the
// diagonal does not cut 3 to 5), and for the rest when it moves on to that entry. Only
// where they take at most kPrefetchMaxBytes, so that they do not push this entry's tiles
// out. T = 128, head dim 32, batch 32 x 4 heads (1 thread, Zen 4, caches flushed): the
// backward 4-8% faster than with no prefetch, 3-5% faster than asking all at once.
constexpr int64_t kPrefetchMaxBytes = 128 << 10, kPrefetchSteps = 8;

template <class T>
class EntryPrefetch {
 public:
  // Queues batch entry b's Q, K, V (and dO with `dout`, and O where the backward reads it),
  // dropping what was left of the last entry's.
  void queue(const AttnGeom& g, const AttnData<T>& d, int64_t b, bool dout) {
    n_ = i_ = 0, r_ = 0, step_ = 0;
    const bool o = dout && !g.delta_in_tiles();
    const int64_t qe = g.Lq * (g.E + (dout ? g.Ev : 0) + (o ? g.Ev : 0));
    if ((qe + g.Lk * (g.E + g.Ev)) * int64_t(sizeof(T)) > kPrefetchMaxBytes) return;
    add(d.q + g.q_off[b], g.Lq, g.q_rs, g.E);
    add(d.k + g.k_off[b], g.Lk, g.k_rs, g.E);
    add(d.v + g.v_off[b], g.Lk, g.v_rs, g.Ev);
    if (dout) add(d.dout + g.do_off[b], g.Lq, g.do_rs, g.Ev);
    if (o) add(d.o + g.o_off[b], g.Lq, g.o_rs, g.Ev);
    int64_t rows = 0;
    for (int k = 0; k < n_; ++k) rows += parts_[k].rows;
    step_ = std::max<int64_t>(16, (rows + kPrefetchSteps - 1) / kPrefetchSteps);
  }
  // Asks for the next part of the queue (1 / kPrefetchSteps of it), or all that is left.
  void ask() { ask_rows(step_); }
  void ask_rest() { ask_rows(std::numeric_limits<int64_t>::max()); }

 private:
  void ask_rows(int64_t rows) {
    for (; rows > 0 && i_ < n_; --rows) {
      const Part& p = parts_[i_];
      const char* row = reinterpret_cast<const char*>(p.a + r_ * p.rs);
      for (int64_t o = 0; o < p.bytes; o += 64) __builtin_prefetch(row + o, 0, 2);
      if (++r_ == p.rows) r_ = 0, ++i_;
    }
  }
  struct Part {
    const T* a;
    int64_t rows, rs, bytes;
  };
  void add(const T* a, int64_t rows, int64_t rs, int64_t width) {
    if (rows > 0) parts_[n_++] = {a, rows, rs, width * int64_t(sizeof(T))};
  }
  Part parts_[5];
  int n_ = 0, i_ = 0;
  int64_t r_ = 0, step_ = 0;
};

template <class T>
struct SoftmaxKernels {
  kernels::AttnOnlineFn<T> online;
  kernels::AttnProbsFn<T> probs;
  kernels::AttnDscoresFn<T> dscores;
  kernels::AttnRowDotsFn<T> row_dots;
  kernels::AttnFinishFn<T> finish;
};

template <class T>
SoftmaxKernels<T> softmax_kernels() {
  const auto& t = kernels::active();
  return {kernels::for_dtype<T>(t.attn_softmax_online_f32, t.attn_softmax_online_f64),
          kernels::for_dtype<T>(t.attn_softmax_probs_f32, t.attn_softmax_probs_f64),
          kernels::for_dtype<T>(t.attn_softmax_dscores_f32, t.attn_softmax_dscores_f64),
          kernels::for_dtype<T>(t.attn_row_dots_f32, t.attn_row_dots_f64),
          kernels::for_dtype<T>(t.attn_finish_f32, t.attn_finish_f64)};
}

// delta = dO . O for the rows of batch entry b, on this thread: where one thread takes
// an entry's whole backward, just before it, with dO on its way into cache for the tiles.
// Not where the tiles compute it (AttnGeom::delta_in_tiles).
template <class T>
void entry_delta(const AttnGeom& g, const AttnData<T>& d, const SoftmaxKernels<T>& kern,
                 int64_t b) {
  if (g.delta_in_tiles()) return;
  kern.row_dots(g.Lq, g.Ev, d.dout + g.do_off[b], g.do_rs, d.o + g.o_off[b], g.o_rs,
                d.delta + b * g.Lq);
}

}  // namespace

template <class T>
void forward(AttnGeom g, const AttnData<T>& d) {
  // Query tiles of at most kForwardQ rows, as equal as can be (no thin last tile). The
  // GEMM runs the rows past whole register tiles (mr rows) in a smaller register tile when
  // they are few (up to mr / 2 + 1: 8 of 14 on AVX-512, 4 of 6 on AVX2) and in a whole one
  // otherwise: a tile that would leave more is rounded up to whole register tiles where
  // that makes no more tiles. At T = 2048 on AVX-512 82 rows would compute 84 and use
  // 82; 84 use all (2% faster). A row's output does not depend on how the rows are tiled.
  const int64_t parts = std::max<int64_t>(1, (g.Lq + kForwardQ - 1) / kForwardQ);
  g.bq = std::max<int64_t>(1, (g.Lq + parts - 1) / parts);
  const int64_t mr = gemm_blocking(std::is_same_v<T, double>).mr;
  const int64_t whole = (g.bq + mr - 1) / mr * mr;
  if (g.bq % mr > mr / 2 + 1 && (g.Lq + whole - 1) / whole == parts) g.bq = whole;
  const SoftmaxKernels<T> kern = softmax_kernels<T>();
  const T a = exp_scale<T>(g);
  const int64_t nqt = g.q_tiles(), nkt = g.k_tiles();
  const bool pack_v = packs_row_major_b<T>(g.bq, g.Ev, std::min(g.bk, g.Lk), g.v_rs);
  parallel_for(0, g.batch * nqt, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> s(g.bq * g.ld()), m(g.bq), l(g.bq), qs(g.bq * g.E);
    // K^T and V of each key tile of the batch entry this thread is on, packed when it
    // first reads them and kept for its next query tiles of the same entry (V only where
    // the product would not read it in place).
    std::vector<GemmPackedB<T>> kt_packed(nkt), v_packed(nkt);
    int64_t packed_b = -1;
    EntryPrefetch<T> next;  // the next batch entry's rows
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t b = item / nqt, i0 = item % nqt * g.bq;
      const int64_t rows = std::min(g.bq, g.Lq - i0);
      // Packing pays when this thread has another query tile of b to come.
      const bool reuse = std::min(hi, (b + 1) * nqt) - item > 1 || b == packed_b;
      if (b != packed_b) {
        // What is left of this entry's rows, then the next entry's, if this thread has a
        // tile of it.
        next.ask_rest();
        if ((b + 1) * nqt < hi) next.queue(g, d, b + 1, false);
        std::fill(kt_packed.begin(), kt_packed.end(), GemmPackedB<T>());
        std::fill(v_packed.begin(), v_packed.end(), GemmPackedB<T>());
        packed_b = b;
      }
      T* o = d.o + g.o_off[b] + i0 * g.o_rs;
      const auto q = tile_queries(g, d, b, i0, rows, qs);
      std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
      std::fill(l.begin(), l.end(), T(0));
      const int64_t kend = g.key_end(i0, rows);
      for (int64_t j0 = 0; j0 < kend; j0 += g.bk) {
        const int64_t cols = std::min(g.bk, kend - j0), jt = j0 / g.bk;
        const T* k = d.k + g.k_off[b] + j0 * g.k_rs;
        const T* v = d.v + g.v_off[b] + j0 * g.v_rs;
        // The whole key tile is packed (a causal tile may use its first columns only) when
        // another query tile will read it, or this one's strips (V's rows: whole tiles only).
        const bool strips = g.cut(i0, j0, cols) && rows > g.strip;
        if ((reuse || strips) && !kt_packed[jt].defined()) {
          const int64_t all = std::min(g.bk, g.Lk - j0);
          kt_packed[jt] = GemmPackedB<T>(g.E, all, k, 1, g.k_rs);
          if (pack_v) v_packed[jt] = GemmPackedB<T>(all, g.Ev, v, g.v_rs, 1);
        }
        for_each_strip(g, i0, rows, j0, cols, [&](int64_t r0, int64_t r1, int64_t nc) {
          T* sr = s.data() + r0 * g.ld();
          T* orow = o + r0 * g.o_rs;
          scores_tile(g, d, b, i0 + r0, r1 - r0, j0, nc, {q.first + r0 * q.second, q.second}, sr,
                      fitting(kt_packed[jt], g.E, nc));
          // On the first key tile the kernel leaves o as it is (whatever it held): the product
          // with V overwrites it.
          kern.online(r1 - r0, nc, sr, g.ld(), m.data() + r0, l.data() + r0, orow, g.o_rs, g.Ev, a);
          if (g.dropout > 0.0) dropout_tile(g, b, i0 + r0, r1 - r0, j0, nc, sr, sr);
          tile_gemm<T>(r1 - r0, g.Ev, nc, T(1), sr, g.ld(), 1, v, g.v_rs, 1, T(j0 > 0), orow,
                       g.o_rs, fitting(v_packed[jt], nc, g.Ev));
          next.ask();
        });
      }
      kern.finish(rows, g.Ev, o, g.o_rs, m.data(), l.data(), a, d.lse + b * g.Lq + i0);
    }
  });
}

namespace {

// Per-thread tiles of the backward.
template <class T>
struct BackwardTiles {
  std::vector<T> p, pd, dp, qs, delta;
  EntryPrefetch<T> next;  // the next batch entry's rows
  explicit BackwardTiles(const AttnGeom& g)
      : p(g.bq * g.ld()), pd(g.bq * g.ld()), dp(g.bq * g.ld()), qs(g.bq * g.E), delta(g.bq) {}
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
// the other blocks' GEMMs pack for themselves. Row-major operands the products read in
// place are not packed.
template <class T>
QueryPacks<T> pack_query_tile(const AttnGeom& g, const AttnData<T>& d, int64_t b, int64_t i0) {
  QueryPacks<T> qp;
  if (g.k_tiles() <= 2) return qp;
  const int64_t rows = std::min(g.bq, g.Lq - i0);
  if (d.dk && packs_row_major_b<T>(g.bk, g.E, rows, g.q_rs))
    qp.q = GemmPackedB<T>(rows, g.E, d.q + g.q_off[b] + i0 * g.q_rs, g.q_rs, 1);
  if (d.dv && packs_row_major_b<T>(g.bk, g.Ev, rows, g.do_rs))
    qp.dout = GemmPackedB<T>(rows, g.Ev, d.dout + g.do_off[b] + i0 * g.do_rs, g.do_rs, 1);
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
  if (want_dq && d.dq && packs_row_major_b<T>(g.bq, g.E, cols, g.k_rs))
    kp.k = GemmPackedB<T>(cols, g.E, k, g.k_rs, 1);
  return kp;
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
  T* pused = g.dropout > 0.0 ? w.pd.data() : p;
  const T* dout = d.dout + g.do_off[b] + i0 * g.do_rs;
  const T* q = d.q + g.q_off[b] + i0 * g.q_rs;
  const T* k = d.k + g.k_off[b] + j0 * g.k_rs;
  const T* v = d.v + g.v_off[b] + j0 * g.v_rs;
  // dS takes the scale, and dQ and dK run with alpha 1, unless dS itself is wanted (dmask).
  const T scale = static_cast<T>(g.scale), alpha = d.dmask ? scale : T(1);
  // A block cut into strips packs K^T and V^T once for them, where the key tile has no packs.
  KeyPacks<T> own;
  if (!kp.kt.defined() && g.cut(i0, j0, cols) && rows > g.strip) {
    own.kt = GemmPackedB<T>(g.E, cols, k, 1, g.k_rs);
    own.vt = GemmPackedB<T>(g.Ev, cols, v, 1, g.v_rs);
  }
  const KeyPacks<T>& packs = kp.kt.defined() ? kp : own;
  const auto qt = tile_queries(g, d, b, i0, rows, w.qs);
  for_each_strip(g, i0, rows, j0, cols, [&](int64_t r0, int64_t r1, int64_t nc) {
    const int64_t sr = r1 - r0;
    T* ps = p + r0 * g.ld();
    T* dps = dp + r0 * g.ld();
    scores_tile(g, d, b, i0 + r0, sr, j0, nc, {qt.first + r0 * qt.second, qt.second}, ps,
                fitting(packs.kt, g.E, nc));
    w.next.ask();
    kern.probs(sr, nc, ps, g.ld(), d.lse + b * g.Lq + i0 + r0, exp_scale<T>(g));
    if (g.dropout > 0.0) dropout_tile(g, b, i0 + r0, sr, j0, nc, ps, pused + r0 * g.ld());
    tile_gemm<T>(sr, nc, g.Ev, T(1), dout + r0 * g.do_rs, g.do_rs, 1, v, 1, g.v_rs, T(0), dps,
                 g.ld(), fitting(packs.vt, g.Ev, nc));
    w.next.ask();
    if (g.dropout > 0.0) dropout_tile(g, b, i0 + r0, sr, j0, nc, dps, dps);
    const T* delta = d.delta + b * g.Lq + i0 + r0;
    if (g.delta_in_tiles()) {  // the strip sees all its rows' keys: delta = rowsum(P dP)
      kern.row_dots(sr, nc, ps, g.ld(), dps, g.ld(), w.delta.data());
      delta = w.delta.data();
    }
    kern.dscores(sr, nc, ps, g.ld(), dps, delta, d.dmask ? T(1) : scale);
    if (want_dq && d.dq)
      tile_gemm<T>(sr, g.E, nc, alpha, dps, g.ld(), 1, k, g.k_rs, 1, T(1),
                   d.dq + g.dq_off[b] + (i0 + r0) * g.dq_rs, g.dq_rs, fitting(kp.k, nc, g.E));
    w.next.ask();
  });
  if (!want_dkv) return;
  // dV_j += P^T dO_i and dK_j += dS^T Q_i over the rows from r0, where the keys are seen.
  for_each_key_strip(g, i0, rows, j0, cols, [&](int64_t c0, int64_t c1, int64_t r0) {
    const int64_t n = rows - r0;
    if (d.dv)
      tile_gemm<T>(c1 - c0, g.Ev, n, T(1), pused + r0 * g.ld() + c0, 1, g.ld(), dout + r0 * g.do_rs,
                   g.do_rs, 1, T(1), d.dv + g.dv_off[b] + (j0 + c0) * g.dv_rs, g.dv_rs,
                   fitting(qp.dout, n, g.Ev));
    if (d.dk)
      tile_gemm<T>(c1 - c0, g.E, n, alpha, dp + r0 * g.ld() + c0, 1, g.ld(), q + r0 * g.q_rs,
                   g.q_rs, 1, T(1), d.dk + g.dk_off[b] + (j0 + c0) * g.dk_rs, g.dk_rs,
                   fitting(qp.q, n, g.E));
    w.next.ask();
  });
  if (d.dmask)  // with a mask, never causal: no strips, the whole block computed
    for (int64_t r = 0; r < rows; ++r)
      std::copy(dp + r * g.ld(), dp + r * g.ld() + cols, d.dmask + (b * g.Lq + i0 + r) * g.Lk + j0);
}

}  // namespace

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
        entry_delta(g, d, kern, b);
        if (b + 1 < hi) w.next.queue(g, d, b + 1, true);  // asked for between the products
        for (int64_t it = 0; it < nqt; ++it) qp[it] = pack_query_tile(g, d, b, it * g.bq);
        for (int64_t jt = 0; jt < nkt; ++jt) {
          const KeyPacks<T> kp = pack_key_tile(g, d, b, jt * g.bk, true);
          for (int64_t it = g.first_q_tile(jt * g.bk); it < nqt; ++it)
            backward_block(g, d, kern, w, qp[it], kp, b, it * g.bq, jt * g.bk, true, true);
        }
        w.next.ask_rest();
      }
    });
    return;
  }
  parallel_for(0, g.batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) entry_delta(g, d, kern, b);
  });
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

template void forward<float>(AttnGeom, const AttnData<float>&);
template void forward<double>(AttnGeom, const AttnData<double>&);
template void backward<float>(AttnGeom, const AttnData<float>&);
template void backward<double>(AttnGeom, const AttnData<double>&);

}  // namespace dlcore::attention
