"""Losses for distributions, embeddings and ranking, re-exported by ``nn.functional``:
kl_div, gaussian_nll_loss, poisson_nll_loss, margin_ranking_loss, hinge_embedding_loss,
soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss, cosine_embedding_loss,
triplet_margin_loss.
Each is composed from core ops (its gradient is theirs), with PyTorch's formulas, defaults
and ``reduction='mean'|'sum'|'none'``."""
import math

from .. import _C
from ..creation import arange
from .functional import _reduce  # functional imports this module at its end, after _reduce


def kl_div(input, target, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input), 0 where target is 0
    (input holds log-probabilities; ``log_target`` when target does too). ``reduction``
    also takes 'batchmean', the sum divided by the batch size (the true KL divergence per
    sample)."""
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = _C.where(positive, target, 1.0)
        loss = _C.where(positive, target * (safe.log() - input), 0.0 * input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log v + (input - target)^2 / v), v = max(var, eps) (var broadcasts; values
    clamped at eps carry no gradient), plus 0.5 log(2 pi) with ``full``."""
    if (var < 0).any().item():
        raise ValueError("gaussian_nll_loss: var has negative entries")
    v = var.clamp(min=eps)
    loss = 0.5 * (v.log() + (input - target).square() / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """exp(input) - target input (``log_input``), or input - target log(input + eps); with
    ``full``, Stirling's target log target - target + 0.5 log(2 pi target) where target > 1."""
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        t = _C.where(big, target, 2.0)
        loss = loss + _C.where(big, t * t.log() - t + 0.5 * (2 * math.pi * t).log(), 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """max(0, -target (input1 - input2) + margin), target in {1, -1}."""
    return _reduce((margin - target * (input1 - input2)).clamp(min=0.0), reduction, "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    loss = _C.where(target == 1, input, (margin - input).clamp(min=0.0))
    return _reduce(loss, reduction, "hinge_embedding_loss")


def soft_margin_loss(input, target, reduction="mean"):
    """log(1 + exp(-target input)), target in {1, -1}."""
    return _reduce(_C.softplus(-target * input), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    """The mean over the C classes of -(y log sigmoid(x) + (1 - y) log sigmoid(-x)), per sample
    (input and target (N, C); ``weight`` (C) scales each class)."""
    if input.ndim != 2 or tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"multilabel_soft_margin_loss: expected input and target of the same shape (N, C), "
                         f"got {tuple(input.shape)} and {tuple(target.shape)}")
    per = target * _C.softplus(-input) + (1 - target) * _C.softplus(input)
    if weight is not None:
        per = per * weight
    return _reduce(per.mean(1), reduction, "multilabel_soft_margin_loss")


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1 (rows
    along the last dim, cos with the norms held at 1e-8 or above)."""
    from .functional import cosine_similarity

    cos = cosine_similarity(input1, input2, -1)
    loss = _C.where(target == 1, 1 - cos, (cos - margin).clamp(min=0.0))
    return _reduce(loss, reduction, "cosine_embedding_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0), d the p-norm distance along the last dim
    (``swap``: d(a, n) replaced by d(p, n) where that is smaller)."""
    from .functional import pairwise_distance

    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be positive, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _C.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction, "triplet_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """Multi-class hinge loss of (N, C) scores (or (C,)) and class indices: per sample,
    sum over i != y of max(0, margin - x[y] + x[i])^p / C, times weight[y] when given."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: expected (N, C) or (C,) scores, got shape {tuple(input.shape)}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    y = target.reshape(-1)
    n, c = x.shape
    if y.shape[0] != n:
        raise ValueError(f"multi_margin_loss: {y.shape[0]} targets for {n} samples")
    if y.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise TypeError(f"multi_margin_loss: targets must be class indices (int64), got {y.dtype!r}")
    if n and (int(y.min()) < 0 or int(y.max()) >= c):
        bad = int(y.min()) if int(y.min()) < 0 else int(y.max())
        raise IndexError(f"multi_margin_loss: target {bad} is out of range for {c} classes")
    y = y.to(_C.dtype.int64)
    x_y = x.gather(1, y.unsqueeze(1))
    h = (x - x_y + margin).clamp(min=0.0)
    if p == 2:
        h = h * h
    not_y = arange(c).unsqueeze(0) != y.unsqueeze(1)
    h = _C.where(not_y, h, 0.0)
    if weight is not None:
        h = h * weight.index_select(0, y).unsqueeze(1)
    loss = h.sum(1) / c
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction, "multi_margin_loss")
