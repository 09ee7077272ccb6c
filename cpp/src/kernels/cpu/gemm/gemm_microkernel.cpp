// GEMM packing routines and register-blocked micro-kernels, compiled once per
// instruction set. The micro-kernel keeps an MR x NR tile of C in MR x NV
// vector registers (NR = NV * W lanes) and, for each k, broadcasts MR values of
// A and multiplies them with NV vectors of B:
//   acc[r][v] += broadcast(A[i0 + r, k]) * B[k, j0 + v*W : j0 + (v+1)*W]
// B's vectors come from a packed sliver, or (micro_image) straight from an image whose
// patch matrix B is (GemmPatches).
// Tiles per ISA (accumulators + NV loads + one broadcast must fit the registers):
//   avx512  float 14 x 32, double 14 x 16  (28 of 32 zmm)
//   avx2    float  6 x 16, double  6 x 8   (12 of 16 ymm)
//   generic float  4 x 8,  double  4 x 4   (SSE2 baseline)
// Each C element is summed in k order inside one tile, so the result does not
// depend on how the driver spreads tiles over threads.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/conv_im2col.h"
#include "kernels/cpu/gemm/gemm_kernels.h"
#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// kMR x kNV vectors is the register tile; tiles of the last rows of C use
// the first of kMR, kMR2, kMR3 that covers them, so few rows go to waste.
#if defined(DLCORE_ISA_avx512)
constexpr int kMR = 14, kMR2 = 8, kMR3 = 4, kNV = 2;
// Tiles of B read in place (micro_strided) also come 10 and 12 rows tall: the 10 rows of
// C^T in a narrow product (a layer with 10 outputs) take one pass over B, not 8 + 4.
constexpr int kExactRows = 12;
#elif defined(DLCORE_ISA_avx2)
constexpr int kMR = 6, kMR2 = 4, kMR3 = 2, kNV = 2;
#else
constexpr int kMR = 4, kMR2 = 2, kMR3 = 1, kNV = 2;
#endif
#if !defined(DLCORE_ISA_avx512)
constexpr int kExactRows = kMR2;
#endif

// How many k steps ahead the micro-kernel prefetches B's sliver, and how many
// rows ahead pack_b fetches B.
constexpr int kPrefetchB = 8;
constexpr int kPrefetchA = 8;  // k steps ahead, for a transposed A read in place
constexpr int kPrefetchRows = 4;

template <class T>
struct Tile {
  using V = Vec<T>;
  static constexpr int W = V::size, MR = kMR, NV = kNV, NR = NV * W;
};

// ---- packing ---------------------------------------------------------------

template <class T>
void pack_a(int64_t m, int64_t kc, const T* a, int64_t rs, int64_t cs, T* out) {
  constexpr int MR = Tile<T>::MR;
  for (int64_t i0 = 0; i0 < m; i0 += MR, out += MR * kc) {
    const int rows = static_cast<int>(m - i0 < MR ? m - i0 : MR);
    const T* src = a + i0 * rs;
    if (rows == MR && cs == 1) {
      // Row-major A: transpose B x B blocks in registers (B = kTransposeSize),
      // MR rows in groups of B, the last group padded by repeating row MR - 1.
      // A group's stores may run past its MR values into the next k's first
      // ones; those are written again by group 0, which goes last, and the
      // final k block is copied one by one so nothing lands past the sliver.
      constexpr int B = kTransposeSize<T>, G = (MR + B - 1) / B;
      const T* row[G * B];
      for (int r = 0; r < G * B; ++r) row[r] = src + (r < MR ? r : MR - 1) * rs;
      int64_t k = 0;
      for (; k + B < kc; k += B)
        for (int g = G - 1; g >= 0; --g) transpose_block(row + g * B, k, out + k * MR + g * B, MR);
      for (; k < kc; ++k)
        for (int r = 0; r < MR; ++r) out[k * MR + r] = src[r * rs + k];
    } else if (rows == MR && rs == 1) {
      // Column-major A (a transposed operand): each k is MR adjacent values.
      for (int64_t k = 0; k < kc; ++k) std::memcpy(out + k * MR, src + k * cs, MR * sizeof(T));
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        int r = 0;
        for (; r < rows; ++r) out[k * MR + r] = src[r * rs + k * cs];
        for (; r < MR; ++r) out[k * MR + r] = T(0);
      }
    }
  }
}

