// rnn_layer: one layer, one direction of an RNN, LSTM or GRU over a whole sequence,
// forward and backpropagation through time, as one op; rnn_layer_directions: the
// directions of a bidirectional layer as one op, run at the same time on two threads.
//
// Shapes: x (T, B, I) time-major, H hidden units, P = H (or proj_size for a projected
// LSTM), G gates per unit (LSTM 4, GRU 3, RNN 1), GH = G H.
// Forward:
//   GX = X W_ih^T + b_ih                 GEMMs over a few steps at a time  (T, B, GH)
//   per step t:  GHt = h_prev W_hh^T + b_hh   one GEMM                  (B, GH)
//                the gate kernel on (GX[t], GHt)  (kernels/cpu/rnn_cell_simd.cpp)
//                LSTM with projection: h = r W_hr^T, r = o tanh(c)       (B, P)
// Saved for backward: the activated gates (LSTM i, f, g, o; GRU r, z, n and the
// hidden projection of n), the state after every step (h, and c for LSTM) and, with
// projection, r.
// Backward, per step from the last: dh += dy[t]; (projection: dhp[t] = dh,
// dr = dh W_hr); the gate kernel gives the pre-activation gradients DGX[t] (and, for
// GRU, DGH[t], which differ in the n gate) and the cell's dc; dh = DGH[t] W_hh (+ dh z
// for GRU). After the loop, one GEMM each:
//   dx = DGX W_ih   dW_ih = DGX^T X   dW_hh = DGH^T H_prev   dW_hr = DHP^T R
//   db_ih = colsum(DGX)   db_hh = colsum(DGH)
// where H_prev stacks the state each step started from.
// lengths: at step t only rows with t < lengths[b] are updated (the others keep
// their state, output 0 and pass their gradients through). With lengths sorted
// in decreasing order (as packed sequences are) the active rows are a prefix, and
// the per-step GEMMs run over that prefix only.
#include "dlcore/rnn.h"

#include <cstring>

#include "dlcore/gemm.h"
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

const char* cell_name(RnnCell c) {
  switch (c) {
    case RnnCell::RnnTanh: return "rnn_tanh";
    case RnnCell::RnnRelu: return "rnn_relu";
    case RnnCell::Lstm: return "lstm";
    case RnnCell::Gru: return "gru";
  }
  return "rnn";
}

struct RnnDims {
  RnnCell cell;
  int64_t T, B, I, H, P, G;
  bool proj, reverse;
  int64_t GH() const { return G * H; }
  int64_t SG() const { return cell == RnnCell::Lstm || cell == RnnCell::Gru ? 4 * H : 0; }
  int64_t step(int64_t s) const { return reverse ? T - 1 - s : s; }
};

// Which rows are updated at each time step.
struct Activity {
  std::vector<int64_t> lengths;  // empty: every row, every step
  std::vector<int64_t> rows;     // per t: 1 + the last active row (the GEMM's M)
  bool active(int64_t t, int64_t b) const { return lengths.empty() || t < lengths[b]; }
  bool all(int64_t t, int64_t B) const {
    if (lengths.empty()) return true;
    for (int64_t b = 0; b < B; ++b)
      if (t >= lengths[b]) return false;
    return true;
  }
};

void check_shape(const Tensor& t, const char* what, const Shape& want, const RnnDims& d,
                 DType dtype) {
  if (!t.defined()) return;
  if (t.shape() != want)
    throw ValueError(str_cat(cell_name(d.cell), ": expected ", what, " of shape ", shape_str(want),
                             ", got ", shape_str(t.shape())));
  if (t.dtype() != dtype)
    throw TypeError(str_cat(cell_name(d.cell), ": ", what, " is ", dtype_name(t.dtype()),
                            " but the input is ", dtype_name(dtype)));
}

