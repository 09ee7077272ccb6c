// What the GEMM driver (gemm_driver.cpp, compiled once) needs from each
// instruction set (gemm_microkernel.cpp, compiled once per ISA): the register
// tile MR x NR, the packing routines (A, B, and B as an image's patches) and the
// micro-kernel (B packed, or read in place from an image or from its rows), and the
// kernels for a single column (dot_rows) or row (row_times) of C.
//
// Packed layouts (Goto/BLIS). A block of A (m rows, kc columns of the k range)
// is stored as ceil(m / MR) slivers, each kc x MR with the MR values of one k
// adjacent; a block of B (kc rows, n columns) as ceil(n / NR) slivers, each
// kc x NR. Rows and columns past the edge are zero (in B, up to the vectors
// the micro-kernel reads), so the micro-kernel computes whole vectors and
// only the write-back looks at the edge.
#pragma once
#include <cstdint>

#include "dlcore/gemm.h"

namespace dlcore::kernels {

enum class GemmAct : int { None = 0, Relu = 1 };

// How the micro-kernel writes its tile:
//   first k block:  C = alpha * acc + beta * C   (beta == 0: C is not read)
//   later blocks:   C = alpha * acc + C
//   last k block:   then C = act(C + bias)
// bias_row / bias_col point at the tile's first row / column entry, or are null.
template <class T>
struct GemmTile {
  T alpha, beta;
  bool first, last;
  const T* bias_row;  // bias[i], one value per row of C
  const T* bias_col;  // bias[j], one value per column of C
  GemmAct act;
};

template <class T>
struct GemmKernels {
  int mr, nr;
  int mr2;    // a shorter tile height the micro-kernel runs as its own tile (m <= mr2)
  // micro_strided runs tiles of up to this many rows (at least mr2) at their own height,
  // not padded to mr (AVX-512: 10 and 12, so C^T of a 10-class product is one tile)
  int exact_rows;
  int lanes;  // values per vector: NR is nr / lanes vectors
  // Packs A rows [0, m) x k [0, kc), element (i, k) at a[i * rs + k * cs].
  void (*pack_a)(int64_t m, int64_t kc, const T* a, int64_t rs, int64_t cs, T* out);
  // Packs B k [0, kc) x columns [0, n), element (k, j) at b[k * rs + j * cs].
  void (*pack_b)(int64_t kc, int64_t n, const T* b, int64_t rs, int64_t cs, T* out);
  // Packs rows [k0, k0 + kc) x columns [j0, j0 + n) of the patch matrix g of image x
  // (GemmPatches), in pack_b's layout with every sliver zero-padded to NR.
  void (*pack_b_patches)(const GemmPatches& g, const T* x, int64_t k0, int64_t kc, int64_t j0,
                         int64_t n, T* out);
  // One MR x NR tile: acc(i, j) = sum over k < kc of A(i, k) * b[k * NR + j]
  // for a packed B sliver, then writes the m x n corner of C (row stride ldc).
  // A(i, k) is a[i * a_rs + k * a_cs]: a packed sliver (a_rs = 1, a_cs = MR)
  // or A's rows where they lie; rows past m are never read.
  void (*micro)(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, const T* b, T* c,
                int64_t ldc, int m, int n, const GemmTile<T>& tile);
  // The same tile with B read in place from an image: vector v (of nr / lanes) of B's
  // row k is the `lanes` values at img + koff[k] + voff[v] (a patch matrix without
  // padding whose output rows hold whole vectors).
  void (*micro_image)(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, const T* img,
                      const int64_t* koff, const int64_t* voff, T* c, int64_t ldc, int m, int n,
                      const GemmTile<T>& tile);
  // The same tile with B read in place from its rows: B(k, j) is b[k * b_rs + j], for
  // whole slivers (n = NR: a row-major B, or a slice of one).
  void (*micro_strided)(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, const T* b,
                        int64_t b_rs, T* c, int64_t ldc, int m, int n, const GemmTile<T>& tile);
  // One column of C (N = 1): C(i, 0) (row stride ldc), for i < m, from the dot product of
  // A's row i (a + i * a_rs, K adjacent values) with b (K adjacent values), written as the
  // tile's write-back would (tile.bias_row[i] for row i).
  void (*dot_rows)(int64_t K, const T* a, int64_t a_rs, const T* b, T* c, int64_t ldc, int64_t m,
                   const GemmTile<T>& tile);
  // One row of C (M = 1): C(0, j) for j < n, the sum over k of a[k * a_cs] times B(k, j) at
  // b[k * b_rs + j], written as the tile's write-back would (tile.bias_col[j] for column j).
  void (*row_times)(int64_t K, const T* a, int64_t a_cs, const T* b, int64_t b_rs, T* c, int64_t n,
                    const GemmTile<T>& tile);
};

}  // namespace dlcore::kernels
