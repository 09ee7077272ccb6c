"""Plain NumPy references for dlcore.nn: layers, activations, losses, written from their
definitions (PyTorch's documented formulas), in float64."""
import math

import numpy as np


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


# ---- activations
def leaky_relu(x, slope=0.01):
    return np.where(x > 0, x, slope * x)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt2)) / 2, written as erfc(-x / sqrt2) / 2: no cancellation
    in the lower tail."""
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def gelu(x):
    return x * normal_cdf(x)


def gelu_grad(x):
    """d/dx x Phi(x) = Phi(x) + x phi(x)."""
    return normal_cdf(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


# ---- their derivatives, written from the formulas above
def elu_grad(x, alpha=1.0):
    return np.where(x > 0, 1.0, alpha * np.exp(x))


def softplus_grad(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, 1.0, 1.0 / (1.0 + np.exp(-beta * x)))


def gelu_tanh_grad(x):
    k = math.sqrt(2.0 / math.pi)
    t = np.tanh(k * (x + 0.044715 * x ** 3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3 * 0.044715 * x * x)


def silu_grad(x):
    s = 1.0 / (1.0 + np.exp(-x))
    return s * (1.0 + x * (1.0 - s))


def hardtanh(x, lo=-1.0, hi=1.0):
    return np.minimum(np.maximum(x, lo), hi)


def hardsigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def piecewise_linear(x):
    return np.clip(x + 0.5, 0.0, 1.0)


def heaviside_step(x):
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, 0.5))


def maxout(x, w, b, pieces):
    y = linear(x, w, b)
    return y.reshape(*y.shape[:-1], w.shape[0] // pieces, pieces).max(-1)


# ---- losses
def _reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](loss)


def log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def cross_entropy(x, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """Class-index targets; x is (C), (N, C) or (N, C, d...). Loops over samples plainly."""
    if x.ndim == 1:
        x, target = x[None], np.asarray(target)[None]
        squeeze = True
    else:
        squeeze = False
    c = x.shape[1]
    xs = np.moveaxis(x, 1, -1).reshape(-1, c)
    ts = np.asarray(target).reshape(-1)
    w = np.ones(c) if weight is None else weight
    losses, weights = np.zeros(len(ts)), np.zeros(len(ts))
    for r in range(len(ts)):
        if ts[r] == ignore_index:
            continue
        logp = log_softmax(xs[r], 0)
        nll = -w[ts[r]] * logp[ts[r]]
        smooth = -np.sum(w * logp)
        losses[r] = (1 - label_smoothing) * nll + label_smoothing / c * smooth
        weights[r] = w[ts[r]]
    if reduction == "none":
        out = losses.reshape(np.asarray(target).shape)
        return out[0] if squeeze else out
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / weights.sum()


def cross_entropy_probs(x, p, weight=None, label_smoothing=0.0, reduction="mean"):
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    axis = 1 if x.ndim > 1 else 0
    p = p * (1 - label_smoothing) + label_smoothing / c
    w = np.ones(c) if weight is None else weight
    shape = [1] * x.ndim
    shape[axis] = c
    loss = -np.sum(w.reshape(shape) * p * log_softmax(x, axis), axis=axis)
    return _reduce(loss, reduction)


def nll_loss(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    c = logp.shape[1]
    w = np.ones(c) if weight is None else weight
    flat = np.moveaxis(logp, 1, -1).reshape(-1, c)
    t = np.asarray(target).reshape(-1)
    loss = np.array([0.0 if t[r] == ignore_index else -w[t[r]] * flat[r, t[r]] for r in range(len(t))])
    wsum = sum(w[t[r]] for r in range(len(t)) if t[r] != ignore_index)
    if reduction == "mean":
        return loss.sum() / wsum
    return _reduce(loss.reshape(np.asarray(target).shape), reduction)


def mse_loss(x, y, reduction="mean"):
    return _reduce((x - y) ** 2, reduction)


def l1_loss(x, y, reduction="mean"):
    return _reduce(np.abs(x - y), reduction)


def huber_loss(x, y, reduction="mean", delta=1.0):
    d = np.abs(x - y)
    return _reduce(np.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)), reduction)


def binary_cross_entropy(p, y, weight=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(x, y, weight=None, reduction="mean", pos_weight=None):
    s = 1.0 / (1.0 + np.exp(-x))
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- normalisation
def batch_norm_train(x, w, b, rm, rv, momentum, eps):
    """Returns y and the updated running statistics (variance unbiased in the update)."""
    axes = (0,) + tuple(range(2, x.ndim))
    mean, var = x.mean(axes), x.var(axes)
    shape = [1, x.shape[1]] + [1] * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)
    m = x.size // x.shape[1]
    return y, (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var * m / (m - 1)


def batch_norm_train_grads(x, w, g, eps):
    """(dx, dw, db) of sum(batch_norm_train(x, w, b) * g), from the chain rule through the
    batch mean and variance."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = [1, x.shape[1]] + [1] * (x.ndim - 2)
    m = x.size // x.shape[1]
    mean, var = x.mean(axes).reshape(shape), x.var(axes).reshape(shape)
    invstd = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * invstd
    gx = g * w.reshape(shape)  # gradient with respect to xhat
    dvar = (gx * (x - mean)).sum(axes, keepdims=True) * -0.5 * invstd ** 3
    dmean = -(gx * invstd).sum(axes, keepdims=True) - 2 * dvar * (x - mean).mean(axes, keepdims=True)
    dx = gx * invstd + dvar * 2 * (x - mean) / m + dmean / m
    return dx, (g * xhat).sum(axes), g.sum(axes)


