"""``Dropout``, its channel forms ``Dropout1d/2d/3d``, ``AlphaDropout``, and ``Embedding``."""
from .. import _C
from ..creation import randn
from . import functional as F
from .module import Module, Parameter


class Dropout(Module):
    """Zeroes elements with probability p in training mode and scales the rest by 1 / (1 - p);
    the identity in eval mode. Reproducible under ``dlcore.manual_seed``."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Embedding(Module):
    """A lookup table: ``weight`` (num_embeddings, embedding_dim), initialised N(0, 1) with the
    ``padding_idx`` row zeroed; ``forward(indices)`` returns ``indices.shape + (embedding_dim,)``
    and the padding row receives no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, _weight=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            F._padding(padding_idx, num_embeddings)
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            weight = randn(num_embeddings, embedding_dim, dtype=dtype or _C._get_default_dtype())
            if padding_idx is not None:
                weight[padding_idx].fill_(0.0)
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                                 f"({num_embeddings}, {embedding_dim})")
            weight = _weight
        self.weight = Parameter(weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        m = cls(embeddings.shape[0], embeddings.shape[1], padding_idx, _weight=embeddings.detach().clone())
        m.weight.requires_grad_(not freeze)
        return m

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class _ChannelDropout(Module):
    """A dropout layer of probability p calling its functional form ``_fn`` in training."""

    _fn = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability has to be between 0 and 1, got {p}")
        self.p = p

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Dropout2d(_ChannelDropout):
    """Zeroes whole channels of (N, C, H, W) (or (C, H, W)) input with probability p in
    training and scales the rest by 1 / (1 - p)."""
    _fn = staticmethod(F.dropout2d)


class Dropout1d(_ChannelDropout):
    """Zeroes whole channels of (N, C, L) (or (C, L)) input in training (see Dropout2d)."""
    _fn = staticmethod(F.dropout1d)


class Dropout3d(_ChannelDropout):
    """Zeroes whole channels of (N, C, D, H, W) (or (C, D, H, W)) input in training."""
    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_ChannelDropout):
    """Dropout for SELU networks (see functional.alpha_dropout); the identity in eval mode."""
    _fn = staticmethod(F.alpha_dropout)
