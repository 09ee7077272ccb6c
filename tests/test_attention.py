"""Fused attention (ops/attention.cpp), LayerNorm/RMSNorm (ops/norm.cpp), and the layers
of nn/attention.py and nn/transformer.py against the NumPy references of
tests/reference/attention.py (full score matrices, one head at a time): masks, causal,
differing lengths, head dims, lengths across tile edges, float64 gradchecks, gradients of
multi-tile problems against the analytic NumPy gradient, dropout, thread counts, every
ISA, memory at T=8192, and bad inputs."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.autograd import gradcheck
from dlcore.nn import functional as F
from reference import attention as ref


def t(a, dtype=np.float32, grad=False):
    return dl.tensor(np.asarray(a).astype(dtype), requires_grad=grad)


def to_np(x):
    return x.detach().numpy()


def sdpa_grads(q, k, v, g, mask=None, causal=False, scale=None):
    """The analytic gradients of sum(g * sdpa(q, k, v)) in NumPy (float64), from
    P = softmax(S): dV = P^T g, dP = g V^T, dS = P (dP - rowsum(P dP)), dQ = dS K scale,
    dK = dS^T Q scale; dmask = dS."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    p = ref.softmax_rows(ref.scores(q, k, mask, causal, scale))
    dv = np.matmul(np.swapaxes(p, -1, -2), g)
    dp = np.matmul(g, np.swapaxes(v, -1, -2))
    ds = p * (dp - (p * dp).sum(-1, keepdims=True))
    return np.matmul(ds, k) * scale, np.matmul(np.swapaxes(ds, -1, -2), q) * scale, dv, ds


# ---------------------------------------------------------------- the fused op
@pytest.mark.parametrize("L,S", [(1, 1), (5, 7), (83, 85), (130, 257), (300, 129), (90, 1100), (1100, 90)])
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_forward_and_backward_against_reference(L, S, causal, rng):
    q, k, v, g = (rng.normal(size=(2, 3, n, d)) for n, d in [(L, 16), (S, 16), (S, 12), (L, 12)])
    want = ref.sdpa(q, k, v, causal=causal)
    for dtype, tol in [(np.float32, 2e-6), (np.float64, 1e-12)]:
        qt, kt, vt = t(q, dtype, True), t(k, dtype, True), t(v, dtype, True)
        out = F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal)
        np.testing.assert_allclose(to_np(out), want, rtol=0, atol=tol)
        out.backward(t(g, dtype))
        for got, exp in zip((qt.grad, kt.grad, vt.grad), sdpa_grads(q, k, v, g, causal=causal)):
            np.testing.assert_allclose(to_np(got), exp, rtol=0, atol=tol * 10)


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_on_head_views_of_one_projection(causal, rng):
    """q, k, v as a Transformer makes them: chunks of one (B, L, 3 C) tensor, viewed as
    (B, L, H, E) and transposed to (B, H, L, E). The output and the gradients lie in
    memory as (B, L, H, E), so transposing back to (B, L, H * E) is a view; their values
    match the reference, and so does the gradient reaching the projection. 300 rows: several
    query and key tiles in both passes."""
    B, L, H, E = 2, 300, 3, 8
    x = rng.normal(size=(B, L, 3 * H * E))
    go = rng.normal(size=(B, L, H * E))
    heads = [np.swapaxes(c.reshape(B, L, H, E), 1, 2) for c in np.split(x, 3, axis=-1)]
    want = np.swapaxes(ref.sdpa(*heads, causal=causal), 1, 2).reshape(B, L, H * E)
    grads = sdpa_grads(*heads, np.swapaxes(go.reshape(B, L, H, E), 1, 2), causal=causal)[:3]
    want_dx = np.concatenate([np.swapaxes(d, 1, 2).reshape(B, L, H * E) for d in grads], -1)
    for dtype, tol in [(np.float32, 2e-6), (np.float64, 1e-12)]:
        xt = t(x, dtype, True)
        q, k, v = (c.reshape(B, L, H, E).transpose(1, 2) for c in xt.chunk(3, -1))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        assert out.shape == (B, H, L, E) and out.transpose(1, 2).is_contiguous()
        y = out.transpose(1, 2).reshape(B, L, H * E)
        np.testing.assert_allclose(to_np(y), want, rtol=0, atol=tol)
        y.backward(t(go, dtype))
        np.testing.assert_allclose(to_np(xt.grad), want_dx, rtol=0, atol=tol * 10)