template <class T>
void pack_b(int64_t kc, int64_t n, const T* b, int64_t rs, int64_t cs, T* out) {
  using V = Vec<T>;
  constexpr int W = Tile<T>::W, NV = Tile<T>::NV, NR = Tile<T>::NR;
  const int64_t full = n / NR;  // whole slivers
  if (cs == 1) {
    // Row-major B: read each row of the block once, left to right, and
    // deal its NR-wide pieces out to the slivers.
    // Rows lie far apart, each on its own pages, where the hardware
    // prefetcher does not follow: fetch a few rows ahead by hand.
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = b + k * rs;
      const T* ahead = src + (k + kPrefetchRows < kc ? kPrefetchRows * rs : 0);
      for (int64_t s = 0; s < full; ++s) {
        for (int line = 0; line < NV * W * int(sizeof(T)); line += 64)
          __builtin_prefetch(ahead + s * NR + line / int(sizeof(T)));
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          V::load(src + s * NR + v * W).store(out + s * NR * kc + k * NR + v * W);
      }
    }
  } else if (rs == 1) {
    // Transposed B: column j is contiguous in k. Transpose blocks of
    // kTransposeSize columns x as many k in registers (NR is a multiple).
    constexpr int TB = kTransposeSize<T>;
    for (int64_t s = 0; s < full; ++s) {
      const T* col[NR];
      for (int j = 0; j < NR; ++j) col[j] = b + (s * NR + j) * cs;
      T* dst = out + s * NR * kc;
      int64_t k = 0;
      for (; k + TB <= kc; k += TB)
        for (int g = 0; g < NR; g += TB) transpose_block(col + g, k, dst + k * NR + g, NR);
      for (; k < kc; ++k)
        for (int j = 0; j < NR; ++j) dst[k * NR + j] = col[j][k];
    }
  } else {
    for (int64_t s = 0; s < full; ++s)
      for (int64_t k = 0; k < kc; ++k)
        for (int j = 0; j < NR; ++j) out[s * NR * kc + k * NR + j] = b[k * rs + (s * NR + j) * cs];
  }
  if (full * NR < n) {
    // The last, partial sliver, zero past the edge up to the vectors the
    // micro-kernel reads: one when the sliver is at most W wide (see micro).
    const int cols = static_cast<int>(n - full * NR);
    const int width = cols <= W ? W : NR;
    const T* src = b + full * NR * cs;
    T* dst = out + full * NR * kc;
    if (cs == 1) {
      for (int64_t k = 0; k < kc; ++k)
        for (int v = 0; v * W < width; ++v)
          V::load_first(src + k * rs + v * W, std::clamp(cols - v * W, 0, W))
              .store(dst + k * NR + v * W);
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        int j = 0;
        for (; j < cols; ++j) dst[k * NR + j] = src[k * rs + j * cs];
        for (; j < width; ++j) dst[k * NR + j] = T(0);
      }
    }
  }
}

