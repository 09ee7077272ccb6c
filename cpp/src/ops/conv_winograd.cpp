// Winograd F(2x2, 3x3) convolution (conv_winograd.h; the transforms and their matrices
// are in kernels/cpu/conv_winograd_simd.cpp). The outputs are cut into 2x2 tiles, TH x TW
// per sample; the batch's N TH rows of tiles are taken in chunks of whole rows. Per chunk:
//   1. each sample's rows are gathered channel-last with their zero padding (a strip),
//   2. the input transform writes V[x][p][c] (x < 16 the component, p the tile),
//   3. sixteen GEMMs M[x] (P x O) = V[x] (P x C) U[x]^T (C x O), with U = G w G^T packed
//      once per call,
//   4. the output transform (plus bias) writes a channel-last strip that is copied into
//      the NCHW output.
// The weight gradient transforms dy tile by tile (E = A dy A^T) and accumulates
// dU[x] (O x C) += E[x]^T V[x] over the chunks, then dw = G^T dU G. Chunks are fixed by
// the shapes; the forward pass runs them on the threads (each tile's result does not
// depend on the chunk), the weight gradient sums them into kParts partial sums, each
// owned by one thread and added in order, so its bits do not depend on the thread count.
#include "ops/conv_winograd.h"

#include <algorithm>
#include <vector>

#include "dlcore/gemm.h"
#include "kernels/cpu/kernels.h"
#include "runtime/parallel.h"

