"""python/dlcore/_tensor_extras.py against NumPy: values, float64 finite-difference
gradients where the functions carry them, the Tensor conversions a ported script calls, and
the errors."""
import warnings

import numpy as np
import pytest

import dlcore as dl
from dlcore.autograd import gradcheck


def t(a, dtype=np.float64, grad=False):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def check(got, want, **kw):
    np.testing.assert_allclose(got.detach().numpy(), want, **({"rtol": 1e-12, "atol": 1e-12} | kw))


def test_tan_and_products(rng):
    x = rng.uniform(-1.2, 1.2, size=(3, 4))
    check(dl.tan(t(x)), np.tan(x))
    assert gradcheck(dl.tan, (t(x, grad=True),))
    a, b = rng.normal(size=5), rng.normal(size=5)
    check(dl.dot(t(a), t(b)), a @ b)
    check(t(a).vdot(t(b)), a @ b)
    M, v = rng.normal(size=(3, 5)), rng.normal(size=5)
    check(dl.mv(t(M), t(v)), M @ v)
    check(dl.ger(t(a), t(b[:3])), np.outer(a, b[:3]))
    c = rng.normal(size=3)
    check(dl.addmv(t(c), t(M), t(v), beta=0.5, alpha=2.0), 0.5 * c + 2 * M @ v)
    B1, B2, C = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 3, 5)), rng.normal(size=(2, 5))
    check(dl.baddbmm(t(C), t(B1), t(B2), beta=2.0, alpha=0.5), 2 * C + 0.5 * B1 @ B2)
    check(dl.addbmm(t(C), t(B1), t(B2)), C + (B1 @ B2).sum(0))
    with pytest.raises(ValueError, match="dot: 1D tensors expected, got 2D and 1D tensors"):
        dl.dot(t(M), t(v))
    with pytest.raises(ValueError, match=r"dot: inconsistent tensor size, expected tensor \[5\] and src \[3\]"):
        dl.dot(t(a), t(c))
    with pytest.raises(ValueError, match=r"mv: expected a matrix \(n, m\) and a vector \(m,\), got \(3, 5\) "
                                         r"and \(3,\)"):
        dl.mv(t(M), t(c))


def test_matrix_power(rng):
    A = rng.normal(size=(2, 3, 3)) + 2 * np.eye(3)
    for n in (0, 1, 2, 5, -1, -2):
        check(dl.matrix_power(t(A), n), np.linalg.matrix_power(A, n), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda m: dl.matrix_power(m, 3), (t(A[0], grad=True),))
    with pytest.raises(ValueError, match=r"matrix_power: expected square matrices \(..., n, n\), got shape \(2, 3\)"):
        dl.matrix_power(t(np.ones((2, 3))), 2)
    with pytest.raises(TypeError, match="matrix_power: n must be an int, got float"):
        dl.matrix_power(t(A), 2.0)


def test_diag_embed_and_flips(rng):
    x = rng.normal(size=(2, 3))
    for offset in (0, 1, -2):
        want = np.stack([np.diag(row, offset) for row in x])
        check(dl.diag_embed(t(x), offset), want)
    check(dl.diag_embed(t(x), 0, 0, 2), np.moveaxis(np.stack([np.diag(row) for row in x]), (1, 2), (0, 2)))
    assert gradcheck(lambda v: dl.diag_embed(v, 1), (t(x, grad=True),))
    m = rng.normal(size=(3, 4, 2))
    check(dl.fliplr(t(m)), np.fliplr(m))
    check(dl.flipud(t(m)), np.flipud(m))
    with pytest.raises(ValueError, match=r"fliplr: the input must have at least 2 dims, got shape \(3,\)"):
        dl.fliplr(t(np.ones(3)))


