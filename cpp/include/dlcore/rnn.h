// Recurrent layers: one layer and one direction of an RNN, LSTM or GRU over a whole
// sequence as a single op, forward and backpropagation through time in C++ (the
// equations are spelled out in cpp/src/kernels/cpu/rnn_cell_simd.cpp).
#pragma once
#include <vector>

#include "dlcore/tensor.h"

namespace dlcore {

enum class RnnCell : int { RnnTanh, RnnRelu, Lstm, Gru };

// Runs `cell` over x (T, B, I), time-major, from the state h0 (B, P) (and c0 (B, H)
// for the LSTM), with PyTorch's weights: w_ih (G H, I), w_hh (G H, P), b_ih and
// b_hh (G H) or undefined, G = 4 (LSTM, gates i, f, g, o), 3 (GRU, r, z, n) or 1.
// w_hr (P, H), LSTM only, projects each h to P values (PyTorch's proj_size); without
// it P = H. lengths (B, int64, values in [0, T]) stops sequence b after lengths[b]
// steps: its later outputs are 0 and its state is carried unchanged to h_n, the
// gradient alike. reverse runs from the last step (of each sequence) to the first.
// Returns {y (T, B, P), h_n (B, P), c_n (B, H)}, c_n undefined for GRU and RNN.
// Differentiable in x, h0, c0 and every weight (first order).
std::vector<Tensor> rnn_layer(RnnCell cell, const Tensor& x, const Tensor& h0, const Tensor& c0,
                              const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                              const Tensor& b_hh, const Tensor& w_hr = Tensor(),
                              const Tensor& lengths = Tensor(), bool reverse = false);

// The weights and initial state of one direction of a layer (see rnn_layer).
struct RnnDirection {
  Tensor h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr;
  bool reverse = false;
};

// Several directions of one layer over the same x (a bidirectional layer: the forward and
// the reverse one) as one op: with two threads or more, the directions run at the same
// time, one thread each, forward and backward. Returns {y, h_n, c_n} per direction, as
// rnn_layer does.
std::vector<std::vector<Tensor>> rnn_layer_directions(RnnCell cell, const Tensor& x,
                                                      const std::vector<RnnDirection>& dirs,
                                                      const Tensor& lengths = Tensor());

}  // namespace dlcore
