// The index map of convolution as GEMM (ops/conv.cpp owns the loops over samples and
// groups and the threads; im2col and col2im are per-ISA kernels, kernels.h).
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

}  // namespace dlcore::kernels