def batch_norm_eval(x, w, b, rm, rv, eps):
    shape = [1, x.shape[1]] + [1] * (x.ndim - 2)
    return (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)


def layer_norm(x, n_dims, w, b, eps):
    axes = tuple(range(x.ndim - n_dims, x.ndim))
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return y * w + b


def group_norm(x, groups, w, b, eps):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    y = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + eps)).reshape(x.shape)
    shape = [1, c] + [1] * (x.ndim - 2)
    return y * w.reshape(shape) + b.reshape(shape)


def counter_bits(seed, index):
    """The splitmix64 finaliser of seed ^ index, in uint64 arithmetic (wrapping)."""
    with np.errstate(over="ignore"):
        x = (np.uint64(seed) ^ np.asarray(index, dtype=np.uint64)) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def dropout_seeded(x, p, seed):
    """Dropout with element i kept when the top 24 bits of counter_bits(seed, i) are at
    least p * 2^24, scaled by 1 / (1 - p)."""
    keep = (counter_bits(seed, np.arange(x.size)) >> np.uint64(40)) >= np.ceil(p * 2 ** 24)
    return np.where(keep.reshape(x.shape), x / (1 - p), 0.0)


# ---- losses for distributions, embeddings and ranking (nn/loss_functions.py), written out
# element by element from their definitions.
def _reduce(values, reduction):
    values = np.asarray(values, dtype=np.float64)
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


def kl_div(inp, target, reduction, log_target=False):
    out = np.zeros(inp.shape)
    for pos in np.ndindex(*inp.shape):
        x, t = inp[pos], target[pos]
        if log_target:
            out[pos] = math.exp(t) * (t - x)
        else:
            out[pos] = t * (math.log(t) - x) if t > 0 else 0.0
    if reduction == "batchmean":
        return out.sum() / inp.shape[0]
    return _reduce(out, reduction)


def gaussian_nll(inp, target, var, full, eps, reduction):
    out = np.zeros(inp.shape)
    var = np.broadcast_to(var, inp.shape)
    for pos in np.ndindex(*inp.shape):
        v = max(var[pos], eps)
        out[pos] = 0.5 * (math.log(v) + (inp[pos] - target[pos]) ** 2 / v)
        if full:
            out[pos] += 0.5 * math.log(2 * math.pi)
    return _reduce(out, reduction)


