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