namespace dlcore::winograd {
namespace {

// Fewer channels make GEMMs too short to repay the transforms (measured, 1 thread,
// batch 32: 16 channels at 32x32 ran the forward 1.5x slower than the patch GEMM, 32
// channels at 16x16 1.1x faster, 64 channels at 8x8 1.7x faster). The weight gradient
// pays off from fewer: its patch GEMM writes out every patch first (16 channels at
// 32x32, batch 64: forward and backward 20% faster with the Winograd weight gradient,
// 12% slower with the Winograd input gradient too).
constexpr int64_t kMinChannels = 32, kMinChannelsWeight = 16;
// A chunk's transformed values (V and M, or V and E) take about this many bytes: they
// stay in L2 between the transform that writes them and the GEMM that reads them.
constexpr int64_t kChunkBytes = int64_t(512) << 10;
// But at least this many tiles, the rows of the GEMMs (with hundreds of channels the
// budget would leave a few dozen).
constexpr int64_t kMinTiles = 84;
// Fewer tiles in the whole batch do not repay the fixed costs (transforming and packing
// the weights, the buffers): forward and backward of (1, 64->64, 16x16), 64 tiles, took
// 2.6x as long as the patch GEMM, (1, 256->256, 8x8) 2.4x, (2, 64->64, 32x32), 512
// tiles, about as long.
constexpr int64_t kMinBatchTiles = 512;
// Partial sums of the weight gradient: at most kParts, and at most kPartsBytes of them
// (each holds 16 O C values: 16 MiB at 512 channels in float32).
constexpr int64_t kParts = 4;
constexpr int64_t kPartsBytes = int64_t(32) << 20;
constexpr int kX = 16;  // transformed values per tile

struct Tiling {
  int64_t N, C, O, TH, TW;
  int64_t rows;       // chunk size in rows of tiles
  int64_t chunks;     // ceil(N TH / rows)
  int64_t max_tiles;  // rows TW
  Tiling(int64_t N_, const ConvGeometry& g, int64_t O_, int64_t elem, int threads)
      : N(N_), C(g.C), O(O_), TH((g.Ho + 1) / 2), TW((g.Wo + 1) / 2) {
    const int64_t total = N * TH;
    const int64_t per_row = kX * TW * (C + O) * elem;
    rows = std::max(kChunkBytes / std::max<int64_t>(per_row, 1), (kMinTiles + TW - 1) / TW);
    rows = std::clamp<int64_t>(rows, 1, std::max<int64_t>(total, 1));
    // Enough chunks for the threads (the forward pass runs one chunk per thread).
    if (threads > 1) rows = std::max<int64_t>(1, std::min(rows, (total + threads - 1) / threads));
    chunks = (total + rows - 1) / rows;
    max_tiles = rows * TW;
  }
  // The distance between a chunk's transformed components of `channels` values per
  // tile: off any multiple of 4 KiB (the sixteen written or read at once would share one
  // set of L1), one cache line past it.
  int64_t stride(int64_t channels, int64_t elem) const {
    int64_t s = max_tiles * channels;
    const int64_t line = 64 / elem;
    s = (s + line - 1) / line * line;
    if (s * elem % 4096 == 0) s += line;
    return s;
  }
};

// Rows [r0, r0 + nrows) of the image x (C, H, W) padded by ph rows on top and pw
// columns on the left, columns [0, width), channel-last: value (i, col, c) at
// s[(i width + col) C + c], zero outside the image.
template <class T>
void gather_strip(const T* x, int64_t C, int64_t H, int64_t W, int64_t ph, int64_t pw, int64_t r0,
                  int64_t nrows, int64_t width, T* s) {
  const auto transpose =
      kernels::for_dtype<T>(kernels::active().transpose_f32, kernels::active().transpose_f64);
  int64_t lo, hi;
  kernels::columns_inside(-pw, 1, W, width, lo, hi);
  for (int64_t i = 0; i < nrows; ++i) {
    T* row = s + i * width * C;
    const int64_t ih = r0 + i - ph;
    if (ih < 0 || ih >= H || lo >= hi) {
      std::fill(row, row + width * C, T(0));
      continue;
    }
    // Zeros only where the padding is; the transpose writes the rest.
    std::fill(row, row + lo * C, T(0));
    std::fill(row + hi * C, row + width * C, T(0));
    transpose(x + ih * W + lo - pw, C, hi - lo, H * W, row + lo * C, C);
  }
}

// The inverse of gather_strip for the output: strip rows [0, nrows) (channel-last,
// width values wide) into rows [r0, r0 + nrows) of y (C, H, W), cut to the plane.
template <class T>
void scatter_strip(const T* s, int64_t C, int64_t H, int64_t W, int64_t r0, int64_t nrows,
                   int64_t width, T* y) {
  const auto transpose =
      kernels::for_dtype<T>(kernels::active().transpose_f32, kernels::active().transpose_f64);
  for (int64_t i = 0; i < nrows && r0 + i < H; ++i)
    transpose(s + i * width * C, W, C, C, y + (r0 + i) * W, H * W);
}

// Calls f(n, ty0, ty1, first) for each run of one sample's tile rows in the chunk
// [r0, r1) of the batch's rows, `first` the run's first tile index in the chunk.
template <class F>
void for_sample_runs(const Tiling& t, int64_t r0, int64_t r1, F f) {
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / t.TH, ty0 = r % t.TH, ty1 = std::min(t.TH, ty0 + r1 - r);
    f(n, ty0, ty1, (r - r0) * t.TW);
    r += ty1 - ty0;
  }
}

// The input transform of chunk [r0, r1) into v (V[x][p][c], values xi apart in x).
template <class T>
void transform_inputs(const Tiling& t, const ConvGeometry& g, const T* x, int64_t x_sample,
                      int64_t r0, int64_t r1, T* strip, T* v) {
  const auto input = kernels::for_dtype<T>(kernels::active().winograd_input_f32,
                                           kernels::active().winograd_input_f64);
  const int64_t width = 2 * t.TW + 2;
  const kernels::WinogradRow row{t.C, t.TW, width * t.C, t.C, t.stride(t.C, sizeof(T))};
  for_sample_runs(t, r0, r1, [&](int64_t n, int64_t ty0, int64_t ty1, int64_t first) {
    gather_strip(x + n * x_sample, t.C, g.H, g.W, g.ph, g.pw, 2 * ty0, 2 * (ty1 - ty0) + 2, width,
                 strip);
    for (int64_t ty = ty0; ty < ty1; ++ty)
      input(row, strip + 2 * (ty - ty0) * row.s_row, v + (first + (ty - ty0) * t.TW) * t.C);
  });
}

// U[x][o][c] = (G w[o][c] G^T)[x], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]: written
// in the order w is read (the GEMMs take U[x] transposed, as C x O).
template <class T>
std::vector<T> transform_weight(int64_t O, int64_t C, const T* w) {
  std::vector<T> u(static_cast<size_t>(kX * C * O));
  const T h = T(0.5);
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c) {
      const T* k = w + (o * C + c) * 9;
      T a[4][3];  // G k
      for (int j = 0; j < 3; ++j) {
        a[0][j] = k[j];
        a[1][j] = h * (k[j] + k[3 + j] + k[6 + j]);
        a[2][j] = h * (k[j] - k[3 + j] + k[6 + j]);
        a[3][j] = k[6 + j];
      }
      for (int i = 0; i < 4; ++i) {
        const T r[4] = {a[i][0], h * (a[i][0] + a[i][1] + a[i][2]),
                        h * (a[i][0] - a[i][1] + a[i][2]), a[i][2]};
        for (int j = 0; j < 4; ++j) u[((4 * i + j) * O + o) * C + c] = r[j];
      }
    }
  return u;
}

}  // namespace

