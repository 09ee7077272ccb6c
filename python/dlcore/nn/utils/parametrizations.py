"""Ready parametrizations for ``nn.utils.parametrize``, as
``torch.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``.
Each registers itself on module.<name> and returns the module."""
from ... import _C
from ...creation import randn
from ...grad_mode import no_grad
from ..module import Module
from .parametrize import register_parametrization
from .weight_norm import _norm_except_dim, _normalize


class _WeightNorm(Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, g, v):
        return v * (g / _norm_except_dim(v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """weight = g v / ||v|| (the norm over every dim but dim; of all of it for dim None):
    parametrizations.<name>.original0 is g, original1 is v."""
    weight = getattr(module, name)
    if dim is not None:
        if not -weight.ndim <= dim < weight.ndim:
            raise IndexError(f"weight_norm: dim {dim} is out of range for '{name}' of shape {tuple(weight.shape)}")
        dim %= weight.ndim
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations, dim, eps):
        super().__init__()
        self.n_power_iterations, self.dim, self.eps = n_power_iterations, dim, eps
        if weight.ndim > 1:
            mat = self._matrix(weight.detach())
            with no_grad():
                self.register_buffer("_u", _normalize(randn(mat.shape[0], dtype=weight.dtype), eps))
                self.register_buffer("_v", _normalize(randn(mat.shape[1], dtype=weight.dtype), eps))
                for _ in range(15):  # start near the top singular vectors
                    self._power_step(mat)

    def _matrix(self, w):
        if self.dim != 0:
            w = w.movedim(self.dim, 0)
        return w.reshape(w.shape[0], -1)

    def _power_step(self, m):
        self._v.copy_(_normalize(m.t() @ self._u, self.eps))
        self._u.copy_(_normalize(m @ self._v, self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return weight / _C.clamp((weight * weight).sum().sqrt(), self.eps, None)
        mat = self._matrix(weight)
        if self.training:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    self._power_step(mat.detach())
        sigma = (self._u.clone() * (mat @ self._v.clone())).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """weight / sigma, sigma its largest singular value (as a matrix of dim against the
    rest; dim 1 for transposed convolutions), estimated by power iteration
    (n_power_iterations steps per access in training mode; u and v are buffers of the
    parametrization)."""
    if not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"spectral_norm: n_power_iterations must be a positive int, got {n_power_iterations!r}")
    weight = getattr(module, name)
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    return register_parametrization(module, name,
                                    _SpectralNorm(weight, n_power_iterations, dim % max(weight.ndim, 1), eps))


class _Orthogonal(Module):
    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"orthogonal: expected a matrix (or a batch of them), got shape {tuple(x.shape)}")
        wide = x.shape[-2] < x.shape[-1]
        a = x.transpose(-2, -1) if wide else x
        from ...linalg import qr

        q, r = qr(a)
        sign = _C.where(r.diagonal(0, -2, -1) >= 0, 1.0, -1.0).to(q.dtype)
        q = q * sign.unsqueeze(-2)  # R's diagonal made positive: Q is unique for a full-rank x
        return q.transpose(-2, -1) if wide else q

    def right_inverse(self, q):
        return q


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """A weight with orthonormal columns (rows, when it is wider than tall): the Q of the
    QR factorisation of the unconstrained original, R's diagonal made positive. Assigning
    an orthogonal matrix sets it exactly. Only this map exists in dlcore
    (orthogonal_map None or 'householder', a Householder QR)."""
    if orthogonal_map not in (None, "householder"):
        raise ValueError(f"orthogonal: dlcore's map is the Householder QR (orthogonal_map None or 'householder'), "
                         f"got {orthogonal_map!r}")
    weight = getattr(module, name)
    if weight.ndim < 2:
        raise ValueError(f"orthogonal: '{name}' must have at least 2 dims, got shape {tuple(weight.shape)}")
    return register_parametrization(module, name, _Orthogonal())
