"""Functions built from the core's ops (python/dlcore/_composite.py, _einsum.py, grad_mode's
inference_mode): values against NumPy's functions of the same name, gradients with float64
finite differences (dlcore.autograd.gradcheck), and bad arguments."""
import math

import numpy as np
import pytest

import dlcore as dl

gradcheck = dl.autograd.gradcheck


def t64(a):
    return dl.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


EINSUM_CASES = [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk", [(3, 4), (4, 2)]),          # implicit output: ik
    ("ji", [(3, 4)]),                      # implicit output: the letters in order, ij
    ("ijk->", [(2, 3, 4)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("bij,jk,bik->b", [(2, 3, 4), (4, 5), (2, 3, 5)]),
    ("...j,jk->...k", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),    # broadcast batch dims
    ("bi,bi->b", [(1, 4), (3, 4)]),                 # a size-1 dim broadcast
    ("Ab,bC->AC", [(3, 4), (4, 2)]),
    ("ij,kl->ijkl", [(2, 3), (2, 2)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES)
def test_einsum_matches_numpy(equation, shapes, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    got = dl.einsum(equation, *[dl.tensor(a) for a in arrays])
    want = np.einsum(equation, *arrays)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    # float32 too, and the operands given as one list.
    got32 = dl.einsum(equation, [dl.tensor(a.astype(np.float32)) for a in arrays])
    np.testing.assert_allclose(got32.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("equation,shapes", [("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
                                             ("bij,jk,bik->b", [(2, 3, 4), (4, 5), (2, 3, 5)]),
                                             ("...j,jk->...k", [(2, 3, 4), (4, 2)]),
                                             ("bi,bi->b", [(1, 4), (3, 4)])])
def test_einsum_gradients(equation, shapes, rng):
    xs = [t64(rng.standard_normal(s)) for s in shapes]
    assert gradcheck(lambda *a: dl.einsum(equation, *a), tuple(xs))


def test_einsum_rejects_bad_equations():
    a, b = dl.ones(2, 3), dl.ones(3, 4)
    with pytest.raises(ValueError, match="the equation has 2 operand"):
        dl.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"subscripts 'ijk' name 3 dims, but the operand has shape \(2, 3\)"):
        dl.einsum("ijk,kl->il", a, b)
    with pytest.raises(ValueError, match="repeated within one operand"):
        dl.einsum("ii->i", dl.ones(3, 3))
    with pytest.raises(ValueError, match="subscript 'j' has size 4"):
        dl.einsum("ij,jk->ik", a, dl.ones(4, 4))
    with pytest.raises(ValueError, match="output letter 'z' does not appear"):
        dl.einsum("ij,jk->iz", a, b)
    with pytest.raises(TypeError, match="operands must be tensors"):
        dl.einsum("ij->ji", np.ones((2, 2)))


def test_mm_and_bmm(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(dl.mm(dl.tensor(a), dl.tensor(b)).numpy(), a @ b, rtol=1e-12)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(dl.tensor(x).bmm(dl.tensor(y)).numpy(), x @ y, rtol=1e-12)
    with pytest.raises(ValueError, match=r"mm: expected two 2-D tensors, got shapes \(2, 3, 4\)"):
        dl.mm(dl.tensor(x), dl.tensor(b))
    with pytest.raises(ValueError, match="bmm: expected two 3-D tensors with the same batch size"):
        dl.bmm(dl.tensor(x), dl.ones(3, 4, 5, dtype=dl.float64))


def test_repeat_tile_repeat_interleave_roll_match_numpy(rng):
    x = rng.standard_normal((2, 3))
    t = dl.tensor(x)
    np.testing.assert_array_equal(t.repeat(2, 3).numpy(), np.tile(x, (2, 3)))
    np.testing.assert_array_equal(t.repeat((2, 1, 2)).numpy(), np.tile(x, (2, 1, 2)))
    np.testing.assert_array_equal(t.repeat(0, 1).numpy(), np.tile(x, (0, 1)))
    np.testing.assert_array_equal(dl.tile(t, (2,)).numpy(), np.tile(x, (2,)))
    np.testing.assert_array_equal(t.tile((3, 1, 1)).numpy(), np.tile(x, (3, 1, 1)))
    np.testing.assert_array_equal(dl.repeat_interleave(t, 2).numpy(), np.repeat(x, 2))
    np.testing.assert_array_equal(t.repeat_interleave(3, dim=0).numpy(), np.repeat(x, 3, axis=0))
    np.testing.assert_array_equal(t.repeat_interleave(2, -1).numpy(), np.repeat(x, 2, axis=1))
    np.testing.assert_array_equal(t.repeat_interleave(dl.tensor([1, 0, 3]), 1).numpy(),
                                  np.repeat(x, [1, 0, 3], axis=1))
    np.testing.assert_array_equal(t.repeat_interleave(dl.tensor([2]), 0).numpy(), np.repeat(x, [2], axis=0))
    for shifts, dims in [(1, 1), (-1, 0), (5, 1), ((1, 2), (0, 1)), (4, None), (0, 1)]:
        np.testing.assert_array_equal(dl.roll(t, shifts, dims).numpy(), np.roll(x, shifts, dims))
    assert gradcheck(lambda a: a.repeat(2, 1, 2), (t64(x),))
    assert gradcheck(lambda a: a.repeat_interleave(dl.tensor([2, 0, 1]), 1), (t64(x),))
    assert gradcheck(lambda a: dl.roll(a, (1, -1), (0, 1)), (t64(x),))
    with pytest.raises(ValueError, match="at least 2 are needed"):
        t.repeat(2)
    with pytest.raises(ValueError, match="3 repeat counts for a dim of size 2"):
        t.repeat_interleave(dl.tensor([1, 1, 1]), 0)
    with pytest.raises(ValueError, match="2 shifts for 1 dims"):
        dl.roll(t, (1, 2), 0)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 0.5, math.inf, -math.inf, 0])
def test_norm_matches_numpy(p, rng):
    x = rng.standard_normal((3, 4, 5))
    x[0, 0, 0] = 0.0
    npp = 2 if p == "fro" else p

    def want(a, axis=None, keepdims=False):
        a = np.abs(a)
        if npp == math.inf:
            return a.max(axis=axis, keepdims=keepdims)
        if npp == -math.inf:
            return a.min(axis=axis, keepdims=keepdims)
        if npp == 0:
            return (a != 0).sum(axis=axis, keepdims=keepdims).astype(np.float64)
        return (a ** npp).sum(axis=axis, keepdims=keepdims) ** (1 / npp)

    t = dl.tensor(x)
    np.testing.assert_allclose(dl.norm(t, p).numpy(), want(x), rtol=1e-12)
    np.testing.assert_allclose(t.norm(p, 1).numpy(), want(x, 1), rtol=1e-12)
    np.testing.assert_allclose(t.norm(p, (0, 2), True).numpy(), want(x, (0, 2), True), rtol=1e-12)
    if p not in (0,) and p != 0.5:
        assert gradcheck(lambda a: a.norm(p, -1), (t64(x[1:]),))


def test_norm_has_a_zero_gradient_at_zero_and_normalize_keeps_it_finite():
    z = dl.zeros(2, 3, dtype=dl.float64, requires_grad=True)
    z.norm(dim=1).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), np.zeros((2, 3)))
    z.grad = None
    F = dl.nn.functional
    out = F.normalize(z)
    out.sum().backward()
    assert np.isfinite(z.grad.numpy()).all() and not out.detach().numpy().any()
    with pytest.raises(TypeError, match="norm: expected a floating tensor"):
        dl.norm(dl.tensor([1, 2]))
    with pytest.raises(ValueError, match="norm: p must be a number or 'fro'"):
        dl.norm(dl.ones(2), "nuc")


def test_shape_helpers_match_numpy(rng):
    x = rng.standard_normal((2, 3, 4))
    t = dl.tensor(x)
    np.testing.assert_array_equal(dl.swapaxes(t, 0, 2).numpy(), np.swapaxes(x, 0, 2))
    np.testing.assert_array_equal(t.swapdims(1, -1).numpy(), np.swapaxes(x, 1, 2))
    assert dl.unflatten(t, 2, (2, 2)).shape == (2, 3, 2, 2) and t.unflatten(1, (3, 1)).shape == (2, 3, 1, 4)
    assert dl.broadcast_shapes((2, 1, 4), (3, 1), 4) == np.broadcast_shapes((2, 1, 4), (3, 1), (4,))
    a, b = dl.broadcast_tensors(dl.ones(3, 1), dl.zeros(4))
    assert a.shape == b.shape == (3, 4)
    with pytest.raises(ValueError, match="do not broadcast together"):
        dl.broadcast_shapes((2, 3), (4,))
    mask = x > 0
    np.testing.assert_array_equal(dl.masked_select(t, dl.tensor(mask)).numpy(), x[mask])
    row_mask = np.array([True, False, True, True])
    np.testing.assert_array_equal(t.masked_select(dl.tensor(row_mask)).numpy(),
                                  np.broadcast_to(x, x.shape)[np.broadcast_to(row_mask, x.shape)])
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        dl.masked_select(t, dl.ones(4))
    for r, c, k in [(3, 3, 0), (4, 2, -1), (2, 5, 1), (3, 4, 9), (0, 3, 0)]:
        np.testing.assert_array_equal(dl.tril_indices(r, c, k).numpy(), np.stack(np.tril_indices(r, k, c)))
        np.testing.assert_array_equal(dl.triu_indices(r, c, k).numpy(), np.stack(np.triu_indices(r, k, c)))


def test_finfo_iinfo_match_numpy():
    for dt, nt in [(dl.float32, np.float32), (dl.float64, np.float64)]:
        f, n = dl.finfo(dt), np.finfo(nt)
        assert (f.bits, f.eps, f.max, f.min, f.tiny, f.resolution) == \
            (n.bits, float(n.eps), float(n.max), float(n.min), float(n.tiny), float(n.resolution))
    assert dl.finfo().eps == float(np.finfo(np.float32).eps)
    for dt, nt in [(dl.int32, np.int32), (dl.int64, np.int64)]:
        i, n = dl.iinfo(dt), np.iinfo(nt)
        assert (i.bits, i.min, i.max) == (n.bits, int(n.min), int(n.max))
    with pytest.raises(TypeError, match="finfo: expected a floating dtype"):
        dl.finfo(dl.int32)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype"):
        dl.iinfo(dl.float32)


def test_inference_mode_turns_gradients_off():
    x = dl.ones(2, requires_grad=True)
    with dl.inference_mode():
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @dl.inference_mode()
    def called():
        return (x * 2).requires_grad

    @dl.inference_mode
    def bare():
        return (x * 2).requires_grad

    assert not called() and not bare() and dl.is_grad_enabled()
    with dl.inference_mode(False):
        assert (x * 2).requires_grad


def test_tensor_uniform_and_normal_fill_in_place():
    x = dl.empty(20000, dtype=dl.float64)
    assert x.uniform_(-2.0, 3.0) is x
    v = x.numpy()
    assert v.min() >= -2.0 and v.max() < 3.0 and abs(v.mean() - 0.5) < 0.05
    g1, g2 = dl.Generator().manual_seed(4), dl.Generator().manual_seed(4)
    a, b = dl.empty(5).normal_(1.0, 2.0, generator=g1), dl.empty(5).normal_(1.0, 2.0, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    n = dl.empty(20000).normal_(1.0, 2.0).numpy()
    assert abs(n.mean() - 1.0) < 0.1 and abs(n.std() - 2.0) < 0.1


# ---- order statistics (_order_statistics.py)
def test_median_kthvalue_quantile_match_numpy(rng):
    x = rng.standard_normal((4, 7))
    t = dl.tensor(x)
    assert dl.median(t).item() == np.sort(x.ravel())[(x.size - 1) // 2]  # the lower median
    m = t.median(1)
    np.testing.assert_array_equal(m.values.numpy(), np.sort(x, 1)[:, 3])
    np.testing.assert_array_equal(x[np.arange(4), m.indices.numpy()], m.values.numpy())
    assert dl.median(t, 0, keepdim=True).values.shape == (1, 7)
    k = dl.kthvalue(t, 2, 0)
    np.testing.assert_array_equal(k.values.numpy(), np.sort(x, 0)[1])
    np.testing.assert_array_equal(k.indices.numpy(), np.argsort(x, 0, kind="stable")[1])
    for interp in ("linear", "lower", "higher", "nearest", "midpoint"):
        np.testing.assert_allclose(dl.quantile(t, 0.3, 1, interpolation=interp).numpy(),
                                   np.quantile(x, 0.3, axis=1, method=interp), rtol=1e-12)
    q = dl.tensor([0.0, 0.25, 0.9, 1.0], dtype=dl.float64)
    np.testing.assert_allclose(t.quantile(q).numpy(), np.quantile(x, [0.0, 0.25, 0.9, 1.0]), rtol=1e-12)
    np.testing.assert_allclose(dl.quantile(t, q, 0, keepdim=True).numpy(),
                               np.quantile(x, [0.0, 0.25, 0.9, 1.0], axis=0, keepdims=True), rtol=1e-12)
    # NaN: the line's median and quantiles are NaN; the median's index is the first NaN.
    y = x.copy()
    y[1, 4] = y[1, 5] = np.nan
    mn = dl.tensor(y).median(1)
    assert np.isnan(mn.values.numpy()[1]) and mn.indices.numpy()[1] == 4 and not np.isnan(mn.values.numpy()[0])
    assert np.isnan(dl.quantile(dl.tensor(y), 0.5, 1).numpy()[1])
    # The values carry gradients (to the element chosen, or the two interpolated).
    assert gradcheck(lambda a: a.median(1).values, (t64(x),))
    assert gradcheck(lambda a: dl.quantile(a, 0.3, 1), (t64(x),))
    with pytest.raises(ValueError, match=r"kthvalue: k \(8\) is out of range for dimension 1 of size 7"):
        t.kthvalue(8, 1)
    with pytest.raises(ValueError, match=r"q values must be in \[0, 1\]"):
        dl.quantile(t, 1.5)
    with pytest.raises(TypeError, match="quantile: expected a floating tensor"):
        dl.quantile(dl.tensor([1, 2]), 0.5)


def test_unique_bincount_count_nonzero_match_numpy(rng):
    x = rng.integers(-3, 4, (5, 6))
    vals, inverse, counts = dl.unique(dl.tensor(x), return_inverse=True, return_counts=True)
    want_v, want_i, want_c = np.unique(x, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(vals.numpy(), want_v)
    np.testing.assert_array_equal(inverse.numpy(), want_i.reshape(x.shape))
    np.testing.assert_array_equal(counts.numpy(), want_c)
    assert dl.tensor([2.0, 1.0, 2.0]).unique().tolist() == [1.0, 2.0]
    assert dl.unique(dl.tensor([], dtype=dl.int64)).shape == (0,)
    b = rng.integers(0, 7, 50)
    np.testing.assert_array_equal(dl.bincount(dl.tensor(b)).numpy(), np.bincount(b))
    w = rng.random(50)
    np.testing.assert_allclose(dl.tensor(b).bincount(dl.tensor(w), minlength=10).numpy(),
                               np.bincount(b, w, minlength=10), rtol=1e-12)
    np.testing.assert_array_equal(dl.count_nonzero(dl.tensor(x), 1).numpy(), np.count_nonzero(x, 1))
    with pytest.raises(ValueError, match="bincount: values must be non-negative"):
        dl.bincount(dl.tensor([1, -1]))
    with pytest.raises(ValueError, match="unique: dim is not supported"):
        dl.unique(dl.tensor(x), dim=0)


# ---- arithmetic helpers (_arithmetic.py)
def test_arithmetic_helpers_match_numpy(rng):
    a, b, c = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(dl.addmm(dl.tensor(c), dl.tensor(a), dl.tensor(b), beta=0.5, alpha=2).numpy(),
                               0.5 * c + 2 * a @ b, rtol=1e-12)
    bad = dl.tensor(np.full((3, 2), np.nan))
    np.testing.assert_allclose(dl.addmm(bad, dl.tensor(a), dl.tensor(b), beta=0).numpy(), a @ b, rtol=1e-12)
    x, y, z = (rng.standard_normal(5) for _ in range(3))
    tx, ty, tz = dl.tensor(x), dl.tensor(y), dl.tensor(z)
    np.testing.assert_allclose(dl.addcmul(tx, ty, tz, value=0.5).numpy(), x + 0.5 * y * z, rtol=1e-12)
    np.testing.assert_allclose(dl.addcdiv(tx, ty, tz, value=2).numpy(), x + 2 * y / z, rtol=1e-12)
    np.testing.assert_allclose(dl.lerp(tx, ty, 0.3).numpy(), x + 0.3 * (y - x), rtol=1e-12)
    ema = dl.tensor(x)
    assert ema.lerp_(ty, 0.1) is ema
    np.testing.assert_allclose(ema.numpy(), x + 0.1 * (y - x), rtol=1e-12)
    acc = dl.tensor(x)
    acc.addcmul_(ty, ty, value=0.5).addcdiv_(ty, dl.tensor(np.abs(z) + 1))
    np.testing.assert_allclose(acc.numpy(), x + 0.5 * y * y + y / (np.abs(z) + 1), rtol=1e-12)
    assert dl.clamp_min(tx, 0.0).numpy().min() >= 0 and tx.clamp_max(0.0).numpy().max() <= 0
    special = np.array([np.nan, np.inf, -np.inf, 1.5])
    np.testing.assert_array_equal(dl.nan_to_num(dl.tensor(special)).numpy(), np.nan_to_num(special))
    np.testing.assert_array_equal(dl.nan_to_num(dl.tensor(special, dtype=dl.float32), 1.0, 2.0, -2.0).numpy(),
                                  [1.0, 2.0, -2.0, 1.5])
    pts_y = np.array([1.0, 1.0, 1.0, -1.0, 0.0, 0.0, -0.0, 2.0, -3.0])
    pts_x = np.array([1.0, -1.0, 0.0, 0.0, -2.0, 0.0, -1.0, -1e-300, 5.0])
    np.testing.assert_allclose(dl.atan2(dl.tensor(pts_y), dl.tensor(pts_x)).numpy(),
                               np.arctan2(np.where(pts_y == 0, 0.0, pts_y), pts_x), rtol=1e-15)
    big = np.array([1000.0, -np.inf, np.inf, 0.0, -5.0])
    other = np.array([1000.0, -np.inf, 1.0, 0.0, 30.0])
    np.testing.assert_allclose(dl.logaddexp(dl.tensor(big), dl.tensor(other)).numpy(), np.logaddexp(big, other))
    w = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(dl.nansum(dl.tensor(w), 1).numpy(), np.nansum(w, 1))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(dl.tensor(w).nanmean(1).numpy(), [2.0, np.nan])
    s, m = dl.std_mean(dl.tensor(a), 1)
    np.testing.assert_allclose(s.numpy(), a.std(1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(m.numpy(), a.mean(1), rtol=1e-12)
    v, _ = dl.var_mean(dl.tensor(a), correction=0)
    np.testing.assert_allclose(v.item(), a.var(), rtol=1e-12)
    assert gradcheck(lambda p, q: dl.atan2(p, q), (t64([0.5, -1.0, 2.0, 1.0, -2.0]), t64([1.0, -0.5, -3.0, 0.0, 0.0])))
    # On the axes the gradient is finite: d/dy = x / r^2, d/dx = -y / r^2.
    py, px = t64([2.0, 0.0]), t64([0.0, -4.0])
    dl.atan2(py, px).sum().backward()
    np.testing.assert_allclose(py.grad.numpy(), [0.0, -0.25], rtol=1e-12)
    np.testing.assert_allclose(px.grad.numpy(), [-0.5, 0.0], rtol=1e-12)
    assert gradcheck(lambda p, q: dl.logaddexp(p, q), (t64([0.5, -1.0, 2.0]), t64([1.0, -0.5, -3.0])))


# ---- diagonals, grids and stacking (_composite.py)
def test_diagonal_diag_trace_meshgrid_and_stacking_match_numpy(rng):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((2, 3, 4))
    for off in (0, 2, -1, 9):
        np.testing.assert_array_equal(dl.diagonal(dl.tensor(a), off).numpy(), np.diagonal(a, off))
    np.testing.assert_array_equal(dl.tensor(b).diagonal(1, 2, 0).numpy(), np.diagonal(b, 1, 2, 0))
    np.testing.assert_array_equal(dl.diagonal(dl.tensor(b), -1, -1, 1).numpy(), np.diagonal(b, -1, 2, 1))
    for k in (0, 2, -1):
        np.testing.assert_array_equal(dl.diag(dl.tensor([1.0, 2.0, 3.0]), k).numpy(), np.diag([1.0, 2.0, 3.0], k))
        np.testing.assert_array_equal(dl.diag(dl.tensor(a), k).numpy(), np.diag(a, k))
    assert dl.trace(dl.tensor(a)).item() == pytest.approx(np.trace(a), rel=1e-12)
    assert gradcheck(lambda x: x.diagonal(1), (t64(a),))
    assert gradcheck(lambda x: dl.diag(x, -1), (t64([1.0, 2.0]),))
    for indexing in ("ij", "xy"):
        got = dl.meshgrid(dl.arange(3), dl.arange(2), dl.arange(4), indexing=indexing)
        want = np.meshgrid(np.arange(3), np.arange(2), np.arange(4), indexing=indexing)
        assert all(np.array_equal(g.numpy(), w) for g, w in zip(got, want))
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    tu, tv = dl.tensor(u), dl.tensor(v)
    np.testing.assert_array_equal(dl.hstack([tu, tv]).numpy(), np.hstack([u, v]))
    np.testing.assert_array_equal(dl.vstack([tu, tv]).numpy(), np.vstack([u, v]))
    np.testing.assert_array_equal(dl.dstack([tu, tv]).numpy(), np.dstack([u, v]))
    np.testing.assert_array_equal(dl.column_stack([tu, dl.tensor(a[:, :2])]).numpy(), np.column_stack([u, a[:, :2]]))
    np.testing.assert_array_equal(dl.hstack([dl.tensor(a), dl.tensor(a)]).numpy(), np.hstack([a, a]))
    assert dl.atleast_1d(dl.tensor(1.0)).shape == (1,) and dl.atleast_2d(tu).shape == (1, 3)
    assert dl.atleast_3d(dl.tensor(a)).shape == np.atleast_3d(a).shape
    assert [t.shape for t in dl.atleast_3d(tu, dl.tensor(2.0))] == [(1, 3, 1), (1, 1, 1)]
    with pytest.raises(ValueError, match="diagonal: dim1 and dim2 must differ"):
        dl.diagonal(dl.tensor(a), 0, 1, -1)
    with pytest.raises(ValueError, match="meshgrid: indexing must be"):
        dl.meshgrid(tu, indexing="yx")


# ---- writes by index (_indexing.py)
def test_scatter_index_fill_take_fill_diagonal_match_numpy(rng):
    x = rng.standard_normal((3, 5))
    idx = np.array([[0, 3], [4, 1], [2, 0]])
    src = rng.standard_normal((3, 2))
    want = x.copy()
    np.put_along_axis(want, idx, src, 1)
    np.testing.assert_array_equal(dl.tensor(x).scatter(1, dl.tensor(idx), dl.tensor(src)).numpy(), want)
    want = x.copy()
    np.put_along_axis(want, idx, 7.0, 1)
    np.testing.assert_array_equal(dl.scatter(dl.tensor(x), 1, dl.tensor(idx), value=7.0).numpy(), want)
    one_hot = dl.zeros(3, 4).scatter_(1, dl.tensor([[2], [0], [3]]), 1.0)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(4)[[2, 0, 3]])
    col_idx = np.array([[1, 0, 2, 2, 0]])
    want = x.copy()
    np.put_along_axis(want, col_idx, src[:1, :1] * 0 + 3.0, 0)
    np.testing.assert_array_equal(dl.tensor(x).scatter(0, dl.tensor(col_idx), 3.0).numpy(), want)
    added = dl.tensor(x).scatter(1, dl.tensor(idx), dl.tensor(src), reduce="add").numpy()
    want = x.copy()
    np.add.at(want, (np.arange(3)[:, None], idx), src)
    np.testing.assert_allclose(added, want, rtol=1e-15)
    # Gradients: to the input where it is kept, to src where it lands.
    assert gradcheck(lambda a, b: a.scatter(1, dl.tensor(idx), b), (t64(x), t64(src)))
    np.testing.assert_array_equal(dl.tensor(x).index_fill(1, dl.tensor([0, 3]), -1.0).numpy(),
                                  np.where(np.isin(np.arange(5), [0, 3]), -1.0, x))
    ints = dl.arange(12).reshape(3, 4)
    assert ints.index_fill_(0, dl.tensor([1]), 9).tolist()[1] == [9, 9, 9, 9]
    np.testing.assert_array_equal(dl.take(dl.tensor(x), dl.tensor([[0, 14], [-1, 7]])).numpy(),
                                  np.take(x, [[0, 14], [-1, 7]]))
    for shape, wrap in [((3, 3), False), ((4, 2), False), ((7, 3), True), ((2, 5), False), ((3, 3, 3), False)]:
        a = np.zeros(shape)
        np.fill_diagonal(a, 2.5, wrap=wrap)
        np.testing.assert_array_equal(dl.zeros(*shape).to(dl.float64).fill_diagonal_(2.5, wrap=wrap).numpy(), a)
    with pytest.raises(IndexError, match="take: index 15 is out of range for a tensor of 15 elements"):
        dl.take(dl.tensor(x), dl.tensor([15]))
    with pytest.raises(ValueError, match="scatter: give src"):
        dl.scatter(dl.tensor(x), 1, dl.tensor(idx))
    assert dl.tensor(x).nelement() == 15


# ---- random draws (_random.py): means and spreads within 5 standard errors
def within(sample, mean, sd):
    return abs(sample.mean() - mean) <= 5 * sd / np.sqrt(sample.size)


def test_random_draws_follow_their_distributions():
    dl.manual_seed(21)
    n = 40000
    p = dl.full((n,), 0.3)
    b = dl.bernoulli(p).numpy()
    assert set(np.unique(b)) == {0.0, 1.0} and within(b, 0.3, np.sqrt(0.21))
    assert dl.bernoulli(dl.zeros(5)).numpy().sum() == 0 and dl.bernoulli(dl.ones(5)).numpy().sum() == 5
    assert dl.zeros(n).bernoulli_(0.8).numpy().mean() == pytest.approx(0.8, abs=5 * np.sqrt(0.16 / n))
    e = dl.empty(n, dtype=dl.float64).exponential_(2.0).numpy()
    assert e.min() >= 0 and within(e, 0.5, 0.5)
    assert dl.empty(4).geometric_(1.0).tolist() == [1.0] * 4  # success on the first trial
    g = dl.empty(n, dtype=dl.float64).geometric_(0.25).numpy()
    assert g.min() >= 1 and np.all(g == np.round(g)) and within(g, 4.0, np.sqrt(0.75) / 0.25)
    ln = dl.empty(n, dtype=dl.float64).log_normal_(0.0, 0.5).numpy()
    assert within(np.log(ln), 0.0, 0.5)
    c = dl.empty(n, dtype=dl.float64).cauchy_(1.0, 2.0).numpy()
    assert abs(np.median(c) - 1.0) < 0.1 and abs(np.percentile(c, 75) - 3.0) < 0.2  # quartiles at 1 +- 2
    r = dl.empty(n, dtype=dl.int64).random_(3, 9).numpy()
    assert set(np.unique(r)) == set(range(3, 9))
    ri = dl.randint_like(dl.zeros(2, 3), 5)
    assert ri.shape == (2, 3) and ri.dtype == dl.float32 and ri.numpy().max() < 5
    g1, g2 = dl.Generator().manual_seed(3), dl.Generator().manual_seed(3)
    np.testing.assert_array_equal(dl.bernoulli(dl.full((9,), 0.5), generator=g1).numpy(),
                                  dl.bernoulli(dl.full((9,), 0.5), generator=g2).numpy())
    with pytest.raises(ValueError, match=r"bernoulli: probabilities must be in \[0, 1\]"):
        dl.bernoulli(dl.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match="exponential_: lambd must be positive"):
        dl.empty(2).exponential_(0.0)


def test_searchsorted_bucketize_cdist_bilinear_match_numpy(rng):
    seq = np.array([1.0, 2.0, 2.0, 4.0, 7.0])
    vals = np.array([[0.0, 2.0, 3.0], [7.0, 9.0, 2.0]])
    for right in (False, True):
        got = dl.searchsorted(dl.tensor(seq), dl.tensor(vals), right=right)
        np.testing.assert_array_equal(got.numpy(), np.searchsorted(seq, vals, side="right" if right else "left"))
        np.testing.assert_array_equal(dl.bucketize(dl.tensor(vals), dl.tensor(seq), right=right).numpy(),
                                      np.searchsorted(seq, vals, side="right" if right else "left"))
    rows = np.sort(rng.standard_normal((2, 6)), 1)
    v = rng.standard_normal((2, 3))
    got = dl.searchsorted(dl.tensor(rows), dl.tensor(v), side="right").numpy()
    np.testing.assert_array_equal(got, [np.searchsorted(rows[i], v[i], side="right") for i in range(2)])
    assert dl.searchsorted(dl.tensor(seq), 2.0).item() == 1
    a, b = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3))
    want = np.sqrt(((a[:, :, None, :] - b[:, None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(dl.cdist(dl.tensor(a), dl.tensor(b)).numpy(), want, rtol=1e-10)
    want1 = np.abs(a[:, :, None, :] - b[:, None, :, :]).sum(-1)
    np.testing.assert_allclose(dl.cdist(dl.tensor(a), dl.tensor(b), p=1.0).numpy(), want1, rtol=1e-12)
    assert gradcheck(lambda x, y: dl.cdist(x, y), (t64(a[0]), t64(b[0])))
    same = t64(a[0])
    dl.cdist(same, same.detach()).sum().backward()  # zero distances on the diagonal
    assert np.isfinite(same.grad.numpy()).all()
    F = dl.nn.functional
    x1, x2, w, bias = rng.standard_normal((4, 3)), rng.standard_normal((4, 2)), rng.standard_normal((5, 3, 2)), \
        rng.standard_normal(5)
    want = np.einsum("ni,oij,nj->no", x1, w, x2) + bias
    np.testing.assert_allclose(F.bilinear(dl.tensor(x1), dl.tensor(x2), dl.tensor(w), dl.tensor(bias)).numpy(),
                               want, rtol=1e-12)
    m = dl.nn.Bilinear(3, 2, 5)
    assert m.weight.shape == (5, 3, 2) and m.bias.shape == (5,) and abs(m.weight.detach().numpy()).max() <= 3 ** -0.5
    assert m(dl.tensor(x1).float(), dl.tensor(x2).float()).shape == (4, 5)
    assert gradcheck(lambda p, q, r: F.bilinear(p, q, r), (t64(x1), t64(x2), t64(w)))
    with pytest.raises(ValueError, match="searchsorted: side must be"):
        dl.searchsorted(dl.tensor(seq), dl.tensor(vals), side="up")
    with pytest.raises(ValueError, match="cdist: expected x1"):
        dl.cdist(dl.tensor(a), dl.tensor(b[..., :2]))
