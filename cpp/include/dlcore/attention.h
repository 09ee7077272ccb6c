// Fused attention: softmax(scale Q K^T + mask) V without the T x T score matrix.
#pragma once
#include <optional>

#include "dlcore/tensor.h"

namespace dlcore {

// query (..., Lq, E), key (..., Lk, E), value (..., Lk, Ev) -> (..., Lq, Ev), the
// leading dimensions broadcast against each other (PyTorch's
// scaled_dot_product_attention). float32 or float64.
//   attn_mask: broadcastable to (..., Lq, Lk); bool (true = the key takes part) or of
//     the query's dtype (added to the scores; it gets a gradient when it requires one).
//   dropout_p: the probability of dropping each attention weight (applied whenever it
//     is above 0, as in PyTorch's functional form; layers pass 0 in eval mode).
//   is_causal: query i sees keys j <= i (the top-left aligned triangle); not together
//     with attn_mask.
//   scale: defaults to 1 / sqrt(E).
// A query row whose keys are all masked gets zeros (and zero gradients), as PyTorch
// does. Forward and backward run tile by tile with an online softmax; the backward
// recomputes each tile from the saved log-sum-exp, so memory grows linearly in the
// sequence lengths. The same bits come out for any thread count.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

}  // namespace dlcore