def poisson_nll(inp, target, log_input, full, eps, reduction):
    out = np.zeros(inp.shape)
    for pos in np.ndindex(*inp.shape):
        x, t = inp[pos], target[pos]
        v = math.exp(x) - t * x if log_input else x - t * math.log(x + eps)
        if full and t > 1:
            v += t * math.log(t) - t + 0.5 * math.log(2 * math.pi * t)
        out[pos] = v
    return _reduce(out, reduction)


def margin_ranking(x1, x2, y, margin, reduction):
    return _reduce([max(0.0, -b * (a - c) + margin) for a, c, b in zip(x1, x2, y)], reduction)


def hinge_embedding(x, y, margin, reduction):
    out = [a if b == 1 else max(0.0, margin - a) for a, b in zip(x.ravel(), y.ravel())]
    return _reduce(np.reshape(out, x.shape), reduction)


def soft_margin(x, y, reduction):
    out = [math.log1p(math.exp(-b * a)) for a, b in zip(x.ravel(), y.ravel())]
    return _reduce(np.reshape(out, x.shape), reduction)


def multilabel_soft_margin(x, y, weight, reduction):
    per = []
    for i in range(x.shape[0]):
        terms = []
        for c in range(x.shape[1]):
            s = 1 / (1 + math.exp(-x[i, c]))
            term = -(y[i, c] * math.log(s) + (1 - y[i, c]) * math.log(1 - s))
            terms.append(term * (1.0 if weight is None else weight[c]))
        per.append(sum(terms) / x.shape[1])
    return _reduce(per, reduction)


def cosine_embedding(x1, x2, y, margin, reduction):
    out = []
    for a, b, t in zip(x1, x2, y):
        cos = float(a @ b) / (max(np.linalg.norm(a), 1e-8) * max(np.linalg.norm(b), 1e-8))
        out.append(1 - cos if t == 1 else max(0.0, cos - margin))
    return _reduce(out, reduction)


def triplet_margin(a, p, n, margin, norm_p, eps, swap, reduction):
    def dist(u, v):
        return float((np.abs(u - v + eps) ** norm_p).sum() ** (1 / norm_p))

    out = []
    for i in range(a.shape[0]):
        d_neg = dist(a[i], n[i])
        if swap:
            d_neg = min(d_neg, dist(p[i], n[i]))
        out.append(max(dist(a[i], p[i]) - d_neg + margin, 0.0))
    return _reduce(out, reduction)


