"""python/dlcore/_torch_names.py and _inplace.py against NumPy (and plain Python where NumPy
has no such function): values, float64 finite-difference gradients, in-place semantics,
and the errors."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore.autograd import gradcheck


def t(a, dtype=np.float64, grad=False):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def check(got, want, **kw):
    np.testing.assert_allclose(got.detach().numpy(), want, **({"rtol": 1e-12, "atol": 1e-12} | kw))


def test_constants_and_aliases(rng):
    assert dl.pi == math.pi and dl.e == math.e and dl.inf == math.inf and math.isnan(dl.nan)
    assert dl.newaxis is None
    x = rng.uniform(-0.9, 0.9, size=(3, 4))
    y = rng.uniform(-0.9, 0.9, size=(3, 4))
    check(dl.arccos(t(x)), np.arccos(x))
    check(t(x).arcsin(), np.arcsin(x))
    check(dl.arctan2(t(x), t(y)), np.arctan2(x, y))
    np.testing.assert_array_equal(dl.greater_equal(t(x), t(y)).numpy(), x >= y)
    np.testing.assert_array_equal(t(x).not_equal(t(y)).numpy(), x != y)
    check(t(x).multiply(t(y)), x * y)
    check(t(x).subtract(t(y)), x - y)
    check(t(x).divide(t(y)), x / y)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 2e-15), (np.float32, 4e-7)])
def test_inverse_hyperbolic_functions(dtype, rtol):
    xs = np.array([-1e30, -3e8, -5000.0, -2.5, -1.0, -1e-3, -1e-12, 0.0, 1e-12, 1e-3, 0.5, 1.0, 7.0, 1e6, 1e30])
    if dtype == np.float64:
        xs = np.concatenate([xs, [-1e200, 1e300]])  # past where x^2 overflows
    want = np.arcsinh(xs.astype(dtype).astype(np.float64))
    check(dl.asinh(t(xs, dtype)), want, rtol=rtol, atol=0)
    ac = np.array([1.0, 1.0 + 1e-7, 1.0 + 1e-3, 1.5, 10.0, 3e8, 1e30] + ([1e300] if dtype == np.float64 else []))
    ac = ac.astype(dtype)
    check(dl.acosh(t(ac, dtype)), np.arccosh(ac.astype(np.float64)), rtol=rtol, atol=0)
    at = np.array([-0.999999, -0.5, -1e-9, 0.0, 1e-9, 0.25, 0.9, 0.999999]).astype(dtype)
    check(dl.atanh(t(at, dtype)), np.arctanh(at.astype(np.float64)), rtol=rtol * 4, atol=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        special = np.array([np.nan, np.inf, -np.inf, 0.5, 1.0, -1.0, 2.0])
        check(dl.asinh(t(special[:3])), np.arcsinh(special[:3]))
        check(dl.acosh(t(special)), np.arccosh(special))
        check(dl.atanh(t(special)), np.arctanh(special))
    check(dl.asinh(dl.tensor([0, 2])), np.arcsinh([0.0, 2.0]), rtol=1e-7)  # integers: the default float
    assert dl.asinh(dl.tensor([0, 2])).dtype == dl.float32


def test_inverse_hyperbolic_gradients(rng):
    x = rng.uniform(-3, 3, size=(2, 3))
    assert gradcheck(dl.asinh, (t(x, grad=True),))
    assert gradcheck(dl.acosh, (t(1.2 + np.abs(x), grad=True),))
    assert gradcheck(dl.atanh, (t(x / 4, grad=True),))
    g = t(np.array([-1e30, 1e30]), grad=True)
    dl.asinh(g).sum().backward()
    check(g.grad, 1 / np.abs([-1e30, 1e30]), rtol=1e-12, atol=0)
    for fn in (dl.asinh, dl.atanh):  # the slope at 0 is 1 (odd functions, not |x| sign(x))
        z = t(np.zeros(2), grad=True)
        fn(z).sum().backward()
        check(z.grad, np.ones(2))


def test_fmax_fmin_and_classes(rng):
    a = np.array([1.0, np.nan, 3.0, np.nan, -np.inf])
    b = np.array([2.0, 5.0, np.nan, np.nan, 0.0])
    check(dl.fmax(t(a), t(b)), np.fmax(a, b))
    check(dl.fmin(t(a), t(b)), np.fmin(a, b))
    check(t(a).fmax(1.5), np.fmax(a, 1.5))
    x, y = rng.normal(size=(2, 3)), rng.normal(size=3)
    assert gradcheck(dl.fmax, (t(x, grad=True), t(y, grad=True)))
    v = np.array([np.inf, -np.inf, np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(dl.isposinf(t(v)).numpy(), np.isposinf(v))
    np.testing.assert_array_equal(dl.isneginf(t(v)).numpy(), np.isneginf(v))
    np.testing.assert_array_equal(dl.isneginf(dl.tensor([1, 2])).numpy(), [False, False])
    assert dl.isreal(t(v)).numpy().all()


def test_ldexp_gcd_lcm():
    m = np.array([0.5, -1.25, 3.0, 0.0])
    ex = np.array([3, -2, 0, 7])
    check(dl.ldexp(t(m), dl.tensor(ex)), np.ldexp(m, ex))
    a = np.array([0, 12, -18, 7, 0, 1071, 2**40])
    b = np.array([0, 18, 12, 0, -5, 462, 6 * 2**20])
    np.testing.assert_array_equal(dl.gcd(dl.tensor(a), dl.tensor(b)).numpy(), np.gcd(a, b))
    np.testing.assert_array_equal(dl.lcm(dl.tensor(a[:6]), dl.tensor(b[:6])).numpy(), np.lcm(a[:6], b[:6]))
    np.testing.assert_array_equal(dl.gcd(dl.tensor([[4, 6], [9, 10]]), dl.tensor([6, 4])).numpy(),
                                  np.gcd([[4, 6], [9, 10]], [6, 4]))
    with pytest.raises(TypeError, match="gcd: expected integer tensors, got float64 and int64"):
        dl.gcd(t([1.0]), dl.tensor([2]))


def test_mvlgamma():
    x = np.array([1.6, 2.0, 4.25])
    for p in (1, 2, 3):
        want = [p * (p - 1) / 4 * math.log(math.pi) + sum(math.lgamma(v - j / 2) for j in range(p)) for v in x]
        check(dl.mvlgamma(t(x), p), want, rtol=1e-13)
    assert gradcheck(lambda v: dl.mvlgamma(v, 3), (t(x, grad=True),))
    with pytest.raises(ValueError, match=r"mvlgamma: all elements must be greater than \(p - 1\) / 2 = 1.0"):
        dl.mvlgamma(t([0.9, 2.0]), 3)
    with pytest.raises(ValueError, match="mvlgamma: p must be a positive int, got 0"):
        dl.mvlgamma(t([2.0]), 0)


def test_diagflat_and_addr(rng):
    x = rng.normal(size=(2, 2))
    for k in (0, 1, -2):
        check(dl.diagflat(t(x), k), np.diagflat(x, k))
    M, u, v = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=4)
    check(dl.addr(t(M), t(u), t(v), beta=0.5, alpha=2.0), 0.5 * M + 2.0 * np.outer(u, v))
    nan_m = np.full((3, 4), np.nan)
    check(t(nan_m).addr(t(u), t(v), beta=0), np.outer(u, v))
    assert gradcheck(lambda a, b, c: dl.addr(a, b, c, beta=2.0), (t(M, grad=True), t(u, grad=True), t(v, grad=True)))
    with pytest.raises(ValueError, match=r"addr: vec1 and vec2 must be 1-D, got shapes \(3, 4\) and \(4,\)"):
        dl.addr(t(M), t(M), t(v))


def test_slice_scatters(rng):
    x = rng.normal(size=(4, 5, 3))
    src = rng.normal(size=(4, 3))
    want = x.copy()
    want[:, 2] = src
    check(dl.select_scatter(t(x), t(src), 1, 2), want)
    want = x.copy()
    want[:, -1] = src
    check(dl.select_scatter(t(x), t(src), 1, -1), want)
    assert gradcheck(lambda a, s: dl.select_scatter(a, s, 1, 2), (t(x, grad=True), t(src, grad=True)))

    s2 = rng.normal(size=(4, 2, 3))
    want = x.copy()
    want[:, 1:5:2] = s2
    check(dl.slice_scatter(t(x), t(s2), 1, 1, 5, 2), want)
    want = x.copy()
    want[2:] = rng.normal(size=(2, 5, 3))
    check(dl.slice_scatter(t(x), t(want[2:]), start=2), want)
    assert gradcheck(lambda a, s: dl.slice_scatter(a, s, 1, 1, None, 2), (t(x, grad=True), t(s2, grad=True)))

    m = rng.normal(size=(2, 3, 4))
    for offset, d1, d2 in ((0, 1, 2), (1, 1, 2), (-1, 2, 1), (2, 0, 2)):
        view = np.diagonal(m, offset, d1, d2)
        d = rng.normal(size=view.shape)
        want = m.copy()
        idx = np.arange(view.shape[-1])
        r, c = (idx + max(0, -offset), idx + max(0, offset))
        w = np.moveaxis(want, (d1, d2), (-2, -1))
        w[..., r, c] = d
        want = np.moveaxis(w, (-2, -1), (d1, d2))
        check(dl.diagonal_scatter(t(m), t(d), offset, d1, d2), want)
    d = rng.normal(size=(2, 3))
    assert gradcheck(lambda a, s: dl.diagonal_scatter(a, s, 0, 1, 2), (t(m, grad=True), t(d, grad=True)))

    with pytest.raises(ValueError, match=r"select_scatter: src of shape \(4, 5\) does not match the selected "
                                         r"slice's shape \(4, 3\)"):
        dl.select_scatter(t(x), t(np.ones((4, 5))), 1, 0)
    with pytest.raises(IndexError, match="select_scatter: index 5 is out of range for dim 1 of size 5"):
        dl.select_scatter(t(x), t(src), 1, 5)
    with pytest.raises(ValueError, match=r"slice_scatter: src of shape \(4, 3, 3\) does not match the slice's "
                                         r"shape \(4, 2, 3\)"):
        dl.slice_scatter(t(x), t(np.ones((4, 3, 3))), 1, 1, 5, 2)
    with pytest.raises(IndexError, match="diagonal_scatter: dim 3 is out of range for a tensor of 3 dimensions"):
        dl.diagonal_scatter(t(m), t(d), 0, 1, 3)


def test_index_put(rng):
    x = rng.normal(size=(4, 5, 2))
    i, j = np.array([0, 3, -1]), np.array([1, 4, 2])
    v = rng.normal(size=(3, 2))
    want = x.copy()
    want[i, j] = v
    check(dl.index_put(t(x), (dl.tensor(i), dl.tensor(j)), t(v)), want)
    want = x.copy()
    want[np.array([1, 2])] = 7.0
    check(t(x).index_put((dl.tensor([1, 2]),), dl.tensor(7.0, dtype=dl.float64)), want)
    mask = rng.random(4) > 0.5
    want = x.copy()
    want[mask] = -1.0
    check(dl.index_put(t(x), (dl.tensor(mask),), t(-1.0)), want)
    rows = np.array([0, 2, 0, 0])
    vals = rng.normal(size=(4, 5, 2))
    want = x.copy()
    np.add.at(want, rows, vals)
    check(dl.index_put(t(x), (dl.tensor(rows),), t(vals), accumulate=True), want)
    assert gradcheck(lambda a, b: dl.index_put(a, (dl.tensor(i), dl.tensor(j)), b),
                     (t(x, grad=True), t(v, grad=True)))
    y = t(x)
    assert y.index_put_((dl.tensor([0]),), t(np.zeros((1, 5, 2)))) is y
    check(y[0], np.zeros((5, 2)))
    with pytest.raises(IndexError, match="index_put: index 4 is out of bounds for dimension 0 with size 4"):
        dl.index_put(t(x), (dl.tensor([4]),), t(1.0))
    with pytest.raises(IndexError, match=r"index_put: too many indices \(4\) for a tensor of 3 dimensions"):
        dl.index_put(t(x), (dl.tensor([0]),) * 4, t(1.0))


def test_shapes_and_indices(rng):
    x = rng.normal(size=(2, 3, 4))
    check(t(x).sum_to_size(3, 1), x.sum(0).sum(1, keepdims=True))
    check(t(x).sum_to_size((1, 3, 4)), x.sum(0, keepdims=True))
    check(t(x).sum_to_size(2, 3, 4), x)
    with pytest.raises(ValueError, match=r"sum_to_size: size \(2, 4\) is not expandable to the tensor's size "
                                         r"\(2, 3, 4\)"):
        t(x).sum_to_size(2, 4)
    parts = t(x).split_with_sizes([1, 3], 2)
    for got, want in zip(parts, np.split(x, [1], 2)):
        check(got, want)
    with pytest.raises(ValueError, match=r"split_with_sizes: the sizes \[1, 2\] must sum to the size of dim 2, 4"):
        t(x).split_with_sizes([1, 2], 2)
    flat = np.array([[0, 7], [23, 11]])
    for got, want in zip(dl.unravel_index(dl.tensor(flat), (2, 3, 4)), np.unravel_index(flat, (2, 3, 4))):
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal([c.item() for c in dl.unravel_index(dl.tensor(-1), (2, 3))], [1, 2])
    with pytest.raises(IndexError, match=r"unravel_index: an index is out of bounds for shape \(2, 3\)"):
        dl.unravel_index(dl.tensor([6]), (2, 3))


def test_windows():
    for n in (1, 2, 7, 16):
        for periodic in (False, True):
            m = n + 1 if periodic and n > 1 else n
            cut = (lambda w: w[:-1]) if periodic and n > 1 else (lambda w: w)
            check(dl.hann_window(n, periodic, dtype=dl.float64), cut(np.hanning(m)), atol=1e-15)
            check(dl.hamming_window(n, periodic, dtype=dl.float64), cut(np.hamming(m)), atol=1e-15)
            check(dl.blackman_window(n, periodic, dtype=dl.float64), cut(np.blackman(m)), atol=1e-15)
            check(dl.bartlett_window(n, periodic, dtype=dl.float64), cut(np.bartlett(m)), atol=1e-15)
            check(dl.kaiser_window(n, periodic, 8.6, dtype=dl.float64), cut(np.kaiser(m, 8.6)), rtol=1e-13,
                  atol=1e-15)
    assert dl.hann_window(0).shape == (0,) and dl.hann_window(5).dtype == dl.float32
    with pytest.raises(ValueError, match="hann_window: window_length must be a non-negative int, got -1"):
        dl.hann_window(-1)
    with pytest.raises(TypeError, match="hann_window: expected a floating dtype, got int64"):
        dl.hann_window(4, dtype=dl.int64)


def test_conversions_and_dtype_questions():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = dl.as_tensor(a)
    a[0, 0] = 42.0
    assert x[0, 0].item() == 42.0  # shares NumPy's memory
    assert dl.as_tensor(x) is x
    assert dl.as_tensor(x, dtype=dl.float64).dtype == dl.float64
    assert dl.as_tensor([1, 2]).dtype == dl.int64
    y = dl.asarray(a, copy=True)
    a[0, 0] = 0.0
    assert y[0, 0].item() == 42.0
    with pytest.raises(ValueError, match="asarray: copy=False, but the data cannot be shared"):
        dl.asarray([1.0, 2.0], copy=False)
    assert dl.asarray(x, requires_grad=True).requires_grad
    assert dl.promote_types(dl.int32, dl.float32) == dl.float32
    assert dl.promote_types(dl.bool, dl.int64) == dl.int64
    assert dl.result_type(dl.tensor([1, 2]), 1.0) == dl.float32
    assert dl.result_type(dl.tensor([1, 2], dtype=dl.int32), 5) == dl.int32
    assert dl.result_type(dl.tensor([True]), dl.tensor([1.0], dtype=dl.float64)) == dl.float64
    assert dl.can_cast(dl.int64, dl.float32) and not dl.can_cast(dl.float32, dl.int64)
    assert not dl.can_cast(dl.int32, dl.bool)
    assert dl.is_nonzero(dl.tensor([0.5])) and not dl.is_nonzero(dl.tensor(0))
    with pytest.raises(RuntimeError, match="is_nonzero: a tensor with 2 values has no single truth value"):
        dl.is_nonzero(dl.tensor([1, 2]))
    assert dl.is_signed(dl.tensor([1])) and not dl.is_signed(dl.tensor([True]))
    assert dl.scalar_tensor(3).dtype == dl.float32 and dl.scalar_tensor(3).shape == ()
    m = [dl.tensor(np.eye(2) * k) for k in (1.0, 2.0, 3.0)]
    check(dl.chain_matmul(*m), np.eye(2) * 6)


def test_tensor_attributes():
    x = t(np.arange(6.0).reshape(2, 3))
    assert not x.is_cuda and x.is_cpu and not x.is_sparse and not x.is_quantized
    assert x.itemsize == 8 and x.nbytes == 48 and x.ndimension() == 2
    check(x.mT, np.arange(6.0).reshape(2, 3).T)
    check(x.H, np.arange(6.0).reshape(2, 3).T)
    assert x.real is x and x.conj() is x and not x.is_complex()
    b = t(np.zeros((4, 2, 3)))
    assert b.mT.shape == (4, 3, 2) and b.adjoint().shape == (4, 3, 2)
    with pytest.raises(ValueError, match=r"H: the tensor must be a matrix \(2 dimensions\), got shape \(4, 2, 3\)"):
        b.H
    with pytest.raises(RuntimeError, match="imag: dlcore's tensors are real"):
        x.imag


def test_top_level_functional(rng):
    w = rng.normal(size=(5, 3))
    idx = np.array([[0, 4], [2, 2]])
    check(dl.embedding(t(w), dl.tensor(idx)), w[idx])
    x = rng.normal(size=(2, 4))
    check(dl.dropout(t(x), 0.5, False), x)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    check(dl.layer_norm(t(x), (4,)), (x - mu) / np.sqrt(var + 1e-5), rtol=1e-10)
    img = rng.normal(size=(1, 2, 5, 5))
    k = rng.normal(size=(3, 2, 3, 3))
    want = np.zeros((1, 3, 3, 3))
    for o in range(3):
        for r in range(3):
            for c in range(3):
                want[0, o, r, c] = (img[0, :, r:r + 3, c:c + 3] * k[o]).sum()
    check(dl.conv2d(t(img), t(k)), want, rtol=1e-10)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    check(dl.cosine_similarity(t(a), t(b)), cos, rtol=1e-10)


INPLACE = [
    ("tril_", (), lambda a: np.tril(a)),
    ("triu_", (1,), lambda a: np.triu(a, 1)),
    ("clamp_min_", (0.1,), lambda a: np.maximum(a, 0.1)),
    ("clamp_max_", (0.1,), lambda a: np.minimum(a, 0.1)),
    ("clip_", (-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    ("pow_", (3,), lambda a: a**3),
    ("sign_", (), np.sign),
    ("tan_", (), np.tan),
    ("cumsum_", (1,), lambda a: np.cumsum(a, 1)),
    ("cumprod_", (0,), lambda a: np.cumprod(a, 0)),
    ("hypot_", ("o",), lambda a, o: np.hypot(a, o)),
    ("atan2_", ("o",), lambda a, o: np.arctan2(a, o)),
    ("fmod_", (0.3,), lambda a: np.fmod(a, 0.3)),
    ("remainder_", (0.3,), lambda a: np.remainder(a, 0.3)),
    ("copysign_", ("o",), lambda a, o: np.copysign(a, o)),
    ("xlogy_", (2.0,), lambda a: a * np.log(2.0)),
    ("eq_", ("o",), lambda a, o: (a == o).astype(np.float64)),
    ("lt_", ("o",), lambda a, o: (a < o).astype(np.float64)),
    ("asinh_", (), np.arcsinh),
    ("negative_", (), np.negative),
    ("frac_", (), lambda a: a - np.trunc(a)),
    ("deg2rad_", (), np.deg2rad),
    ("nan_to_num_", (), np.nan_to_num),
]


@pytest.mark.parametrize("name,args,ref", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_methods_write_into_the_tensor(rng, name, args, ref):
    a = rng.uniform(-0.9, 0.9, size=(3, 4))
    o = rng.uniform(-0.9, 0.9, size=(3, 4))
    x = t(a)
    view = x[1]
    call = tuple(t(o) if v == "o" else v for v in args)
    assert getattr(x, name)(*call) is x
    want = ref(a, o) if "o" in args else ref(a)
    check(x, want, rtol=1e-14)
    check(view, want[1], rtol=1e-14)  # the memory itself was written


def test_inplace_methods_in_a_graph(rng):
    a = rng.uniform(0.5, 1.5, size=(2, 3))
    # Ops that save their input for the backward read a copy: the gradient is right.
    assert gradcheck(lambda v: (v * 1).pow_(3), (t(a, grad=True),))
    assert gradcheck(lambda v: (v * 1).xlogy_(3.0).tril_(), (t(a, grad=True),))
    assert gradcheck(lambda v: (v * 1).asinh_().clamp_min_(0.7), (t(a, grad=True),))
    with pytest.raises(RuntimeError, match="tril_: a leaf tensor that requires grad is being used in an in-place"):
        t(a, grad=True).tril_()
    w = t(a, grad=True)
    with dl.no_grad():
        w.clamp_max_(1.0)
    check(w, np.minimum(a, 1.0))


def test_inplace_methods_refuse_what_does_not_fit():
    x = t(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"hypot_: the result has shape \(3, 4\), the tensor \(3, 1\)"):
        x.hypot_(t(np.ones((1, 4))))
    i = dl.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="pow_: the result's dtype float32 cannot be written into a int64 tensor"):
        i.pow_(0.5)
    with pytest.raises(TypeError, match="float_power_: the tensor is float32"):
        dl.tensor([1.0, 2.0]).float_power_(2)
    b = dl.tensor([True, False])
    with pytest.raises(TypeError, match="cumsum_: the result's dtype int64 cannot be written into a bool tensor"):
        b.cumsum_(0)
    np.testing.assert_array_equal(i.numpy(), [1, 2, 3])  # nothing written
    y = t([1.0, 2.0, 3.0])
    y.eq_(t([1.0, 0.0, 3.0]))
    check(y, [1.0, 0.0, 1.0])
    g = dl.tensor([12, 18])
    g.gcd_(dl.tensor([8, 4]))
    np.testing.assert_array_equal(g.numpy(), [4, 2])


def test_inplace_shape_changes():
    x = t(np.arange(6.0).reshape(2, 3))
    assert x.unsqueeze_(0) is x and x.shape == (1, 2, 3)
    assert x.squeeze_().shape == (2, 3)
    x.t_()
    check(x, np.arange(6.0).reshape(2, 3).T)
    x.transpose_(0, 1)
    x.swapaxes_(0, 1)
    assert x.shape == (3, 2)
    x[0, 0] = 9.0
    assert x.shape == (3, 2) and x[0, 0].item() == 9.0
    with pytest.raises(RuntimeError, match=r"unsqueeze_: the tensor requires grad.*use unsqueeze\(\)"):
        t([1.0], grad=True).unsqueeze_(0)
