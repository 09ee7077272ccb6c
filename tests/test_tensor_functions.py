"""python/dlcore/_tensor_functions.py and the elementwise helpers of _arithmetic.py against
NumPy (and plain loops where NumPy has no such function), their gradients against float64
finite differences, and their errors."""
import itertools

import numpy as np
import pytest

import dlcore as dl


def t(a, dtype=np.float64, grad=False):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def check(got, want, **kw):
    np.testing.assert_allclose(got.detach().numpy(), want, **({"rtol": 1e-12, "atol": 1e-12} | kw))


def test_diff_matches_numpy(rng):
    x = rng.normal(size=(4, 6))
    for n, dim in [(1, -1), (2, 1), (3, 0), (0, 1), (7, 1)]:
        check(dl.diff(t(x), n, dim), np.diff(x, n, dim))
    check(t(x).diff(prepend=t(x[:, :2]), append=t(x[:, :1])),
          np.diff(x, prepend=x[:, :2], append=x[:, :1]))
    b = rng.random(9) > 0.5
    np.testing.assert_array_equal(dl.diff(dl.tensor(b)).numpy(), np.diff(b))
    assert dl.autograd.gradcheck(lambda a: dl.diff(a, 2, 0), [t(x, grad=True)])


def test_products_match_numpy(rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2, 2))
    check(dl.kron(t(a), t(b)), np.kron(a, b))
    check(dl.kron(t(a[0]), t(a)), np.kron(a[0], a))
    u, v = rng.normal(size=(4, 3)), rng.normal(size=(1, 3))
    check(dl.cross(t(u), t(v)), np.cross(u, v))
    check(dl.cross(t(u.T), t(v.T), dim=0), np.cross(u.T, v.T, axis=0))
    p, q = rng.normal(size=(3, 4, 5)), rng.normal(size=(4, 5, 2))
    check(dl.tensordot(t(p), t(q)), np.tensordot(p, q), rtol=1e-10)
    check(dl.tensordot(t(p), t(q), ([1, 2], [0, 1])), np.tensordot(p, q, ([1, 2], [0, 1])), rtol=1e-10)
    check(dl.tensordot(t(p), t(q), 0), np.tensordot(p, q, 0))
    w = rng.normal(size=(2, 5))
    check(dl.inner(t(p), t(w)), np.inner(p, w), rtol=1e-10)
    check(dl.inner(t(2.5), t(w)), 2.5 * w)
    for fn, args in [(dl.kron, (a, b)), (dl.cross, (u, v)), (lambda x, y: dl.tensordot(x, y, ([1], [0])), (p, q))]:
        assert dl.autograd.gradcheck(fn, [t(z, grad=True) for z in args])


def test_rearrangements_match_numpy(rng):
    x = rng.normal(size=(2, 3, 4))
    for k in range(-1, 5):
        for dims in [(0, 1), (1, 2), (2, 0)]:
            check(dl.rot90(t(x), k, dims), np.rot90(x, k, dims))
    for sections in [3, 4, [1, 3], [-1, 10], [2, 1]]:
        got = dl.tensor_split(t(x), sections, 2)
        want = np.array_split(x, sections, 2)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            check(g, w)
    for fn, npfn, n in [(dl.hsplit, np.hsplit, 3), (dl.vsplit, np.vsplit, 2), (dl.dsplit, np.dsplit, [1, 3])]:
        for g, w in zip(fn(t(x), n), npfn(x, n)):
            check(g, w)
    idx = rng.integers(0, 3, size=(2, 5, 4))
    check(dl.take_along_dim(t(x), dl.tensor(idx), 1), np.take_along_axis(x, idx, 1))
    check(dl.take_along_dim(t(x), dl.tensor(idx[:1]), 1), np.take_along_axis(x, np.broadcast_to(idx[:1], (2, 5, 4)), 1))
    flat = rng.integers(0, 24, size=7)
    check(dl.take_along_dim(t(x), dl.tensor(flat)), x.ravel()[flat])
    check(t(x).ravel(), x.ravel())
    check(dl.row_stack([t(x[0]), t(x[1])]), np.vstack([x[0], x[1]]))
    assert dl.autograd.gradcheck(lambda a: dl.rot90(a, 1, (0, 2)), [t(x, grad=True)])
    assert dl.autograd.gradcheck(lambda a: dl.take_along_dim(a, dl.tensor(idx), 1), [t(x, grad=True)])


