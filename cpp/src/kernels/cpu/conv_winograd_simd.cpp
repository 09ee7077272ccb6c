// The transforms of Winograd's F(2x2, 3x3) convolution (ops/conv_winograd.cpp runs the
// products), compiled once per instruction set. Each 2x2 block of outputs comes from a
// 4x4 block d of the padded input (tiles overlap by two rows and columns):
//   y = A^T [ (G w G^T) (.) (B^T d B) ] A          ((.) elementwise, per tile)
// with
//   B^T = [1  0 -1  0]    G = [ 1    0    0 ]    A^T = [1  1  1  0]
//         [0  1  1  0]        [1/2  1/2  1/2]          [0  1 -1 -1]
//         [0 -1  1  0]        [1/2 -1/2  1/2]
//         [0  1  0 -1]        [ 0    0    1 ]
// The sixteen products of a tile become sixteen GEMMs over channels. The weight
// gradient is G^T [ sum over tiles of (A dy A^T) (.) (B^T d B) ] G.
// All data here is channel-last (WinogradRow): the transforms run on vectors of
// channels, with the same adds for every lane.
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_loop.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// Calls f(strip, tile, c, n) for each tile t of the row and each vector of channels
// [c, c + n): strip = 2 t C is where the tile's columns start in a strip row, tile = t ld
// where its transformed values start.
template <class T, class F>
void for_tile_vectors(const WinogradRow& r, F f) {
  for (int64_t t = 0; t < r.tiles; ++t)
    vec_loop<T>(r.C, [&](int64_t c, int n) { f(2 * t * r.C, t * r.ld, c, n); });
}

// v = B^T d B for a row of tiles: d[i][j] is strip value (i, 2 t + j).
template <class T>
void input(const WinogradRow& r, const T* s, T* v) {
  using V = Vec<T>;
  for_tile_vectors<T>(r, [&](int64_t strip, int64_t tile, int64_t c, int n) {
    const T* base = s + strip;
    T* out = v + tile;
    V u[4][4];
    for (int j = 0; j < 4; ++j) {
      const V d0 = load_n(base + 0 * r.s_row + j * r.C, c, n);
      const V d1 = load_n(base + 1 * r.s_row + j * r.C, c, n);
      const V d2 = load_n(base + 2 * r.s_row + j * r.C, c, n);
      const V d3 = load_n(base + 3 * r.s_row + j * r.C, c, n);
      u[0][j] = vsub(d0, d2), u[1][j] = vadd(d1, d2);
      u[2][j] = vsub(d2, d1), u[3][j] = vsub(d1, d3);
    }
    for (int i = 0; i < 4; ++i) {
      T* o = out + 4 * i * r.xi;
      store_n(vsub(u[i][0], u[i][2]), o, c, n);
      store_n(vadd(u[i][1], u[i][2]), o + r.xi, c, n);
      store_n(vsub(u[i][2], u[i][1]), o + 2 * r.xi, c, n);
      store_n(vsub(u[i][1], u[i][3]), o + 3 * r.xi, c, n);
    }
  });
}

// y = A^T m A (+ bias) for a row of tiles, into strip rows 0 and 1, columns 2 t, 2 t + 1.
template <class T>
void output(const WinogradRow& r, const T* m, T* s, const T* bias) {
  using V = Vec<T>;
  for_tile_vectors<T>(r, [&](int64_t strip, int64_t tile, int64_t c, int n) {
    const T* in = m + tile;
    T* base = s + strip;
    V q[2][4];
    for (int j = 0; j < 4; ++j) {
      const V m0 = load_n(in + j * r.xi, c, n), m1 = load_n(in + (4 + j) * r.xi, c, n);
      const V m2 = load_n(in + (8 + j) * r.xi, c, n), m3 = load_n(in + (12 + j) * r.xi, c, n);
      q[0][j] = vadd(vadd(m0, m1), m2);
      q[1][j] = vsub(vsub(m1, m2), m3);
    }
    const V b = bias ? load_n(bias, c, n) : V::zero();
    for (int i = 0; i < 2; ++i) {
      T* o = base + i * r.s_row;
      store_n(vadd(vadd(vadd(q[i][0], q[i][1]), q[i][2]), b), o, c, n);
      store_n(vadd(vsub(vsub(q[i][1], q[i][2]), q[i][3]), b), o + r.C, c, n);
    }
  });
}

