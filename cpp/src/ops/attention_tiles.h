// The tile passes of fused attention (attention_tiles.cpp), over the geometry and the
// pointers that ops/attention.cpp sets up:
//   O = softmax(S) V,  S = scale Q K^T + mask,  tile by tile.
//
// Shapes: B = the leading dimensions broadcast and flattened (batch x heads), Q is
// (B, Lq, E), K (B, Lk, E), V (B, Lk, Ev), O (B, Lq, Ev); lse (B, Lq) is saved for the
// backward. Tiles are bq query rows by bk keys (constants below, one pair per pass).
//
// Forward, per (b, query tile), on one thread: for each key tile, S = Q_i K_j^T (a GEMM;
// the softmax kernels apply the scale in their exp, except with an additive mask or a
// scale of 0 or below, where the tile is (scale Q_i) K_j^T plus the mask), the online
// softmax update (kernels: attention_simd.cpp, in base 2), then acc += P V_j (a GEMM);
// finally O = acc / l and lse = log2(e) m + log2(l), the rows' log-sum-exp in base 2 (m
// the row's largest scaled score). Nothing T x T is kept: per thread one bq x bk tile.
//
// Backward, with delta[r] = dO[r] . O[r] (from the tiles where they hold whole rows) and the
// tile recomputed from lse:
//   P = 2^(log2(e) scale S - lse),  dV_j += P^T dO_i,  dP = dO_i V_j^T,  dS = P (dP - delta)
//   dQ_i += scale dS K_j,  dK_j += scale dS^T Q_i,  dmask = dS
// Each dQ_i is summed over key tiles in increasing j, each dK_j and dV_j over query
// tiles in increasing i. With many (b) per thread, one pass per b does both; with few,
// one pass over (b, key tile) gives dK and dV and another over (b, query tile) gives
// dQ, recomputing the tiles. Both run the same tile arithmetic in the same order, so
// the bits do not depend on the thread count.
//
// A block that the causal diagonal cuts runs in strips of 16 query rows, each against only
// the keys its last row sees: S, dP and dQ strip by strip, dK and dV in strips of keys
// from the first row that sees them. A 128 x 128 diagonal block then does about 56% of the
// full block's multiply-adds. What is left out is masked, zero in P and dS, so each sum
// loses only zero terms.
//
// Dropout keeps weight (b, r, c) when a hash of (seed, b, r, c) says so, so the backward
// regenerates the same mask without storing it; l (the softmax normaliser) uses the
// weights before dropout.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "dlcore/tensor.h"

namespace dlcore::attention {

// Tile sizes (query rows x keys): larger key tiles in the forward (fewer rescales of the
// accumulator), square ones in the backward (five GEMMs per tile, two of them with the
// query rows as their depth). Measured at head dim 64 on AVX2 and AVX-512.
constexpr int64_t kForwardQ = 84, kForwardK = 512, kBackwardQ = 128, kBackwardK = 128;

enum class MaskKind { None, Bool, Additive };

// One call's sizes, the element offsets of each b and the row strides of the operands
// (their last dimension is contiguous; the mask's columns are m_cs apart), the mask kind
// and the options.
struct AttnGeom {
  int64_t batch = 1, Lq = 0, Lk = 0, E = 0, Ev = 0;
  Shape lead;
  std::vector<int64_t> q_off, k_off, v_off, m_off;  // element offset of each b
  int64_t q_rs = 0, k_rs = 0, v_rs = 0, m_rs = 0, m_cs = 0;
  // The same for O, and in the backward for dO, dQ, dK and dV (rows of unit stride).
  std::vector<int64_t> o_off, do_off, dq_off, dk_off, dv_off;
  int64_t o_rs = 0, do_rs = 0, dq_rs = 0, dk_rs = 0, dv_rs = 0;
  MaskKind mask = MaskKind::None;
  bool causal = false;
  double scale = 1.0, dropout = 0.0;
  uint64_t seed = 0;
  int64_t bq = kForwardQ, bk = kForwardK;  // the tile of the pass running
  // The rows of a strip, the unit in which a block cut by the causal diagonal runs: 16, so
  // that where a block starts on a multiple of 16 each strip's keys end on one, a whole
  // vector of float32 on AVX-512, and the GEMM's last sliver multiplies only what it
  // needs (two 8-row register tiles on AVX-512). Against 28 rows (two 14-row tiles), causal,
  // 1 thread, Zen 4: T = 128, head dim 32 and 64, forward 8-13% faster, forward+backward
  // 2-18% (the AVX2 kernels there 7-10% and 0-11%); T = 512 backward 4-5%; T = 2048 even.
  int64_t strip = 16;

  // The row stride of a score tile: bk plus one cache line (of floats), so the rows of a
  // tile read at once as a GEMM operand do not share L1 sets (512 floats are 2 KiB).
  int64_t ld() const { return bk + 16; }
  int64_t q_tiles() const { return (Lq + bq - 1) / bq; }
  int64_t k_tiles() const { return (Lk + bk - 1) / bk; }
  // Keys [0, key_end) are seen by query rows [i0, i0 + rows).
  int64_t key_end(int64_t i0, int64_t rows) const { return causal ? std::min(Lk, i0 + rows) : Lk; }
  // The first query tile that sees key j0.
  int64_t first_q_tile(int64_t j0) const { return causal ? j0 / bq : 0; }
  // Whether the causal diagonal cuts the block of query rows from i0 and keys
  // [j0, j0 + cols): its first row does not see its last key.
  bool cut(int64_t i0, int64_t j0, int64_t cols) const { return causal && j0 + cols - 1 > i0; }
  // Whether the backward takes delta from its tiles: with one key tile, each strip of a
  // block holds every key its rows see (the rest are masked, zero in P), and
  //   delta[r] = dO[r] . O[r] = sum_c P[r, c] dP[r, c]
  // (O = P V, dP = dO V^T; with dropout, dP carries the kept weights' factor as O does), so
  // O is not read.
  bool delta_in_tiles() const { return k_tiles() == 1; }
};

// The operands' data: the mask is bool or T (per AttnGeom::mask); q, k, v, o, dout, dq,
// dk and dv at AttnGeom's offsets and row strides; lse, delta (B, Lq) and dmask
// (B, Lq, Lk) contiguous. The backward writes delta itself (dO . O, batch entry by batch
// entry) where it does not take it from its tiles.
template <class T>
struct AttnData {
  const T *q, *k, *v;
  const void* mask;
  T *o, *lse;
  // Backward only.
  const T* dout;
  T* delta;
  T *dq, *dk, *dv, *dmask;
};

// O and lse from Q, K, V and the mask (d.o, d.lse written).
template <class T>
void forward(AttnGeom g, const AttnData<T>& d);

// dQ, dK, dV (added to; zeros to start) and dmask (written), each where not null, from
// dO, delta and the forward's lse.
template <class T>
void backward(AttnGeom g, const AttnData<T>& d);

}  // namespace dlcore::attention
