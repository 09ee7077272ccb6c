"""TransformedDistribution: a base distribution pushed through a sequence of transforms,
as torch.distributions has it (a squashed Gaussian for a bounded action, a flow)."""
from .. import _C
from ..grad_mode import no_grad
from . import Distribution, Independent
from .transforms import ComposeTransform, Transform, _sum_rightmost


class TransformedDistribution(Distribution):
    """Y = transforms[-1](...transforms[0](X)) for X ~ base_distribution. log_prob(y) is
    the base's log_prob of the pre-image minus each transform's log |det J| (change of
    variables); sample and rsample push the base's draws through. A base with fewer event
    dims than the transforms act on is made Independent over its rightmost batch dims.
    mean and variance have no closed form and raise."""

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            transforms = [transforms]
        transforms = list(transforms)
        for t in transforms:
            if not isinstance(t, Transform):
                raise TypeError(f"TransformedDistribution: transforms must be Transforms, got {type(t).__name__}")
        self.transforms = transforms
        base = base_distribution
        base_shape = tuple(base.batch_shape) + tuple(base.event_shape)
        chain = ComposeTransform(transforms)
        domain_event_dim = chain.domain.event_dim
        if len(base_shape) < domain_event_dim:
            raise ValueError(f"TransformedDistribution: the transforms act on events of {domain_event_dim} dims, "
                             f"the base distribution's values have shape {base_shape}")
        reinterpreted = domain_event_dim - len(base.event_shape)
        if reinterpreted > 0:
            base = Independent(base, reinterpreted)
        self.base_dist = base
        shape = tuple(chain.forward_shape(base_shape))
        event_dim = chain.codomain.event_dim + max(len(base.event_shape) - domain_event_dim, 0)
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:])

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def support(self):
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

    def sample(self, sample_shape=()):
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        if not isinstance(value, _C.Tensor):
            from . import _as_tensor

            value = _as_tensor(value)
        event_dim = len(self.event_shape)
        log_prob = 0.0
        y = value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - _sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim)
            y = x
        return log_prob + _sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape))

    def _monotone_sign(self):
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        return sign

    def cdf(self, value):
        """The base's cdf of the pre-image (1 minus it for a decreasing chain); needs every
        transform to be monotone."""
        x = value
        for t in reversed(self.transforms):
            x = t.inv(x)
        c = self.base_dist.cdf(x)
        return c if self._monotone_sign() == 1 else 1 - c

    @property
    def mean(self):
        raise NotImplementedError("TransformedDistribution has no closed-form mean; average samples instead")

    @property
    def variance(self):
        raise NotImplementedError("TransformedDistribution has no closed-form variance; use samples instead")