// Gathers a block of a patch matrix (GemmPatches) straight into pack_b's layout.
// A sliver's columns are runs of output positions along rows of the output
// (segments); for each row k = (c, i, j) of B a segment reads a run of one input row,
// with zeros where it falls in the padding. Where every patch lies inside the image
// (no padding: the case callers aim for by bordering the image first), each run is a
// copy from a start fixed per sliver, shifted by (c, i, j), with no bounds to check.
template <class T>
void pack_b_patches(const GemmPatches& g, const T* x, int64_t k0, int64_t kc, int64_t j0, int64_t n,
                    T* out) {
  using V = Vec<T>;
  constexpr int W = Tile<T>::W, NV = Tile<T>::NV, NR = Tile<T>::NR;
  struct Segment {
    int d, len;      // the sliver columns [d, d + len)
    int64_t oh, ow;  // output position of column d
    int64_t start;   // (inside) offset of its first value for k = 0
  };
  if (g.flat) {
    // Each sliver row is one run of the image (zeros past its end, though the slack
    // there is readable). Row by row, the slivers' runs follow each other in the image.
    const int64_t total = g.C * g.H * g.W, H = g.H, Wd = g.W, kh = g.kh, kw = g.kw;
    const int64_t dh = g.dh * Wd, dw = g.dw;
    int64_t c = k0 / (kh * kw), i = k0 / kw % kh, j = k0 % kw;
    for (int64_t kk = 0; kk < kc; ++kk) {
      const int64_t row = c * H * Wd + i * dh + j * dw + j0;
      for (int64_t s0 = 0; s0 < n; s0 += NR) {
        const int64_t cols = std::min<int64_t>(NR, n - s0);
        const int len = static_cast<int>(std::clamp<int64_t>(total - row - s0, 0, cols));
        const T* src = x + row + s0;
        T* o = out + s0 * kc + kk * NR;
        if (len == NR) {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) V::load(src + v * W).store(o + v * W);
          continue;
        }
        int t = 0;
        for (; t + W <= len; t += W) V::load(src + t).store(o + t);
        if (t < len) V::load_first(src + t, len - t).store(o + t), t += W;
        for (; t < NR; t += W) V::zero().store(o + t);
      }
      if (++j == kw) {
        j = 0;
        if (++i == kh) i = 0, ++c;
      }
    }
    return;
  }
  const bool inside = patches_inside(g);
  for (int64_t s0 = 0; s0 < n; s0 += NR, out += NR * kc) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, n - s0));
    Segment seg[NR];
    int nseg = 0;
    for (int d = 0; d < cols;) {
      const int64_t col = j0 + s0 + d, oh = col / g.Wo, ow = col % g.Wo;
      const int len = static_cast<int>(std::min<int64_t>(cols - d, g.Wo - ow));
      seg[nseg++] = {d, len, oh, ow, (oh * g.sh - g.ph) * g.W + ow * g.sw - g.pw};
      d += len;
    }
    int64_t c = k0 / (g.kh * g.kw), i = k0 / g.kw % g.kh, j = k0 % g.kw;
    for (int64_t kk = 0; kk < kc; ++kk) {
      T* o = out + kk * NR;
      if (inside) {
        const T* base = x + (c * g.H + i * g.dh) * g.W + j * g.dw;
        for (int q = 0; q < nseg; ++q) {
          const T* src = base + seg[q].start;
          T* dst = o + seg[q].d;
          const int len = seg[q].len;
          if (g.sw == 1) {
            int t = 0;
            for (; t + W <= len; t += W) V::load(src + t).store(dst + t);
            if (t < len) V::load_first(src + t, len - t).store_first(dst + t, len - t);
          } else {
            for (int t = 0; t < len; ++t) dst[t] = src[t * g.sw];
          }
        }
        for (int t = cols; t < NR; ++t) o[t] = T(0);
      } else {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) V::zero().store(o + v * W);
        const T* plane = x + c * g.H * g.W;
        for (int q = 0; q < nseg; ++q) {
          const Segment& sg = seg[q];
          const int64_t ih = sg.oh * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          // Input column of segment entry t: iw0 + t sw; entries [a, b) lie inside the row.
          const int64_t iw0 = sg.ow * g.sw - g.pw + j * g.dw;
          int64_t a, b;
          columns_inside(iw0, g.sw, g.W, sg.len, a, b);
          const T* src = plane + ih * g.W + (iw0 + a * g.sw);
          T* dst = o + sg.d + a;
          for (int64_t t = 0; t < b - a; ++t) dst[t] = src[t * g.sw];
        }
      }
      if (++j == g.kw) {
        j = 0;
        if (++i == g.kh) i = 0, ++c;
      }
    }
  }
}

// ---- write-back --------------------------------------------------------------