def block_diag_reference(mats):
    mats = [np.atleast_2d(m) for m in mats]
    out = np.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)))
    r = c = 0
    for m in mats:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    return out


def test_combining_functions_match_plain_references(rng):
    mats = [rng.normal(size=(2, 3)), np.array(4.0), rng.normal(size=3), rng.normal(size=(1, 1))]
    out = dl.block_diag(*[t(m) for m in mats])
    check(out, block_diag_reference(mats))
    assert dl.block_diag(dl.tensor([[1, 2]]), t([[0.5]])).dtype == dl.float64
    assert dl.autograd.gradcheck(lambda a, b: dl.block_diag(a, b), [t(mats[0], grad=True), t(mats[2], grad=True)])
    a, b, c = [1, 2, 3], [4, 5], [6]
    np.testing.assert_array_equal(dl.cartesian_prod(dl.tensor(a), dl.tensor(b), dl.tensor(c)).numpy(),
                                  list(itertools.product(a, b, c)))
    assert dl.combinations(dl.tensor([7]), 2).shape == (0, 2)
    v = dl.tensor([3, 1, 4, 1])
    for r in (0, 1, 2, 3, 5):
        for rep, pick in [(False, itertools.combinations), (True, itertools.combinations_with_replacement)]:
            want = np.array(list(pick([3, 1, 4, 1], r)))
            got = dl.combinations(v, r, with_replacement=rep).numpy()
            if r == 0 or want.size == 0:
                assert got.shape == ((0,) if r <= 1 else (0, r))
            else:
                np.testing.assert_array_equal(got.reshape(want.shape), want)


def test_reductions_match_numpy(rng):
    x = rng.normal(size=(3, 5))
    mn, mx = dl.aminmax(t(x))
    assert mn.item() == x.min() and mx.item() == x.max()
    out = t(x).aminmax(dim=1, keepdim=True)
    check(out.min, x.min(1, keepdims=True))
    check(out.max, x.max(1, keepdims=True))
    m = (rng.random((3, 4)) > 0.5) * rng.normal(size=(3, 4))
    np.testing.assert_array_equal(dl.argwhere(t(m)).numpy(), np.argwhere(m))
    check(dl.msort(t(x)), np.sort(x, 0))
    y = rng.normal(size=(3, 5))
    for p in (1, 2, 3.5, np.inf):
        check(dl.dist(t(x), t(y), p), np.linalg.norm((x - y).ravel(), p))
    want = x.copy()
    for i in range(3):
        n = np.linalg.norm(x[i], 3)
        if n > 1.0:
            want[i] = x[i] * (1.0 / (n + 1e-7))
    check(dl.renorm(t(x), 3, 0, 1.0), want)
    pairs = [np.linalg.norm(x[i] - x[j], 2.5) for i in range(3) for j in range(i + 1, 3)]
    check(dl.pdist(t(x), 2.5), pairs)
    assert dl.pdist(t(x[:1])).shape == (0,)
    for fn in (lambda a: dl.renorm(a, 2, 1, 0.5), lambda a: dl.pdist(a), lambda a: dl.dist(a, t(y), 3)):
        assert dl.autograd.gradcheck(fn, [t(x, grad=True)])
    check(dl.logspace(-1, 2, 7), np.logspace(-1, 2, 7), rtol=1e-6)
    check(dl.logspace(0, 3, 4, base=2.0, dtype=dl.float64), np.logspace(0, 3, 4, base=2.0))


def xlogy_reference(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y))


