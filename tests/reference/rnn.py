"""Recurrent layers in plain NumPy, step by step from PyTorch's documented equations.

Weights follow PyTorch's layout: w_ih (G*H, I), w_hh (G*H, P), gates stacked in the
order i, f, g, o (LSTM) or r, z, n (GRU)."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def cell_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """One step for a batch: x (B, I), h (B, P), c (B, H) or None. Returns (h, c)."""
    b_ih = 0.0 if b_ih is None else b_ih
    b_hh = 0.0 if b_hh is None else b_hh
    gx = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if mode == "lstm":
        i, f, g, o = np.split(gx + gh, 4, axis=-1)
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c = f * c + i * g
        h = o * np.tanh(c)
        if w_hr is not None:
            h = h @ w_hr.T
        return h, c
    if mode == "gru":
        xr, xz, xn = np.split(gx, 3, axis=-1)
        hr, hz, hn = np.split(gh, 3, axis=-1)
        r = sigmoid(xr + hr)
        z = sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return (1.0 - z) * n + z * h, None
    a = gx + gh
    return (np.tanh(a) if mode == "rnn_tanh" else np.maximum(a, 0.0)), None


def rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr=None, lengths=None, reverse=False):
    """One layer, one direction over x (T, B, I). Sequence b stops after lengths[b]
    steps (its outputs past that are 0, its state is carried). Returns (y, h_n, c_n)."""
    T, B, _ = x.shape
    P = w_hh.shape[1]
    H = w_hh.shape[0] // {"lstm": 4, "gru": 3}.get(mode, 1)
    lengths = np.full(B, T) if lengths is None else np.asarray(lengths)
    h = np.zeros((B, P)) if h0 is None else np.array(h0, dtype=np.float64)
    c = (np.zeros((B, H)) if c0 is None else np.array(c0, dtype=np.float64)) if mode == "lstm" else None
    y = np.zeros((T, B, P))
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        hn, cn = cell_step(mode, x[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
        on = (t < lengths)[:, None]
        h = np.where(on, hn, h)
        if c is not None:
            c = np.where(on, cn, c)
        y[t] = np.where(on, hn, 0.0)
    return y, h, c


def rnn(mode, x, params, num_layers, bidirectional=False, h0=None, c0=None, lengths=None,
        batch_first=False):
    """A stack of layers as nn.RNN/LSTM/GRU computes it (no dropout). params[(layer, dir)] is
    (w_ih, w_hh, b_ih, b_hh, w_hr). Returns (output, h_n, c_n) shaped like PyTorch's."""
    if batch_first:
        x = np.swapaxes(x, 0, 1)
    D = 2 if bidirectional else 1
    hs, cs = [], []
    inp = x
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            w_ih, w_hh, b_ih, b_hh, w_hr = params[(layer, d)]
            y, h, c = rnn_layer(mode, inp, None if h0 is None else h0[k], None if c0 is None else c0[k],
                                w_ih, w_hh, b_ih, b_hh, w_hr, lengths, reverse=d == 1)
            outs.append(y)
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(outs, axis=-1)
    out = np.swapaxes(inp, 0, 1) if batch_first else inp
    return out, np.stack(hs), (np.stack(cs) if mode == "lstm" else None)


def softmax_masked(scores, mask):
    s = np.where(mask, scores, -np.inf) if mask is not None else scores
    e = np.exp(s - s.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def luong_attention(q, keys, mask=None, weight=None):
    """score = q . k, or q . (W k) with W (Hq, Hk); returns (context, weights)."""
    qq = q if weight is None else q @ weight
    w = softmax_masked(np.einsum("bsh,bh->bs", keys, qq), mask)
    return np.einsum("bs,bsh->bh", w, keys), w


def bahdanau_attention(q, keys, w_q, w_k, b_k, v, mask=None):
    """score = v . tanh(W_q q + W_k k + b_k), Linear weights (out, in); v (1, hidden)."""
    e = np.tanh(keys @ w_k.T + b_k + (q @ w_q.T)[:, None, :])
    w = softmax_masked((e @ v.T)[..., 0], mask)
    return np.einsum("bs,bsh->bh", w, keys), w