// Writes the m x n corner of an MR x (NV * W) accumulator tile to c (row
// stride ldc), with bias_row / bias_col holding m / n values when the
// epilogue has them. Full tiles (Full: m = MR, n = NV * W) use plain vector
// loads and stores; edge tiles masked ones that leave memory past the corner
// alone, with the same arithmetic.
template <class T, int R, int NV, bool Full>
__attribute__((always_inline)) inline void store_tile(Vec<T> (&acc)[R][NV], T* c, int64_t ldc,
                                                      int m, int n, const GemmTile<T>& t) {
  using V = Vec<T>;
  constexpr int W = Tile<T>::W;
  const V alpha = V::broadcast(t.alpha), beta = V::broadcast(t.beta);
  const bool scale = t.alpha != T(1);
  const bool read_c = !t.first || t.beta != T(0);
  const bool beta_one = !t.first || t.beta == T(1);
  const T* bias_row = t.bias_row;
  const T* bias_col = t.bias_col;
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    if (!Full && r >= m) break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const int cnt = Full ? W : std::min(n - v * W, W);
      if (!Full && cnt <= 0) break;
      const bool whole = Full || cnt == W;
      auto load = [&](const T* q) { return whole ? V::load(q) : V::load_first(q, cnt); };
      T* p = c + r * ldc + v * W;
      V x = scale ? vmul(acc[r][v], alpha) : acc[r][v];
      if (read_c) x = beta_one ? vadd(load(p), x) : vfma(beta, load(p), x);
      if (t.last) {
        if (bias_col) x = vadd(x, load(bias_col + v * W));
        if (bias_row) x = vadd(x, V::broadcast(bias_row[r]));
        if (t.act == GemmAct::Relu) x = vrelu(x);
      }
      if (whole) x.store(p);
      else x.store_first(p, cnt);
    }
  }
}

// A whole tile in the two common cases, with no test per vector: C = acc (Add false) or
// C += acc (Add true). Same arithmetic as store_tile.
template <class T, int R, int NV, bool Add>
__attribute__((always_inline)) inline void store_plain(Vec<T> (&acc)[R][NV], T* c, int64_t ldc) {
  using V = Vec<T>;
  constexpr int W = Tile<T>::W;
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* p = c + r * ldc + v * W;
      (Add ? vadd(V::load(p), acc[r][v]) : acc[r][v]).store(p);
    }
}

template <class T, int R, int NV>
__attribute__((always_inline)) inline void write_back(Vec<T> (&acc)[R][NV], T* c, int64_t ldc,
                                                      int m, int n, const GemmTile<T>& t) {
  if (m == R && n == NV * Tile<T>::W) {
    const bool epilogue = t.last && (t.bias_row || t.bias_col || t.act != GemmAct::None);
    if (t.alpha == T(1) && !epilogue) {
      if (t.first && t.beta == T(0)) return store_plain<T, R, NV, false>(acc, c, ldc);
      if (!t.first || t.beta == T(1)) return store_plain<T, R, NV, true>(acc, c, ldc);
    }
    store_tile<T, R, NV, true>(acc, c, ldc, m, n, t);
  } else {
    store_tile<T, R, NV, false>(acc, c, ldc, m, n, t);
  }
}

// ---- micro-kernels -------------------------------------------------------------