def truncated_normal_moments(mean, std, a, b):
    """Mean and standard deviation of Normal(mean, std) conditioned on [a, b], from the
    textbook formulas with the standard normal density phi and CDF Phi:
    Z = Phi(beta) - Phi(alpha), mean + std (phi(alpha) - phi(beta)) / Z, and variance
    std^2 (1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * math.erfc(-z / math.sqrt(2))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    d = (pdf(alpha) - pdf(beta)) / z
    var = std * std * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - d * d)
    return mean + std * d, math.sqrt(var)


def grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    """PyTorch's grid_sample for (N, C, H, W) x and (N, Ho, Wo, 2) grid, one point at a time:
    (x, y) in [-1, 1] mapped to pixel coordinates (corner centres with align_corners, outer
    edges without), clipped ('border') or reflected ('reflection') into the image, then the
    four neighbours weighted bilinearly (or the nearest, halves to even), zeros outside."""
    N, C, H, W = x.shape
    _, Ho, Wo, _ = grid.shape
    out = np.zeros((N, C, Ho, Wo))

    def source(c, size):
        p = (c + 1) / 2 * (size - 1) if align_corners else ((c + 1) * size - 1) / 2
        if padding_mode == "border":
            p = min(max(p, 0.0), size - 1.0)
        elif padding_mode == "reflection":
            lo, hi = (0.0, size - 1.0) if align_corners else (-0.5, size - 0.5)
            span = hi - lo
            if span <= 0:
                p = 0.0
            else:
                d = abs(p - lo)
                flips = math.floor(d / span)
                extra = d - flips * span
                p = extra + lo if flips % 2 == 0 else span - extra + lo
            p = min(max(p, 0.0), size - 1.0)
        return p

    def pixel(n, c, i, j):
        return x[n, c, i, j] if 0 <= i < H and 0 <= j < W else 0.0

    for n in range(N):
        for a in range(Ho):
            for b in range(Wo):
                px, py = source(grid[n, a, b, 0], W), source(grid[n, a, b, 1], H)
                for c in range(C):
                    if mode == "nearest":
                        out[n, c, a, b] = pixel(n, c, int(np.round(py)), int(np.round(px)))
                        continue
                    x0, y0 = math.floor(px), math.floor(py)
                    fx, fy = px - x0, py - y0
                    out[n, c, a, b] = (pixel(n, c, y0, x0) * (1 - fx) * (1 - fy)
                                       + pixel(n, c, y0, x0 + 1) * fx * (1 - fy)
                                       + pixel(n, c, y0 + 1, x0) * (1 - fx) * fy
                                       + pixel(n, c, y0 + 1, x0 + 1) * fx * fy)
    return out


def adaptive_log_softmax(x, head_w, head_b, tails, cutoffs, n_classes):
    """Every class's log-probability under the adaptive softmax, one row at a time: the
    head scores the shortlist (classes below cutoffs[0]) and one entry per cluster;
    cluster i (classes cutoffs[i] .. next cutoff - 1) adds its own log-softmax of the
    class to the head's log-probability of the cluster. tails[i] = (w1, w2)."""
    bounds = list(cutoffs) + [n_classes]
    out = np.zeros((x.shape[0], n_classes))
    for n, row in enumerate(x):
        head = row @ head_w.T + (0 if head_b is None else head_b)
        head = head - np.log(np.exp(head - head.max()).sum()) - head.max()
        out[n, :bounds[0]] = head[:bounds[0]]
        for i, (w1, w2) in enumerate(tails):
            scores = (row @ w1.T) @ w2.T
            local = scores - scores.max() - np.log(np.exp(scores - scores.max()).sum())
            out[n, bounds[i]:bounds[i + 1]] = head[bounds[0] + i] + local
    return out


def fractional_max_pool(x, k, out, samples, dims_of_sample):
    """Fractional max pooling of x (N, C, *spatial), one window at a time: along dimension
    d, with u = samples[n, c, dims_of_sample[d]] and alpha = (size - k) / (out - 1) in x's
    dtype, window i starts at int((i + u) alpha) - int(u alpha), the last at size - k.
    Returns (values, flat index of each maximum within its plane)."""
    N, C = x.shape[:2]
    spatial = x.shape[2:]
    n = len(spatial)
    values = np.zeros((N, C) + tuple(out), dtype=x.dtype)
    index = np.zeros((N, C) + tuple(out), dtype=np.int64)
    for a in range(N):
        for c in range(C):
            starts = []
            for d in range(n):
                u = x.dtype.type(samples[a, c, dims_of_sample[d]])
                seq = []
                for i in range(out[d]):
                    if i == out[d] - 1:
                        seq.append(spatial[d] - k[d])
                    else:
                        alpha = x.dtype.type(spatial[d] - k[d]) / x.dtype.type(out[d] - 1)
                        seq.append(int((x.dtype.type(i) + u) * alpha) - int(u * alpha))
                starts.append(seq)
            for pos in np.ndindex(*out):
                window = tuple(slice(starts[d][pos[d]], starts[d][pos[d]] + k[d]) for d in range(n))
                block = x[a, c][window]
                j = np.unravel_index(np.argmax(block), block.shape)
                where = tuple(starts[d][pos[d]] + j[d] for d in range(n))
                values[(a, c) + pos] = block[j]
                index[(a, c) + pos] = np.ravel_multi_index(where, spatial)
    return values, index