RnnDims check_args(RnnCell cell, const Tensor& x, const Tensor& h0, const Tensor& c0,
                   const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                   const Tensor& w_hr, bool reverse) {
  const char* name = cell_name(cell);
  if (x.dim() != 3)
    throw ValueError(
        str_cat(name, ": expected input of shape (T, B, input_size), got ", shape_str(x.shape())));
  if (!is_floating(x.dtype()))
    throw TypeError(str_cat(name, ": expected a float input, got ", dtype_name(x.dtype())));
  if (w_ih.dim() != 2 || w_hh.dim() != 2)
    throw ValueError(str_cat(name, ": weight_ih and weight_hh must be 2-D, got ",
                             shape_str(w_ih.shape()), " and ", shape_str(w_hh.shape())));
  RnnDims d{cell, x.shape()[0], x.shape()[1], x.shape()[2], 0, 0, 0, w_hr.defined(), reverse};
  d.G = cell == RnnCell::Lstm ? 4 : cell == RnnCell::Gru ? 3 : 1;
  if (w_ih.shape()[0] % d.G != 0 || w_ih.shape()[0] == 0)
    throw ValueError(str_cat(name, ": weight_ih has ", w_ih.shape()[0],
                             " rows, expected a positive multiple of ", d.G));
  d.H = w_ih.shape()[0] / d.G;
  if (d.proj && cell != RnnCell::Lstm)
    throw ValueError(str_cat(name, ": a projection (weight_hr) is only defined for lstm"));
  d.P = d.proj ? w_hr.shape()[0] : d.H;
  if (d.proj && (w_hr.dim() != 2 || w_hr.shape()[1] != d.H || d.P <= 0 || d.P >= d.H))
    throw ValueError(str_cat(name, ": expected weight_hr of shape (proj_size, ", d.H,
                             ") with 0 < proj_size < ", d.H, ", got ", shape_str(w_hr.shape())));
  check_shape(w_ih, "weight_ih", {d.GH(), d.I}, d, x.dtype());
  check_shape(w_hh, "weight_hh", {d.GH(), d.P}, d, x.dtype());
  check_shape(b_ih, "bias_ih", {d.GH()}, d, x.dtype());
  check_shape(b_hh, "bias_hh", {d.GH()}, d, x.dtype());
  check_shape(w_hr, "weight_hr", {d.P, d.H}, d, x.dtype());
  check_shape(h0, "h0", {d.B, d.P}, d, x.dtype());
  if (cell == RnnCell::Lstm)
    check_shape(c0, "c0", {d.B, d.H}, d, x.dtype());
  else if (c0.defined())
    throw ValueError(str_cat(name, ": a cell state c0 is only defined for lstm"));
  return d;
}

Activity make_activity(const Tensor& lengths, const RnnDims& d) {
  Activity a;
  a.rows.assign(d.T, d.B);
  if (!lengths.defined()) return a;
  const char* name = cell_name(d.cell);
  if (lengths.dim() != 1 || lengths.shape()[0] != d.B)
    throw ValueError(
        str_cat(name, ": expected lengths of shape (", d.B, "), got ", shape_str(lengths.shape())));
  if (is_floating(lengths.dtype()) || lengths.dtype() == DType::Bool)
    throw TypeError(str_cat(name, ": lengths must be integers, got ", dtype_name(lengths.dtype())));
  Tensor l = contiguous(lengths.to(DType::Int64));
  a.lengths.assign(l.data<int64_t>(), l.data<int64_t>() + d.B);
  for (int64_t b = 0; b < d.B; ++b)
    if (a.lengths[b] < 0 || a.lengths[b] > d.T)
      throw ValueError(str_cat(name, ": lengths[", b, "] = ", a.lengths[b],
                               " is outside [0, T] for input of ", d.T, " steps"));
  for (int64_t t = 0; t < d.T; ++t) {
    int64_t m = 0;
    for (int64_t b = 0; b < d.B; ++b)
      if (t < a.lengths[b]) m = b + 1;
    a.rows[t] = m;
  }
  return a;
}

// op(B) for B stored (N x K) (trans_b: B^T) or stored (K x N), as a GEMM's K x N operand.
template <class T>
GemmPackedB<T> pack_weight(int64_t N, int64_t K, const T* b, int64_t ldb, bool trans_b) {
  return GemmPackedB<T>(K, N, b, trans_b ? 1 : ldb, trans_b ? ldb : 1);
}