def test_split_projection_gets_its_gradient_without_a_copy(rng):
    """Where q, k, v are the heads of one projection's three chunks, the backward writes dQ,
    dK and dV side by side in one buffer laid out as the projection, and the split's
    backward hands that buffer on: the gradient reaching the projection starts where dQ
    does (hooks see one address), with the reference's values. A second backward adds to
    the leaf's gradient, not into the first."""
    B, L, H, E = 2, 7, 3, 4
    x = rng.normal(size=(B, L, 3 * H * E))
    go = rng.normal(size=(B, L, H * E))
    heads = [np.swapaxes(c.reshape(B, L, H, E), 1, 2) for c in np.split(x, 3, axis=-1)]
    grads = sdpa_grads(*heads, np.swapaxes(go.reshape(B, L, H, E), 1, 2), causal=True)[:3]
    want = np.concatenate([np.swapaxes(d, 1, 2).reshape(B, L, H * E) for d in grads], -1)
    xt = t(x, np.float64, True)
    seen = {}
    for _ in range(2):
        y = xt * 1.0  # a non-leaf, as a projection's output is
        y.register_hook(lambda g: seen.__setitem__("joined", g.data_ptr()))
        q, k, v = (c.reshape(B, L, H, E).transpose(1, 2) for c in y.chunk(3, -1))
        q.register_hook(lambda g: seen.__setitem__("dq", g.data_ptr()))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.transpose(1, 2).reshape(B, L, H * E).backward(t(go, np.float64))
        assert seen["joined"] == seen["dq"]
    np.testing.assert_allclose(to_np(xt.grad), 2 * want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("order", ["qkv", "kqv", "kept", "used_twice", "split_dim0"])
def test_split_projection_gradient_when_the_pieces_differ(order, rng):
    """The cases that keep separate gradients and join them by a copy: pieces out of order,
    a piece whose gradient something else holds (a hook keeps it, and a hook on the
    projection's output then changes that gradient in place: the kept one stays as it was),
    a piece used twice, a graph of the gradient (gradgradcheck); and chunks along the first
    dimension (contiguous pieces, one buffer again). float64 finite differences for the
    values; the kept gradients against the fused op's on separate copies."""
    B, L, H, E = 1, 5, 2, 3
    x = t(rng.normal(size=(B, L, 3 * H * E)), np.float64, True)
    x0 = t(rng.normal(size=(3, B, H, L, E)), np.float64, True)
    w = t(rng.normal(size=(B, H, L, E)), np.float64)

    def attend(x):
        if order == "split_dim0":
            q, k, v = (c[0] for c in x.chunk(3, 0))
        else:
            pieces = [c.reshape(B, L, H, E).transpose(1, 2) for c in x.chunk(3, -1)]
            q, k, v = (pieces[1], pieces[0], pieces[2]) if order == "kqv" else pieces
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return out * w + (v * w if order == "used_twice" else 0.0)

    assert gradcheck(attend, (x0 if order == "split_dim0" else x,))
    if order == "qkv":  # with create_graph the pieces' gradients carry a graph: joined by cat
        assert dl.autograd.gradgradcheck(attend, (x,))
    if order != "kept":
        return
    y = x * 1.0
    y.register_hook(lambda g: g.mul_(2.0))
    q, k, v = (c.reshape(B, L, H, E).transpose(1, 2) for c in y.chunk(3, -1))
    kept = []
    q.register_hook(kept.append)
    (F.scaled_dot_product_attention(q, k, v, is_causal=True) * w).sum().backward()
    qs, ks, vs = (a.detach().contiguous().requires_grad_() for a in (q, k, v))
    (F.scaled_dot_product_attention(qs, ks, vs, is_causal=True) * w).sum().backward()
    np.testing.assert_allclose(to_np(kept[0]), to_np(qs.grad), rtol=0, atol=1e-12)
    want = np.concatenate([to_np(a.grad.transpose(1, 2).reshape(B, L, H * E)) for a in (qs, ks, vs)], -1)
    np.testing.assert_allclose(to_np(x.grad), 2 * want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [0.37, 2.5, 0.0, -0.6])
@pytest.mark.parametrize("mask", ["none", "causal", "bool", "additive"])
def test_given_scale_on_every_isa(scale, mask, isa, rng):
    # 600 keys: two key tiles forward, five backward; float32 on the ISA, float64 for the
    # gradients. A float32 score's rounding error grows with scale |q| |k|, about
    # scale sqrt(E) here: the default scale 1 / sqrt(E) gives the 2e-6 of the other tests.
    q, k, v, g = (rng.normal(size=(2, n, d)) for n, d in [(37, 16), (600, 16), (600, 9), (37, 9)])
    tol32 = 2e-6 * max(1.0, abs(scale) * np.sqrt(16))
    m = {"none": None, "causal": None, "bool": rng.random((37, 600)) > 0.3,
         "additive": rng.normal(size=(37, 600))}[mask]
    causal = mask == "causal"
    want = ref.sdpa(q, k, v, m, causal, scale)
    for dtype, tol in [(np.float32, tol32), (np.float64, 1e-12)]:
        mt = None if m is None else dl.tensor(m) if m.dtype == bool else t(m, dtype)
        qt, kt, vt = t(q, dtype, True), t(k, dtype, True), t(v, dtype, True)
        out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt, is_causal=causal, scale=scale)
        np.testing.assert_allclose(to_np(out), want, rtol=0, atol=tol)
        if dtype == np.float64:
            out.backward(t(g, dtype))
            for got, exp in zip((qt.grad, kt.grad, vt.grad), sdpa_grads(q, k, v, g, m, causal, scale)):
                np.testing.assert_allclose(to_np(got), exp, rtol=0, atol=1e-11)


@pytest.mark.parametrize("top", [0.0, 4.0])
def test_probabilities_to_float_precision_on_every_isa(top, isa, rng):
    # One query of E = 1 against 600 keys with exact scores (multiples of 1/64 up to top,
    # top itself among them): with V the identity the output is P itself, and with dO all
    # ones each row of dV is P again, as the backward recomputes it. Float32 rounds the
    # exponent log2(e) (s - top) and log2(e) top, each by 2^-24 of itself (under 6e-7 of P
    # here), and the exp2, the sums and the division by a few ulp: 1e-6 of P in all. The
    # backward's exponent log2(e) s - lse also carries the rounding of lse = log2(e) top +
    # log2(sum of P), about 14: 2e-6.
    n = 600
    s = np.round(rng.uniform(top - 6.0, top, size=n) * 64) / 64
    s[rng.integers(n)] = top
    s[:3] = -95.0  # exp below 2e-38: exactly 0
    want = np.exp(s - top) / np.exp(s - top).sum()
    q, k, v = t(np.ones((1, 1))), t(s.reshape(n, 1)), t(np.eye(n), grad=True)
    out = F.scaled_dot_product_attention(q, k, v, scale=1.0)
    np.testing.assert_allclose(to_np(out)[0], want, rtol=1e-6, atol=1e-38)
    out.backward(t(np.ones((1, n))))
    np.testing.assert_allclose(to_np(v.grad), np.repeat(want[:, None], n, 1), rtol=2e-6, atol=1e-38)


@pytest.mark.parametrize("causal", [False, True])
def test_huge_scores_with_a_given_scale_on_every_isa(causal, isa, rng):
    # Scores near 1e10 after scaling: the softmax is one-hot, and the row maximum must give
    # exactly exp(0), however the kernels apply the scale (rounding the scaled maximum and
    # fusing it into an FMA would leave an error of some hundreds in the exponent).
    q, k, v, g = (rng.normal(size=(2, n, d)) for n, d in [(37, 16), (600, 16), (600, 9), (37, 9)])
    q, k = q * 3e4, k * 3e4
    want = ref.sdpa(q, k, v, None, causal, 2.5)
    for dtype in (np.float32, np.float64):
        qt, kt, vt = t(q, dtype, True), t(k, dtype, True), t(v, dtype, True)
        out = F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal, scale=2.5)
        np.testing.assert_allclose(to_np(out), want, rtol=0, atol=1e-6)
        if dtype == np.float64:  # in float32, dQ and dK carry O's rounding times |K| ~ 1e5
            out.backward(t(g, dtype))
            for got, exp in zip((qt.grad, kt.grad, vt.grad), sdpa_grads(q, k, v, g, None, causal, 2.5)):
                np.testing.assert_allclose(to_np(got), exp, rtol=0, atol=1e-9)


@pytest.mark.parametrize("E", [8, 24, 64, 128])
def test_head_dims(E, rng):
    q, k, v = rng.normal(size=(2, 70, E)), rng.normal(size=(2, 90, E)), rng.normal(size=(2, 90, E))
    out = F.scaled_dot_product_attention(t(q), t(k), t(v))
    np.testing.assert_allclose(to_np(out), ref.sdpa(q, k, v), rtol=0, atol=3e-6)


def test_bool_and_additive_masks_broadcast(rng):
    q, k, v, g = rng.normal(size=(2, 3, 6, 4)), rng.normal(size=(2, 3, 9, 4)), rng.normal(size=(2, 3, 9, 5)), \
        rng.normal(size=(2, 3, 6, 5))
    pad = np.ones((2, 1, 1, 9), bool)
    pad[0, ..., 6:] = False  # a padding mask: the last keys of sample 0 take no part
    masks = [rng.random((6, 9)) > 0.3, pad, rng.normal(size=(3, 1, 9)), rng.normal(size=(2, 3, 6, 9))]
    for m in masks:
        want = ref.sdpa(q, k, v, m)
        mt = dl.tensor(m) if m.dtype == bool else t(m, np.float64)
        qt, kt, vt = t(q, np.float64, True), t(k, np.float64, True), t(v, np.float64, True)
        out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt)
        np.testing.assert_allclose(to_np(out), want, rtol=0, atol=1e-12)
        out.backward(t(g, np.float64))
        for got, exp in zip((qt.grad, kt.grad, vt.grad), sdpa_grads(q, k, v, g, m)):
            np.testing.assert_allclose(to_np(got), exp, rtol=0, atol=1e-11)