// Where the micro-kernel reads A's R values of step k (at(r), asked for in
// order of r), and how it steps on (next()): R adjacent values (a packed
// sliver, or a transposed A in place), A's rows where they lie, or those rows
// with a short tile's last row repeated so no row past m is read.
template <class T, bool Ahead>
struct AdjacentA {  // Ahead: fetch kPrefetchA steps ahead (a transposed A in place)
  const T* p;
  int64_t cs;
  T at(int r) const { return p[r]; }
  void prefetch() const {
    if (Ahead) __builtin_prefetch(p + kPrefetchA * cs);
  }
  void next() { p += cs; }
};
template <class T>
struct StridedA {
  const T* p;
  int64_t rs, cs;
  // Rows are visited in order: walking a pointer down them keeps one
  // register busy instead of MR row offsets (which spill).
  mutable const T* row = nullptr;
  T at(int r) const {
    row = r == 0 ? p : row + rs;
    return *row;
  }
  void prefetch() const {}
  void next() { p += cs; }
};
template <class T>
struct ShortA {  // StridedA for a tile of m < R rows: row m - 1 stands in for the rest
  const T* p;
  int64_t rs, cs;
  int m;
  mutable const T* row = nullptr;
  T at(int r) const {
    row = r == 0 ? p : (r < m ? row + rs : row);
    return *row;
  }
  void prefetch() const {}
  void next() { p += cs; }
};
// Where the micro-kernel reads B's NV vectors of step k: a packed sliver (NR
// adjacent values per k, fetched kPrefetchB steps ahead), or an image read in place
// (GemmPatches without padding): vector v of step k at img + koff[k] + off[v].
template <class T>
struct PackedB {
  const T* p;
  Vec<T> load(int v) const { return Vec<T>::load(p + v * Tile<T>::W); }
  template <int NV>
  void prefetch() const {
    constexpr int NR = Tile<T>::NR;
#pragma GCC unroll 4
    for (int line = 0; line < NV * Tile<T>::W * int(sizeof(T)); line += 64)
      __builtin_prefetch(p + kPrefetchB * NR + line / int(sizeof(T)));
  }
  void next() { p += Tile<T>::NR; }
};
template <class T>
struct ImageB {
  const T* img;
  const int64_t* koff;
  int64_t off[kNV];
  Vec<T> load(int v) const { return Vec<T>::load(img + *koff + off[v]); }
  template <int NV>
  void prefetch() const {}
  void next() { ++koff; }
};

// B's rows where they lie (micro_strided): vector v of step k at p + k * rs + v * W.
template <class T>
struct RowB {
  const T* p;
  int64_t rs;
  Vec<T> load(int v) const { return Vec<T>::load(p + v * Tile<T>::W); }
  template <int NV>
  void prefetch() const {}
  void next() { p += rs; }
};

// acc = sum over k < kc of broadcast(A(r, k)) * B(k, v*W : (v+1)*W).
template <class T, int R, int NV, class A, class B>
__attribute__((always_inline)) inline void multiply_tile(int64_t kc, A a, B b,
                                                         Vec<T> (&acc)[R][NV]) {
  using V = Vec<T>;
  constexpr int MR = R;
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k, a.next(), b.next()) {
    a.prefetch();
    b.template prefetch<NV>();
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = b.load(v);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const V ar = V::broadcast(a.at(r));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = vfma(ar, bv[v], acc[r][v]);
    }
  }
}

// One tile of R rows (m <= R) and NV of the kNV vectors of B's sliver (the
// columns past n are zero or unused).
template <class T, int R, int NV, class B>
__attribute__((always_inline)) inline void micro_tile(int64_t kc, const T* a, int64_t a_rs,
                                                      int64_t a_cs, B b, T* c, int64_t ldc, int m,
                                                      int n, const GemmTile<T>& t) {
  Vec<T> acc[R][NV];
  if (a_rs == 1 && m == R && a_cs == kMR) {
    multiply_tile<T, R, NV>(kc, AdjacentA<T, false>{a, a_cs}, b, acc);
  } else if (a_rs == 1 && m == R) {
    multiply_tile<T, R, NV>(kc, AdjacentA<T, true>{a, a_cs}, b, acc);
  } else if (m == R) {
    multiply_tile<T, R, NV>(kc, StridedA<T>{a, a_rs, a_cs}, b, acc);
  } else {
    multiply_tile<T, R, NV>(kc, ShortA<T>{a, a_rs, a_cs, m}, b, acc);
  }
  write_back<T, R, NV>(acc, c, ldc, m, n, t);
}

// A tile at most one vector wide (a narrow product, or the last columns)
// multiplies only that vector.
template <class T, int R, class B>
void micro_rows(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, B b, T* c, int64_t ldc,
                int m, int n, const GemmTile<T>& t) {
  if (kNV > 1 && n <= Tile<T>::W)
    micro_tile<T, R, 1>(kc, a, a_rs, a_cs, b, c, ldc, m, n, t);
  else
    micro_tile<T, R, kNV>(kc, a, a_rs, a_cs, b, c, ldc, m, n, t);
}