def test_elementwise_helpers_match_numpy(rng):
    x = np.array([0.0, 0.0, 0.0, 1.5, -2.0, 3.0, 0.0])
    y = np.array([0.0, 2.0, np.nan, 0.0, 0.5, np.inf, np.inf])
    check(dl.xlogy(t(x), t(y)), xlogy_reference(x, y))
    check(t(x).xlogy(2.0), xlogy_reference(x, np.full_like(x, 2.0)))
    z = np.concatenate([rng.normal(size=20), [0.0, 1.0, -2.0]])
    check(dl.sinc(t(z)), np.sinc(z), atol=1e-15)
    big = np.array([3.0, 1e30, 0.0, np.inf, -np.inf, 5e-30, np.nan])
    other = np.array([4.0, 1e30, 0.0, np.nan, 1.0, 5e-30, 2.0])
    np.testing.assert_allclose(dl.hypot(t(big, np.float32), t(other, np.float32)).numpy(),
                               np.hypot(big, other).astype(np.float32), rtol=1e-6)
    p = rng.uniform(0.01, 0.99, size=10)
    check(dl.logit(t(p)), np.log(p / (1 - p)))
    check(dl.logit(t([0.0, 1.0]), eps=1e-3), np.log(np.array([1e-3, 1 - 1e-3]) / (1 - np.array([1e-3, 1 - 1e-3]))))
    h = np.array([-1.0, 0.0, 2.0, np.nan])
    check(dl.heaviside(t(h), t(0.5)), np.heaviside(h, 0.5))
    s = np.array([-0.0, 0.0, -1.0, 2.0, -np.inf])
    np.testing.assert_array_equal(dl.signbit(t(s)).numpy(), np.signbit(s))
    np.testing.assert_array_equal(dl.signbit(dl.tensor([-3, 0, 4])).numpy(), [True, False, False])
    mag, sign = [1.0, -2.0, 3.0, 4.0], [-0.0, 1.0, -5.0, 0.0]
    check(dl.copysign(t(mag), t(sign)), np.copysign(mag, sign))
    f = rng.normal(size=8) * 3
    check(dl.frac(t(f)), f - np.trunc(f))
    check(dl.deg2rad(t(f)), np.deg2rad(f))
    check(dl.rad2deg(dl.tensor([1, 2])), np.rad2deg([1, 2]), rtol=1e-6)
    fp = dl.float_power(dl.tensor([2.0, 3.0]), 3)
    assert fp.dtype == dl.float64
    check(fp, np.float_power([2.0, 3.0], 3))
    check(dl.true_divide(dl.tensor([1, 3]), 2), [0.5, 1.5])
    check(dl.negative(t(f)), -f)
    assert dl.positive(t(f)) is not None and dl.positive(t(f)).numpy().tolist() == f.tolist()
    with pytest.raises(TypeError, match="positive: not supported on bool"):
        dl.positive(dl.tensor([True]))


def test_elementwise_helpers_gradients(rng):
    pos = rng.uniform(0.2, 2.0, size=6)
    sgn = rng.normal(size=6)
    cases = [(lambda a, b: dl.xlogy(a, b), (sgn, pos)), (dl.sinc, (np.append(sgn, 0.0),)),
             (dl.hypot, (sgn, rng.normal(size=6))), (dl.logit, (rng.uniform(0.1, 0.9, size=6),)),
             (dl.copysign, (sgn, rng.normal(size=6))), (dl.frac, (sgn * 3 + 0.1,))]
    for fn, args in cases:
        assert dl.autograd.gradcheck(fn, [t(a, grad=True) for a in args])
    # at the origin hypot's gradient is 0 (not NaN), and xlogy's at x = 0 is log(y) for y > 0
    a, b = t([0.0], grad=True), t([0.0], grad=True)
    dl.hypot(a, b).sum().backward()
    assert a.grad.item() == 0.0 and b.grad.item() == 0.0
    x, y = t([0.0, 0.0], grad=True), t([2.0, 0.0], grad=True)
    dl.xlogy(x, y).sum().backward()
    check(x.grad, [np.log(2.0), 0.0])