// C (M x N, row stride ldc) = A (M x K) op(B) + beta C (+ bias per column), where
// op(B) = B^T for B stored (N x K) (trans_b) or B stored (K x N); `packed`, when given,
// is op(B) packed once (the recurrent weights, the same at every step).
template <class T>
void gemm_rows(int64_t M, int64_t N, int64_t K, const T* a, int64_t lda, const T* b, int64_t ldb,
               bool trans_b, T beta, T* c, int64_t ldc, const T* bias = nullptr,
               const GemmPackedB<T>* packed = nullptr) {
  if (M <= 0 || N <= 0) return;
  GemmProblem<T> p;
  p.b_packed = packed;
  p.M = M, p.N = N, p.K = K, p.beta = beta;
  p.a = a, p.a_rs = lda, p.a_cs = 1;
  p.b = b, p.b_rs = trans_b ? 1 : ldb, p.b_cs = trans_b ? ldb : 1;
  p.c = c, p.ldc = ldc;
  p.epilogue.bias = bias;
  gemm(p);
}

// One term A^T B of a weight gradient: A stored (K x M), B stored (K x N).
template <class T>
struct GradTerm {
  const T* a;
  const T* b;
  int64_t K;
};

// C (M x N) = the sum of the terms' A^T B: a weight gradient summed over all T B rows in
// one GEMM (two where the first step's h0 makes a separate term). The GEMM reads its
// transposed operand a column at a time, slowly for long K, so the smaller of A and B
// takes that role: for N < M it computes C^T = B^T A and transposes it.
template <class T>
void weight_grad(int64_t M, int64_t N, std::initializer_list<GradTerm<T>> terms, T* c) {
  const bool swap = N < M;
  Tensor tmp =
      swap ? empty({N, M}, std::is_same_v<T, float> ? DType::Float32 : DType::Float64) : Tensor();
  T* out = swap ? tmp.data<T>() : c;
  T beta = T(0);
  for (const GradTerm<T>& t : terms) {
    GemmProblem<T> p;
    p.M = swap ? N : M, p.N = swap ? M : N, p.K = t.K, p.beta = beta;
    p.a = swap ? t.b : t.a, p.a_rs = 1, p.a_cs = p.M;
    p.b = swap ? t.a : t.b, p.b_rs = p.N, p.b_cs = 1;
    p.c = out, p.ldc = p.N;
    gemm(p);
    beta = T(1);
  }
  if (swap)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) c[i * N + j] = out[j * M + i];
}

// The bytes of input projection computed at a time (see run_forward).
constexpr int64_t kInputChunkBytes = int64_t(512) << 10;

// Rows per thread chunk of a gate step: enough work to pay for the fork.
int64_t row_grain(const RnnDims& d) { return std::max<int64_t>(1, 16384 / (4 * d.H)); }

// What the forward keeps for backward.
struct RnnState {
  Tensor gates;   // (T, B, SG): the saved gate values (LSTM, GRU)
  Tensor hs;      // (T, B, P): h after every step (rows past their length carry h)
  Tensor cs;      // (T, B, H): c after every step (LSTM)
  Tensor rs;      // (T, B, H): o tanh(c) before the projection (projected LSTM)
  Tensor h0, c0;  // contiguous (B, P), (B, H); zeros when not given
};

// The threads of a layer's time loop: a team for the whole loop (a step's product split
// by columns, its gate pass by rows, one barrier after each) where the step's product is
// large enough to run on several threads, else the calling thread alone, whose products
// and gate passes may still use threads of their own.
int step_team_size(const RnnDims& d) {
  return d.B * d.GH() * d.P >= gemm_threads_from() ? get_num_threads() : 1;
}