def test_index_copy_and_masked_scatter(rng):
    x, src = rng.normal(size=(3, 5)), rng.normal(size=(3, 2))
    idx = np.array([4, 1])
    want = x.copy()
    want[:, idx] = src
    check(dl.index_copy(t(x), 1, dl.tensor(idx), t(src)), want)
    assert gradcheck(lambda a, s: dl.index_copy(a, 1, dl.tensor(idx), s), (t(x, grad=True), t(src, grad=True)))
    y = t(x.copy())
    y.index_copy_(1, dl.tensor(idx), t(src))
    check(y, want)
    mask = rng.random((3, 5)) > 0.5
    values = rng.normal(size=20)
    want = x.copy()
    want[mask] = values[: mask.sum()]
    check(t(x).masked_scatter(dl.tensor(mask), t(values)), want)
    assert gradcheck(lambda a, s: a.masked_scatter(dl.tensor(mask), s), (t(x, grad=True), t(values, grad=True)))
    with pytest.raises(ValueError, match="masked_scatter: the mask selects 15 places, source has 3 values"):
        t(x).masked_scatter(dl.ones(3, 5, dtype=dl.bool), t(values[:3]))


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_nanquantile_against_numpy(interpolation, rng):
    x = rng.normal(size=(4, 9))
    x[0, [1, 5]] = np.nan
    x[3, :] = np.nan
    for q in (0.0, 0.3, 0.5, 1.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy on the all-NaN row
            want = np.nanquantile(x, q, axis=1, method=interpolation)
        check(dl.nanquantile(t(x), q, dim=1, interpolation=interpolation), want)
    check(dl.nanquantile(t(x[:3]), [0.25, 0.75], dim=1),
          np.nanquantile(x[:3], [0.25, 0.75], axis=1))
    check(dl.nanquantile(t(x[0]), 0.4), np.nanquantile(x[0], 0.4))


def test_unique_consecutive_cov_corrcoef_isin_logaddexp2(rng):
    a = np.array([1, 1, 2, 2, 3, 1, 1, 5])
    values, inverse, counts = dl.unique_consecutive(dl.tensor(a), return_inverse=True, return_counts=True)
    assert values.numpy().tolist() == [1, 2, 3, 1, 5] and counts.numpy().tolist() == [2, 2, 1, 2, 1]
    assert inverse.numpy().tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    x = rng.normal(size=(3, 10))
    check(dl.cov(t(x)), np.cov(x))
    check(dl.cov(t(x), correction=0), np.cov(x, ddof=0))
    check(dl.cov(t(x[0])), np.cov(x[0]))
    check(dl.corrcoef(t(x)), np.corrcoef(x))
    assert gradcheck(dl.corrcoef, (t(x, grad=True),))
    b = rng.integers(0, 6, size=(2, 4))
    np.testing.assert_array_equal(dl.isin(dl.tensor(b), dl.tensor([1, 3])).numpy(), np.isin(b, [1, 3]))
    np.testing.assert_array_equal(dl.isin(dl.tensor(b), 2, invert=True).numpy(), np.isin(b, 2, invert=True))
    p, q = rng.normal(size=5) * 50, rng.normal(size=5) * 50
    check(dl.logaddexp2(t(p), t(q)), np.logaddexp2(p, q))
    assert dl.equal(t(p), t(p)) and not dl.equal(t(p), t(q)) and not dl.equal(t(p), t(p[:4]))


def test_conversions_a_ported_script_calls():
    x = dl.ones(2, 3)
    for name, dtype in [("half", "float16"), ("bfloat16", "bfloat16"), ("short", "int16"), ("char", "int8"),
                        ("byte", "uint8")]:
        with pytest.raises(TypeError, match=f"Tensor.{name}\\(\\): dlcore has no {dtype} tensors"):
            getattr(x, name)()
    with pytest.raises(RuntimeError, match=r"Tensor.cuda\(\): no CUDA device in this dlcore build"):
        x.cuda()
    assert x.pin_memory() is x and x.get_device() == -1
    assert x.type() == "dlcore.FloatTensor" and x.double().type() == "dlcore.DoubleTensor"
    assert x.type(dl.int64).dtype == dl.int64
    y = dl.zeros(4, 5)
    assert y[1:].data_ptr() - y.data_ptr() == 5 * 4
    assert x.where(x > 0, dl.zeros(2, 3)).sum().item() == 6 and tuple(dl.ones(3).broadcast_to((2, 3)).shape) == (2, 3)
    assert tuple(x.new_empty(4).shape) == (4,) and x.new_empty(4).dtype == dl.float32


@pytest.fixture
def default_printing():
    yield
    dl.set_printoptions(profile="default")


def test_set_printoptions(default_printing):
    x = dl.tensor([1.123456, 2.5])
    assert repr(x) == "tensor([1.1235, 2.5000])"
    assert repr(dl.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    dl.set_printoptions(precision=2)
    assert repr(x) == "tensor([1.12, 2.50])"
    dl.set_printoptions(precision=3, sci_mode=True)
    assert repr(x) == "tensor([1.123e+00, 2.500e+00])"
    dl.set_printoptions(threshold=4, edgeitems=1)
    assert repr(dl.arange(10)) == "tensor([0, ..., 9])"
    dl.set_printoptions(profile="full")
    assert "..." not in repr(dl.arange(2000))
    assert dl.get_printoptions()["threshold"] == float("inf")
    with pytest.raises(ValueError, match="set_printoptions: profile must be 'default', 'short' or 'full', got 'x'"):
        dl.set_printoptions(profile="x")


def test_frexp_nextafter_angle(rng):
    x = np.concatenate([rng.normal(size=20) * 1e3, [0.0, -0.0, 1.0, 1e-40, -np.inf, np.nan]]).astype(np.float32)
    m, e = dl.frexp(dl.tensor(x))
    wm, we = np.frexp(x)
    np.testing.assert_array_equal(m.numpy(), wm)
    np.testing.assert_array_equal(e.numpy(), we)
    assert e.dtype == dl.int32 and m.dtype == dl.float32
    finite = np.isfinite(x)
    np.testing.assert_array_equal((m.numpy() * 2.0 ** e.numpy())[finite], x[finite])  # x = m 2^e exactly
    nxt = dl.tensor(x).nextafter(dl.tensor(np.float32(np.inf))).numpy()
    np.testing.assert_array_equal(nxt, np.nextafter(x, np.float32(np.inf)))
    assert (nxt[finite] > x[finite]).all()
    v = dl.tensor([-2.0, 0.0, 3.0, np.nan, -np.inf], requires_grad=True)
    a = dl.angle(v)
    np.testing.assert_array_equal(a.detach().numpy(), np.array([np.pi, 0, 0, np.nan, np.pi], np.float32))
    a.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), np.zeros(5))
    with pytest.raises(TypeError, match="frexp: expected a floating tensor"):
        dl.frexp(dl.tensor([1, 2]))


