"""Losses for distributions, embeddings and ranking, re-exported by ``nn.functional``:
kl_div, gaussian_nll_loss, poisson_nll_loss, margin_ranking_loss, hinge_embedding_loss,
soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss, cosine_embedding_loss,
triplet_margin_loss, ctc_loss.
Each is composed from core ops (its gradient is theirs), with PyTorch's formulas, defaults
and ``reduction='mean'|'sum'|'none'``."""
import math

import numpy as np

from .. import _C
from ..creation import arange, full, tensor
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


# Log-probability of what no alignment reaches: finite, so that logsumexp over only such
# terms has a finite gradient (0 after the sums with reachable terms) where -inf gives NaN.
_UNREACHED = -1e30


def _lengths(lengths, n, name):
    values = lengths.to(_C.dtype.int64).tolist() if isinstance(lengths, _C.Tensor) else list(lengths)
    values = [values] if isinstance(values, int) else values
    if len(values) != n:
        raise ValueError(f"ctc_loss: expected {n} {name}, got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError(f"ctc_loss: {name} must be non-negative, got {values}")
    return [int(v) for v in values]


def _target_rows(targets, target_lengths, n, classes, blank):
    tg = targets.to(_C.dtype.int64).numpy()
    if tg.ndim == 2 and tg.shape[0] == n:
        if any(k > tg.shape[1] for k in target_lengths):
            raise ValueError(f"ctc_loss: target_lengths {target_lengths} exceed the targets' length {tg.shape[1]}")
        rows = [tg[i, :k] for i, k in enumerate(target_lengths)]
    elif tg.ndim <= 1:
        flat = tg.reshape(-1)
        if flat.shape[0] != sum(target_lengths) and not (n == 1 and flat.shape[0] >= target_lengths[0]):
            raise ValueError(f"ctc_loss: {flat.shape[0]} concatenated targets for target_lengths summing to "
                             f"{sum(target_lengths)}")
        ends = np.cumsum(target_lengths)
        rows = [flat[e - k:e] for e, k in zip(ends, target_lengths)]
    else:
        raise ValueError(f"ctc_loss: expected targets of shape (N, S) or concatenated 1-D, got shape {tg.shape}")
    for r in rows:
        if r.size and (r.min() < 0 or r.max() >= classes or (r == blank).any()):
            raise ValueError(f"ctc_loss: target labels must be in [0, {classes}) and not the blank {blank}, "
                             f"got {r.tolist()}")
    return rows


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification: -log of the total probability of the alignments
    of each target (labels, no blanks) to its input's frames, ``log_probs`` (T, N, C) (or
    (T, C)) being per-frame log-probabilities (log_softmax). Targets are (N, S) padded or 1-D
    concatenated, with ``target_lengths``. The forward (alpha) recursion over the frames is
    composed of logsumexp, gather and where, so its gradient is autograd's. An impossible
    alignment (a target too long for its input) gives inf, or 0 with ``zero_infinity``.
    'mean' divides each loss by its target length before averaging, as PyTorch's. The
    gradient is the loss's own with respect to ``log_probs``; PyTorch's differs from it by
    exp(log_probs), which the log_softmax before the loss cancels: gradients of the logits
    and of every parameter before it are the same."""
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"ctc_loss: expected log_probs of shape (T, N, C) or (T, C), got {tuple(log_probs.shape)}")
    lp = log_probs if log_probs.ndim == 3 else log_probs.unsqueeze(1)
    frames, n, classes = lp.shape
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank {blank} is out of range for {classes} classes")
    in_len = _lengths(input_lengths, n, "input_lengths")
    tg_len = _lengths(target_lengths, n, "target_lengths")
    if any(k > frames for k in in_len):
        raise ValueError(f"ctc_loss: input_lengths {in_len} exceed the {frames} frames of log_probs")
    rows = _target_rows(targets, tg_len, n, classes, blank)
    width = 2 * max(tg_len, default=0) + 1  # blank, l1, blank, l2, ..., blank
    ext = np.full((n, width), blank, dtype=np.int64)
    for i, r in enumerate(rows):
        ext[i, 1:2 * len(r):2] = r
    skip = np.zeros((n, width), bool)  # s - 2 -> s allowed: a label differing from the one before
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    ext_t, skip_t = tensor(ext), tensor(skip)
    start = np.zeros((n, width), bool)
    start[:, 0] = True
    start[:, 1 if width > 1 else 0] |= np.array(tg_len) > 0
    unreached = full((n, 1), _UNREACHED, dtype=lp.dtype)
    alpha = _C.where(tensor(start), lp[0].gather(1, ext_t), _UNREACHED)
    for t in range(1, max(in_len, default=0)):
        a1 = _C.cat([unreached, alpha.narrow(1, 0, width - 1)], 1)
        if width > 2:
            a2 = _C.where(skip_t, _C.cat([unreached, unreached, alpha.narrow(1, 0, width - 2)], 1), _UNREACHED)
            terms = _C.stack([alpha, a1, a2], 0)
        else:
            terms = _C.stack([alpha, a1], 0)
        step = terms.logsumexp(0) + lp[t].gather(1, ext_t)
        alpha = _C.where(tensor(np.array(in_len) > t).unsqueeze(1), step, alpha)
    last = tensor([[2 * k] for k in tg_len])
    before = tensor([[max(2 * k - 1, 0)] for k in tg_len])
    has = tensor(np.array(tg_len) > 0).unsqueeze(1)
    ends = _C.cat([alpha.gather(1, last), _C.where(has, alpha.gather(1, before), _UNREACHED)], 1)
    log_likelihood = ends.logsumexp(1)
    empty_input = np.array(in_len) == 0  # no frame: only an empty target, with probability 1
    impossible = (log_likelihood < _UNREACHED / 2) | tensor(empty_input & (np.array(tg_len) > 0))
    loss = _C.where(tensor(empty_input), 0.0, -log_likelihood)
    loss = _C.where(impossible, 0.0 if zero_infinity else math.inf, loss)
    if reduction == "mean":
        return (loss / tensor(np.maximum(tg_len, 1)).to(loss.dtype)).mean()
    return _reduce(loss if log_probs.ndim == 3 else loss.reshape(()), reduction, "ctc_loss")
