"""Attention: the fused ``scaled_dot_product_attention`` op, rotary embeddings, position
encodings and ``MultiheadAttention`` (PyTorch's names, shapes and masks); ``SDPBackend``
and ``sdpa_kernel`` as ``torch.nn.attention`` has them."""
import contextlib
import enum
import math

import numpy as np

from .. import _C
from ..creation import empty, tensor, zeros
from . import init
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter


class SDPBackend(enum.IntEnum):
    """The attention kernels PyTorch can choose between, for sdpa_kernel. dlcore has one,
    a fused tile-by-tile kernel with an online softmax: it serves MATH, FLASH_ATTENTION and
    EFFICIENT_ATTENTION (it computes exact attention, as each of them does)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_SERVED = frozenset({SDPBackend.MATH, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION})
_allowed_backends = None  # None: any; else the set sdpa_kernel allows


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Inside the block, scaled_dot_product_attention may use only the given backends (an
    SDPBackend or a list of them). dlcore's kernel serves MATH, FLASH_ATTENTION and
    EFFICIENT_ATTENTION; allowing none of those (CUDNN_ATTENTION alone, say) makes
    attention raise inside the block, as PyTorch does when no allowed kernel can run."""
    global _allowed_backends
    chosen = [backends] if isinstance(backends, SDPBackend) else backends
    if not isinstance(chosen, (list, tuple, set, frozenset)) or not all(isinstance(b, SDPBackend) for b in chosen):
        raise TypeError(f"sdpa_kernel: backends must be an SDPBackend or a list of them, got {backends!r}")
    previous = _allowed_backends
    _allowed_backends = frozenset(chosen)
    try:
        yield
    finally:
        _allowed_backends = previous


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, as one fused op (PyTorch's semantics).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading
    dimensions broadcast. ``attn_mask`` broadcasts to (..., L, S): bool (True: the key
    takes part) or a float mask of the query's dtype added to the scores (it gets a
    gradient when it requires one). ``is_causal`` lets query i see keys j <= i (not
    together with ``attn_mask``). ``scale`` defaults to 1 / sqrt(E). Dropout applies
    whenever ``dropout_p`` > 0, as in PyTorch's functional form. A query whose keys are
    all masked gets zeros.

    The C++ kernel computes the scores tile by tile with an online softmax and keeps only
    one log-sum-exp per query for the backward, which recomputes the tiles: memory grows
    linearly with the sequence length, never as L x S.

    ``enable_gqa=True`` allows grouped-query attention: key and value of shape (..., Hkv,
    S, E) serve a query of (..., Hq, L, E) when Hq is a multiple of Hkv, query head h
    reading key/value head h // (Hq / Hkv). The shared heads are broadcast, not copied.
    """
    if _allowed_backends is not None and not _allowed_backends & _SERVED:
        names = ", ".join(b.name for b in sorted(_allowed_backends)) or "none"
        raise RuntimeError(f"scaled_dot_product_attention: no available kernel: sdpa_kernel allows {names}, and "
                           "dlcore's fused kernel serves MATH, FLASH_ATTENTION and EFFICIENT_ATTENTION")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        hq, hkv = query.shape[-3], key.shape[-3]
        if hkv == 0 or hq % hkv or value.ndim < 3 or value.shape[-3] != hkv:
            raise ValueError(f"scaled_dot_product_attention: with enable_gqa the query's {hq} heads must be a multiple "
                             f"of the key's and value's, got query {tuple(query.shape)}, key {tuple(key.shape)}, "
                             f"value {tuple(value.shape)}")
        groups = hq // hkv
        q = query.reshape(*query.shape[:-3], hkv, groups, *query.shape[-2:])  # a view: heads split in groups
        k, v = key.unsqueeze(-3), value.unsqueeze(-3)  # (..., Hkv, 1, S, E): broadcast over the groups
        if attn_mask is not None and attn_mask.ndim >= 3:
            attn_mask = attn_mask.reshape(*attn_mask.shape[:-3], -1 if attn_mask.shape[-3] == hq else 1,
                                          groups if attn_mask.shape[-3] == hq else 1, *attn_mask.shape[-2:])
        out = _C.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)
        return out.reshape(*query.shape[:-3], hq, *out.shape[-2:])
    return _C.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)


def _rotary_angles(length, dim, positions, base, dtype):
    if positions is None:
        pos = np.arange(length, dtype=np.float64)
    else:
        pos = np.asarray(positions.numpy() if hasattr(positions, "numpy") else positions, dtype=np.float64)
        if pos.shape != (length,):
            raise ValueError(f"rotary_embedding: expected {length} positions (one per row), got shape {pos.shape}")
    inv_freq = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    angles = np.outer(pos, inv_freq)
    np_dtype = np.float64 if dtype == _C.dtype.float64 else np.float32
    return tensor(np.cos(angles).astype(np_dtype)), tensor(np.sin(angles).astype(np_dtype))


def rotary_embedding(x, positions=None, base=10000.0, interleaved=False):
    """Rotary position embedding (RoPE) of x (..., L, D), D even: each pair of features
    (x1, x2) at position p turns by the angle p * base^(-2i/D):
    (x1 cos - x2 sin, x1 sin + x2 cos). Pairs are (i, i + D/2) (the "rotate half" layout)
    or, with ``interleaved``, (2i, 2i + 1). ``positions`` (L values) default to 0..L-1.
    Applied to queries and keys, it makes their dot products depend on relative position.
    Differentiable (composed of ops)."""
    if x.ndim < 2 or x.shape[-1] % 2:
        raise ValueError(f"rotary_embedding: expected input (..., L, D) with D even, got shape {tuple(x.shape)}")
    length, dim = x.shape[-2], x.shape[-1]
    cos, sin = _rotary_angles(length, dim, positions, base, x.dtype)
    half = dim // 2
    if interleaved:
        pairs = x.reshape(*x.shape[:-1], half, 2)
        x1, x2 = pairs[..., 0], pairs[..., 1]
        return _C.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).reshape(*x.shape)
    x1, x2 = x[..., :half], x[..., half:]
    return _C.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


def sinusoidal_table(length, d_model, dtype=None):
    """The (length, d_model) sinusoidal position table of "Attention Is All You Need":
    even features sin(p / 10000^(2i/d)), odd ones cos(p / 10000^(2i/d))."""
    pos = np.arange(length, dtype=np.float64)[:, None]
    div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    table = np.zeros((length, d_model))
    table[:, 0::2] = np.sin(pos * div)
    table[:, 1::2] = np.cos(pos * div)[:, : d_model // 2]
    return tensor(table.astype(np.float64 if dtype == _C.dtype.float64 else np.float32))


class PositionalEncoding(Module):
    """Adds the fixed sinusoidal table (``sinusoidal_table``) to x of shape (L, N, d_model),
    or (N, L, d_model) with ``batch_first``, then applies dropout. The table is a buffer
    (saved with the model) of max_len rows."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", sinusoidal_table(max_len, d_model, dtype))

    def forward(self, x):
        return self.dropout(x + _position_rows(self, x))

    def extra_repr(self):
        return f"{self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """Adds a learned (max_len, d_model) table of position vectors (``weight``, initialised
    N(0, 0.02^2)) to x of shape (L, N, d_model), or (N, L, d_model) with ``batch_first``."""

    def __init__(self, max_len, d_model, batch_first=False, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.weight = Parameter(empty(max_len, d_model, dtype=dtype or _C._get_default_dtype()))
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x):
        return x + _position_rows(self, x, self.weight)

    def extra_repr(self):
        return f"{self.max_len}, {self.d_model}, batch_first={self.batch_first}"


def _position_rows(module, x, table=None):
    """The first L rows of the table, shaped to add to x (L, N, d) or (N, L, d)."""
    table = module.pe if table is None else table
    if x.ndim not in (2, 3) or x.shape[-1] != module.d_model:
        raise ValueError(f"{type(module).__name__}: expected input (L, N, {module.d_model}) or (N, L, "
                         f"{module.d_model}), got shape {tuple(x.shape)}")
    length = x.shape[1] if module.batch_first and x.ndim == 3 else x.shape[0]
    if length > module.max_len:
        raise ValueError(f"{type(module).__name__}: sequence of length {length} is longer than max_len="
                         f"{module.max_len}")
    rows = table[:length]
    return rows if x.ndim == 2 or module.batch_first else rows.unsqueeze(1)


def _additive(mask, dtype, what):
    """A float mask to add to the scores: MultiheadAttention's bool masks mark the
    positions *not* to attend (True -> -inf); float masks are used as they are."""
    if mask is None:
        return None
    if mask.dtype == _C.dtype.bool:
        return zeros(*mask.shape, dtype=dtype).masked_fill(mask, float("-inf"))
    if mask.dtype != dtype:
        raise TypeError(f"multi_head_attention_forward: {what} must be bool or {dtype}, got {mask.dtype}")
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention with every weight passed in (``torch.nn.functional.
    multi_head_attention_forward``; ``MultiheadAttention`` calls it).

    query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched (L, E), (S, kdim),
    (S, vdim). The projections are ``in_proj_weight`` (3 E, E), or with
    ``use_separate_proj_weight`` the three ``*_proj_weight``; ``in_proj_bias`` (3 E) is
    split the same way. ``bias_k``/``bias_v`` (1, 1, E) append one key and value position,
    ``add_zero_attn`` one zero position after that (the masks get a column that allows
    them). ``static_k``/``static_v`` (N * num_heads, S', E / num_heads) replace the
    projected keys/values. Masks: ``attn_mask`` (L, S) or (N * num_heads, L, S) and
    ``key_padding_mask`` (N, S), bool (True: not attended) or float (added to the scores).
    ``is_causal`` without ``attn_mask`` applies the causal mask. Returns (output (L, N, E),
    weights (N, L, S) averaged over heads, or (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None without ``need_weights``); unbatched inputs
    give unbatched results.
    """
    name = "multi_head_attention_forward"
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{name}: expected query, key and value of 3 dimensions (or 2 unbatched), got "
                         f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    E, H = query.shape[-1], num_heads
    if E != embed_dim_to_check:
        raise ValueError(f"{name}: query has embedding size {E}, expected {embed_dim_to_check}")
    if H <= 0 or E % H:
        raise ValueError(f"{name}: embed_dim={E} must be divisible by num_heads={H}")
    hd = E // H
    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{name}: bias_k and bias_v must be given together")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise ValueError(f"{name}: bias_k and bias_v cannot be added to static_k or static_v")
    same = query is key and key is value  # self-attention: one projection GEMM
    batched = query.ndim == 3
    if batched:  # (L, N, E) -> (N, L, E), views
        query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    else:
        query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    N, L = query.shape[0], query.shape[1]
    if key.shape[:2] != value.shape[:2] or key.shape[0] != N:
        raise ValueError(f"{name}: key {tuple(key.shape)} and value {tuple(value.shape)} must share batch and "
                         f"length with query batch {N}")
    q, k, v = _project_qkv(name, query, key, value, same, E, in_proj_weight, in_proj_bias,
                           use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight)
    S = key.shape[1]
    extra = 0  # key positions appended: bias_k/bias_v, then the zero position
    if bias_k is not None:
        k = _C.cat([k, bias_k.reshape(1, 1, E).expand(N, 1, E)], 1)
        v = _C.cat([v, bias_v.reshape(1, 1, E).expand(N, 1, E)], 1)
        extra += 1
    q, k, v = (x.reshape(N, x.shape[1], H, hd).transpose(1, 2) for x in (q, k, v))  # (N, H, len, hd)
    for which, static in (("static_k", static_k), ("static_v", static_v)):
        if static is None:
            continue
        if static.ndim != 3 or static.shape[0] != N * H or static.shape[2] != hd:
            raise ValueError(f"{name}: {which} must have shape ({N * H}, S, {hd}), got {tuple(static.shape)}")
        if which == "static_k":
            k = static.reshape(N, H, static.shape[1], hd)
        else:
            v = static.reshape(N, H, static.shape[1], hd)
    if k.shape[2] != v.shape[2]:
        raise ValueError(f"{name}: {k.shape[2]} keys but {v.shape[2]} values")
    if static_k is not None:  # the masks then describe the static keys
        S, extra = k.shape[2], 0
    if add_zero_attn:
        k = _C.cat([k, zeros(N, H, 1, hd, dtype=k.dtype)], 2)
        v = _C.cat([v, zeros(N, H, 1, v.shape[3], dtype=v.dtype)], 2)
        extra += 1

    mask = _merged_mask(name, attn_mask, key_padding_mask, N, H, L, S, q.dtype)
    if mask is not None and extra:  # the appended positions are attended by every query
        mask = _C.cat([mask, zeros(*mask.shape[:-1], extra, dtype=mask.dtype)], -1)
    causal = bool(is_causal) and attn_mask is None
    if causal and (need_weights or mask is not None or extra):  # the triangle as a mask
        tri = _causal_additive(L, S, q.dtype)
        if extra:
            tri = _C.cat([tri, zeros(L, extra, dtype=tri.dtype)], -1)
        mask = tri if mask is None else mask + tri
        causal = False
    p = dropout_p if training else 0.0
    weights = None
    if need_weights:
        scores = _C.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        if mask is not None:
            scores = scores + mask
        attn = _C.softmax(scores, -1)
        if p > 0:  # the weights returned are the ones applied, after dropout (as PyTorch's)
            attn = _C._dropout(attn, p)
        weights = attn.mean(1) if average_attn_weights else attn
        out = _C.matmul(attn, v)
    else:
        out = scaled_dot_product_attention(q, k, v, mask, p, causal)
    out = _C.linear(out.transpose(1, 2).reshape(N, L, E), out_proj_weight, out_proj_bias)
    if not batched:
        return out.squeeze(0), (None if weights is None else weights.squeeze(0))
    return out.transpose(0, 1), weights


