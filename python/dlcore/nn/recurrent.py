"""Recurrent layers: the cells ``RNNCell``, ``LSTMCell``, ``GRUCell`` (one step, composed of
dlcore ops) and the sequence layers ``RNN``, ``LSTM``, ``GRU``, whose every layer and
direction runs as one fused C++ op over the whole sequence, forward and backward
(``dlcore.nn.functional.rnn_layer``).

Equations, weight names and shapes are PyTorch's: ``weight_ih`` (G*hidden, input),
``weight_hh`` (G*hidden, hidden), gates stacked i, f, g, o (LSTM) and r, z, n (GRU).
"""
import math

from .. import _C
from ..creation import empty, zeros
from . import functional as F
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence, _pack_sorted, _unpack_sorted

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_size(owner, **sizes):
    for name, v in sizes.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{owner}: {name} must be a positive integer, got {v!r}")


def _uniform_init(params, hidden_size):
    """PyTorch's default: every weight and bias uniform in +-1/sqrt(hidden_size)."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in params:
        init.uniform_(p, -bound, bound)


# ---------------------------------------------------------------- cells
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, dtype=None):
        super().__init__()
        _check_size(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = dtype or _C._get_default_dtype()
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self.parameters(), self.hidden_size)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_states):
        """Batches an unbatched input; checks shapes. Returns (input, states, batched)."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}) or "
                             f"({self.input_size},), got {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features, expected input_size="
                             f"{self.input_size} (input shape {tuple(input.shape)})")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        B = input.shape[0]
        if hx is None:
            states = [zeros(B, self.hidden_size, dtype=input.dtype) for _ in range(n_states)]
        else:
            states = list(hx) if n_states == 2 else [hx]
            if len(states) != n_states:
                raise ValueError(f"{name}: expected hx as a tuple (h, c), got {len(states)} tensors")
            want = (B, self.hidden_size) if batched else (self.hidden_size,)
            for k, s in enumerate(states):
                if tuple(s.shape) != want:
                    which = "hx" if n_states == 1 else ("h", "c")[k]
                    raise ValueError(f"{name}: expected {which} of shape {want} for input of shape "
                                     f"{tuple(input.shape) if batched else (self.input_size,)}, "
                                     f"got {tuple(s.shape)}")
            if not batched:
                states = [s.unsqueeze(0) for s in states]
        return input, states, batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu with ``nonlinearity='relu'``)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        a = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h = a.tanh() if self.nonlinearity == "tanh" else a.relu()
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') from (h, c): i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the four chunks
    of x W_ih^T + b_ih + h W_hh^T + b_hh; c' = f c + i g; h' = o tanh(c')."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        a = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = a.chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """h' = (1 - z) n + z h with r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z),
    n = tanh(x_n + r h_n), where x_* are chunks of x W_ih^T + b_ih and h_* of h W_hh^T + b_hh."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        xr, xz, xn = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, 1)
        hr, hz, hn = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        h = n + z * (h - n)
        return h if batched else h.squeeze(0)


# ---------------------------------------------------------------- sequence layers
class RNNBase(Module):
    """The stack of layers shared by RNN, LSTM and GRU. ``forward(input, hx=None)`` takes
    (T, B, input_size) (or (B, T, input_size) with ``batch_first``, or unbatched (T,
    input_size)), or a ``PackedSequence`` for batches of different lengths, and returns
    ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``) shaped as PyTorch's."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_size(name, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"{name}: proj_size must be a non-negative integer, got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported by LSTM")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size "
                             f"({hidden_size})")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        dtype = dtype or _C._get_default_dtype()
        G, D = _GATES[mode], 2 if bidirectional else 1
        P = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (G * hidden_size, input_size if layer == 0 else D * P)),
                          ("weight_hh", (G * hidden_size, P))]
                if bias:
                    shapes += [("bias_ih", (G * hidden_size,)), ("bias_hh", (G * hidden_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self.parameters(), self.hidden_size)

    def flatten_parameters(self):
        """Kept for scripts written for PyTorch; dlcore's weights need no flattening."""

    @property
    def all_weights(self):
        """Per layer and direction, the list [weight_ih, weight_hh, (bias_ih, bias_hh), (weight_hr)]."""
        D = 2 if self.bidirectional else 1
        per = len(self._flat_weights_names) // (self.num_layers * D)
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[k * per:(k + 1) * per]] for k in range(self.num_layers * D)]

    def _layer_weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: getattr(self, n + sfx, None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _check_state(self, h, want, what, input_shape):
        if tuple(h.shape) != want:
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {want} for input of "
                             f"shape {input_shape}, got {tuple(h.shape)}")

    def forward(self, input, hx=None):
        name = type(self).__name__
        is_lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        L, H, P = self.num_layers, self.hidden_size, self.proj_size or self.hidden_size
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, lengths = _unpack_sorted(input)
            batched = True
        else:
            if not isinstance(input, _C.Tensor):
                raise TypeError(f"{name}: expected a Tensor or PackedSequence, got {type(input).__name__}")
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: expected input of 3 dims (seq, batch, feature) or 2 "
                                 f"(unbatched), got shape {tuple(input.shape)}")
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size: expected "
                             f"{self.input_size}, got {x.shape[-1]} (input shape {tuple(x.shape)})")
        B = x.shape[1]
        in_shape = tuple(input.data.shape) if packed else tuple(input.shape)
        h0 = c0 = None
        if hx is not None:
            states = list(hx) if is_lstm else [hx]
            if is_lstm and len(states) != 2:
                raise ValueError(f"{name}: expected hx as a tuple (h_0, c_0)")
            shapes = [(L * D, B, P), (L * D, B, H)] if batched else [(L * D, P), (L * D, H)]
            for k, s in enumerate(states):
                self._check_state(s, shapes[k], ("h_0", "c_0")[k], in_shape)
            if not batched:
                states = [s.unsqueeze(1) for s in states]
            if packed and input.sorted_indices is not None:
                states = [s.index_select(1, input.sorted_indices) for s in states]
            h0 = states[0]
            c0 = states[1] if is_lstm else None
        mode = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}[self.mode]
        hs, cs = [], []
        for layer in range(L):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            dirs = []
            for d in range(D):
                k = layer * D + d
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, d)
                dirs.append((None if h0 is None else h0[k], None if c0 is None else c0[k],
                             w_ih, w_hh, b_ih, b_hh, w_hr, d == 1))
            results = F.rnn_layer_directions(mode, x, dirs, lengths)
            outs = [y for y, _, _ in results]
            hs += [h for _, h, _ in results]
            cs += [c for _, _, c in results]
            x = outs[0] if D == 1 else _C.cat(outs, 2)
        h_n = _C.stack(hs, 0)
        c_n = _C.stack(cs, 0) if is_lstm else None
        if packed:
            out = PackedSequence(_pack_sorted(x, input.batch_sizes), input.batch_sizes,
                                 input.sorted_indices, input.unsorted_indices)
            if input.unsorted_indices is not None:
                h_n = h_n.index_select(1, input.unsorted_indices)
                c_n = c_n.index_select(1, input.unsorted_indices) if is_lstm else None
        else:
            out = x
            if batched and self.batch_first:
                out = out.transpose(0, 1)
            if not batched:
                out, h_n = out.squeeze(1), h_n.squeeze(1)
                c_n = c_n.squeeze(1) if is_lstm else None
        return (out, (h_n, c_n)) if is_lstm else (out, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; ``proj_size > 0`` projects each h to proj_size values
    (``weight_hr``), as PyTorch's LSTM does."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, with PyTorch's form of the n gate: n = tanh(x_n + r (h W_hn^T + b_hn))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)