template <class T>
void run_forward(const RnnDims& d, const Activity& act, const Tensor& x, const Tensor& w_ih,
                 const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, const Tensor& w_hr,
                 RnnState& st) {
  const int64_t T_ = d.T, B = d.B, H = d.H, P = d.P, GH = d.GH(), SG = d.SG();
  if (T_ == 0) return;
  // The input projection runs `chunk` steps at a time, just before they are used, so
  // its output is read back from cache rather than from memory (W_ih packed once).
  const int64_t chunk =
      std::clamp<int64_t>(kInputChunkBytes / std::max<int64_t>(1, B * GH * sizeof(T)), 1, T_);
  Tensor gx = empty({chunk, B, GH}, x.dtype()), gh = empty({B, GH}, x.dtype());
  const auto fwd = kernels::for_dtype<T>(kernels::active().rnn_cell_forward_f32,
                                         kernels::active().rnn_cell_forward_f64);
  T* hs = st.hs.data<T>();
  T* cs = d.cell == RnnCell::Lstm ? st.cs.data<T>() : nullptr;
  T* rs = d.proj ? st.rs.data<T>() : nullptr;
  T* saved = SG && st.gates.defined() ? st.gates.data<T>() : nullptr;
  const T *whh = w_hh.data<T>(), *bhh = data_or_null<T>(b_hh);
  const T* whr = d.proj ? w_hr.data<T>() : nullptr;
  T *pgx0 = gx.data<T>(), *pgh = gh.data<T>();
  const int64_t nr = gemm_blocking(std::is_same_v<T, double>).nr;
  parallel_team(step_team_size(d), [&](Team& team) {
    // This thread's columns of the products (whole slivers), with their W^T packed: the
    // same gate columns of the input projection and of each step's product.
    const auto [c0, c1] = team.part(0, GH, nr);
    const auto [p0, p1] = team.part(0, d.proj ? P : 0, nr);
    GemmPackedB<T> wih_p, whh_p, whr_p;
    team.run([&] {
      wih_p = pack_weight<T>(c1 - c0, d.I, w_ih.data<T>() + c0 * d.I, d.I, true);
      whh_p = pack_weight<T>(c1 - c0, P, whh + c0 * P, P, true);
      if (d.proj) whr_p = pack_weight<T>(p1 - p0, H, whr + p0 * H, H, true);
    });
    const T* bih = data_or_null<T>(b_ih);
    int64_t t0 = 0;  // gx holds the projection of times t0, t0 + 1, ...
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = d.step(s), tp = d.step(s - 1);
      if (s % chunk == 0) {  // steps s .. s + n - 1 are the times t0 .. t0 + n - 1
        const int64_t n = std::min(chunk, T_ - s);
        t0 = d.reverse ? t - n + 1 : t;
        team.run([&] {
          gemm_rows<T>(n * B, c1 - c0, d.I, x.data<T>() + t0 * B * d.I, d.I,
                       w_ih.data<T>() + c0 * d.I, d.I, true, T(0), pgx0 + c0, GH,
                       bih ? bih + c0 : nullptr, &wih_p);
        });
      }
      const T* pgx = pgx0 + (t - t0) * B * GH;
      const T* hprev = s == 0 ? st.h0.data<T>() : hs + tp * B * P;
      const T* cprev = !cs ? nullptr : s == 0 ? st.c0.data<T>() : cs + tp * B * H;
      const int64_t m = act.rows[t];
      team.run([&] {
        gemm_rows<T>(m, c1 - c0, P, hprev, P, whh + c0 * P, P, true, T(0), pgh + c0, GH,
                     bhh ? bhh + c0 : nullptr, &whh_p);
      });
      team.sync();
      T* hout = d.proj ? rs + t * B * H : hs + t * B * P;
      const auto [b0, b1] = team.part(0, B);
      team.run([&] {
        parallel_for(b0, b1, row_grain(d), [&](int64_t lo, int64_t hi) {
          for (int64_t b = lo; b < hi; ++b) {
            const int64_t r = t * B + b;
            if (!act.active(t, b)) {  // a row past its length carries its state
              if (d.proj)
                std::memset(rs + r * H, 0, H * sizeof(T));
              else
                std::memcpy(hs + r * P, hprev + b * P, P * sizeof(T));
              if (cs) std::memcpy(cs + r * H, cprev + b * H, H * sizeof(T));
              continue;
            }
            const T* prev = d.cell == RnnCell::Lstm ? cprev + b * H : hprev + b * P;
            fwd(d.cell, H, pgx + b * GH, pgh + b * GH, prev, saved ? saved + r * SG : nullptr,
                cs ? cs + r * H : nullptr, hout + b * H);
          }
        });
      });
      team.sync();
      if (!d.proj) continue;
      team.run([&] {
        T* h = hs + t * B * P;
        gemm_rows<T>(m, p1 - p0, H, hout, H, whr + p0 * H, H, true, T(0), h + p0, P, nullptr,
                     &whr_p);
        for (int64_t b = 0; b < B; ++b)
          if (!act.active(t, b))
            std::memcpy(h + b * P + p0, hprev + b * P + p0, (p1 - p0) * sizeof(T));
      });
      team.sync();
    }
  });
}

struct RnnGrads {
  Tensor dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr;
};