def test_additive_mask_gets_its_gradient_summed_over_broadcast_dims(rng):
    q, k, v, g = rng.normal(size=(2, 3, 70, 4)), rng.normal(size=(2, 3, 140, 4)), rng.normal(size=(2, 3, 140, 5)), \
        rng.normal(size=(2, 3, 70, 5))
    m = rng.normal(size=(3, 70, 140))
    mt = t(m, np.float64, True)
    F.scaled_dot_product_attention(t(q, np.float64), t(k, np.float64), t(v, np.float64), mt).backward(
        t(g, np.float64))
    ds = sdpa_grads(q, k, v, g, m)[3]
    np.testing.assert_allclose(to_np(mt.grad), ds.sum(0), rtol=0, atol=1e-11)


@pytest.mark.parametrize("kind", ["plain", "causal", "bool", "additive", "scale", "cross"])
def test_gradcheck(kind, rng):
    L, S = (4, 6) if kind == "cross" else (5, 5)
    q, k, v = (t(rng.normal(size=s), np.float64, True) for s in [(2, L, 3), (2, S, 3), (2, S, 2)])
    args = {}
    inputs = [q, k, v]
    if kind == "causal":
        args["is_causal"] = True
    elif kind == "bool":
        m = rng.random((L, S)) > 0.4
        m[:, 0] = True
        args["attn_mask"] = dl.tensor(m)
    elif kind == "scale":
        args["scale"] = 0.3
    if kind == "additive":
        inputs.append(t(rng.normal(size=(L, S)), np.float64, True))
        assert gradcheck(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m), inputs)
    else:
        assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **args), inputs)


@pytest.mark.parametrize("kind", ["plain", "causal", "bool", "additive", "dropout"])
def test_sdpa_twice_differentiable(kind, rng):
    """With create_graph=True the backward runs as differentiable ops: the gradient of the
    first gradient checks out against finite differences, and the first gradient equals
    the fused kernel's."""
    q, k, v = (t(rng.normal(size=s), np.float64, True) for s in [(2, 4, 3), (1, 5, 3), (2, 5, 2)])
    r = t(rng.normal(size=(2, 4, 2)), np.float64)
    m = t(rng.normal(size=(4, 5)), np.float64, True)
    bool_mask = rng.random((4, 5)) > 0.4
    bool_mask[1] = False  # a row with no key at all

    def attend(q, k, v, m):
        if kind == "causal":
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        if kind == "bool":
            return F.scaled_dot_product_attention(q, k, v, attn_mask=dl.tensor(bool_mask))
        if kind == "additive":
            return F.scaled_dot_product_attention(q, k, v, attn_mask=m)
        if kind == "dropout":
            dl.manual_seed(3)
            return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
        return F.scaled_dot_product_attention(q, k, v)

    def first_grad(q, k, v, m):
        with dl.enable_grad():  # gradcheck takes its finite differences without grad
            q, k, v, m = (a if a.requires_grad else a.detach().requires_grad_() for a in (q, k, v, m))
            grads = dl.autograd.grad((attend(q, k, v, m) * r).sum(), [q, k, v, m], create_graph=True,
                                     allow_unused=True)
        return dl.cat([g.flatten() for g in grads if g is not None])

    assert gradcheck(first_grad, (q, k, v, m))
    graph = first_grad(q, k, v, m)
    qs, ks, vs, ms = (a.detach().requires_grad_() for a in (q, k, v, m))
    fused = dl.autograd.grad((attend(qs, ks, vs, ms) * r).sum(), [qs, ks, vs, ms], allow_unused=True)
    np.testing.assert_allclose(to_np(graph), np.concatenate([to_np(g).ravel() for g in fused if g is not None]),
                               rtol=1e-10, atol=1e-12)