bool suitable(int64_t N, const ConvGeometry& g, int64_t O, bool weight_gradient) {
  const int64_t least = weight_gradient ? kMinChannelsWeight : kMinChannels;
  const int64_t tiles = N * ((g.Ho + 1) / 2) * ((g.Wo + 1) / 2);
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         g.C >= least && O >= least && tiles >= kMinBatchTiles;
}

template <class T>
void forward(int64_t N, const ConvGeometry& g, int64_t O, const T* x, int64_t x_sample, const T* w,
             const T* b, T* y, int64_t y_sample) {
  if (N == 0) return;
  const Tiling t(N, g, O, sizeof(T), get_num_threads());
  const std::vector<T> u = transform_weight(O, t.C, w);
  std::vector<GemmPackedB<T>> packed;
  for (int x = 0; x < kX; ++x) packed.emplace_back(t.C, O, u.data() + x * t.C * O, 1, t.C);
  const auto output = kernels::for_dtype<T>(kernels::active().winograd_output_f32,
                                            kernels::active().winograd_output_f64);
  const int64_t in_width = 2 * t.TW + 2, out_width = 2 * t.TW;
  const int64_t xi = t.stride(t.C, sizeof(T)), xm = t.stride(O, sizeof(T));
  parallel_for(0, t.chunks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> strip(static_cast<size_t>((2 * t.rows + 2) * in_width * std::max(t.C, O)));
    std::vector<T> v(static_cast<size_t>(kX * xi)), m(static_cast<size_t>(kX * xm));
    for (int64_t chunk = lo; chunk < hi; ++chunk) {
      const int64_t r0 = chunk * t.rows, r1 = std::min(N * t.TH, r0 + t.rows);
      const int64_t P = (r1 - r0) * t.TW;
      transform_inputs(t, g, x, x_sample, r0, r1, strip.data(), v.data());
      for (int x = 0; x < kX; ++x) {
        GemmProblem<T> p;
        p.M = P, p.N = O, p.K = t.C;
        p.a = v.data() + x * xi, p.a_rs = t.C, p.a_cs = 1;
        p.b = u.data() + x * t.C * O, p.b_rs = 1, p.b_cs = t.C, p.b_packed = &packed[x];
        p.c = m.data() + x * xm, p.ldc = O;
        gemm(p);
      }
      const kernels::WinogradRow row{O, t.TW, out_width * O, O, xm};
      for_sample_runs(t, r0, r1, [&](int64_t n, int64_t ty0, int64_t ty1, int64_t first) {
        for (int64_t ty = ty0; ty < ty1; ++ty)
          output(row, m.data() + (first + (ty - ty0) * t.TW) * O,
                 strip.data() + 2 * (ty - ty0) * row.s_row, b);
        scatter_strip(strip.data(), O, g.Ho, g.Wo, 2 * ty0, 2 * (ty1 - ty0), out_width,
                      y + n * y_sample);
      });
    }
  });
}