template <class T>
RnnGrads run_backward(const RnnDims& d, const Activity& act, const RnnState& st, const Tensor& x,
                      const Tensor& w_ih, const Tensor& w_hh, const Tensor& w_hr,
                      const Tensor& dy_in, const Tensor& dhn, const Tensor& dcn) {
  const int64_t T_ = d.T, B = d.B, H = d.H, P = d.P, GH = d.GH(), SG = d.SG(), I = d.I;
  const DType dt = x.dtype();
  const bool lstm = d.cell == RnnCell::Lstm, gru = d.cell == RnnCell::Gru;
  RnnGrads r;
  r.dh0 = dhn.defined() ? contiguous(dhn.to(dt)).clone() : zeros({B, P}, dt);
  if (lstm) r.dc0 = dcn.defined() ? contiguous(dcn.to(dt)).clone() : zeros({B, H}, dt);
  Tensor dy = dy_in.defined() ? contiguous(dy_in.to(dt)) : Tensor();
  // The gate gradients of a row are written at every step where it is active: zeros
  // first only where some row stops early.
  auto per_step = [&](int64_t width) {
    return act.lengths.empty() ? empty({T_, B, width}, dt) : zeros({T_, B, width}, dt);
  };
  Tensor dgx = per_step(GH);
  Tensor dgh = gru ? per_step(GH) : dgx;
  Tensor dhp = d.proj ? per_step(P) : Tensor();
  Tensor dr = d.proj ? empty({B, H}, dt) : Tensor();
  Tensor dstate = gru ? empty({B, H}, dt) : Tensor();
  Tensor tmp = empty({B, P}, dt);
  const auto bwd = kernels::for_dtype<T>(kernels::active().rnn_cell_backward_f32,
                                         kernels::active().rnn_cell_backward_f64);
  T* dh = r.dh0.data<T>();
  T* dc = lstm ? r.dc0.data<T>() : nullptr;
  const T* hs = st.hs.data<T>();
  const T* cs = lstm ? st.cs.data<T>() : nullptr;
  const T* saved = SG ? st.gates.data<T>() : nullptr;
  T *pdgx = dgx.data<T>(), *pdgh = dgh.data<T>(), *ptmp = tmp.data<T>();
  const T *whh = w_hh.data<T>(), *whr = d.proj ? w_hr.data<T>() : nullptr;
  const int64_t nr = gemm_blocking(std::is_same_v<T, double>).nr;
  parallel_team(step_team_size(d), [&](Team& team) {
    // This thread's columns of the step's products (whole slivers), with their W packed,
    // and its rows of the gate pass.
    const auto [c0, c1] = team.part(0, P, nr);
    const auto [e0, e1] = team.part(0, d.proj ? H : 0, nr);
    const auto [b0, b1] = team.part(0, B);
    GemmPackedB<T> whh_p, whr_p;
    team.run([&] {
      whh_p = pack_weight<T>(c1 - c0, GH, whh + c0, P, false);
      if (d.proj) whr_p = pack_weight<T>(e1 - e0, P, whr + e0, H, false);
    });
    for (int64_t s = T_ - 1; s >= 0; --s) {
      const int64_t t = d.step(s), tp = d.step(s - 1), m = act.rows[t];
      const T* hprev = s == 0 ? st.h0.data<T>() : hs + tp * B * P;
      const T* cprev = !lstm ? nullptr : s == 0 ? st.c0.data<T>() : cs + tp * B * H;
      team.run([&] {
        for (int64_t b = b0; b < std::min(b1, m); ++b) {
          if (!act.active(t, b)) continue;
          T* o = dh + b * P;
          if (dy.defined()) {
            const T* pdy = dy.data<T>() + (t * B + b) * P;
            for (int64_t j = 0; j < P; ++j) o[j] += pdy[j];
          }
          if (d.proj) std::memcpy(dhp.data<T>() + (t * B + b) * P, o, P * sizeof(T));
        }
      });
      const T* dhin = dh;  // the gate pass reads this thread's rows of dh, or every column of dr
      if (d.proj) {
        team.sync();
        team.run([&] {
          gemm_rows<T>(m, e1 - e0, P, dh, P, whr + e0, H, false, T(0), dr.data<T>() + e0, H,
                       nullptr, &whr_p);
        });
        team.sync();
        dhin = dr.data<T>();
      }
      // dh for the step before is dstate (GRU: dh z, the direct path) + DGH[t] W_hh. Where
      // every row up to m is active, the gate kernel writes dstate into dh (it reads each
      // value of dh before it writes that one) and the GEMM adds onto it; rows that are not
      // active keep their dh, so then the product goes through tmp.
      const bool in_place = act.all(t, m);
      T* pds = gru ? (in_place ? dh : dstate.data<T>()) : dc;
      team.run([&] {
        parallel_for(b0, std::min(b1, m), row_grain(d), [&](int64_t lo, int64_t hi) {
          for (int64_t b = lo; b < hi; ++b) {
            if (!act.active(t, b)) continue;
            const int64_t row = t * B + b;
            const T* prev = lstm ? cprev + b * H : hprev + b * P;
            const T* cur = lstm ? cs + row * H : hs + row * P;
            bwd(d.cell, H, saved ? saved + row * SG : nullptr, prev, cur, dhin + b * H,
                pds ? pds + b * H : nullptr, pdgx + row * GH, pdgh + row * GH);
          }
        });
      });
      team.sync();
      team.run([&] {
        const T* g = pdgh + t * B * GH;
        if (in_place) {
          gemm_rows<T>(m, c1 - c0, GH, g, GH, whh + c0, P, false, T(gru ? 1 : 0), dh + c0, P,
                       nullptr, &whh_p);
          return;
        }
        gemm_rows<T>(m, c1 - c0, GH, g, GH, whh + c0, P, false, T(0), ptmp + c0, P, nullptr,
                     &whh_p);
        for (int64_t b = 0; b < m; ++b) {
          if (!act.active(t, b)) continue;
          T* o = dh + b * P;
          const T* prod = ptmp + b * P;
          if (gru) {
            const T* z = pds + b * H;
            for (int64_t j = c0; j < c1; ++j) o[j] = prod[j] + z[j];
          } else {
            std::memcpy(o + c0, prod + c0, (c1 - c0) * sizeof(T));
          }
        }
      });
      team.sync();
    }
  });
  // The weight and input gradients, one GEMM each over all steps.
  const int64_t TB = T_ * B;
  r.dx = empty({T_, B, I}, dt);
  gemm_rows<T>(TB, I, GH, pdgx, GH, w_ih.data<T>(), I, false, T(0), r.dx.data<T>(), I);
  r.dw_ih = empty({GH, I}, dt);
  weight_grad<T>(GH, I, {{pdgx, x.data<T>(), TB}}, r.dw_ih.data<T>());
  r.dw_hh = empty({GH, P}, dt);
  // Step s started from hs[step(s - 1)] (s > 0) or h0 (s = 0): in time order, rows
  // of DGH for t = 1.. pair with hs for t = 0.. (forward), or t = 0.. with t = 1..
  // (reverse).
  const int64_t first = T_ > 0 ? d.step(0) : 0;
  const int64_t g_off = d.reverse ? 0 : B * GH, h_off = d.reverse ? B * P : 0;
  weight_grad<T>(GH, P,
                 {{pdgh + first * B * GH, st.h0.data<T>(), T_ > 0 ? B : 0},
                  {pdgh + g_off, hs + h_off, std::max<int64_t>(T_ - 1, 0) * B}},
                 r.dw_hh.data<T>());
  const auto colsum =
      kernels::for_dtype<T>(kernels::active().colsum_f32, kernels::active().colsum_f64);
  r.db_ih = zeros({GH}, dt);
  if (TB > 0) colsum(pdgx, TB, GH, GH, r.db_ih.data<T>());
  r.db_hh = r.db_ih;
  if (gru) {  // DGH differs from DGX in the n gate only
    r.db_hh = r.db_ih.clone();
    if (TB > 0) colsum(pdgh + 2 * H, TB, GH, H, r.db_hh.data<T>() + 2 * H);
  }
  if (d.proj) {
    r.dw_hr = empty({P, H}, dt);
    weight_grad<T>(P, H, {{dhp.data<T>(), st.rs.data<T>(), TB}}, r.dw_hr.data<T>());
  }
  return r;
}

}  // namespace