def _project_qkv(name, query, key, value, same, E, in_proj_weight, in_proj_bias, separate, wq, wk, wv):
    """The projections of (N, len, features) query, key and value."""
    b = in_proj_bias
    if b is not None and tuple(b.shape) != (3 * E,):
        raise ValueError(f"{name}: in_proj_bias must have shape ({3 * E},), got {tuple(b.shape)}")
    bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
    if not separate:
        w = in_proj_weight
        if w is None or tuple(w.shape) != (3 * E, E):
            raise ValueError(f"{name}: in_proj_weight must have shape ({3 * E}, {E}), got "
                             f"{None if w is None else tuple(w.shape)}")
        if key.shape[-1] != E or value.shape[-1] != E:
            raise ValueError(f"{name}: key and value must have the embedding size {E} without separate "
                             f"projection weights, got {key.shape[-1]} and {value.shape[-1]}")
        if same:
            return _C.linear(query, w, b).chunk(3, -1)
        wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
    else:
        for label, w, x in (("q", wq, query), ("k", wk, key), ("v", wv, value)):
            if w is None or tuple(w.shape) != (E, x.shape[-1]):
                raise ValueError(f"{name}: {label}_proj_weight must have shape ({E}, {x.shape[-1]}), got "
                                 f"{None if w is None else tuple(w.shape)}")
    return _C.linear(query, wq, bq), _C.linear(key, wk, bk), _C.linear(value, wv, bv)