def test_rows_with_every_key_masked_give_zeros_and_zero_gradients(rng):
    q, k, v = (t(rng.normal(size=(1, 4, 3)), np.float64, True) for _ in range(3))
    m = np.ones((4, 4), bool)
    m[2] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=dl.tensor(m))
    np.testing.assert_array_equal(to_np(out)[0, 2], 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(to_np(q.grad)[0, 2], 0.0)
    assert np.isfinite(to_np(k.grad)).all() and np.isfinite(to_np(v.grad)).all()
    # No keys at all: zeros as well, and zero gradients; no queries: zero gradients for the
    # keys and values.
    for lq, lk in [(2, 0), (0, 3)]:
        q, k = (t(rng.normal(size=(2, n, 3)), np.float64, True) for n in (lq, lk))
        v = t(rng.normal(size=(2, lk, 4)), np.float64, True)
        out = F.scaled_dot_product_attention(q, k, v)
        np.testing.assert_array_equal(to_np(out), np.zeros((2, lq, 4)))
        dirty = [dl.full(a.shape, 7.0, dtype=dl.float64) for a in (q, k, v)]
        del dirty  # freed blocks of the gradients' sizes, for them to reuse
        out.backward(t(np.ones((2, lq, 4)), np.float64))
        for a in (q, k, v):
            np.testing.assert_array_equal(to_np(a.grad), np.zeros(a.shape))


def test_strided_inputs_and_unbatched(rng):
    x = rng.normal(size=(2, 7, 3, 8))  # (N, L, H, hd) viewed as (N, H, L, hd): no copy needed
    xt = t(x).transpose(1, 2)
    want = ref.sdpa(*(np.swapaxes(x, 1, 2),) * 3)
    np.testing.assert_allclose(to_np(F.scaled_dot_product_attention(xt, xt, xt)), want, atol=2e-6)
    q, k = rng.normal(size=(5, 4)), rng.normal(size=(6, 4))
    kt = t(k.T.copy()).t()  # last dimension strided: copied once
    np.testing.assert_allclose(to_np(F.scaled_dot_product_attention(t(q), kt, kt)), ref.sdpa(q, k, k), atol=2e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_float32_gradients_on_every_isa(causal, isa, rng):
    """dq, dk, dv in float32 against the full-matrix chain rule, on every instruction set:
    value rows of 9 and 20 (partial vectors in the tiles and in delta = dO . O), 37 query
    rows per batch entry so that a thread's rows cross from one entry into the next; 37
    keys (one key tile: delta = rowsum(P dP) from the tiles, over 37 columns) and 300 (three
    key tiles: delta from dO and O)."""
    for ev, keys in [(9, 37), (20, 37), (9, 300), (20, 300)]:
        q, k = rng.normal(size=(3, 37, 16)), rng.normal(size=(3, keys, 16))
        v, g = rng.normal(size=(3, keys, ev)), rng.normal(size=(3, 37, ev))
        ts = [t(a.astype(np.float32), grad=True) for a in (q, k, v)]
        F.scaled_dot_product_attention(*ts, is_causal=causal).backward(t(g.astype(np.float32)))
        for got, want in zip(ts, ref.sdpa_grads(q, k, v, g, causal)):
            np.testing.assert_allclose(to_np(got.grad), want, rtol=0, atol=2e-5, err_msg=isa)


def test_isa_paths(isa, rng):
    q, k, v = rng.normal(size=(3, 37, 20)), rng.normal(size=(3, 600, 20)), rng.normal(size=(3, 600, 9))
    m = rng.random((37, 600)) > 0.5  # 600 keys: two key tiles forward, five backward
    want = ref.sdpa(q * 3, k, v, m)
    out = F.scaled_dot_product_attention(t(q * 3), t(k), t(v), attn_mask=dl.tensor(m))
    np.testing.assert_allclose(to_np(out), want, rtol=0, atol=3e-6)
    # NaN, and +inf (whose softmax has inf - inf), propagate through the row they are in and
    # only that row, forward and into dQ backward; every key's dV has that row's NaN weights.
    # The NaN carries payload bits (which must not reach exp's exponent arithmetic), and the
    # keys fit one forward tile (a NaN met in a later tile would reach the output anyway).
    q = q.astype(np.float32)
    q[0, 5, 0] = np.array([0x7FC00123], np.uint32).view(np.float32)[0]
    q[1, 7, 0] = np.inf
    qt, vt = t(q, grad=True), t(v[:, :300], grad=True)
    out = F.scaled_dot_product_attention(qt, t(k[:, :300]), vt)
    out.backward(t(np.ones(out.shape)))
    for o in (to_np(out), to_np(qt.grad)):
        assert np.isnan(o[0, 5]).all() and np.isnan(o[1, 7]).all()
        assert not np.isnan(np.delete(o[0], 5, axis=0)).any() and not np.isnan(np.delete(o[1], 7, axis=0)).any()
        assert not np.isnan(o[2]).any()
    dv = to_np(vt.grad)
    assert np.isnan(dv[:2]).all() and not np.isnan(dv[2]).any()


@pytest.mark.parametrize("length", [100, 300])  # delta from the one key tile, or from dO . O
@pytest.mark.parametrize("batch", [1, 16])  # few (b): two passes; many: one pass per b
def test_same_bits_for_any_thread_count(batch, length, threads, rng):
    q, k, v, g = (dl.tensor(rng.normal(size=(batch, length, 32)).astype(np.float32)) for _ in range(4))
    results = []
    for n in (1, 2, 3):
        dl.set_num_threads(n)
        qt, kt, vt = (x.clone().requires_grad_() for x in (q, k, v))
        out = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True)
        out.backward(g)
        results.append([to_np(out).copy()] + [to_np(x.grad).copy() for x in (qt, kt, vt)])
    for r in results[1:]:
        for a, b in zip(r, results[0]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("S", [100, 200])  # one key tile in the backward, and two
@pytest.mark.parametrize("causal", [False, True])
def test_dropout_drops_weights_and_the_backward_uses_the_same_mask(causal, S, rng):
    p = 0.3
    q, k = rng.normal(size=(2, 150, 8)), rng.normal(size=(2, S, 8))
    eye = np.broadcast_to(np.eye(S), (2, S, S))  # output = the dropped weights themselves
    qt, kt, vt = t(q, np.float64, True), t(k, np.float64, True), t(eye, np.float64, True)
    dl.manual_seed(5)
    out = F.scaled_dot_product_attention(qt, kt, vt, dropout_p=p, is_causal=causal)
    got = to_np(out)
    weights = ref.softmax_rows(ref.scores(q, k, None, causal, None))
    seen = weights > 0
    kept = got != 0
    np.testing.assert_allclose(got[kept], weights[kept] / (1 - p), rtol=1e-12)
    assert abs((~kept)[seen].mean() - p) < 0.01
    g = rng.normal(size=got.shape)
    out.backward(t(g, np.float64))
    np.testing.assert_allclose(to_np(vt.grad), np.swapaxes(got, -1, -2) @ g, rtol=1e-10, atol=1e-12)
    # dQ and dK through the same mask: dP = (g V^T) * keep / (1 - p), with V = I.
    dp = g * kept / (1 - p)
    ds = weights * (dp - (weights * dp).sum(-1, keepdims=True))
    scale = 1 / np.sqrt(8)
    np.testing.assert_allclose(to_np(qt.grad), ds @ k * scale, rtol=0, atol=1e-11)
    np.testing.assert_allclose(to_np(kt.grad), np.swapaxes(ds, -1, -2) @ q * scale, rtol=0, atol=1e-11)
    dl.manual_seed(5)
    again = F.scaled_dot_product_attention(t(q, np.float64), t(k, np.float64), t(eye, np.float64), dropout_p=p,
                                           is_causal=causal)
    np.testing.assert_array_equal(to_np(again), got)
    assert not (to_np(F.scaled_dot_product_attention(t(q), t(k), t(eye), dropout_p=1.0)) != 0).any()


def test_memory_grows_linearly_with_length():
    """Forward and backward at T=8192, one head of 64: the scores alone would be 256 MiB."""
    code = textwrap.dedent("""
        import json, resource
        import numpy as np
        import dlcore as dl
        T = 8192
        rng = np.random.default_rng(0)
        q, k, v = (dl.tensor(rng.standard_normal((1, T, 64)).astype(np.float32), requires_grad=True)
                   for _ in range(3))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = dl.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.sum().backward()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"mib": (after - before) / 1024, "finite": bool(np.isfinite(q.grad.numpy()).all())}))
    """)
    r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, check=True)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["finite"]
    assert res["mib"] < 48, res  # inputs, outputs and gradients are 14 MiB; T x T floats 256 MiB


def test_changing_an_input_in_place_before_backward_is_an_error(rng):
    q, k, v = (t(rng.normal(size=(3, 4)), grad=True) for _ in range(3))
    out = F.scaled_dot_product_attention(q * 1, k * 1, v * 1)
    w = v * 1
    out2 = F.scaled_dot_product_attention(q, k, w)
    w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place"):
        out2.sum().backward()
    out.sum().backward()


def test_bad_inputs_name_the_problem():
    a, b = dl.ones(2, 3, 4), dl.ones(2, 5, 4)
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(ValueError, match=r"query \(2, 3, 4\) and key \(2, 5, 3\)"):
        sdpa(a, dl.ones(2, 5, 3), b)
    with pytest.raises(ValueError, match=r"key \(2, 5, 4\) and value \(2, 6, 4\)"):
        sdpa(a, b, dl.ones(2, 6, 4))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        sdpa(dl.ones(4), b, b)
    with pytest.raises(ValueError, match="leading dimensions"):
        sdpa(dl.ones(3, 3, 4), b, b)
    with pytest.raises(TypeError, match="one float dtype"):
        sdpa(a.to(dl.float64), b, b)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 5\) does not broadcast.*\(2, 3, 5\)"):
        sdpa(a, b, b, attn_mask=dl.ones(4, 5))
    with pytest.raises(TypeError, match="attn_mask must be bool or float32"):
        sdpa(a, b, b, attn_mask=dl.ones(3, 5).to(dl.int64))
    with pytest.raises(ValueError, match="not both"):
        sdpa(a, b, b, attn_mask=dl.ones(3, 5), is_causal=True)
    with pytest.raises(ValueError, match="dropout_p"):
        sdpa(a, b, b, dropout_p=1.5)


