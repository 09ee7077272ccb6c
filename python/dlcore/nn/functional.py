"""Functional forms of dlcore's layers, activations and losses (``dlcore.nn.functional``,
usually imported as ``F``). Names, arguments and defaults follow ``torch.nn.functional``.

The heavy ones are single C++ ops: ``linear`` (one GEMM with the bias added in its
write-back), the activations (one fused kernel forward and one backward) and
``cross_entropy`` with class indices (log-softmax and NLL fused, forward and backward).
The other losses are short compositions of dlcore ops.
"""
import numpy as np

from .. import _C
from .._composite import broadcast_tensors as _broadcast_tensors
from .._composite import norm as _C_norm
from ..creation import rand, zeros_like
from ._args import _ntuple  # noqa: F401  (also used by conv.py)

Tensor = _C.Tensor

# ---- layers
linear = _C.linear

# ---- activations: fused C++ kernels (relu, sigmoid, tanh, sign are core unary ops)
relu = _C.relu
sigmoid = _C.sigmoid
tanh = _C.tanh
sign = _C.sign
leaky_relu = _C.leaky_relu
elu = _C.elu
softplus = _C.softplus
gelu = _C.gelu
silu = _C.silu
hardtanh = _C.hardtanh
hardsigmoid = _C.hardsigmoid
piecewise_linear = _C.piecewise_linear
heaviside_step = _C.heaviside_step


def relu6(input):
    return hardtanh(input, 0.0, 6.0)


# ---- activations built from the fused ones (their gradients are those of the parts)
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x): no overflow for large |x|."""
    return -softplus(-input)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - tanh(input)


def softmin(input, dim):
    return softmax(-input, dim)


def hardswish(input):
    """x hardsigmoid(x) = x clip(x / 6 + 1/2, 0, 1)."""
    return input * hardsigmoid(input)


def mish(input):
    """x tanh(softplus(x))."""
    return input * tanh(softplus(input))


def selu(input):
    return _SELU_SCALE * elu(input, _SELU_ALPHA)


def celu(input, alpha=1.0):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)) = alpha elu(x / alpha)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return alpha * elu(input / alpha)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return _C.where(input.abs() > lambd, input, 0.0 * input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    return input - input.clamp(min=-lambd, max=lambd)


def threshold(input, threshold, value):
    """x where x > threshold, else value."""
    return _C.where(input > threshold, input, value)


def prelu(input, weight):
    """max(0, x) + weight min(0, x), weight one value or one per channel (dim 1)."""
    n = weight.numel()
    if n != 1:
        if input.ndim < 2 or input.shape[1] != n:
            raise ValueError(f"prelu: {n} weights for an input of shape {tuple(input.shape)}; expected one "
                             "or one per channel (dim 1)")
        weight = weight.reshape([1, n] + [1] * (input.ndim - 2))
    return _C.where(input >= 0, input, weight * input)


def glu(input, dim=-1):
    """The gated linear unit: the first half of ``dim`` times the sigmoid of the second."""
    n = input.shape[dim] if input.ndim else 0
    if input.ndim == 0 or n % 2:
        raise ValueError(f"glu: dim {dim} of a tensor of shape {tuple(input.shape)} must have an "
                         "even size")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1 . W_o x2 + b_o for weight (out, in1, in2): one einsum (two matrix products)."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ValueError(f"bilinear: weight of shape {tuple(weight.shape)} does not fit inputs of shapes "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    from .._einsum import einsum

    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + bias


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input`` divided by its p-norm along ``dim``, the norm held at ``eps`` or above."""
    return input / _C_norm(input, p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (the inputs broadcast)."""
    x1, x2 = _broadcast_tensors(x1, x2)
    den = _C_norm(x1, 2, dim).clamp(min=eps) * _C_norm(x2, 2, dim).clamp(min=eps)
    return (x1 * x2).sum(dim) / den


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps along the last dim."""
    return _C_norm(x1 - x2 + eps, p, -1, keepdim)


def softmax(input, dim, dtype=None):
    """softmax along ``dim``; with ``dtype`` the input is converted first (as PyTorch)."""
    return _C.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim, dtype=None):
    return _C.log_softmax(input if dtype is None else input.to(dtype), dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1, generator=None):
    """softmax((logits + g) / tau) along dim, g standard Gumbel noise (-log(-log u)). With
    hard, the one-hot of the largest entry in the forward, and the soft sample's gradient
    in the backward (straight through)."""
    if not tau > 0:
        raise ValueError(f"gumbel_softmax: tau must be positive, got {tau}")
    u = rand(*logits.shape, generator=generator, dtype=logits.dtype)
    tiny = float(np.finfo(np.float32 if logits.dtype == _C.dtype.float32 else np.float64).tiny)
    g = -(-(u.clamp(tiny, None)).log()).log()  # u in (0, 1): -log(u) > 0
    soft = _C.softmax((logits + g) / tau, dim)
    if not hard:
        return soft
    hard_sample = zeros_like(soft).scatter(dim, soft.argmax(dim, True), 1.0)
    return hard_sample - soft.detach() + soft


