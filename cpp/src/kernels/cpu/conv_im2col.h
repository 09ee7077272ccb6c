// The index map of convolution as GEMM (ops/conv.cpp owns the loops over samples and
// groups and the threads; im2col and col2im are per-ISA kernels, kernels.h).
//   im2col: col[(c kh + i) kw + j][oh Wo + ow] = x[c][oh sh - ph + i dh][ow sw - pw + j dw]
//           (0 where the index falls in the zero padding), for c < C of one sample
//   col2im: the adjoint, dx[c][ih][iw] += col[...] over the same index map
// x and dx are one sample's (C, H, W) planes, contiguous; col is (C kh kw, Ho Wo), its
// rows ld apart in im2col (col2im: Ho Wo apart).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "dlcore/gemm.h"

namespace dlcore::kernels {

// A convolution's geometry for one group: input channels C of the group, padding at
// the top and left (the bottom and right follow from Ho, Wo). The GEMM gathers
// patches from the same description.
using ConvGeometry = GemmPatches;

// The entries [lo, hi) of t < n whose input column base + t s lies in [0, W): the part of
// an output row segment that meets the image rather than the padding.
inline void columns_inside(int64_t base, int64_t s, int64_t W, int64_t n, int64_t& lo,
                           int64_t& hi) {
  lo = base >= 0 ? 0 : (-base + s - 1) / s;
  hi = W - base <= 0 ? 0 : (W - base + s - 1) / s;
  if (hi > n) hi = n;
  if (lo > hi) lo = hi;
}

// Whether every patch lies inside the image (no padding, nothing read past it): the
// GEMM then gathers or reads the patches without bounds checks.
inline bool patches_inside(const ConvGeometry& g) {
  return g.ph <= 0 && g.pw <= 0 && (g.Ho - 1) * g.sh - g.ph + (g.kh - 1) * g.dh < g.H &&
         (g.Wo - 1) * g.sw - g.pw + (g.kw - 1) * g.dw < g.W;
}

// Copies C planes of rows x cols into a zeroed (C, hb, wb) buffer at (top, left): an
// image with its zero padding written out.
template <class T>
void copy_bordered(const T* x, int64_t C, int64_t rows, int64_t cols, int64_t hb, int64_t wb,
                   int64_t top, int64_t left, T* out) {
  std::fill(out, out + C * hb * wb, T(0));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(out + (c * hb + r + top) * wb + left, x + (c * rows + r) * cols,
                  sizeof(T) * static_cast<size_t>(cols));
}

}  // namespace dlcore::kernels