# ---------------------------------------------------------------- LayerNorm and RMSNorm
@pytest.mark.parametrize("shape,nd", [((4, 7), 1), ((2, 3, 5, 6), 2), ((3, 200), 1), ((1, 1), 1)])
def test_layer_and_rms_norm_against_reference(shape, nd, rng):
    x = rng.normal(size=shape) * 3 + 1
    w, b = rng.normal(size=shape[-nd:]), rng.normal(size=shape[-nd:])
    for dtype, tol in [(np.float32, 2e-5), (np.float64, 1e-12)]:
        got = F.layer_norm(t(x, dtype), shape[-nd:], t(w, dtype), t(b, dtype))
        np.testing.assert_allclose(to_np(got), ref.layer_norm(x, nd, w, b, 1e-5), rtol=tol, atol=tol)
        got = F.rms_norm(t(x, dtype), shape[-nd:], t(w, dtype), eps=1e-6)
        np.testing.assert_allclose(to_np(got), ref.rms_norm(x, nd, w, 1e-6), rtol=tol, atol=tol)
    got = F.layer_norm(t(x, np.float64), shape[-nd:])
    np.testing.assert_allclose(to_np(got), ref.layer_norm(x, nd, 1.0, 0.0, 1e-5), atol=1e-12)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_and_rms_norm_gradcheck(affine, rng):
    x = t(rng.normal(size=(3, 2, 4)), np.float64, True)
    w, b = (t(rng.normal(size=(2, 4)), np.float64, True) for _ in range(2))
    if affine:
        assert gradcheck(lambda a, c, d: F.layer_norm(a, (2, 4), c, d), (x, w, b))
        assert gradcheck(lambda a, c: F.rms_norm(a, (2, 4), c, 1e-5), (x, w))
    else:
        assert gradcheck(lambda a: F.layer_norm(a, (2, 4)), (x,))
        assert gradcheck(lambda a: F.rms_norm(a, 4), (x,))


@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("wants", ["x", "w", "xw"])
def test_layer_and_rms_norm_gradcheck_for_any_subset_of_inputs(rms, wants, rng):
    # Rows of 13: a whole block of the kernel's eight partial sums, then five more.
    x = t(rng.normal(size=(3, 13)), np.float64, "x" in wants)
    w, b = (t(rng.normal(size=13), np.float64, "w" in wants) for _ in range(2))
    if rms:
        assert gradcheck(lambda a, c: F.rms_norm(a, 13, c, 1e-5), (x, w))
    else:
        assert gradcheck(lambda a, c, d: F.layer_norm(a, (13,), c, d), (x, w, b))


@pytest.mark.parametrize("d", [5, 13, 128, 203, 300, 777])
def test_layer_and_rms_norm_float32_far_from_zero_on_every_isa(d, isa, rng):
    """Rows around 100 with unit spread, in float32, forward and every gradient against the
    NumPy reference: the statistics must not lose digits to the large mean. Row lengths are
    below, at and past one vector, and past the kernels' spans of 256 values summed in
    float32; 37 rows are four groups of eight and a part."""
    x = (100 + rng.normal(size=(37, d))).astype(np.float32)
    w, b, g = rng.normal(size=d), rng.normal(size=d), rng.normal(size=(37, d)).astype(np.float32)
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    for rms in (False, True):
        tx, tw, tb = t(x, grad=True), t(w, grad=True), t(b, grad=True)
        if rms:
            y, want = F.rms_norm(tx, d, tw, 1e-5), ref.rms_norm(x64, 1, w, 1e-5)
        else:
            y, want = F.layer_norm(tx, (d,), tw, tb), ref.layer_norm(x64, 1, w, b, 1e-5)
        y.backward(t(g))
        msg = f"{isa} rms={rms}"
        np.testing.assert_allclose(to_np(y), want, rtol=1e-5, atol=2e-5, err_msg=msg)
        dx, dw, db = ref.row_norm_grads(x64, w, g64, 1e-5, rms)
        np.testing.assert_allclose(to_np(tx.grad), dx, rtol=1e-5, atol=1e-6, err_msg=msg)
        np.testing.assert_allclose(to_np(tw.grad), dw, rtol=1e-5, atol=1e-5, err_msg=msg)
        if not rms:
            np.testing.assert_allclose(to_np(tb.grad), db, rtol=1e-5, atol=1e-5, err_msg=msg)


@pytest.mark.parametrize("first", [1e4, -3e3, 0.0])
def test_layer_norm_float32_row_whose_first_value_is_far_from_the_rest(first, isa, rng):
    """The kernels sum x - x[0] in float32 for the mean; a first value far from the others
    must still give the float64 statistics to float32 accuracy."""
    x = rng.normal(size=(9, 300)).astype(np.float32)
    x[:, 0] = first
    w, b, g = rng.normal(size=300), rng.normal(size=300), rng.normal(size=(9, 300)).astype(np.float32)
    tx, tw, tb = t(x, grad=True), t(w, grad=True), t(b, grad=True)
    y = F.layer_norm(tx, (300,), tw, tb)
    y.backward(t(g))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(to_np(y), ref.layer_norm(x64, 1, w, b, 1e-5), rtol=1e-5, atol=2e-5, err_msg=isa)
    dx, dw, db = ref.row_norm_grads(x64, w, g.astype(np.float64), 1e-5, False)
    np.testing.assert_allclose(to_np(tx.grad), dx, rtol=1e-5, atol=1e-5, err_msg=isa)
    np.testing.assert_allclose(to_np(tw.grad), dw, rtol=1e-5, atol=1e-5, err_msg=isa)
    np.testing.assert_allclose(to_np(tb.grad), db, rtol=1e-5, atol=1e-5, err_msg=isa)


def test_norm_layers_parameters_and_default_eps(rng):
    ln, rms = nn.LayerNorm((2, 3), bias=False), nn.RMSNorm(3)
    assert [n for n, _ in ln.named_parameters()] == ["weight"]
    assert [n for n, _ in rms.named_parameters()] == ["weight"]
    x = rng.normal(size=(4, 3)) * 1e-4  # eps matters at this scale: float32's machine epsilon
    np.testing.assert_allclose(to_np(rms(t(x))), ref.rms_norm(x, 1, None, np.finfo(np.float32).eps), rtol=1e-5)
    assert nn.RMSNorm(3, elementwise_affine=False).weight is None


def test_norm_weight_gradient_same_bits_for_any_thread_count(threads, rng):
    x, g = t(rng.normal(size=(1000, 48))), t(rng.normal(size=(1000, 48)))
    results = []
    for n in (1, 2, 3):
        dl.set_num_threads(n)
        m = nn.LayerNorm(48)
        m(x).backward(g)
        results.append((to_np(m.weight.grad).copy(), to_np(m.bias.grad).copy()))
    for r in results[1:]:
        np.testing.assert_array_equal(r[0], results[0][0])
        np.testing.assert_array_equal(r[1], results[0][1])


def test_norm_bad_inputs():
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \(4,\)"):
        F.layer_norm(dl.ones(2, 3), 4)
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not match the normalized shape \(4,\)"):
        dl._C._layer_norm(dl.ones(2, 4), 1, dl.ones(3), None, 1e-5)
    with pytest.raises(TypeError, match="weight is float64 but the input is float32"):
        F.rms_norm(dl.ones(2, 4), 4, dl.ones(4).to(dl.float64))