def _merged_mask(name, attn_mask, key_padding_mask, N, H, L, S, dtype):
    """attn_mask and key_padding_mask as one additive mask broadcasting to (N, H, L, S)."""
    mask = _additive(attn_mask, dtype, "attn_mask")
    if mask is not None:
        if tuple(mask.shape) == (L, S):
            pass
        elif tuple(mask.shape) == (N * H, L, S):
            mask = mask.reshape(N, H, L, S)
        else:
            raise ValueError(f"{name}: attn_mask must have shape ({L}, {S}) or ({N * H}, {L}, {S}), got "
                             f"{tuple(attn_mask.shape)}")
    kpm = _additive(key_padding_mask, dtype, "key_padding_mask")
    if kpm is not None:
        if tuple(kpm.shape) != (N, S):
            raise ValueError(f"{name}: key_padding_mask must have shape ({N}, {S}), got "
                             f"{tuple(key_padding_mask.shape)}")
        kpm = kpm.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    return mask


class MultiheadAttention(Module):
    """Multi-head attention (``torch.nn.MultiheadAttention``): project query, key and value,
    split into ``num_heads`` heads, attend (the fused ``scaled_dot_product_attention``),
    concatenate and project with ``out_proj``.

    Parameters as PyTorch's: ``in_proj_weight`` (3 E, E) and ``in_proj_bias`` (3 E) when
    key and value have the embedding size, else ``q_proj_weight``, ``k_proj_weight``
    (E, kdim) and ``v_proj_weight`` (E, vdim); ``out_proj`` a Linear(E, E);
    ``bias_k``/``bias_v`` (1, 1, E) with ``add_bias_kv`` (one more key/value position);
    ``add_zero_attn`` appends a zero key/value position as well.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` takes (L, N, E) (or (N, L, E) with
    ``batch_first``, or unbatched (L, E)) and returns (output, weights). Masks follow
    PyTorch: a bool ``key_padding_mask`` (N, S) or ``attn_mask`` (L, S) / (N * num_heads,
    L, S) is True where attention is *not* allowed; float masks are added to the scores.
    ``is_causal=True`` without ``attn_mask`` applies the causal mask itself (PyTorch asks
    for the mask as well). With ``need_weights=True`` the weights (averaged over heads
    unless ``average_attn_weights=False``) are computed explicitly, L x S per head; pass
    ``need_weights=False`` for the fused path. The computation is
    ``nn.functional.multi_head_attention_forward``.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} must be positive and divisible by "
                             f"num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        dtype = dtype or _C._get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: expected query, key and value of 3 dimensions (or 2 unbatched), "
                             f"got {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        if query.shape[-1] != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(f"MultiheadAttention: expected feature sizes (query {self.embed_dim}, key {self.kdim}, "
                             f"value {self.vdim}), got {query.shape[-1]}, {key.shape[-1]}, {value.shape[-1]}")
        flip = self.batch_first and query.ndim == 3
        if flip:  # (N, L, E) -> (L, N, E), views; self-attention keeps one tensor
            same = query is key and key is value
            query = query.transpose(0, 1)
            key, value = (query, query) if same else (key.transpose(0, 1), value.transpose(0, 1))
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        return (out.transpose(0, 1) if flip else out), weights

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


def _causal_additive(L, S, dtype):
    """The (L, S) causal mask to add to scores: 0 on and below the diagonal, -inf above
    (also Transformer.generate_square_subsequent_mask; of the default dtype for None)."""
    np_dtype = np.float64 if (dtype or _C._get_default_dtype()) == _C.dtype.float64 else np.float32
    return tensor(np.triu(np.full((L, S), -np.inf, dtype=np_dtype), 1))