def maxout(input, weight, bias, pieces):
    """max over ``pieces`` affine maps: ``linear(input, weight, bias)`` viewed as
    (..., out_features, pieces), reduced by max over the last dim. ``weight`` has shape
    (out_features * pieces, in_features), row ``j * pieces + k`` being piece k of unit j."""
    if weight.shape[0] % pieces:
        raise ValueError(f"maxout: weight has {weight.shape[0]} rows, not a multiple of pieces={pieces}")
    y = linear(input, weight, bias)
    return y.reshape(*y.shape[:-1], weight.shape[0] // pieces, pieces).amax(-1)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) in training.

    One fused C++ op: the mask is drawn element by element from one seed taken from
    dlcore's default generator (so ``dlcore.manual_seed`` makes it reproducible, on any
    thread count), and the backward regenerates it rather than storing it. ``inplace`` is
    accepted for PyTorch compatibility; the result is a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return input
    return _C._dropout(input, p)


def _channel_dropout(input, p, training, name, spatial):
    """Zeroes whole channels of (N, C, *spatial) or (C, *spatial) input with probability p
    in training and scales the rest by 1 / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: probability has to be between 0 and 1, got {p}")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{name}: expected a {spatial + 1}-D or {spatial + 2}-D input, got shape "
                         f"{tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    lead = input.shape[:input.ndim - spatial]
    keep = rand(*lead, *([1] * spatial), dtype=input.dtype) >= p
    return _C.where(keep, input * (1.0 / (1.0 - p)), 0.0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input (see dropout2d)."""
    return _channel_dropout(input, p, training, "dropout1d", 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels (dims after the first two are kept together) with probability p
    in training and scales the rest by 1 / (1 - p)."""
    return _channel_dropout(input, p, training, "dropout2d", 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input (see dropout2d)."""
    return _channel_dropout(input, p, training, "dropout3d", 3)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value, and
    an affine map a x + b keeps the mean and variance of standard normal inputs."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"alpha_dropout: probability has to be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    sat = -_SELU_SCALE * _SELU_ALPHA
    a = ((1.0 - p) * (1.0 + p * sat * sat)) ** -0.5
    keep = rand(*input.shape, dtype=input.dtype) >= p
    return _C.where(keep, input, sat) * a + (-a * sat * p)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn uniformly from [lower, upper] per element in
    training, and is (lower + upper) / 2 otherwise."""
    if not 0.0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slope = rand(*input.shape, dtype=input.dtype) * (upper - lower) + lower
    return _C.where(input >= 0, input, input * slope)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``input`` (any shape);
    the output has shape ``input.shape + (dim,)``. The row at ``padding_idx`` gets no gradient."""
    if input.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise TypeError(f"embedding: indices must be int64 or int32, got {input.dtype!r}")
    if weight.ndim != 2:
        raise ValueError("embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    flat = input.reshape(-1)
    # index_select counts negative indices from the end; an embedding's ids start at 0.
    if flat.shape[0] and int(flat.min()) < 0:
        raise IndexError(f"embedding: index {int(flat.min())} is out of range for {weight.shape[0]} "
                         "embeddings (indices must be in [0, num_embeddings))")
    out = weight.index_select(0, flat).reshape(*input.shape, weight.shape[1])
    if padding_idx is not None and weight.requires_grad:
        keep = (input != _padding(padding_idx, weight.shape[0])).unsqueeze(-1)
        out = _C.where(keep, out, out.detach())
    return out


def _padding(padding_idx, n):
    if not -n <= padding_idx < n:
        raise IndexError(f"embedding: padding_idx {padding_idx} is out of range for {n} embeddings")
    return padding_idx % n


def rnn_layer(mode, input, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, weight_hr=None,
              lengths=None, reverse=False):
    """One layer, one direction of a recurrent network over a whole sequence, as one fused
    C++ op (forward and backpropagation through time); ``RNN``, ``LSTM`` and ``GRU`` stack it.

    ``mode`` is 'lstm', 'gru', 'rnn_tanh' or 'rnn_relu'; ``input`` is (T, B, I), time-major;
    ``h0`` (B, P) and, for 'lstm', ``c0`` (B, H) may be None (zeros). Weights are PyTorch's:
    ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, P), biases (G*H), G = 4, 3 or 1;
    ``weight_hr`` (P, H) projects an LSTM's h (PyTorch's proj_size), otherwise P = H.
    ``lengths`` (B) stops sequence b after lengths[b] steps (later outputs 0, state carried);
    ``reverse`` runs from the last step to the first. Returns (output (T, B, P), h_n (B, P),
    c_n (B, H) or None)."""
    return rnn_layer_directions(mode, input, [(h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, reverse)],
                                lengths)[0]


def rnn_layer_directions(mode, input, directions, lengths=None):
    """Several directions of one layer over the same input as one op (a bidirectional layer):
    ``directions`` lists ``(h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, reverse)``
    per direction, and the result is ``rnn_layer``'s triple per direction. With two threads
    or more the directions run at the same time, one thread each, forward and backward."""
    if lengths is not None and not isinstance(lengths, Tensor):
        lengths = _C.from_numpy(np.ascontiguousarray(lengths, dtype=np.int64))
    return _C._rnn_layer(mode, input, list(directions), lengths)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dim of size num_classes (max + 1 when -1)."""
    if tensor.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise TypeError(f"one_hot: expected an int64 or int32 tensor of class indices, got {tensor.dtype!r}")
    a = tensor.numpy()
    if num_classes < 0:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise IndexError(f"one_hot: class values must be in [0, {num_classes}), got [{a.min()}, {a.max()}]")
    return _C.from_numpy((a[..., None] == np.arange(num_classes)).astype(np.int64))


# ---- losses
def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(input, target, op):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} and target of shape "
                         f"{tuple(target.shape)} must have the same shape")


def mse_loss(input, target, reduction="mean"):
    _same_shape(input, target, "mse_loss")
    return _reduce((input - target).square(), reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere, d = input - target."""
    _same_shape(input, target, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = input - target
    a = d.abs()
    return _reduce(_C.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    if not beta >= 0.0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0.0:
        return l1_loss(input, target, reduction)
    _same_shape(input, target, "smooth_l1_loss")
    d = input - target
    a = d.abs()
    return _reduce(_C.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction, "smooth_l1_loss")


def _check_class_indices(target, n_classes, ignore_index, op):
    if target.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise TypeError(f"{op}: expected class indices of type int64, got {target.dtype!r}")
    t = target.numpy()
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{op}: target {int(t[bad].flat[0])} is out of bounds for {n_classes} classes")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices under log-probabilities ``input``
    (N, C), (C) or (N, C, d...). Mean divides by the summed weight of the counted targets."""
    if input.ndim < 1:
        raise ValueError("nll_loss: input must have a class dim")
    cdim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[cdim]
    expected = tuple(input.shape[:cdim]) + tuple(input.shape[cdim + 1:])
    if tuple(target.shape) != expected:
        raise ValueError(f"nll_loss: target of shape {tuple(target.shape)} does not match input of shape "
                         f"{tuple(input.shape)} (expected {expected})")
    _check_class_indices(target, n_classes, ignore_index, "nll_loss")
    counted = target != ignore_index
    safe = _C.where(counted, target, 0).to(_C.dtype.int64)
    picked = input.gather(cdim, safe.unsqueeze(cdim)).squeeze(cdim)
    w = counted.to(input.dtype)
    if weight is not None:
        w = w * weight.index_select(0, safe.reshape(-1)).reshape(safe.shape)
    loss = -(picked * w)
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction, "nll_loss")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C), (C) or (N, C, d...) and ``target``:
    class indices (one fused C++ kernel, forward and backward) or class probabilities of
    ``input``'s shape. ``weight`` (C) rescales classes, ``ignore_index`` drops targets,
    ``label_smoothing`` mixes the target with the uniform distribution, as in PyTorch."""
    if target.dtype.is_floating_point:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    return _C.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"cross_entropy: probability target of shape {tuple(target.shape)} must match "
                         f"input of shape {tuple(input.shape)}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    cdim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[cdim]
    logp = input.log_softmax(cdim)
    if label_smoothing > 0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        shape = [1] * input.ndim
        shape[cdim] = n_classes
        terms = terms * weight.reshape(shape)
    loss = -terms.sum(cdim)
    return _reduce(loss, reduction, "cross_entropy")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x; logs are clamped at -100 as in
    PyTorch, so x = 0 or 1 gives a finite loss."""
    _same_shape(input, target, "binary_cross_entropy")
    a = input.detach().numpy()
    if a.size and (np.nanmin(a) < 0 or np.nanmax(a) > 1):
        raise ValueError("binary_cross_entropy: input values must lie in [0, 1]; use "
                         "binary_cross_entropy_with_logits for logits")
    log_x = input.log().clamp(min=-100.0)
    log_1mx = (1.0 - input).log().clamp(min=-100.0)
    loss = -(target * log_x + (1.0 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable expression:
    (1 - y) x + (1 + (p - 1) y) softplus(-x), p = pos_weight (1 without)."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    sp = softplus(-input)
    if pos_weight is not None:
        loss = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * sp
    else:
        loss = (1.0 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


# ---- padding and convolution
def _pad_indices(n, lo, hi, mode, op):
    """Source index for each position of a dim of size n padded by lo and hi."""
    if mode == "reflect" and (lo >= n or hi >= n):
        raise ValueError(f"{op}: reflect padding ({lo}, {hi}) must be smaller than the dim's size {n}")
    if mode == "circular" and (lo > n or hi > n):
        raise ValueError(f"{op}: circular padding ({lo}, {hi}) must not exceed the dim's size {n}")
    if n == 0:
        raise ValueError(f"{op}: {mode} padding of an empty dim")
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        i = np.abs(i)
        i = np.where(i >= n, 2 * (n - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, n - 1)
    else:  # circular
        i = np.mod(i, n)
    return _C.from_numpy(i.astype(np.int64))


def pad(input, pad, mode="constant", value=0.0):
    """Pads the last len(pad) // 2 dims: ``pad = (left, right, top, bottom, ...)`` starting from
    the last dim, as in PyTorch. Modes: 'constant' (with value; negative pads crop),
    'reflect' (mirror without repeating the edge), 'replicate' (repeat the edge) and
    'circular' (wrap around). Differentiable in the input."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding {tuple(pad)} must have an even length of at most 2 * {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    out = input
    for k in range(len(pad) // 2):
        dim = input.ndim - 1 - k
        lo, hi = int(pad[2 * k]), int(pad[2 * k + 1])
        if lo == 0 and hi == 0:
            continue
        n = out.shape[dim]
        if mode == "constant":
            if lo < 0 or hi < 0:
                start, stop = max(-lo, 0), n - max(-hi, 0)
                if stop < start:
                    raise ValueError(f"pad: negative padding ({lo}, {hi}) removes more than the dim's size {n}")
                out = out.narrow(dim, start, stop - start)
                lo, hi = max(lo, 0), max(hi, 0)
            parts = [_full(out.shape, dim, lo, value, out.dtype), out, _full(out.shape, dim, hi, value, out.dtype)]
            out = _C.cat([p for p in parts if p is not None], dim)
        else:
            if lo < 0 or hi < 0:
                raise ValueError(f"pad: {mode} padding must be non-negative, got ({lo}, {hi})")
            out = out.index_select(dim, _pad_indices(n, lo, hi, mode, "pad"))
    return out


def _full(shape, dim, size, value, dtype):
    """A block of `value` shaped like `shape` but `size` long in `dim` (None when size is 0)."""
    if size == 0:
        return None
    from ..creation import full

    shape = list(shape)
    shape[dim] = size
    return full(tuple(shape), value, dtype=dtype)


def _conv_pads(padding, kernel, dilation, stride, op):
    """(lo, hi) zero padding per spatial dim from an int, a tuple, 'valid' or 'same'."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * n
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {tuple(stride)}")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        return pads
    return [(p, p) for p in _ntuple(padding, n, "padding", op)]


def _conv(input, weight, bias, stride, padding, dilation, groups, n, padding_mode, op):
    if input.ndim == n + 1:  # unbatched
        return _conv(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, n, padding_mode,
                     op).squeeze(0)
    stride = _ntuple(stride, n, "stride", op)
    dilation = _ntuple(dilation, n, "dilation", op)
    if weight.ndim != n + 2:
        raise ValueError(f"{op}: weight must have {n + 2} dims, got shape {tuple(weight.shape)}")
    pads = _conv_pads(padding, tuple(weight.shape[2:]), dilation, stride, op)
    if padding_mode != "zeros" or any(lo != hi for lo, hi in pads):
        if input.ndim != n + 2:
            raise ValueError(f"{op}: expected a {n + 2}-D input, got shape {tuple(input.shape)}")
        flat = [v for lo_hi in reversed(pads) for v in lo_hi]
        input = pad(input, flat, "constant" if padding_mode == "zeros" else padding_mode)
        pads = [(0, 0)] * n
    sym = tuple(lo for lo, _ in pads)
    if n == 1:
        return _C._conv1d(input, weight, bias, stride[0], sym[0], dilation[0], groups)
    if n == 3:
        if input.ndim != 5:
            raise ValueError(f"{op}: expected a 4-D or 5-D input, got shape {tuple(input.shape)}")
        return conv3d_symmetric(input, weight, bias, stride, sym, dilation, groups, op)
    return _C._conv2d(input, weight, bias, stride, sym, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C, H, W) with weight (O, C / groups, kh, kw); padding is
    an int, a pair, 'valid' or 'same' (stride 1; uneven 'same' padding goes to the bottom
    and right, as in PyTorch)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "zeros", "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input (N, C, D, H, W) with weight (O, C / groups, kd, kh, kw)
    (nn/volumetric.py: one 2-D convolution with the depth offsets folded into channels)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "zeros", "conv3d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of input (N, C, L) with weight (O, C / groups, k)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "zeros", "conv1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution (the adjoint of conv2d) of input (N, Cin, H, W) with weight
    (Cin, Cout / groups, kh, kw): output (N, Cout, (H - 1) s - 2 p + d (kh - 1) + output_padding + 1, ...)."""
    op = "conv_transpose2d"
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    return _C._conv_transpose2d(input, weight, bias, _ntuple(stride, 2, "stride", op),
                                _ntuple(padding, 2, "padding", op), _ntuple(output_padding, 2, "output_padding", op),
                                groups, _ntuple(dilation, 2, "dilation", op))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of input (N, Cin, L) with weight (Cin, Cout / groups, k)."""
    op = "conv_transpose1d"
    if input.ndim == 2:
        return conv_transpose1d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"{op}: expected input (N, C, L) and weight (Cin, Cout / groups, k), got shapes "
                         f"{tuple(input.shape)} and {tuple(weight.shape)}")
    y = _C._conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _ntuple(stride, 1, "stride", op)[0]),
                             (0, _ntuple(padding, 1, "padding", op)[0]),
                             (0, _ntuple(output_padding, 1, "output_padding", op)[0]), groups,
                             (1, _ntuple(dilation, 1, "dilation", op)[0]))
    return y.squeeze(2)


from .pooling import (  # noqa: E402, F401  (the pooling functions live beside their layers)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool2d,
)
from .norm import (  # noqa: E402, F401
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    rms_norm,
)
from .upsampling import channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle  # noqa: E402, F401
from .embedding_bag import embedding_bag  # noqa: E402, F401
from .grid_sample import affine_grid, grid_sample  # noqa: E402, F401
from .fold import fold, unfold  # noqa: E402, F401
from .volumetric import (  # noqa: E402, F401
    adaptive_avg_pool3d,
    adaptive_max_pool3d,
    avg_pool3d,
    conv3d_symmetric,
    conv_transpose3d,
    max_pool3d,
)
from .attention import multi_head_attention_forward, rotary_embedding, scaled_dot_product_attention  # noqa: E402, F401,E501
from .loss_functions import (  # noqa: E402, F401
    cosine_embedding_loss,
    ctc_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .._tensor_functions import pdist  # noqa: E402, F401

_C.Tensor.hardshrink = lambda self, lambd=0.5: hardshrink(self, lambd)
_C.Tensor.prelu = lambda self, weight: prelu(self, weight)