# ---------------------------------------------------------------- MultiheadAttention
def mha_params(m):
    p = {n: to_np(v).astype(np.float64) for n, v in m.state_dict().items()}
    E = m.embed_dim
    if m._qkv_same_embed_dim:
        w = p["in_proj_weight"]
        ws = w[:E], w[E:2 * E], w[2 * E:]
    else:
        ws = p["q_proj_weight"], p["k_proj_weight"], p["v_proj_weight"]
    b = p.get("in_proj_bias")
    bs = (None,) * 3 if b is None else (b[:E], b[E:2 * E], b[2 * E:])
    return (*ws, *bs, p["out_proj.weight"], p.get("out_proj.bias"))


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention_with_masks_and_weights(batch_first, rng):
    dl.manual_seed(0)
    m = nn.MultiheadAttention(12, 3, batch_first=batch_first)
    x = rng.normal(size=(2, 5, 12))  # (N, L, E)
    pad = np.zeros((2, 5), bool)
    pad[1, 3:] = True  # True: padding, not attended
    causal = np.triu(np.ones((5, 5), bool), 1)
    add = np.where(pad, -np.inf, 0.0)[:, None, None, :] + np.where(causal, -np.inf, 0.0)
    want, wts = ref.mha(x, x, x, *mha_params(m), 3, add)
    xt = t(x if batch_first else np.swapaxes(x, 0, 1))
    out, weights = m(xt, xt, xt, key_padding_mask=dl.tensor(pad), attn_mask=dl.tensor(causal))
    got = to_np(out) if batch_first else np.swapaxes(to_np(out), 0, 1)
    np.testing.assert_allclose(got, want, atol=2e-6)
    np.testing.assert_allclose(to_np(weights), wts.mean(1), atol=2e-6)
    out2, none = m(xt, xt, xt, key_padding_mask=dl.tensor(pad), need_weights=False, is_causal=True)
    assert none is None
    np.testing.assert_allclose(to_np(out2), to_np(out), atol=2e-6)
    _, per_head = m(xt, xt, xt, attn_mask=dl.tensor(causal), average_attn_weights=False)
    np.testing.assert_allclose(to_np(per_head), ref.mha(x, x, x, *mha_params(m), 3,
                                                         np.where(causal, -np.inf, 0.0))[1], atol=2e-6)


def test_mha_cross_attention_kdim_vdim_float_mask_and_unbatched(rng):
    dl.manual_seed(1)
    m = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=True, bias=False)
    assert m.in_proj_weight is None and tuple(m.k_proj_weight.shape) == (8, 5)
    q, k, v = rng.normal(size=(2, 4, 8)), rng.normal(size=(2, 6, 5)), rng.normal(size=(2, 6, 3))
    fm = rng.normal(size=(2 * 2, 4, 6))
    want, _ = ref.mha(q, k, v, *mha_params(m), 2, fm.reshape(2, 2, 4, 6))
    out, _ = m(t(q), t(k), t(v), attn_mask=t(fm), need_weights=False)
    np.testing.assert_allclose(to_np(out), want, atol=2e-6)
    out1, w1 = m(t(q[0]), t(k[0]), t(v[0]))
    np.testing.assert_allclose(to_np(out1), ref.mha(q[:1], k[:1], v[:1], *mha_params(m), 2)[0][0], atol=2e-6)
    assert tuple(w1.shape) == (4, 6)


def test_mha_gradcheck(rng):
    m = nn.MultiheadAttention(4, 2, batch_first=True, dtype=dl.float64)
    x = t(rng.normal(size=(2, 3, 4)), np.float64, True)
    assert gradcheck(lambda a: m(a, a, a, need_weights=False, is_causal=True)[0], (x,))
    x.grad = None
    m(x, x, x, need_weights=False)[0].sum().backward()
    assert m.in_proj_weight.grad is not None and m.out_proj.weight.grad is not None


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_add_bias_kv_and_zero_attn_with_masks(batch_first, need_weights, rng):
    """bias_k/bias_v and the zero position are keys every query may attend, even where the
    padding and causal masks close the others."""
    dl.manual_seed(2)
    m = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, batch_first=batch_first)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                                    "out_proj.weight", "out_proj.bias"]
    x = rng.normal(size=(2, 4, 8))
    pad = np.zeros((2, 4), bool)
    pad[1, 2:] = True
    causal = np.triu(np.ones((4, 4), bool), 1)
    add = np.where(pad, -np.inf, 0.0)[:, None, None, :] + np.where(causal, -np.inf, 0.0)
    bk, bv = to_np(m.bias_k).reshape(8).astype(np.float64), to_np(m.bias_v).reshape(8).astype(np.float64)
    want, wts = ref.mha_extended(x, x, x, *mha_params(m), 2, add, bk, bv, zero_attn=True)
    xt = t(x if batch_first else np.swapaxes(x, 0, 1))
    out, weights = m(xt, xt, xt, key_padding_mask=dl.tensor(pad), attn_mask=dl.tensor(causal),
                     need_weights=need_weights)
    got = to_np(out) if batch_first else np.swapaxes(to_np(out), 0, 1)
    np.testing.assert_allclose(got, want, atol=2e-6)
    if need_weights:
        assert tuple(weights.shape) == (2, 4, 6)
        np.testing.assert_allclose(to_np(weights), wts.mean(1), atol=2e-6)
    else:
        assert weights is None
    out2, _ = m(xt, xt, xt, key_padding_mask=dl.tensor(pad), is_causal=True, need_weights=need_weights)
    np.testing.assert_allclose(to_np(out2), to_np(out), atol=2e-6)


def test_mha_add_bias_kv_gradcheck(rng):
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, batch_first=True, dtype=dl.float64)
    x = t(rng.normal(size=(2, 3, 4)), np.float64, True)

    def f(a, bk, bv):  # (N, L, E) in, the functional form takes (L, N, E)
        a = a.transpose(0, 1)
        return F.multi_head_attention_forward(a, a, a, 4, 2, m.in_proj_weight, m.in_proj_bias, bk, bv, True, 0.0,
                                              m.out_proj.weight, m.out_proj.bias, need_weights=False,
                                              is_causal=True)[0]

    assert gradcheck(f, (x, m.bias_k.detach().requires_grad_(), m.bias_v.detach().requires_grad_()))
    m(x, x, x, need_weights=False)[0].sum().backward()
    assert m.bias_k.grad is not None and m.bias_v.grad is not None


