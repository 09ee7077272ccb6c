"""Pooling against the plain-loop NumPy references in tests/reference/conv.py: max (values
and arg-max indices, gradient to the arg-max only), average (count_include_pad,
divisor_override), adaptive, 1-D forms, unbatched inputs, unpooling; gradchecks and errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn import functional as F
from reference import conv as ref

MAX_CASES = [((2, 3, 7, 7), (3, 3), (2, 2), (1, 1), (1, 1), False),
             ((1, 2, 8, 9), (2, 2), (2, 2), (0, 0), (1, 1), False),
             ((2, 1, 7, 6), (3, 2), (2, 3), (1, 1), (1, 1), True),
             ((1, 2, 9, 9), (2, 3), (1, 2), (0, 1), (2, 1), True),
             ((2, 2, 10, 9), (3, 3), (3, 2), (0, 0), (1, 1), False)]  # full 3x3 windows: the unrolled kernel


@pytest.mark.parametrize("case", MAX_CASES, ids=[f"case{i}" for i in range(len(MAX_CASES))])
@pytest.mark.parametrize("dtype", [dl.float32, dl.float64], ids=["f32", "f64"])
def test_max_pool2d(case, dtype, rng):
    shape, k, s, p, d, ceil = case
    x = rng.normal(size=shape)
    y, idx = F.max_pool2d(dl.tensor(x).to(dtype), k, s, p, d, ceil, return_indices=True)
    want, want_idx = ref.max_pool2d(x.astype(np.float32) if dtype == dl.float32 else x, k, s, p, d, ceil)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-7)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    xt = dl.tensor(x, requires_grad=True)
    assert dl.autograd.gradcheck(lambda t: F.max_pool2d(t, k, s, p, d, ceil), [xt])
    g = rng.normal(size=y.shape)
    xt.grad = None
    F.max_pool2d(xt, k, s, p, d, ceil).backward(dl.tensor(g))
    expected = np.zeros(shape).reshape(shape[0], shape[1], -1)
    for a in range(shape[0]):
        for b in range(shape[1]):
            np.add.at(expected[a, b], want_idx[a, b].ravel(), g[a, b].ravel())
    np.testing.assert_allclose(xt.grad.numpy(), expected.reshape(shape), rtol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 6, 70), (1, 2, 5, 33), (1, 1, 4, 17), (1, 2, 6, 28)],
                         ids=["wide", "whole", "odd", "lenet"])
def test_max_pool_2x2_on_every_isa(shape, isa, rng):
    # 2x2 windows at stride 2 run a per-ISA kernel over vectors of windows, with a masked
    # or scalar tail: values, indices, ties (the first maximum wins) and NaN (it wins) checked
    # against the plain loops in float32 and float64.
    x = rng.integers(-3, 4, size=shape).astype(np.float64)  # many ties
    x[0, 0, 0, 0] = x[0, -1, 1, shape[3] // 2] = np.nan
    x[0, 0, 2, 2] = -np.inf
    for dtype in (dl.float32, dl.float64):
        y, idx = F.max_pool2d(dl.tensor(x).to(dtype), 2, return_indices=True)
        # NaN wins its window: in the reference it stands in as the largest value.
        want, want_idx = ref.max_pool2d(np.nan_to_num(x, nan=1e9), (2, 2), (2, 2))
        nan_at = want == 1e9
        assert np.array_equal(np.isnan(y.numpy()), nan_at), isa
        np.testing.assert_array_equal(np.where(nan_at, 0, y.numpy()), np.where(nan_at, 0, want), err_msg=isa)
        np.testing.assert_array_equal(idx.numpy(), want_idx, err_msg=isa)


@pytest.mark.parametrize("shape", [(2, 3, 6, 70), (1, 2, 5, 33), (1, 2, 6, 28)], ids=["wide", "whole", "lenet"])
@pytest.mark.parametrize("divisor", [None, 3])
def test_avg_pool_2x2_on_every_isa(shape, divisor, isa, rng):
    # 2x2 average pools at stride 2 run per-ISA kernels forward and backward (vectors of
    # windows, masked or scalar tails), checked against the plain loops.
    x = rng.normal(size=shape)
    g = rng.normal(size=(shape[0], shape[1], shape[2] // 2, shape[3] // 2))
    want = ref.avg_pool2d(x, (2, 2), (2, 2), divisor_override=divisor)
    expected = np.zeros(shape)
    for i in range(2):
        for j in range(2):
            expected[:, :, i:2 * g.shape[2]:2, j:2 * g.shape[3]:2] = g / (divisor or 4)
    for dtype, tol in ((dl.float32, 1e-6), (dl.float64, 1e-14)):
        xt = dl.tensor(x).to(dtype).requires_grad_()
        y = F.avg_pool2d(xt, 2, divisor_override=divisor)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=tol, atol=tol, err_msg=isa)
        y.backward(dl.tensor(g).to(dtype))
        np.testing.assert_allclose(xt.grad.numpy(), expected, rtol=tol, atol=tol, err_msg=isa)


AVG_CASES = [((2, 3, 7, 7), (3, 3), (2, 2), (1, 1), False, True, None),
             ((2, 3, 7, 7), (3, 3), (2, 2), (1, 1), True, False, None),
             ((1, 2, 8, 5), (2, 3), (3, 2), (1, 1), True, True, None),
             ((1, 2, 6, 6), (2, 2), (2, 2), (0, 0), False, True, 3)]


@pytest.mark.parametrize("case", AVG_CASES, ids=[f"case{i}" for i in range(len(AVG_CASES))])
def test_avg_pool2d(case, rng):
    shape, k, s, p, ceil, cip, div = case
    x = rng.normal(size=shape)
    got = F.avg_pool2d(dl.tensor(x), k, s, p, ceil, cip, div)
    np.testing.assert_allclose(got.numpy(), ref.avg_pool2d(x, k, s, p, ceil, cip, div), rtol=1e-12)
    np.testing.assert_allclose(F.avg_pool2d(dl.tensor(x).float(), k, s, p, ceil, cip, div).numpy(),
                               ref.avg_pool2d(x, k, s, p, ceil, cip, div), rtol=1e-5, atol=1e-6)
    assert dl.autograd.gradcheck(lambda t: F.avg_pool2d(t, k, s, p, ceil, cip, div),
                                 [dl.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("size", [(1, 1), (3, 4), (7, 5), (2, 9)])
def test_adaptive_pools(size, rng):
    x = rng.normal(size=(2, 3, 7, 9))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(dl.tensor(x), size).numpy(),
                               ref.adaptive_pool2d(x, size, np.mean), rtol=1e-12)
    np.testing.assert_allclose(F.adaptive_max_pool2d(dl.tensor(x), size).numpy(),
                               ref.adaptive_pool2d(x, size, np.max), rtol=1e-12)
    xt = dl.tensor(x, requires_grad=True)
    assert dl.autograd.gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [xt])
    assert dl.autograd.gradcheck(lambda t: F.adaptive_max_pool2d(t, size), [xt])


def test_one_dimensional_and_unbatched_forms(rng):
    x = rng.normal(size=(2, 3, 11))
    y, idx = F.max_pool1d(dl.tensor(x), 3, 2, 1, return_indices=True)
    want, want_idx = ref.max_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1))
    np.testing.assert_allclose(y.numpy(), want[:, :, 0])
    np.testing.assert_array_equal(idx.numpy(), want_idx[:, :, 0])
    np.testing.assert_allclose(F.avg_pool1d(dl.tensor(x), 4, 3, 2, count_include_pad=False).numpy(),
                               ref.avg_pool2d(x[:, :, None], (1, 4), (1, 3), (0, 2), False, False)[:, :, 0])
    np.testing.assert_allclose(nn.AdaptiveAvgPool1d(4)(dl.tensor(x)).numpy(),
                               ref.adaptive_pool2d(x[:, :, None], (1, 4), np.mean)[:, :, 0])
    np.testing.assert_allclose(nn.AdaptiveMaxPool1d(5)(dl.tensor(x)).numpy(),
                               ref.adaptive_pool2d(x[:, :, None], (1, 5), np.max)[:, :, 0])
    img = rng.normal(size=(3, 6, 6))
    np.testing.assert_allclose(nn.MaxPool2d(2)(dl.tensor(img)).numpy(), ref.max_pool2d(img[None], (2, 2), (2, 2))[0][0])
    assert nn.AdaptiveAvgPool2d(1)(dl.tensor(img)).shape == (3, 1, 1)


def test_max_unpool2d_inverts_the_pool_and_routes_gradients(rng):
    x = rng.normal(size=(2, 3, 6, 6))
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    y, idx = pool(dl.tensor(x))
    u = unpool(y, idx).numpy()
    mask = np.zeros(x.size, bool).reshape(2, 3, -1)
    for a in range(2):
        for b in range(3):
            mask[a, b, idx.numpy()[a, b].ravel()] = True
    mask = mask.reshape(x.shape)
    np.testing.assert_array_equal(u[mask], x[mask])
    assert np.all(u[~mask] == 0)
    yt = y.detach().requires_grad_()
    assert dl.autograd.gradcheck(lambda t: unpool(t, idx), [yt.double().detach().requires_grad_()])
    with pytest.raises(IndexError, match="out of range"):
        F.max_unpool2d(y, idx + 100, 2)


@pytest.mark.parametrize("k", [2, 3])
def test_max_pool_propagates_nan(k):
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    x[0, 0, 1, 1] = np.nan
    y = F.max_pool2d(dl.tensor(x), k).numpy()
    assert np.isnan(y[0, 0, 0, 0]) and not np.isnan(y[0, 0, -1, -1])


def test_bad_inputs():
    x = dl.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(x, 2, 1, 2)
    with pytest.raises(ValueError, match="would be empty"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match="positive"):
        F.avg_pool2d(x, 0)
    with pytest.raises(ValueError, match=r"3-D or 4-D input"):
        F.max_pool2d(dl.ones(4, 4), 2)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.max_pool2d(dl.ones(1, 1, 4, 4, dtype=dl.int64), 2)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool2d(x, 0)
