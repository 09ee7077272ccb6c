"""scatter_reduce and index_reduce against NumPy's unbuffered ufunc.at (every reduction,
include_self both ways, integers, dims), float64 finite-difference gradients, the in-place
forms and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore.autograd import gradcheck

UFUNC = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def reference(x, dim, index, src, reduce, include_self):
    """Each src value under index's shape reduced into x at its position (index along dim)."""
    out = x.astype(np.float64 if x.dtype.kind == "f" else np.int64).copy()
    acc = {}
    for p in np.ndindex(*index.shape):
        q = list(p)
        q[dim] = index[p]
        acc.setdefault(tuple(q), []).append(src[p])
    for q, values in acc.items():
        vals = ([x[q]] if include_self else []) + values
        if reduce == "mean":
            total = np.sum(vals)
            out[q] = total / len(vals) if x.dtype.kind == "f" else total // len(vals)
        else:
            r = vals[0]
            for v in vals[1:]:
                r = UFUNC[reduce](r, v)
            out[q] = r
    return out


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce_against_numpy(rng, reduce, include_self, dim):
    x = rng.normal(size=(4, 5))
    src = rng.normal(size=(6, 7))
    ishape = (6, 5) if dim == 0 else (4, 7)
    index = rng.integers(0, x.shape[dim], size=ishape)
    got = dl.tensor(x).scatter_reduce(dim, dl.tensor(index), dl.tensor(src), reduce, include_self=include_self)
    np.testing.assert_allclose(got.numpy(), reference(x, dim, index, src, reduce, include_self), rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_integers_and_gradients(rng, reduce):
    xi, si = rng.integers(-5, 6, size=7), rng.integers(-5, 6, size=9)
    ii = rng.integers(0, 7, size=9)
    got = dl.scatter_reduce(dl.tensor(xi), 0, dl.tensor(ii), dl.tensor(si), reduce)
    np.testing.assert_array_equal(got.numpy(), reference(xi, 0, ii, si, reduce, True))
    x = rng.normal(size=(3, 4))
    src = rng.normal(size=(3, 4))  # distinct values: no ties for amax/amin
    index = rng.integers(0, 3, size=(3, 4))
    assert gradcheck(lambda a, b: dl.scatter_reduce(a, 0, dl.tensor(index), b, reduce),
                     (dl.tensor(x, requires_grad=True), dl.tensor(src, requires_grad=True)))


def test_index_reduce_and_in_place(rng):
    x = rng.normal(size=(3, 5))
    source = rng.normal(size=(3, 4))
    index = np.array([0, 4, 0, 2])
    for reduce in ("prod", "mean", "amax", "amin"):
        full = np.broadcast_to(index, (3, 4))
        want = reference(x, 1, full, source, reduce, True)
        np.testing.assert_allclose(dl.tensor(x).index_reduce(1, dl.tensor(index), dl.tensor(source), reduce).numpy(),
                                   want, rtol=1e-12)
    y = dl.tensor(x)
    view = y[0]
    assert y.index_reduce_(1, dl.tensor(index), dl.tensor(source), "amax") is y
    np.testing.assert_allclose(view.numpy(), reference(x, 1, np.broadcast_to(index, (3, 4)), source, "amax", True)[0])
    z = dl.tensor(x)
    z.scatter_reduce_(0, dl.tensor(np.zeros((1, 5), dtype=np.int64)), dl.tensor(np.full((1, 5), 2.0)), "sum",
                      include_self=False)
    np.testing.assert_allclose(z.numpy(), np.vstack([np.full((1, 5), 2.0), x[1:]]))


def test_scatter_reduce_errors():
    x = dl.zeros(3)
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', "
                                         "'amin', got 'max'"):
        x.scatter_reduce(0, dl.tensor([0]), dl.ones(1), "max")
    with pytest.raises(IndexError, match="scatter_reduce: index 3 is out of bounds for dim 0 with size 3"):
        x.scatter_reduce(0, dl.tensor([3]), dl.ones(1), "sum")
    with pytest.raises(TypeError, match=r"scatter_reduce: src \(float64\) must have the input's dtype \(float32\)"):
        x.scatter_reduce(0, dl.tensor([0]), dl.ones(1, dtype=dl.float64), "sum")
    with pytest.raises(ValueError, match="index_reduce: index must be 1-D"):
        dl.zeros(2, 2).index_reduce(0, dl.tensor([[0]]), dl.ones(1, 2), "mean")