def test_bad_arguments_raise_naming_the_problem():
    x = dl.ones(2, 4)
    with pytest.raises(ValueError, match="cross: no dimension of size 3"):
        dl.cross(x, x)
    with pytest.raises(ValueError, match="cross: dimension 1 .* must have size 3"):
        dl.cross(x, x, dim=1)
    with pytest.raises(ValueError, match="tensordot: contracted dims differ"):
        dl.tensordot(x, x, ([1], [0]))
    with pytest.raises(ValueError, match="hsplit: dim 1 of size 4 is not divisible into 3"):
        dl.hsplit(x, 3)
    with pytest.raises(ValueError, match="rot90: dims must be two different dims"):
        dl.rot90(x, 1, (1, 1))
    with pytest.raises(ValueError, match="tensor_split: the number of sections must be positive"):
        dl.tensor_split(x, 0)
    with pytest.raises(ValueError, match="diff: order must be non-negative"):
        dl.diff(x, -1)
    with pytest.raises(ValueError, match="pdist: expected a 2-D input"):
        dl.pdist(dl.ones(3))
    with pytest.raises(ValueError, match="block_diag: expected tensors of at most 2 dims"):
        dl.block_diag(dl.ones(1, 1, 1))
    with pytest.raises(ValueError, match="take_along_dim: shapes .* do not broadcast"):
        dl.take_along_dim(x, dl.zeros(3, 1, dtype=dl.int64), 1)
    with pytest.raises(IndexError, match="diff: dimension out of range"):
        dl.diff(x, 1, 2)


def test_tensor_unfold_matches_sliding_windows(rng):
    x = rng.normal(size=(3, 10, 2))
    for dim, size, step in [(1, 4, 2), (1, 3, 3), (0, 2, 1), (-1, 2, 5), (1, 10, 1), (1, 0, 4)]:
        ax = dim % x.ndim  # windows along ax, each window's elements last
        want = np.lib.stride_tricks.sliding_window_view(x, size, axis=ax)
        want = np.take(want, np.arange(0, want.shape[ax], step), axis=ax)
        got = t(x).unfold(dim, size, step)
        assert tuple(got.shape) == want.shape
        check(got, want)
    assert dl.autograd.gradcheck(lambda a: a.unfold(1, 4, 3), [t(x, grad=True)])
    with pytest.raises(ValueError, match="unfold: size 11 exceeds the length 10 of dimension 1"):
        t(x).unfold(1, 11, 1)
    with pytest.raises(ValueError, match="unfold: size must be non-negative and step positive"):
        t(x).unfold(1, 2, 0)


def test_mode_against_counting(rng):
    import collections

    x = rng.integers(0, 4, size=(5, 9)).astype(np.float64)
    for dim in (0, 1, -1):
        got = dl.mode(t(x), dim)
        xl = np.moveaxis(x, dim, -1)
        want_v, want_i = np.empty(xl.shape[:-1]), np.empty(xl.shape[:-1], dtype=np.int64)
        for idx in np.ndindex(xl.shape[:-1]):
            line = list(xl[idx])
            counts = collections.Counter(line)
            top = max(counts.values())
            value = min(v for v, c in counts.items() if c == top)
            want_v[idx] = value
            want_i[idx] = max(i for i, v in enumerate(line) if v == value)
        check(got.values, want_v)
        np.testing.assert_array_equal(got.indices.numpy(), want_i)
    kept = dl.mode(t(x), 1, keepdim=True)
    assert tuple(kept.values.shape) == (5, 1) and x.reshape(-1)[0] == dl.mode(t(x[0, :1]), 0).values.item()
    with pytest.raises(ValueError, match="mode: cannot take the mode of an empty dimension"):
        dl.mode(t(np.zeros((2, 0))), 1)


