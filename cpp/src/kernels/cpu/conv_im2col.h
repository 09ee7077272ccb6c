// Patch gathering for convolution as GEMM (ops/conv.cpp owns the loops over samples and
// groups and the threads); im2col itself is a per-ISA kernel (kernels.h: im2col_f32).
//   im2col: col[(c kh + i) kw + j][oh Wo + ow] = x[c][oh sh - ph + i dh][ow sw - pw + j dw]
//           (0 where the index falls in the zero padding), for c < C of one sample
//   col2im: the adjoint, dx[c][ih][iw] += col[...] over the same index map
// x and dx are one sample's (C, H, W) planes, contiguous; col is (C kh kw, Ho Wo), its
// rows ld apart in im2col (col2im: Ho Wo apart).
#pragma once
#include <cstdint>
#include <cstring>

#include "dlcore/gemm.h"

namespace dlcore::kernels {

// A convolution's geometry for one group: input channels C of the group, padding at
// the top and left (the bottom and right follow from Ho, Wo). The GEMM gathers
// patches from the same description.
using ConvGeometry = GemmPatches;

template <class T>
void col2im(const ConvGeometry& g, const T* col, T* dx) {
  const int64_t cols = g.cols();
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const T* in = col + ((c * g.kh + i) * g.kw + j) * cols;
        T* plane = dx + c * g.H * g.W;
        const int64_t off = j * g.dw - g.pw;
        int64_t lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
        int64_t hi = g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw;
        if (hi > g.Wo) hi = g.Wo;
        for (int64_t oh = 0; oh < g.Ho; ++oh) {
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          T* row = plane + ih * g.W + off;
          const T* r = in + oh * g.Wo;
          for (int64_t ow = lo; ow < hi; ++ow) row[ow * g.sw] += r[ow];
        }
      }
}

}  // namespace dlcore::kernels
