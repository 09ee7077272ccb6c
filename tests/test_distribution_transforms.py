"""dlcore.distributions.transforms, constraints and TransformedDistribution against NumPy:
each map and its inverse, log |det J| against a central difference of the NumPy map,
compositions over vector events, densities by the change-of-variables formula (and
integrating to 1), the cache, and the errors."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import distributions as D
from dlcore.autograd import gradcheck
from dlcore.distributions import constraints as C
from dlcore.distributions import transforms as T
from test_distributions_more import integrate, t, to_np

ELEMENTWISE = {  # transform, NumPy forward, points of its domain
    "exp": (T.ExpTransform, np.exp, [-2.0, 0.0, 1.5]),
    "sigmoid": (T.SigmoidTransform, lambda x: 1 / (1 + np.exp(-x)), [-4.0, 0.3, 2.0]),
    "tanh": (T.TanhTransform, np.tanh, [-2.5, 0.1, 1.0]),
    "softplus": (T.SoftplusTransform, lambda x: np.log1p(np.exp(x)), [-3.0, 0.0, 2.5]),
    "power": (lambda: T.PowerTransform(2.5), lambda x: x ** 2.5, [0.3, 1.0, 2.0]),
    "affine": (lambda: T.AffineTransform(0.5, -3.0), lambda x: 0.5 - 3.0 * x, [-1.0, 0.0, 2.0]),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_maps_inverses_and_jacobians(name):
    make, forward, points = ELEMENTWISE[name]
    tr = make()
    x = np.array(points)
    y = to_np(tr(t(x)))
    np.testing.assert_allclose(y, forward(x), rtol=1e-14)
    np.testing.assert_allclose(to_np(tr.inv(t(y))), x, rtol=1e-12, atol=1e-14)
    h = 1e-6
    slope = (forward(x + h) - forward(x - h)) / (2 * h)
    np.testing.assert_allclose(to_np(tr.log_abs_det_jacobian(t(x), t(y))), np.log(np.abs(slope)), rtol=1e-7,
                               atol=1e-8)
    # the inverse's log-determinant is the negative, at the swapped points
    np.testing.assert_allclose(to_np(tr.inv.log_abs_det_jacobian(t(y), t(x))), -np.log(np.abs(slope)), rtol=1e-7,
                               atol=1e-8)
    assert tr.inv.inv is tr and tr.bijective and tr.sign == (-1 if name == "affine" else 1)
    assert bool(tr.codomain.check(t(y)).all()) and bool(tr.domain.check(t(x)).all())


def test_tanh_jacobian_stays_finite_where_tanh_saturates():
    tr = T.TanhTransform()
    x = t([30.0, -30.0])
    # log(1 - tanh(x)^2) = 2 (log 2 - |x| - log1p(exp(-2|x|))): about -58.6 at |x| = 30
    want = 2 * (math.log(2) - 30 - math.log1p(math.exp(-60)))
    np.testing.assert_allclose(to_np(tr.log_abs_det_jacobian(x, tr(x))), [want, want], rtol=1e-14)


def test_cache_returns_the_exact_pre_image():
    x = t([25.0, 0.5])
    cached = T.TanhTransform(cache_size=1)
    y = cached(x)
    assert to_np(y)[0] == 1.0  # tanh(25) rounds to 1: atanh would give inf
    assert cached.inv(y) is x
    assert np.isinf(to_np(T.TanhTransform().inv(y))[0])
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def test_compose_and_vector_events():
    chain = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)])
    x = np.array([-1.0, 0.5])
    y = to_np(chain(t(x)))
    np.testing.assert_allclose(y, 1 + 2 * np.exp(x), rtol=1e-14)
    np.testing.assert_allclose(to_np(chain.inv(t(y))), x, rtol=1e-14)
    np.testing.assert_allclose(to_np(chain.log_abs_det_jacobian(t(x), t(y))), x + np.log(2), rtol=1e-14)
    # An affine map on vectors (event_dim 1) after an elementwise one: the composite acts
    # on vectors and its log-determinant sums over each vector.
    scale = np.array([2.0, -3.0, 0.5])
    vec = T.ComposeTransform([T.SigmoidTransform(), T.AffineTransform(t(np.zeros(3)), t(scale), event_dim=1)])
    assert vec.domain.event_dim == 1 and vec.codomain.event_dim == 1 and vec.event_dim == 1
    xs = np.array([[0.1, -2.0, 1.0], [0.0, 0.5, 3.0]])
    s = 1 / (1 + np.exp(-xs))
    want = (np.log(s * (1 - s)) + np.log(np.abs(scale))).sum(-1)
    np.testing.assert_allclose(to_np(vec.log_abs_det_jacobian(t(xs), vec(t(xs)))), want, rtol=1e-13)
    assert T.ComposeTransform([]) is not None and to_np(T.identity_transform(t([3.0])))[0] == 3.0
    with pytest.raises(TypeError, match="must be Transforms"):
        T.ComposeTransform([T.ExpTransform(), "exp"])


def test_transformed_normal_through_exp_is_the_lognormal():
    base = D.Normal(t(0.3), t(0.7))
    td = D.TransformedDistribution(base, T.ExpTransform())
    x = np.array([0.2, 1.0, 4.0])
    want = -np.log(x * 0.7 * np.sqrt(2 * np.pi)) - (np.log(x) - 0.3) ** 2 / (2 * 0.49)
    np.testing.assert_allclose(to_np(td.log_prob(t(x))), want, rtol=1e-13)
    np.testing.assert_allclose(to_np(td.log_prob(t(x))), to_np(D.LogNormal(t(0.3), t(0.7)).log_prob(t(x))), rtol=1e-13)
    dl.manual_seed(1)
    s = to_np(td.sample((100_000,)))
    assert abs(np.log(s).mean() - 0.3) < 5 * 0.7 / math.sqrt(100_000)
    np.testing.assert_allclose(to_np(td.cdf(t([math.exp(0.3)]))), [0.5], rtol=1e-12)
    with pytest.raises(NotImplementedError):
        td.mean


def test_squashed_gaussian_density_and_gradients():
    # A bounded action as a soft actor-critic policy draws it: tanh of a Gaussian.
    mu, sigma = 0.4, 1.3
    td = D.TransformedDistribution(D.Normal(t(mu), t(sigma)), [T.TanhTransform(cache_size=1)])
    assert td.support.check(t([0.5])).all() and td.batch_shape == () and td.event_shape == ()

    def density(y):
        x = np.arctanh(y)
        return np.exp(-(x - mu) ** 2 / (2 * sigma ** 2)) / (sigma * math.sqrt(2 * math.pi)) / (1 - y * y)

    y = np.array([-0.9, 0.0, 0.7])
    np.testing.assert_allclose(np.exp(to_np(td.log_prob(t(y)))), density(y), rtol=1e-12)
    total = integrate(lambda v: np.exp(to_np(td.log_prob(t(np.tanh(v))))) * (1 - np.tanh(v) ** 2), -12, 12, 200_001)
    np.testing.assert_allclose(total, 1.0, rtol=1e-8)

    def loss(m, s):
        dl.manual_seed(4)
        d = D.TransformedDistribution(D.Normal(m, s), [T.TanhTransform(cache_size=1)])
        a = d.rsample((32,))
        return (d.log_prob(a) + a * a).mean()

    assert gradcheck(loss, (t(mu, grad=True), t(sigma, grad=True)))


def test_base_with_fewer_event_dims_is_made_independent():
    base = D.Normal(t(np.zeros((4, 3))), t(np.ones((4, 3))))
    td = D.TransformedDistribution(base, [T.AffineTransform(0.0, t([1.0, 2.0, 4.0]), event_dim=1)])
    assert td.batch_shape == (4,) and td.event_shape == (3,)
    y = np.random.default_rng(0).normal(size=(4, 3))
    scale = np.array([1.0, 2.0, 4.0])
    want = (-0.5 * (y / scale) ** 2 - 0.5 * np.log(2 * np.pi) - np.log(scale)).sum(-1)
    np.testing.assert_allclose(to_np(td.log_prob(t(y))), want, rtol=1e-13)
    with pytest.raises(ValueError, match="events of 1 dims"):
        D.TransformedDistribution(D.Normal(t(0.0), t(1.0)), [T.AffineTransform(0.0, 2.0, event_dim=1)])
    with pytest.raises(TypeError, match="must be Transforms"):
        D.TransformedDistribution(base, [np.exp])


def test_constraints():
    v = t([-1.0, 0.0, 0.5, 1.0, 2.0, math.nan])
    checks = {
        C.real: [1, 1, 1, 1, 1, 0], C.positive: [0, 0, 1, 1, 1, 0], C.nonnegative: [0, 1, 1, 1, 1, 0],
        C.unit_interval: [0, 1, 1, 1, 0, 0], C.interval(-1.0, 0.5): [1, 1, 1, 0, 0, 0],
        C.half_open_interval(0.0, 1.0): [0, 1, 1, 0, 0, 0], C.greater_than(0.5): [0, 0, 0, 1, 1, 0],
        C.less_than(0.5): [1, 1, 0, 0, 0, 0], C.boolean: [0, 1, 0, 1, 0, 0],
        C.nonnegative_integer: [0, 1, 0, 1, 1, 0], C.integer_interval(0, 1): [0, 1, 0, 1, 0, 0],
    }
    for constraint, want in checks.items():
        np.testing.assert_array_equal(to_np(constraint.check(v)), np.array(want, dtype=bool), err_msg=repr(constraint))
    assert C.simplex.event_dim == 1 and bool(C.simplex.check(t([0.25, 0.75])))
    assert not bool(C.simplex.check(t([0.5, 0.6])))
    vec = C.independent(C.positive, 1)
    assert vec.event_dim == 1
    np.testing.assert_array_equal(to_np(vec.check(t([[1.0, 2.0], [1.0, -1.0]]))), [True, False])
    assert repr(C.interval(0, 1)) == "Interval(lower_bound=0, upper_bound=1)" and C.boolean.is_discrete