def test_nanmedian_is_the_lower_median_of_the_numbers(rng):
    x = rng.permutation(40).astype(np.float64).reshape(4, 10)
    x[0, [1, 4, 7]] = np.nan
    x[2, :] = np.nan
    got = dl.nanmedian(t(x), 1)
    for r in range(4):
        numbers = np.sort(x[r][~np.isnan(x[r])])
        if numbers.size == 0:
            assert np.isnan(got.values[r].item()) and got.indices[r].item() == 0
            continue
        value = numbers[(numbers.size - 1) // 2]
        assert got.values[r].item() == value and x[r, got.indices[r].item()] == value
    assert dl.nanmedian(t([1.0, np.nan, 3.0, 2.0])).item() == 2.0
    assert np.isnan(dl.nanmedian(t([np.nan, np.nan])).item())
    check(dl.nanmedian(t(x[:2]), 0, keepdim=True).values.reshape(-1),
          [np.sort(c[~np.isnan(c)])[(np.sum(~np.isnan(c)) - 1) // 2] for c in x[:2].T])


def test_histc_against_numpy_histogram(rng):
    x = rng.normal(size=1000)
    check(dl.histc(t(x), bins=7, min=-1.5, max=2.0), np.histogram(x, bins=7, range=(-1.5, 2.0))[0])
    check(dl.histc(t(x), bins=10), np.histogram(x, bins=10)[0])  # the values' own range
    check(dl.histc(t([2.0, 2.0]), bins=4), [0, 0, 2, 0])  # one point: [1, 3]
    assert dl.histc(t(x, np.float32), bins=3).dtype == dl.float32
    with pytest.raises(ValueError, match=r"histc: min \(2\) must not exceed max \(1\)"):
        dl.histc(t(x), 4, 2, 1)
    with pytest.raises(ValueError, match="histc: bins must be a positive int, got 0"):
        dl.histc(t(x), 0)
    with pytest.raises(TypeError, match="histc: expected a floating tensor"):
        dl.histc(dl.tensor([1, 2]))


def test_vander_and_trapezoid_against_numpy(rng):
    x = rng.normal(size=5)
    check(dl.vander(t(x)), np.vander(x))
    check(dl.vander(t(x), 3, increasing=True), np.vander(x, 3, increasing=True))
    assert tuple(dl.vander(t(x), 0).shape) == (5, 0)
    y, pts = rng.normal(size=(3, 6)), np.sort(rng.normal(size=6))
    trapz = getattr(np, "trapezoid", None) or np.trapz
    check(dl.trapezoid(t(y)), trapz(y))
    check(dl.trapezoid(t(y), t(pts)), trapz(y, pts))
    check(dl.trapezoid(t(y), dx=0.5, dim=0), trapz(y, dx=0.5, axis=0))
    check(dl.trapezoid(t(y), t(np.broadcast_to(pts, y.shape).copy())), trapz(y, pts))
    want = np.stack([np.array([trapz(row[: k + 2], pts[: k + 2]) for k in range(5)]) for row in y])
    check(dl.cumulative_trapezoid(t(y), t(pts)), want)
    assert dl.trapz is dl.trapezoid and dl.trapezoid(t([3.0])).item() == 0.0
    with pytest.raises(ValueError, match="trapezoid: x has 4 points for 6 along dim -1 of y"):
        dl.trapezoid(t(y), t(pts[:4]))
    with pytest.raises(ValueError, match=r"vander: x must be 1-D, got shape \(3, 6\)"):
        dl.vander(t(y))


def test_gumbel_softmax(rng):
    F = dl.nn.functional
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    g = dl.Generator().manual_seed(4)
    n = 40_000
    hard = F.gumbel_softmax(t(np.broadcast_to(logits, (n, 4)).copy()), hard=True, generator=g).numpy()
    assert set(np.unique(hard)) == {0.0, 1.0} and np.all(hard.sum(1) == 1)
    p = np.exp(logits)
    assert np.all(np.abs(hard.mean(0) - p) < 5 * np.sqrt(p * (1 - p) / n))  # the Gumbel-max trick
    soft = F.gumbel_softmax(t(rng.normal(size=(3, 5))), tau=0.5)
    check(soft.sum(-1), np.ones(3))
    # straight through: the hard sample's gradient is the soft sample's (same noise)
    lg = t(rng.normal(size=(2, 5)), grad=True)
    w = t(rng.normal(size=(2, 5)))
    (F.gumbel_softmax(lg, hard=True, generator=dl.Generator().manual_seed(9)) * w).sum().backward()
    lg2 = t(lg.detach().numpy(), grad=True)
    (F.gumbel_softmax(lg2, generator=dl.Generator().manual_seed(9)) * w).sum().backward()
    check(lg.grad, lg2.grad.numpy())
    with pytest.raises(ValueError, match="gumbel_softmax: tau must be positive, got 0"):
        F.gumbel_softmax(lg, tau=0)