// The tile of C is needed only at the end: start fetching it now.
template <class T>
__attribute__((always_inline)) inline void prefetch_tile(T* c, int64_t ldc, int m, int n) {
  for (int r = 0; r < m; ++r) {
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + n - 1, 1);
  }
}

template <class T, class B>
void micro_any(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, B b, T* c, int64_t ldc, int m,
               int n, const GemmTile<T>& t) {
  prefetch_tile(c, ldc, m, n);
  if (m <= kMR3)
    micro_rows<T, kMR3>(kc, a, a_rs, a_cs, b, c, ldc, m, n, t);
  else if (m <= kMR2)
    micro_rows<T, kMR2>(kc, a, a_rs, a_cs, b, c, ldc, m, n, t);
  else
    micro_rows<T, kMR>(kc, a, a_rs, a_cs, b, c, ldc, m, n, t);
}

template <class T>
void micro(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, const T* b, T* c, int64_t ldc,
           int m, int n, const GemmTile<T>& t) {
  micro_any(kc, a, a_rs, a_cs, PackedB<T>{b}, c, ldc, m, n, t);
}

// A flat B (GemmPatches::flat) read in place loads whole vectors past the image's last
// column: at most one vector's lanes, within the 64 values of flat_slack().
static_assert(Tile<float>::W <= 64 && Tile<double>::W <= 64, "flat_slack() must cover a vector");

template <class T>
void micro_image(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, const T* img,
                 const int64_t* koff, const int64_t* voff, T* c, int64_t ldc, int m, int n,
                 const GemmTile<T>& t) {
  ImageB<T> b{img, koff, {}};
  for (int v = 0; v < kNV; ++v) b.off[v] = voff[v];
  micro_any(kc, a, a_rs, a_cs, b, c, ldc, m, n, t);
}

template <class T>
void micro_strided(int64_t kc, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
                   T* c, int64_t ldc, int m, int n, const GemmTile<T>& t) {
#if defined(DLCORE_ISA_avx512)
  if (m > kMR2 && m <= kExactRows) {
    prefetch_tile(c, ldc, m, n);
    if (m <= 10)
      micro_rows<T, 10>(kc, a, a_rs, a_cs, RowB<T>{b, b_rs}, c, ldc, m, n, t);
    else
      micro_rows<T, 12>(kc, a, a_rs, a_cs, RowB<T>{b, b_rs}, c, ldc, m, n, t);
    return;
  }
#endif
  micro_any(kc, a, a_rs, a_cs, RowB<T>{b, b_rs}, c, ldc, m, n, t);
}

// ---- one column of C (N = 1) ------------------------------------------------------

// Rows [0, R) of dot_rows: R dot products over K, two vector accumulators each (the
// FMA latency), then the tail in masked loads; the sums are the same for any R.
template <class T, int R>
__attribute__((always_inline)) inline void dot_block(int64_t K, const T* a, int64_t a_rs,
                                                     const T* b, T (&sum)[R]) {
  using V = Vec<T>;
  constexpr int W = V::size;
  V acc[R][2];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = V::zero();
  int64_t k = 0;
  for (; k + 2 * W <= K; k += 2 * W) {
    const V b0 = V::load(b + k), b1 = V::load(b + k + W);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc[r][0] = vfma(V::load(a + r * a_rs + k), b0, acc[r][0]);
      acc[r][1] = vfma(V::load(a + r * a_rs + k + W), b1, acc[r][1]);
    }
  }
  for (; k < K; k += W) {
    const int n = static_cast<int>(std::min<int64_t>(W, K - k));
    const V bv = V::load_first(b + k, n);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r][0] = vfma(V::load_first(a + r * a_rs + k, n), bv, acc[r][0]);
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) sum[r] = vreduce_add(vadd(acc[r][0], acc[r][1]));
}