def test_functional_mha_separate_weights_static_kv_and_unbatched(rng):
    """multi_head_attention_forward with every weight passed in: separate projections,
    static keys and values (N * H, S', E / H) with a zero position, (L, N, E) layout and
    unbatched inputs, against the per-head reference."""
    E, H, N, L, S = 6, 3, 2, 4, 5
    q, k, v = rng.normal(size=(N, L, E)), rng.normal(size=(N, S, 4)), rng.normal(size=(N, S, 2))
    wq, wk, wv = rng.normal(size=(E, E)), rng.normal(size=(E, 4)), rng.normal(size=(E, 2))
    b, wo, bo = rng.normal(size=3 * E), rng.normal(size=(E, E)), rng.normal(size=E)
    sk, sv = rng.normal(size=(N * H, 7, 2)), rng.normal(size=(N * H, 7, 2))
    fm = rng.normal(size=(L, 7))
    args = dict(use_separate_proj_weight=True, q_proj_weight=t(wq, np.float64), k_proj_weight=t(wk, np.float64),
                v_proj_weight=t(wv, np.float64))
    T = lambda a: t(a, np.float64)  # noqa: E731
    out, w = F.multi_head_attention_forward(
        T(np.swapaxes(q, 0, 1)), T(np.swapaxes(k, 0, 1)), T(np.swapaxes(v, 0, 1)), E, H, None, T(b), None, None,
        True, 0.0, T(wo), T(bo), attn_mask=T(fm), static_k=T(sk), static_v=T(sv), average_attn_weights=False,
        **args)
    want, wts = ref.mha_extended(q, k, v, wq, wk, wv, b[:E], b[E:2 * E], b[2 * E:], wo, bo, H, fm,
                                 zero_attn=True, static_k=sk, static_v=sv)
    np.testing.assert_allclose(np.swapaxes(to_np(out), 0, 1), want, atol=1e-12)
    np.testing.assert_allclose(to_np(w), wts, atol=1e-12)
    out1, w1 = F.multi_head_attention_forward(T(q[0]), T(k[0]), T(v[0]), E, H, None, T(b), None, None, False,
                                              0.0, T(wo), T(bo), **args)
    want1, wts1 = ref.mha_extended(q[:1], k[:1], v[:1], wq, wk, wv, b[:E], b[E:2 * E], b[2 * E:], wo, bo, H)
    np.testing.assert_allclose(to_np(out1), want1[0], atol=1e-12)
    np.testing.assert_allclose(to_np(w1), wts1[0].mean(0), atol=1e-12)


def test_functional_mha_bad_inputs():
    E, x = 4, dl.ones(3, 2, 4)
    w, b, wo = dl.ones(12, 4), dl.zeros(12), dl.ones(4, 4)
    bk = dl.zeros(1, 1, 4)

    def call(**kw):
        args = dict(query=x, key=x, value=x, embed_dim_to_check=E, num_heads=2, in_proj_weight=w, in_proj_bias=b,
                    bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0, out_proj_weight=wo,
                    out_proj_bias=None)
        args.update(kw)
        return F.multi_head_attention_forward(**args)

    with pytest.raises(ValueError, match="embedding size 4, expected 6"):
        call(embed_dim_to_check=6)
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        call(num_heads=3)
    with pytest.raises(ValueError, match="bias_k and bias_v must be given together"):
        call(bias_k=bk)
    with pytest.raises(ValueError, match="cannot be added to static_k"):
        call(bias_k=bk, bias_v=bk, static_k=dl.zeros(4, 3, 2))
    with pytest.raises(ValueError, match=r"static_k must have shape \(4, S, 2\)"):
        call(static_k=dl.zeros(4, 3, 3))
    with pytest.raises(ValueError, match=r"in_proj_weight must have shape \(12, 4\)"):
        call(in_proj_weight=dl.ones(8, 4))
    with pytest.raises(ValueError, match=r"k_proj_weight must have shape \(4, 4\)"):
        call(use_separate_proj_weight=True, q_proj_weight=wo, k_proj_weight=dl.ones(4, 3), v_proj_weight=wo)
    with pytest.raises(ValueError, match="3 keys but 5 values"):
        call(static_v=dl.zeros(4, 5, 2))


def test_mha_parameter_names_and_bad_inputs():
    m = nn.MultiheadAttention(8, 2)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                                    "out_proj.bias"]
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        nn.MultiheadAttention(8, 3)
    x = dl.ones(5, 2, 8)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 5\)"):
        m(x, x, x, key_padding_mask=dl.ones(5, 2).bool())
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(5, 5\) or \(4, 5, 5\)"):
        m(x, x, x, attn_mask=dl.ones(3, 5))
    with pytest.raises(ValueError, match="feature sizes"):
        m(dl.ones(5, 2, 7), x, x)


# ---------------------------------------------------------------- Transformer layers
def layer_params(m):
    return {n: to_np(v).astype(np.float64) for n, v in m.state_dict().items()}


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_against_reference(norm_first, rng):
    dl.manual_seed(2)
    m = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first)
    x = rng.normal(size=(3, 7, 16))
    causal = np.where(np.triu(np.ones((7, 7), bool), 1), -np.inf, 0.0)
    want = ref.encoder_layer(x, layer_params(m), 4, norm_first, causal)
    np.testing.assert_allclose(to_np(m(t(x), is_causal=True)), want, atol=1e-5)
    np.testing.assert_allclose(to_np(m(t(x), src_mask=t(causal))), want, atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_and_transformer_against_reference(norm_first, rng):
    dl.manual_seed(3)
    m = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first)
    tgt, mem = rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 6, 8))
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    want = ref.decoder_layer(tgt, mem, layer_params(m), 2, to_np(mask), norm_first)
    got = m(t(np.swapaxes(tgt, 0, 1)), t(np.swapaxes(mem, 0, 1)), tgt_mask=mask)
    np.testing.assert_allclose(np.swapaxes(to_np(got), 0, 1), want, atol=1e-5)

    tr = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True, norm_first=norm_first)
    p = layer_params(tr)
    enc = {k[len("encoder.layers.0."):]: v for k, v in p.items() if k.startswith("encoder.layers.0.")}
    dec = {k[len("decoder.layers.0."):]: v for k, v in p.items() if k.startswith("decoder.layers.0.")}
    memory = ref.layer_norm(ref.encoder_layer(mem, enc, 2, norm_first), 1, p["encoder.norm.weight"],
                            p["encoder.norm.bias"], 1e-5)
    out = ref.layer_norm(ref.decoder_layer(tgt, memory, dec, 2, to_np(mask), norm_first), 1,
                         p["decoder.norm.weight"], p["decoder.norm.bias"], 1e-5)
    np.testing.assert_allclose(to_np(tr(t(mem), t(tgt), tgt_mask=mask)), out, atol=1e-5)


def test_encoder_stack_copies_layers_and_gradcheck(rng):
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True, dtype=dl.float64,
                                       activation="gelu")
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4, dtype=dl.float64))
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1 and np.array_equal(to_np(w0), to_np(w1))
    assert sorted(n for n, _ in layer.named_parameters())[:4] == ["linear1.bias", "linear1.weight", "linear2.bias",
                                                                  "linear2.weight"]
    x = t(rng.normal(size=(2, 3, 4)), np.float64, True)
    pad = dl.tensor(np.array([[False, False, True], [False, False, False]]))
    assert gradcheck(lambda a: enc(a, src_key_padding_mask=pad), (x,))


def test_dropout_in_transformer_layers_only_in_training(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True)
    x = t(rng.normal(size=(2, 4, 8)))
    layer.eval()
    a, b = to_np(layer(x)), to_np(layer(x))
    np.testing.assert_array_equal(a, b)
    layer.train()
    assert not np.allclose(to_np(layer(x)), a)


