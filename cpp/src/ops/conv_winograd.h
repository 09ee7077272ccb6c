// 3x3 convolutions at stride 1 by Winograd's F(2x2, 3x3) (conv_winograd.cpp): 16
// products per 2x2 block of outputs instead of 36, as sixteen GEMMs over channels
// between the transforms of kernels/cpu/conv_winograd_simd.cpp. ops/conv.cpp routes the
// forward pass, the input gradient (a convolution itself at stride 1) and the weight
// gradient of one-group convolutions here when suitable() says so.
#pragma once
#include <cstdint>

#include "kernels/cpu/conv_im2col.h"

namespace dlcore::winograd {

using kernels::ConvGeometry;

// Whether F(2x2, 3x3) runs the convolution of N images of geometry g with O output
// channels (its forward pass, or with weight_gradient its weight gradient): a 3x3
// kernel, stride 1, dilation 1, enough channels on both sides for the GEMMs, and enough
// tiles in the batch to repay transforming the weights.
bool suitable(int64_t N, const ConvGeometry& g, int64_t O, bool weight_gradient = false);

// y[n] = conv(x[n], w) + b for n < N: images x[n] (g.C, g.H, g.W) x_sample apart,
// w (O, g.C, 3, 3), b (O) or null, outputs (O, g.Ho, g.Wo) y_sample apart.
template <class T>
void forward(int64_t N, const ConvGeometry& g, int64_t O, const T* x, int64_t x_sample, const T* w,
             const T* b, T* y, int64_t y_sample);

// dw (O, g.C, 3, 3) = sum over n of dy[n] correlated with x[n]: x contiguous
// (N, g.C, g.H, g.W), dy contiguous (N, O, g.Ho, g.Wo). The samples are summed in an
// order fixed by the shapes, so the bits do not depend on the thread count.
template <class T>
void backward_weight(int64_t N, const ConvGeometry& g, int64_t O, const T* x, const T* dy, T* dw);

}  // namespace dlcore::winograd
