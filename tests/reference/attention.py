"""Attention and Transformer layers in plain NumPy, from the equations: the full score
matrix, softmax, per-head loops. Weights follow PyTorch's layout (Linear.weight is
(out, in); MultiheadAttention's in_proj_weight stacks W_q, W_k, W_v)."""
import numpy as np

from .nn import layer_norm, linear
from .ops import relu


def softmax_rows(s):
    """softmax over the last axis; a row that is all -inf gives zeros."""
    m = s.max(-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(s - m)
    total = e.sum(-1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def scores(q, k, mask=None, causal=False, scale=None):
    """The full score matrix q k^T scale + mask, (..., L, S); a bool mask marks the keys
    that take part (-inf elsewhere), a float one is added."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    L, S = s.shape[-2:]
    if causal:
        s = np.where(np.tril(np.ones((L, S), bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    return s


def sdpa(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q k^T scale + mask) v, q (..., L, E), k (..., S, E), v (..., S, Ev)."""
    return np.matmul(softmax_rows(scores(q, k, mask, causal, scale)), v)


def sdpa_grads(q, k, v, dout, causal=False, scale=None):
    """dq, dk, dv of sdpa for the output gradient dout, from the chain rule through the full
    matrices: P = softmax(S), dV = P^T dO, dP = dO V^T, dS = P (dP - sum_c dP P),
    dQ = scale dS K, dK = scale dS^T Q."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    p = softmax_rows(scores(q, k, None, causal, scale))
    dv = np.matmul(np.swapaxes(p, -1, -2), dout)
    dp = np.matmul(dout, np.swapaxes(v, -1, -2))
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    return scale * np.matmul(ds, k), scale * np.matmul(np.swapaxes(ds, -1, -2), q), dv


def rms_norm(x, nd, w=None, eps=1e-6):
    axes = tuple(range(x.ndim - nd, x.ndim))
    y = x / np.sqrt((x ** 2).mean(axes, keepdims=True) + eps)
    return y * (1 if w is None else w)


def row_norm_grads(x, w, g, eps, rms=False):
    """Gradients (dx, dw, db) of layer norm (rms=False) or RMS norm over the last axis of the
    2-D x, from the chain rule on y = xhat w + b with xhat = (x - mean) / sqrt(var + eps)
    (mean 0 and var the mean square for RMS norm)."""
    d = x.shape[1]
    mean = 0.0 if rms else x.mean(1, keepdims=True)
    rstd = 1.0 / np.sqrt(((x - mean) ** 2).mean(1, keepdims=True) + eps)
    xhat = (x - mean) * rstd
    gx = g * w  # dL/dxhat
    # dxhat_i/dx_j = rstd (delta_ij - [not rms] 1/d - xhat_i xhat_j / d)
    dx = rstd * (gx - xhat * (gx * xhat).sum(1, keepdims=True) / d)
    if not rms:
        dx -= rstd * gx.sum(1, keepdims=True) / d
    return dx, (g * xhat).sum(0), g.sum(0)


def mha(query, key, value, wq, wk, wv, bq, bk, bv, wo, bo, num_heads, mask=None):
    """Multi-head attention on batch-first inputs (N, L, E), (N, S, kdim), (N, S, vdim),
    one head at a time; `mask` is additive, broadcasting to (N, H, L, S). Returns
    (output (N, L, E), weights (N, H, L, S))."""
    q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    N, L, E = q.shape
    S = k.shape[1]
    hd = E // num_heads
    mask = np.zeros((N, num_heads, L, S)) if mask is None else np.broadcast_to(mask, (N, num_heads, L, S))
    out = np.zeros((N, L, E))
    weights = np.zeros((N, num_heads, L, S))
    for n in range(N):
        for h in range(num_heads):
            cols = slice(h * hd, (h + 1) * hd)
            s = q[n, :, cols] @ k[n, :, cols].T / np.sqrt(hd) + mask[n, h]
            p = softmax_rows(s)
            weights[n, h] = p
            out[n, :, cols] = p @ v[n, :, cols]
    return linear(out, wo, bo), weights


def mha_extended(query, key, value, wq, wk, wv, bq, bk, bv, wo, bo, num_heads, mask=None, bias_k=None,
                 bias_v=None, zero_attn=False, static_k=None, static_v=None):
    """Multi-head attention with PyTorch's extra key/value positions, one head at a time, on
    batch-first inputs. After the projections, bias_k/bias_v (E,) are appended as one more
    key/value position of every batch row, then (zero_attn) a zero position; static_k and
    static_v (N * H, S', E / H) replace a head's keys/values. `mask` (additive) broadcasts to
    (N, H, L, S) over the original S keys (or the static ones): the appended positions are
    attended by every query. Returns (output (N, L, E), weights (N, H, L, S_total))."""
    q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    N, L, E = q.shape
    hd = E // num_heads
    out = np.zeros((N, L, E))
    weights = []
    for n in range(N):
        per_head = []
        for h in range(num_heads):
            cols = slice(h * hd, (h + 1) * hd)
            kh, vh = k[n, :, cols], v[n, :, cols]
            if bias_k is not None:
                kh = np.vstack([kh, bias_k[cols]])
                vh = np.vstack([vh, bias_v[cols]])
            if static_k is not None:
                kh = static_k[n * num_heads + h]
            if static_v is not None:
                vh = static_v[n * num_heads + h]
            if zero_attn:
                kh = np.vstack([kh, np.zeros(hd)])
                vh = np.vstack([vh, np.zeros(vh.shape[1])])
            s = q[n, :, cols] @ kh.T / np.sqrt(hd)
            if mask is not None:
                m = np.broadcast_to(mask, (N, num_heads) + mask.shape[-2:])[n, h]
                s[:, :m.shape[1]] += np.broadcast_to(m, (L, m.shape[1]))
            p = softmax_rows(s)
            per_head.append(p)
            out[n, :, cols] = p @ vh
        weights.append(per_head)
    return linear(out, wo, bo), np.array(weights)


def encoder_layer(x, p, num_heads, norm_first=False, mask=None, eps=1e-5):
    """TransformerEncoderLayer (no dropout) on (N, L, E); p maps PyTorch's parameter names
    to arrays."""
    def sa(y):
        E = y.shape[-1]
        w, b = p["self_attn.in_proj_weight"], p["self_attn.in_proj_bias"]
        return mha(y, y, y, w[:E], w[E:2 * E], w[2 * E:], b[:E], b[E:2 * E], b[2 * E:],
                   p["self_attn.out_proj.weight"], p["self_attn.out_proj.bias"], num_heads, mask)[0]

    def ff(y):
        return linear(relu(linear(y, p["linear1.weight"], p["linear1.bias"])), p["linear2.weight"], p["linear2.bias"])

    def n(i, y):
        return layer_norm(y, 1, p[f"norm{i}.weight"], p[f"norm{i}.bias"], eps)

    if norm_first:
        x = x + sa(n(1, x))
        return x + ff(n(2, x))
    x = n(1, x + sa(x))
    return n(2, x + ff(x))


def decoder_layer(x, mem, p, num_heads, tgt_mask=None, norm_first=False, eps=1e-5):
    """TransformerDecoderLayer (no dropout) on (N, L, E) with memory (N, S, E)."""
    def attn(prefix, y, m, mask):
        E = y.shape[-1]
        w, b = p[f"{prefix}.in_proj_weight"], p[f"{prefix}.in_proj_bias"]
        return mha(y, m, m, w[:E], w[E:2 * E], w[2 * E:], b[:E], b[E:2 * E], b[2 * E:],
                   p[f"{prefix}.out_proj.weight"], p[f"{prefix}.out_proj.bias"], num_heads, mask)[0]

    def ff(y):
        return linear(relu(linear(y, p["linear1.weight"], p["linear1.bias"])), p["linear2.weight"], p["linear2.bias"])

    def n(i, y):
        return layer_norm(y, 1, p[f"norm{i}.weight"], p[f"norm{i}.bias"], eps)

    if norm_first:
        x = x + attn("self_attn", n(1, x), n(1, x), tgt_mask)
        x = x + attn("multihead_attn", n(2, x), mem, None)
        return x + ff(n(3, x))
    x = n(1, x + attn("self_attn", x, x, tgt_mask))
    x = n(2, x + attn("multihead_attn", x, mem, None))
    return n(3, x + ff(x))


def rotary(x, positions=None, base=10000.0, interleaved=False):
    """RoPE, one pair of features at a time."""
    L, D = x.shape[-2:]
    pos = np.arange(L) if positions is None else np.asarray(positions, dtype=np.float64)
    out = np.array(x, dtype=np.float64)
    for i in range(D // 2):
        theta = base ** (-2.0 * i / D)
        a, b = (2 * i, 2 * i + 1) if interleaved else (i, i + D // 2)
        for t in range(L):
            c, s = np.cos(pos[t] * theta), np.sin(pos[t] * theta)
            x1, x2 = x[..., t, a], x[..., t, b]
            out[..., t, a] = x1 * c - x2 * s
            out[..., t, b] = x1 * s + x2 * c
    return out


def sinusoidal(length, d):
    table = np.zeros((length, d))
    for p in range(length):
        for i in range(0, d, 2):
            angle = p / 10000.0 ** (i / d)
            table[p, i] = np.sin(angle)
            if i + 1 < d:
                table[p, i + 1] = np.cos(angle)
    return table