// C(i, 0) for i < m when N = 1: the dot products of A's rows (unit stride, a_rs apart)
// with b (K adjacent values), four rows at a time, each written by store_tile as a 1 x 1
// tile (bias_row[i] for row i). The tile kernel would use one lane of its vectors.
template <class T>
void dot_rows(int64_t K, const T* a, int64_t a_rs, const T* b, T* c, int64_t ldc, int64_t m,
              const GemmTile<T>& t) {
  GemmTile<T> one = t;
  auto write = [&](T x, int64_t i) {
    Vec<T> acc[1][1] = {{Vec<T>::broadcast(x)}};
    if (t.bias_row) one.bias_row = t.bias_row + i;
    store_tile<T, 1, 1, false>(acc, c + i * ldc, ldc, 1, 1, one);
  };
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    T sum[4];
    dot_block<T, 4>(K, a + i * a_rs, a_rs, b, sum);
    for (int r = 0; r < 4; ++r) write(sum[r], i + r);
  }
  for (; i < m; ++i) {
    T sum[1];
    dot_block<T, 1>(K, a + i * a_rs, a_rs, b, sum);
    write(sum[0], i);
  }
}

// ---- one row of C (M = 1) ----------------------------------------------------------

// C(0, j) for j < n when M = 1: a[k * a_cs] times row k of B (b + k * b_rs, unit stride),
// summed over k, kRowVectors vectors of columns at a time so each step reads a long run
// of B's row (the tile kernel would read a 32-column sliver down B's rows, one row per
// page, and repeat row 0 of A in three of its four rows).
constexpr int kRowVectors = 8;

template <class T>
void row_times(int64_t K, const T* a, int64_t a_cs, const T* b, int64_t b_rs, T* c, int64_t n,
               const GemmTile<T>& t) {
  using V = Vec<T>;
  constexpr int W = V::size, CW = kRowVectors * W;
  GemmTile<T> tile = t;
  for (int64_t j0 = 0; j0 < n; j0 += CW) {
    V acc[1][kRowVectors];
    for (int v = 0; v < kRowVectors; ++v) acc[0][v] = V::zero();
    const int cols = static_cast<int>(std::min<int64_t>(CW, n - j0));
    const T* bj = b + j0;
    if (cols == CW) {
      for (int64_t k = 0; k < K; ++k) {
        const V ak = V::broadcast(a[k * a_cs]);
#pragma GCC unroll 8
        for (int v = 0; v < kRowVectors; ++v)
          acc[0][v] = vfma(ak, V::load(bj + k * b_rs + v * W), acc[0][v]);
      }
    } else {
      const int whole = cols / W, rest = cols % W;
      for (int64_t k = 0; k < K; ++k) {
        const V ak = V::broadcast(a[k * a_cs]);
        for (int v = 0; v < whole; ++v)
          acc[0][v] = vfma(ak, V::load(bj + k * b_rs + v * W), acc[0][v]);
        if (rest)
          acc[0][whole] = vfma(ak, V::load_first(bj + k * b_rs + whole * W, rest), acc[0][whole]);
      }
    }
    if (t.bias_col) tile.bias_col = t.bias_col + j0;
    if (cols == CW)
      store_tile<T, 1, kRowVectors, true>(acc, c + j0, 0, 1, cols, tile);
    else
      store_tile<T, 1, kRowVectors, false>(acc, c + j0, 0, 1, cols, tile);
  }
}

// This instruction set's entries of the kernel table.
template <class T>
GemmKernels<T> table() {
  // The tile, the packing routines, then the micro-kernels, in GemmKernels' order.
  return {kMR,         Tile<T>::NR,       kMR2,     kExactRows,     Tile<T>::W,       pack_a<T>,
          pack_b<T>,   pack_b_patches<T>, micro<T>, micro_image<T>, micro_strided<T>, dot_rows<T>,
          row_times<T>};
}

}  // namespace

GemmKernels<float> gemm_kernels_f32() { return table<float>(); }
GemmKernels<double> gemm_kernels_f64() { return table<double>(); }

}  // namespace dlcore::kernels::DLCORE_ISA_NS