def test_put_nonzero_static_histogram_and_elementwise_python(rng):
    base = np.arange(6.0).reshape(2, 3)
    got = dl.put(dl.tensor(base), dl.tensor([0, -1, 4]), dl.tensor([10.0, 20.0, 30.0]))
    want = base.copy().reshape(-1)
    want[[0, -1, 4]] = [10, 20, 30]
    np.testing.assert_array_equal(got.numpy(), want.reshape(2, 3))
    acc = dl.tensor(base).put_(dl.tensor([1, 1, 2]), dl.tensor([1.0, 2.0, 3.0]), accumulate=True)
    np.testing.assert_array_equal(acc.numpy(), base + np.array([[0, 3, 3], [0, 0, 0]]))
    src = dl.tensor([5.0, 6.0], requires_grad=True)
    dl.put(dl.zeros(4), dl.tensor([3, 0]), src).sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [1, 1])
    empty = dl.tensor(np.zeros(0, np.int64))
    np.testing.assert_array_equal(dl.put(dl.ones(3), empty, dl.zeros(0)).numpy(), [1, 1, 1])  # nothing to write
    assert dl.put(dl.zeros(0), empty, dl.zeros(0)).shape == (0,)
    with pytest.raises(IndexError, match="put: index out of range"):
        dl.put(dl.zeros(4), dl.tensor([4]), dl.tensor([1.0]))
    x = np.array([[0, 1], [2, 0], [0, 3]])
    np.testing.assert_array_equal(dl.nonzero_static(dl.tensor(x), size=4).numpy(),
                                  np.vstack([np.argwhere(x), [[-1, -1]]]))
    np.testing.assert_array_equal(dl.nonzero_static(dl.tensor(x), size=2, fill_value=7).numpy(), np.argwhere(x)[:2])
    v = rng.normal(size=50)
    for bins in (5, [-3.0, -1.0, 0.0, 2.5]):
        hist, edges = dl.histogram(dl.tensor(v), bins)
        wh, we = np.histogram(v, bins)
        np.testing.assert_array_equal(hist.numpy(), wh)
        np.testing.assert_allclose(edges.numpy(), we)
    y = dl.tensor([1.0, 2.0, 3.0])
    assert y.map_(dl.tensor([10.0]), lambda a, b: a * b + 1) is y
    np.testing.assert_array_equal(y.numpy(), [11, 21, 31])
    np.testing.assert_array_equal(y.apply_(lambda a: -a).numpy(), [-11, -21, -31])
    z = dl.tensor(np.arange(12.0).reshape(3, 4))
    c = z.narrow_copy(1, 1, 2)
    c.add_(100)
    np.testing.assert_array_equal(z.numpy(), np.arange(12.0).reshape(3, 4))  # a copy, not a view
    assert z.new_empty_strided((2, 5), (5, 1)).shape == (2, 5) and not z.is_inference()
    np.testing.assert_array_equal(dl.tensor([-1.0, 0.3, 2.0]).hardshrink(0.5).numpy(), [-1.0, 0.0, 2.0])