std::vector<std::vector<Tensor>> rnn_layer_directions(RnnCell cell, const Tensor& x_in,
                                                      const std::vector<RnnDirection>& dirs_in,
                                                      const Tensor& lengths) {
  const int64_t nd = static_cast<int64_t>(dirs_in.size());
  if (nd == 0) throw ValueError(str_cat(cell_name(cell), ": expected at least one direction"));
  std::vector<RnnDims> dims;
  for (const RnnDirection& r : dirs_in)
    dims.push_back(
        check_args(cell, x_in, r.h0, r.c0, r.w_ih, r.w_hh, r.b_ih, r.b_hh, r.w_hr, r.reverse));
  const Activity act = make_activity(lengths, dims[0]);
  const DType dt = x_in.dtype();
  const bool lstm = cell == RnnCell::Lstm;
  auto contig = [](const Tensor& t) { return t.defined() ? contiguous(t) : t; };
  const Tensor x = contiguous(x_in);
  std::vector<RnnDirection> dirs;  // contiguous weights
  std::vector<RnnState> states(nd);
  // The gate values are kept only for a backward.
  bool record = grad_enabled() && x_in.requires_grad();
  for (const RnnDirection& r : dirs_in)
    for (const Tensor* t : {&r.h0, &r.c0, &r.w_ih, &r.w_hh, &r.b_ih, &r.b_hh, &r.w_hr})
      record = record || (grad_enabled() && t->defined() && t->requires_grad());
  for (int64_t k = 0; k < nd; ++k) {
    const RnnDirection& r = dirs_in[k];
    const RnnDims& d = dims[k];
    dirs.push_back({Tensor(), Tensor(), contiguous(r.w_ih), contiguous(r.w_hh), contig(r.b_ih),
                    contig(r.b_hh), contig(r.w_hr), r.reverse});
    RnnState& st = states[k];
    st.h0 = r.h0.defined() ? contiguous(r.h0) : zeros({d.B, d.P}, dt);
    if (lstm) st.c0 = r.c0.defined() ? contiguous(r.c0) : zeros({d.B, d.H}, dt);
    st.hs = empty({d.T, d.B, d.P}, dt);
    if (lstm) st.cs = empty({d.T, d.B, d.H}, dt);
    if (d.proj) st.rs = empty({d.T, d.B, d.H}, dt);
    if (d.SG() && record) st.gates = empty({d.T, d.B, d.SG()}, dt);
  }
  // The directions at the same time, one thread each (each runs its own GEMMs serially).
  parallel_for(0, nd, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const RnnDirection& r = dirs[k];
      if (dt == DType::Float32)
        run_forward<float>(dims[k], act, x, r.w_ih, r.w_hh, r.b_ih, r.b_hh, r.w_hr, states[k]);
      else
        run_forward<double>(dims[k], act, x, r.w_ih, r.w_hh, r.b_ih, r.b_hh, r.w_hr, states[k]);
    }
  });

  // Per direction: y is the state sequence itself, or (with lengths) a copy that is 0
  // past each length; h_n and c_n are the states after the last step.
  std::vector<std::vector<Tensor>> outs(nd);
  for (int64_t k = 0; k < nd; ++k) {
    const RnnDims& d = dims[k];
    const RnnState& st = states[k];
    Tensor y = st.hs;
    if (!act.lengths.empty()) {
      y = zeros({d.T, d.B, d.P}, dt);
      const int64_t row = d.P * static_cast<int64_t>(dtype_size(dt));
      char* py = static_cast<char*>(y.data_ptr());
      const char* ph = static_cast<const char*>(st.hs.data_ptr());
      for (int64_t t = 0; t < d.T; ++t)
        for (int64_t b = 0; b < d.B; ++b)
          if (act.active(t, b))
            std::memcpy(py + (t * d.B + b) * row, ph + (t * d.B + b) * row, row);
    }
    const int64_t last = d.step(d.T - 1);
    Tensor h_n = d.T == 0 ? st.h0.clone() : narrow(st.hs, 0, last, 1).reshape({d.B, d.P}).clone();
    Tensor c_n;
    if (lstm)
      c_n = d.T == 0 ? st.c0.clone() : narrow(st.cs, 0, last, 1).reshape({d.B, d.H}).clone();
    outs[k] = {y, h_n, c_n};
  }

  // Node inputs: x, then per direction its defined h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr;
  // slot[i] = (direction, which of the 8) of input i (x: direction -1).
  std::vector<Tensor> inputs{x_in};
  std::vector<std::pair<int64_t, int>> slot{{-1, 0}};
  for (int64_t k = 0; k < nd; ++k) {
    const RnnDirection& r = dirs_in[k];
    const Tensor* optional[] = {&r.h0, &r.c0, &r.w_ih, &r.w_hh, &r.b_ih, &r.b_hh, &r.w_hr};
    for (int j = 0; j < 7; ++j)
      if (optional[j]->defined()) {
        inputs.push_back(*optional[j]);
        slot.push_back({k, j + 1});
      }
  }
  auto node = record ? make_node(cell_name(cell), inputs) : nullptr;
  if (!node) return outs;
  // Saved (so an in-place change before backward is caught): x, then per direction
  // w_ih, w_hh, w_hr, the state sequence, h0 and c0.
  constexpr int kSavedPer = 6;
  const bool y_is_hs = act.lengths.empty();
  node->save(x);
  for (int64_t k = 0; k < nd; ++k) {
    node->save(dirs[k].w_ih);
    node->save(dirs[k].w_hh);
    node->save(dirs[k].w_hr);
    // y itself without lengths (a view without history: no reference cycle), else the
    // state sequence.
    node->save(y_is_hs ? outs[k][0].detach() : states[k].hs);
    node->save(states[k].h0);
    node->save(states[k].c0);
    states[k].hs = states[k].h0 = states[k].c0 = Tensor();
  }
  const int64_t per = lstm ? 3 : 2;  // outputs per direction
  node->backward = [dims, act, states, slot, nd, per](FunctionNode& n,
                                                      const std::vector<Tensor>& g) {
    const char* name = cell_name(dims[0].cell);
    Tensor x = n.saved(0);
    std::vector<Tensor> w_ih(nd), w_hh(nd), w_hr(nd);
    std::vector<RnnState> s = states;
    std::vector<Tensor> grads(g.begin(), g.end());
    grads.resize(nd * per);
    for (int64_t k = 0; k < nd; ++k) {
      const size_t at = 1 + kSavedPer * k;
      w_ih[k] = n.saved(at), w_hh[k] = n.saved(at + 1), w_hr[k] = n.saved(at + 2);
      s[k].hs = n.saved(at + 3), s[k].h0 = n.saved(at + 4), s[k].c0 = n.saved(at + 5);
      check_first_order(name, {&w_ih[k], &w_hh[k], &w_hr[k]});
    }
    for (const Tensor& t : grads) check_first_order(name, {&t, &x});
    std::vector<RnnGrads> r(nd);
    parallel_for(0, nd, 1, [&](int64_t lo, int64_t hi) {
      NoGradGuard no_grad;
      for (int64_t k = lo; k < hi; ++k) {
        const Tensor &dy = grads[k * per], &dh = grads[k * per + 1];
        const Tensor dc = per > 2 ? grads[k * per + 2] : Tensor();
        r[k] = x.dtype() == DType::Float32 ? run_backward<float>(dims[k], act, s[k], x, w_ih[k],
                                                                 w_hh[k], w_hr[k], dy, dh, dc)
                                           : run_backward<double>(dims[k], act, s[k], x, w_ih[k],
                                                                  w_hh[k], w_hr[k], dy, dh, dc);
      }
    });
    std::vector<Tensor> out(slot.size());
    for (size_t i = 0; i < slot.size(); ++i) {
      if (!n.needs_input_grad(i)) continue;
      auto [k, j] = slot[i];
      if (k < 0) {  // x feeds every direction
        Tensor dx = r[0].dx;
        for (int64_t q = 1; q < nd; ++q) dx = add(dx, r[q].dx);
        out[i] = dx;
        continue;
      }
      const Tensor* all[] = {&r[k].dx,    &r[k].dh0,   &r[k].dc0,   &r[k].dw_ih,
                             &r[k].dw_hh, &r[k].db_ih, &r[k].db_hh, &r[k].dw_hr};
      out[i] = *all[j];
    }
    return out;
  };
  for (int64_t k = 0; k < nd; ++k)
    for (int64_t o = 0; o < per; ++o)
      set_history(outs[k][o], node, static_cast<uint32_t>(k * per + o));
  return outs;
}

std::vector<Tensor> rnn_layer(RnnCell cell, const Tensor& x, const Tensor& h0, const Tensor& c0,
                              const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                              const Tensor& b_hh, const Tensor& w_hr, const Tensor& lengths,
                              bool reverse) {
  return rnn_layer_directions(cell, x, {{h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse}},
                              lengths)[0];
}

}  // namespace dlcore