template <class T>
void backward_weight(int64_t N, const ConvGeometry& g, int64_t O, const T* x, const T* dy, T* dw) {
  const Tiling t(N, g, O, sizeof(T), 1);
  const int64_t C = t.C, part_bytes = kX * O * C * int64_t(sizeof(T));
  const int64_t parts = std::max<int64_t>(
      1, std::min({kParts, t.chunks, kPartsBytes / std::max<int64_t>(part_bytes, 1)}));
  if (N == 0) return std::fill(dw, dw + O * C * 9, T(0));
  const auto grad_output = kernels::for_dtype<T>(kernels::active().winograd_grad_output_f32,
                                                 kernels::active().winograd_grad_output_f64);
  const int64_t in_width = 2 * t.TW + 2, out_width = 2 * t.TW;
  const int64_t xi = t.stride(C, sizeof(T)), xe = t.stride(O, sizeof(T));
  std::vector<T> du(static_cast<size_t>(parts * kX * O * C));
  parallel_for(0, parts, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> strip(static_cast<size_t>((2 * t.rows + 2) * in_width * std::max(C, O)));
    std::vector<T> v(static_cast<size_t>(kX * xi)), e(static_cast<size_t>(kX * xe));
    for (int64_t part = lo; part < hi; ++part) {
      T* acc = du.data() + part * kX * O * C;
      for (int64_t chunk = part; chunk < t.chunks; chunk += parts) {
        const int64_t r0 = chunk * t.rows, r1 = std::min(N * t.TH, r0 + t.rows);
        const int64_t P = (r1 - r0) * t.TW;
        transform_inputs(t, g, x, C * g.H * g.W, r0, r1, strip.data(), v.data());
        const kernels::WinogradRow row{O, t.TW, out_width * O, O, xe};
        for_sample_runs(t, r0, r1, [&](int64_t n, int64_t ty0, int64_t ty1, int64_t first) {
          gather_strip(dy + n * O * g.Ho * g.Wo, O, g.Ho, g.Wo, 0, 0, 2 * ty0, 2 * (ty1 - ty0),
                       out_width, strip.data());
          for (int64_t ty = ty0; ty < ty1; ++ty)
            grad_output(row, strip.data() + 2 * (ty - ty0) * row.s_row,
                        e.data() + (first + (ty - ty0) * t.TW) * O);
        });
        for (int x = 0; x < kX; ++x) {
          GemmProblem<T> p;
          p.M = O, p.N = C, p.K = P;
          p.a = e.data() + x * xe, p.a_rs = 1, p.a_cs = O;
          p.b = v.data() + x * xi, p.b_rs = C, p.b_cs = 1;
          p.c = acc + x * O * C, p.ldc = C;
          p.beta = chunk == part ? T(0) : T(1);
          gemm(p);
        }
      }
    }
  });
  for (int64_t part = 1; part < parts; ++part)
    for (int64_t i = 0; i < kX * O * C; ++i) du[i] += du[part * kX * O * C + i];
  // dw = G^T dU G, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1].
  const T h = T(0.5);
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c) {
      T z[4][4];
      for (int x = 0; x < kX; ++x) z[x / 4][x % 4] = du[(x * O + o) * C + c];
      T a[3][4];  // G^T z
      for (int j = 0; j < 4; ++j) {
        a[0][j] = z[0][j] + h * (z[1][j] + z[2][j]);
        a[1][j] = h * (z[1][j] - z[2][j]);
        a[2][j] = h * (z[1][j] + z[2][j]) + z[3][j];
      }
      T* k = dw + (o * C + c) * 9;
      for (int i = 0; i < 3; ++i) {
        k[3 * i] = a[i][0] + h * (a[i][1] + a[i][2]);
        k[3 * i + 1] = h * (a[i][1] - a[i][2]);
        k[3 * i + 2] = h * (a[i][1] + a[i][2]) + a[i][3];
      }
    }
}

template void forward<float>(int64_t, const ConvGeometry&, int64_t, const float*, int64_t,
                             const float*, const float*, float*, int64_t);
template void forward<double>(int64_t, const ConvGeometry&, int64_t, const double*, int64_t,
                              const double*, const double*, double*, int64_t);
template void backward_weight<float>(int64_t, const ConvGeometry&, int64_t, const float*,
                                     const float*, float*);
template void backward_weight<double>(int64_t, const ConvGeometry&, int64_t, const double*,
                                      const double*, double*);

}  // namespace dlcore::winograd