// e = A g A^T for a row of tiles of output gradients: g[i][j] is strip value (i, 2 t + j).
template <class T>
void grad_output(const WinogradRow& r, const T* s, T* e) {
  using V = Vec<T>;
  for_tile_vectors<T>(r, [&](int64_t strip, int64_t tile, int64_t c, int n) {
    const T* base = s + strip;
    T* out = e + tile;
    const V zero = V::zero();
    V q[4][2];
    for (int j = 0; j < 2; ++j) {
      const V g0 = load_n(base + j * r.C, c, n), g1 = load_n(base + r.s_row + j * r.C, c, n);
      q[0][j] = g0, q[1][j] = vadd(g0, g1), q[2][j] = vsub(g0, g1), q[3][j] = vsub(zero, g1);
    }
    for (int i = 0; i < 4; ++i) {
      T* o = out + 4 * i * r.xi;
      store_n(q[i][0], o, c, n);
      store_n(vadd(q[i][0], q[i][1]), o + r.xi, c, n);
      store_n(vsub(q[i][0], q[i][1]), o + 2 * r.xi, c, n);
      store_n(vsub(zero, q[i][1]), o + 3 * r.xi, c, n);
    }
  });
}

// dst[j ldd + i] = src[i lds + j] for i < rows, j < cols, in blocks transposed in
// registers: the gathers into channel-last strips and the copies back. Blocks go down
// the rows first, so each destination row is written in one run (its cache lines are
// whole before they leave L1, even when rows lie a multiple of 4 KiB apart).
template <class T>
void transpose(const T* src, int64_t rows, int64_t cols, int64_t lds, T* dst, int64_t ldd) {
  constexpr int B = kTransposeSize<T>;
  const int64_t full = rows / B * B;
  int64_t j = 0;
  for (; j + B <= cols; j += B) {
    for (int64_t i = 0; i < full; i += B) {
      const T* r[B];
      for (int b = 0; b < B; ++b) r[b] = src + (i + b) * lds;
      transpose_block(r, j, dst + j * ldd + i, ldd);
    }
    for (int64_t c = j; c < j + B; ++c)
      for (int64_t i = full; i < rows; ++i) dst[c * ldd + i] = src[i * lds + c];
  }
  for (; j < cols; ++j)
    for (int64_t i = 0; i < rows; ++i) dst[j * ldd + i] = src[i * lds + j];
}

}  // namespace

void transpose_f32(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst,
                   int64_t ldd) {
  transpose(src, rows, cols, lds, dst, ldd);
}
void transpose_f64(const double* src, int64_t rows, int64_t cols, int64_t lds, double* dst,
                   int64_t ldd) {
  transpose(src, rows, cols, lds, dst, ldd);
}
void winograd_input_f32(const WinogradRow& r, const float* s, float* v) { input(r, s, v); }
void winograd_input_f64(const WinogradRow& r, const double* s, double* v) { input(r, s, v); }
void winograd_output_f32(const WinogradRow& r, const float* m, float* s, const float* bias) {
  output(r, m, s, bias);
}
void winograd_output_f64(const WinogradRow& r, const double* m, double* s, const double* bias) {
  output(r, m, s, bias);
}
void winograd_grad_output_f32(const WinogradRow& r, const float* s, float* e) {
  grad_output(r, s, e);
}
void winograd_grad_output_f64(const WinogradRow& r, const double* s, double* e) {
  grad_output(r, s, e);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