# ---------------------------------------------------------------- positions
@pytest.mark.parametrize("interleaved", [False, True])
def test_rotary_embedding(interleaved, rng):
    x = rng.normal(size=(2, 3, 5, 8))
    got = F.rotary_embedding(t(x, np.float64), interleaved=interleaved)
    np.testing.assert_allclose(to_np(got), ref.rotary(x, interleaved=interleaved), atol=1e-12)
    pos = [3, 1, 4, 1, 5]
    got = F.rotary_embedding(t(x), positions=pos, base=100.0, interleaved=interleaved)
    np.testing.assert_allclose(to_np(got), ref.rotary(x, pos, 100.0, interleaved), atol=1e-6)
    xt = t(rng.normal(size=(4, 6)), np.float64, True)
    assert gradcheck(lambda a: F.rotary_embedding(a, interleaved=interleaved), (xt,))
    # Rotated queries and keys: scores depend only on the offset between positions.
    q, k = rng.normal(size=(1, 8)), rng.normal(size=(1, 8))
    s = [(to_np(F.rotary_embedding(t(q, np.float64), positions=[a]))
          @ to_np(F.rotary_embedding(t(k, np.float64), positions=[b])).T)[0, 0] for a, b in [(2, 5), (10, 13)]]
    assert abs(s[0] - s[1]) < 1e-12
    with pytest.raises(ValueError, match="D even"):
        F.rotary_embedding(dl.ones(3, 5))
    with pytest.raises(ValueError, match="expected 3 positions"):
        F.rotary_embedding(dl.ones(3, 4), positions=[1, 2])


def test_positional_encodings(rng):
    pe = nn.PositionalEncoding(6, max_len=10)
    x = rng.normal(size=(4, 2, 6))
    np.testing.assert_allclose(to_np(pe(t(x))), x + ref.sinusoidal(4, 6)[:, None, :], atol=1e-6)
    assert "pe" in pe.state_dict() and not list(pe.parameters())
    lp = nn.LearnedPositionalEmbedding(10, 6, batch_first=True)
    y = lp(t(np.swapaxes(x, 0, 1)))
    np.testing.assert_allclose(to_np(y), np.swapaxes(x, 0, 1) + to_np(lp.weight)[:4], atol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(to_np(lp.weight.grad)[:4], 2.0)
    np.testing.assert_array_equal(to_np(lp.weight.grad)[4:], 0.0)
    with pytest.raises(ValueError, match="longer than max_len=10"):
        pe(dl.ones(11, 1, 6))


def test_mha_weights_in_training_are_the_dropped_ones(rng):
    m = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = t(rng.normal(size=(1, 6, 8)))
    _, w = m(x, x, x, average_attn_weights=False)
    w = to_np(w)
    assert (w == 0).any()  # dropped weights show as zeros; the kept ones are scaled by 2
    kept = to_np(m.eval()(x, x, x, average_attn_weights=False)[1])
    np.testing.assert_allclose(w[w != 0], 2 * kept[w != 0], rtol=1e-6)


def test_grouped_query_attention_broadcasts_the_shared_heads(rng):
    q, g = rng.normal(size=(2, 6, 5, 4)), rng.normal(size=(2, 6, 5, 3))
    k, v = rng.normal(size=(2, 2, 7, 4)), rng.normal(size=(2, 2, 7, 3))
    mask = rng.normal(size=(2, 6, 5, 7))
    kr, vr = np.repeat(k, 3, axis=1), np.repeat(v, 3, axis=1)  # head h reads kv head h // 3
    qt, kt, vt = t(q, np.float64, True), t(k, np.float64, True), t(v, np.float64, True)
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=t(mask, np.float64), enable_gqa=True)
    np.testing.assert_allclose(to_np(out), ref.sdpa(q, kr, vr, mask), atol=1e-12)
    out.backward(t(g, np.float64))
    dq, dk, dv, _ = sdpa_grads(q, kr, vr, g, mask)
    np.testing.assert_allclose(to_np(qt.grad), dq, atol=1e-11)
    np.testing.assert_allclose(to_np(kt.grad), dk.reshape(2, 2, 3, 7, 4).sum(2), atol=1e-11)
    np.testing.assert_allclose(to_np(vt.grad), dv.reshape(2, 2, 3, 7, 3).sum(2), atol=1e-11)
    with pytest.raises(ValueError, match="multiple"):
        F.scaled_dot_product_attention(dl.ones(1, 5, 2, 4), dl.ones(1, 2, 3, 4), dl.ones(1, 2, 3, 4), enable_gqa=True)


@pytest.mark.parametrize("rms", [False, True])
def test_layer_and_rms_norm_twice_differentiable(rms, rng):
    """create_graph=True through the fused norms runs their backward as ops: its own
    gradient (for gradient penalties, Hessian-vector products) checks out against finite
    differences of the first gradient."""
    x = t(rng.normal(size=(3, 4)), np.float64, True)
    w = t(rng.normal(size=4), np.float64, True)
    b = t(rng.normal(size=4), np.float64, True)
    r = t(rng.normal(size=(3, 4)), np.float64)

    def first_grad(x, w, b):
        # gradcheck evaluates its finite differences without grad: take the gradient anyway.
        with dl.enable_grad():
            x, w = (a if a.requires_grad else a.detach().requires_grad_() for a in (x, w))
            y = F.rms_norm(x, 4, w, 1e-5) if rms else F.layer_norm(x, 4, w, b)
            gx, gw = dl.autograd.grad((y * r).sum(), [x, w], create_graph=True)
        return dl.cat([gx.flatten(), gw])

    assert gradcheck(first_grad, (x, w, b) if not rms else (x, w, b.detach()))
    # The composed backward gives the kernel's first-order gradients.
    y = F.layer_norm(x, 4, w, b) if not rms else F.rms_norm(x, 4, w, 1e-5)
    gx_graph = dl.autograd.grad((y * r).sum(), [x], create_graph=True)[0]
    y2 = F.layer_norm(x, 4, w, b) if not rms else F.rms_norm(x, 4, w, 1e-5)
    gx_kernel = dl.autograd.grad((y2 * r).sum(), [x])[0]
    np.testing.assert_allclose(to_np(gx_graph), to_np(gx_kernel), rtol=1e-12, atol=1e-12)


def test_sdpa_kernel_restricts_the_backends():
    from dlcore.nn.attention import SDPBackend, sdpa_kernel

    rng = np.random.default_rng(3)
    q, k, v = (dl.tensor(rng.standard_normal((1, 2, 5, 4))) for _ in range(3))
    want = dl.nn.functional.scaled_dot_product_attention(q, k, v).numpy()
    for allowed in (SDPBackend.FLASH_ATTENTION, [SDPBackend.MATH], [SDPBackend.EFFICIENT_ATTENTION,
                                                                    SDPBackend.CUDNN_ATTENTION]):
        with sdpa_kernel(allowed):
            np.testing.assert_array_equal(dl.nn.functional.scaled_dot_product_attention(q, k, v).numpy(), want)
    with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
        with pytest.raises(RuntimeError, match="no available kernel: sdpa_kernel allows CUDNN_ATTENTION"):
            dl.nn.functional.scaled_dot_product_attention(q, k, v)
        with sdpa_kernel(SDPBackend.MATH):  # nested: the inner set, then the outer one again
            dl.nn.functional.scaled_dot_product_attention(q, k, v)
        with pytest.raises(RuntimeError, match="no available kernel"):
            dl.nn.functional.scaled_dot_product_attention(q, k, v)
    dl.nn.functional.scaled_dot_product_attention(q, k, v)  # restored on exit
    with pytest.raises(TypeError, match="SDPBackend"):
        with sdpa_kernel("flash"):
            pass
