"""Attention over encoder states for sequence-to-sequence decoders, one decoder step at a time.

``LuongAttention`` scores a query against each encoder state with a dot product ('dot') or
a bilinear form ('general'); ``BahdanauAttention`` with a small feed-forward net
(additive). Both return the context (the weighted sum of the encoder states) and the
weights. ``AttentionDecoderCell`` is one step of a GRU or LSTM decoder that uses either:

- Luong (``attention='dot'`` or ``'general'``): the cell steps on the input, its new h
  queries the encoder, and the output is tanh(W_c [context; h]).
- Bahdanau (``attention='additive'``): the previous h queries the encoder, the cell steps on
  [input; context], and the output is the new h.

``mask`` (B, S) is True at the encoder steps to attend to (False: padding).
"""
import math

from .. import _C
from ..creation import empty, zeros
from . import functional as F
from .init import uniform_
from .linear import Linear
from .module import Module, Parameter
from .recurrent import GRUCell, LSTMCell, _check_size


def _attend(scores, values, mask, name):
    """softmax over the source steps of scores (B, S), masked; context (B, D) and weights."""
    if mask is not None:
        if tuple(mask.shape) != tuple(scores.shape):
            raise ValueError(f"{name}: expected mask of shape {tuple(scores.shape)}, got {tuple(mask.shape)}")
        scores = scores.masked_fill(mask.logical_not(), -math.inf)
    weights = F.softmax(scores, 1)
    return _C.matmul(weights.unsqueeze(1), values).squeeze(1), weights


def _check_keys(query, keys, name):
    if query.dim() != 2 or keys.dim() != 3 or keys.shape[0] != query.shape[0]:
        raise ValueError(f"{name}: expected query (B, H) and keys (B, S, H), got {tuple(query.shape)} and "
                         f"{tuple(keys.shape)}")


class LuongAttention(Module):
    """score(q, k) = q . k ('dot', q and k of one size) or q . (W k) ('general', W of shape
    (query_size, key_size)). ``forward(query (B, Hq), keys (B, S, Hk), values=keys, mask=None)``
    returns (context (B, Hv), weights (B, S))."""

    def __init__(self, query_size=None, key_size=None, score="dot", dtype=None):
        super().__init__()
        if score not in ("dot", "general"):
            raise ValueError(f"LuongAttention: score must be 'dot' or 'general', got {score!r}")
        self.score = score
        if score == "general":
            _check_size("LuongAttention", query_size=query_size, key_size=key_size or query_size)
            self.weight = Parameter(empty(query_size, key_size or query_size, dtype=dtype or _C._get_default_dtype()))
            bound = 1.0 / math.sqrt(key_size or query_size)
            uniform_(self.weight, -bound, bound)

    def forward(self, query, keys, values=None, mask=None):
        _check_keys(query, keys, "LuongAttention")
        q = query if self.score == "dot" else _C.matmul(query, self.weight)
        if q.shape[1] != keys.shape[2]:
            raise ValueError(f"LuongAttention: query of size {q.shape[1]} cannot score keys of size {keys.shape[2]}"
                             + (" (use score='general' for different sizes)" if self.score == "dot" else ""))
        scores = _C.matmul(keys, q.unsqueeze(2)).squeeze(2)
        return _attend(scores, keys if values is None else values, mask, "LuongAttention")

    def extra_repr(self):
        return f"score={self.score!r}"


class BahdanauAttention(Module):
    """score(q, k) = v . tanh(W_q q + W_k k + b): ``query_proj`` (no bias), ``key_proj`` and
    ``v`` (hidden_size -> 1, no bias). ``forward`` as in LuongAttention."""

    def __init__(self, query_size, key_size, hidden_size, dtype=None):
        super().__init__()
        self.query_proj = Linear(query_size, hidden_size, bias=False, dtype=dtype)
        self.key_proj = Linear(key_size, hidden_size, dtype=dtype)
        self.v = Linear(hidden_size, 1, bias=False, dtype=dtype)

    def forward(self, query, keys, values=None, mask=None):
        _check_keys(query, keys, "BahdanauAttention")
        e = (self.key_proj(keys) + self.query_proj(query).unsqueeze(1)).tanh()
        return _attend(self.v(e).squeeze(2), keys if values is None else values, mask, "BahdanauAttention")


class AttentionDecoderCell(Module):
    """One decoder step with attention over encoder states (B, S, encoder_size).

    ``forward(input (B, input_size), state, encoder_states, mask=None)`` returns
    ``(output (B, hidden_size), state, weights (B, S))``; ``state`` is h (GRU) or (h, c)
    (LSTM), None for zeros. See the module docstring for the two styles."""

    def __init__(self, input_size, hidden_size, encoder_size=None, cell="gru", attention="dot", dtype=None):
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"AttentionDecoderCell: cell must be 'gru' or 'lstm', got {cell!r}")
        if attention not in ("dot", "general", "additive"):
            raise ValueError(f"AttentionDecoderCell: attention must be 'dot', 'general' or 'additive', "
                             f"got {attention!r}")
        enc = encoder_size or hidden_size
        if attention == "dot" and enc != hidden_size:
            raise ValueError(f"AttentionDecoderCell: 'dot' attention needs encoder_size == hidden_size, got "
                             f"{enc} and {hidden_size} (use 'general' or 'additive')")
        self.cell_type, self.attention_type = cell, attention
        self.hidden_size = hidden_size
        Cell = GRUCell if cell == "gru" else LSTMCell
        if attention == "additive":
            self.attention = BahdanauAttention(hidden_size, enc, hidden_size, dtype=dtype)
            self.cell = Cell(input_size + enc, hidden_size, dtype=dtype)
        else:
            self.attention = LuongAttention(hidden_size, enc, attention, dtype=dtype)
            self.cell = Cell(input_size, hidden_size, dtype=dtype)
            self.combine = Linear(enc + hidden_size, hidden_size, bias=False, dtype=dtype)

    def forward(self, input, state, encoder_states, mask=None):
        lstm = self.cell_type == "lstm"
        if state is None:
            h = zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            state = (h, h) if lstm else h
        h_prev = state[0] if lstm else state
        if self.attention_type == "additive":
            context, weights = self.attention(h_prev, encoder_states, mask=mask)
            state = self.cell(_C.cat([input, context], 1), state)
            return (state[0] if lstm else state), state, weights
        state = self.cell(input, state)
        h = state[0] if lstm else state
        context, weights = self.attention(h, encoder_states, mask=mask)
        return self.combine(_C.cat([context, h], 1)).tanh(), state, weights
