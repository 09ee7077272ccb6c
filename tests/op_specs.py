"""One table of op specs: per op, the dlcore call, the NumPy reference, the input
shapes, the input domain, dtypes and whether it is differentiable.
test_ops.py turns each row into forward, non-contiguous, gradient, ISA-path
and thread-count checks; adding an op means adding a row here."""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import dlcore as dl
from reference import attention as attnref
from reference import conv as convref
from reference import nn as nnref
from reference import ops as ref
from reference import rnn as rnnref

F32, F64 = dl.float32, dl.float64
F = dl.nn.functional


def class_targets(shape, n_classes, ignore=None):
    """Deterministic class indices for a logits shape (the class dim is 0 for 1-D, else 1)."""
    tshape = () if len(shape) == 1 else (shape[0],) + tuple(shape[2:])
    t = (np.arange(int(np.prod(tshape, dtype=int))) * 7 + 3) % n_classes
    if ignore is not None and t.size > 1:
        t[1] = ignore
    return t.reshape(tshape).astype(np.int64)


def rnn_spec(mode, reverse=False, lengths=None):
    """An rnn_layer row over (x, h0, [c0], w_ih, w_hh, b_ih, b_hh): y, h_n (and c_n) flattened."""
    lstm = mode == "lstm"

    def fn(x, h0, *rest):
        c0, w = (rest[0], rest[1:]) if lstm else (None, rest)
        y, h, c = F.rnn_layer(mode, x, h0, c0, *w, lengths=lengths, reverse=reverse)
        return dl.cat([y.flatten(), h.flatten()] + ([c.flatten()] if lstm else []))

    def reffn(x, h0, *rest):
        c0, w = (rest[0], rest[1:]) if lstm else (None, rest)
        y, h, c = rnnref.rnn_layer(mode, x, h0, c0, *w, lengths=lengths, reverse=reverse)
        return np.concatenate([y.ravel(), h.ravel()] + ([c.ravel()] if lstm else []))

    G, H = {"lstm": 4, "gru": 3}.get(mode, 1), 3
    shapes = [(4, 2, 3), (2, H)] + ([(2, H)] if lstm else []) + [(G * H, 3), (G * H, H), (G * H,), (G * H,)]
    return Spec(f"rnn_layer_{mode}", fn, reffn, [tuple(shapes)], low=-1, high=1, atol=2e-6)


def ce_spec(name, shapes, **kw):
    """A cross_entropy row: logits are the input, targets follow from the shape."""
    def fn(x):
        c = x.shape[0] if x.ndim == 1 else x.shape[1]
        w = kw.get("weight")
        return F.cross_entropy(x, dl.tensor(class_targets(tuple(x.shape), c, kw.get("ignore_index"))),
                               weight=None if w is None else dl.tensor(w(c)).to(x.dtype),
                               ignore_index=kw.get("ignore_index", -100), reduction=kw.get("reduction", "mean"),
                               label_smoothing=kw.get("label_smoothing", 0.0))

    def reffn(x):
        c = x.shape[0] if x.ndim == 1 else x.shape[1]
        w = kw.get("weight")
        return nnref.cross_entropy(x, class_targets(x.shape, c, kw.get("ignore_index")),
                                   None if w is None else w(c), kw.get("ignore_index", -100),
                                   kw.get("label_smoothing", 0.0), kw.get("reduction", "mean"))
    return Spec(name, fn, reffn, shapes, low=-4, high=4)

BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3, 4), (4,)), ((0, 3), (1, 3))]
UNARY_SHAPES = [((3, 4),), ((),), ((0,),), ((2, 3, 5),)]
REDUCE_SHAPES = [((3, 4, 5),)]


@dataclass
class Spec:
    name: str
    fn: Callable
    ref: Callable
    shapes: list
    low: float = -2.0
    high: float = 2.0
    grad: bool = True
    dtypes: tuple = (F32, F64)
    rtol: float = 1e-5  # float32 against the float64 reference
    atol: float = 1e-6
    elementwise: bool = False  # also run on long inputs (SIMD main loop and tails)
    tags: set = field(default_factory=set)


def binary(name, fn, reffn, low=-2.0, high=2.0, **kw):
    return Spec(name, fn, reffn, BINARY_SHAPES, low, high, elementwise=True, **kw)


def unary(name, fn, reffn, low=-2.0, high=2.0, **kw):
    return Spec(name, fn, reffn, UNARY_SHAPES, low, high, elementwise=True, **kw)


SPECS = [
    # ---- binary elementwise
    binary("add", lambda a, b: dl.add(a, b), np.add),
    binary("add_alpha", lambda a, b: dl.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b),
    binary("sub", lambda a, b: a - b, np.subtract),
    binary("mul", lambda a, b: a * b, np.multiply),
    binary("div", lambda a, b: a / b, np.divide, low=0.5, high=2.0),
    binary("pow", lambda a, b: dl.pow(a, b), np.power, low=0.5, high=2.0),
    binary("maximum", dl.maximum, np.maximum),
    binary("minimum", dl.minimum, np.minimum),
    binary("remainder", lambda a, b: a % b, np.remainder, low=0.5, high=2.0),
    binary("fmod", lambda a, b: dl.fmod(-a, b), lambda a, b: np.fmod(-a, b), low=0.5, high=2.0),
    binary("floor_divide", lambda a, b: (a // b) * a + b, lambda a, b: np.floor_divide(a, b) * a + b,
           low=0.5, high=2.0),
    binary("where", lambda a, b: dl.where(a > b, a, b * 2), lambda a, b: np.where(a > b, a, b * 2)),
    binary("masked_fill", lambda a, b: dl.masked_fill(a + b, b > 0, 1.5),
           lambda a, b: np.where(b > 0, 1.5, a + b)),
    # ---- scalars on either side
    unary("add_scalar", lambda x: x + 1.5, lambda x: x + 1.5),
    unary("rsub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x),
    unary("mul_scalar", lambda x: 3 * x, lambda x: 3 * x),
    unary("div_scalar", lambda x: x / 4.0, lambda x: x / 4.0),
    unary("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, low=0.5),
    unary("pow_scalar", lambda x: x ** 3, lambda x: x ** 3),
    unary("pow_half", lambda x: x ** 0.5, lambda x: x ** 0.5, low=0.2),
    unary("rpow_scalar", lambda x: 2.0 ** x, lambda x: 2.0 ** x),
    # ---- unary elementwise
    unary("neg", lambda x: -x, np.negative),
    unary("exp", dl.exp, np.exp, low=-10, high=10),
    unary("log", dl.log, np.log, low=0.1, high=5),
    unary("sqrt", dl.sqrt, np.sqrt, low=0.1, high=5),
    unary("rsqrt", dl.rsqrt, ref.rsqrt, low=0.1, high=5),
    unary("abs", dl.abs, np.abs),
    unary("sign", dl.sign, np.sign),
    unary("sin", dl.sin, np.sin, low=-4, high=4),
    unary("cos", dl.cos, np.cos, low=-4, high=4),
    unary("log1p", dl.log1p, np.log1p, low=-0.9, high=3),
    unary("expm1", lambda x: x.expm1(), np.expm1, low=-3, high=3),
    unary("log2", dl.log2, np.log2, low=0.1, high=4),
    unary("log10", lambda x: x.log10(), np.log10, low=0.1, high=4),
    unary("exp2", dl.exp2, np.exp2, low=-3, high=3),
    unary("erf", dl.erf, ref.erf, low=-3, high=3),
    unary("erfc", lambda x: x.erfc(), ref.erfc, low=-3, high=3),
    unary("reciprocal", dl.reciprocal, lambda x: 1 / x, low=0.3, high=3),
    unary("sinh", dl.sinh, np.sinh, low=-3, high=3),
    unary("cosh", lambda x: x.cosh(), np.cosh, low=-3, high=3),
    unary("asin", dl.asin, np.arcsin, low=-0.9, high=0.9),
    unary("acos", lambda x: x.acos(), np.arccos, low=-0.9, high=0.9),
    unary("atan", dl.atan, np.arctan, low=-4, high=4),
    # Rounding: inputs kept away from the steps, where the gradient (zero) is defined.
    unary("floor", lambda x: dl.floor(x * 0.8 + 3.1) * x, lambda x: np.floor(x * 0.8 + 3.1) * x, low=0.0, high=1.0),
    unary("ceil", lambda x: x.mul(0.8).add(3.1).ceil() * x, lambda x: np.ceil(x * 0.8 + 3.1) * x, low=0.0, high=1.0),
    unary("round", lambda x: dl.round(x * 0.8 + 3.6) * x, lambda x: np.round(x * 0.8 + 3.6) * x, low=0.0, high=1.0),
    unary("trunc", lambda x: (x * 0.8 - 2.9).trunc() * x, lambda x: np.trunc(x * 0.8 - 2.9) * x, low=0.0, high=1.0),
    unary("tanh", dl.tanh, np.tanh, low=-5, high=5),
    unary("tanh_small", dl.tanh, np.tanh, low=-0.3, high=0.3),
    unary("sigmoid", dl.sigmoid, ref.sigmoid, low=-8, high=8),
    unary("relu", dl.relu, ref.relu),
    unary("square", dl.square, np.square),
    unary("clamp", lambda x: dl.clamp(x, -0.5, 0.7), lambda x: ref.clamp(x, -0.5, 0.7)),
    unary("clamp_min", lambda x: x.clamp(min=0.1), lambda x: ref.clamp(x, 0.1, None)),
    # ---- reductions
    Spec("sum_all", lambda x: x.sum(), np.sum, REDUCE_SHAPES + [((0, 3),), ((),)]),
    Spec("sum_dim", lambda x: x.sum(1), lambda x: np.sum(x, 1), REDUCE_SHAPES),
    Spec("sum_dims_keep", lambda x: x.sum((0, 2), keepdim=True), lambda x: np.sum(x, (0, 2), keepdims=True),
         REDUCE_SHAPES),
    Spec("sum_last", lambda x: x.sum(-1), lambda x: np.sum(x, -1), REDUCE_SHAPES + [((0, 3),)]),
    Spec("mean_all", lambda x: x.mean(), np.mean, REDUCE_SHAPES),
    Spec("mean_dim", lambda x: dl.mean(x, (0, 1)), lambda x: np.mean(x, (0, 1)), REDUCE_SHAPES),
    Spec("var_all", lambda x: x.var(), lambda x: ref.var(x), REDUCE_SHAPES),
    Spec("var_dim_biased", lambda x: x.var(1, unbiased=False, keepdim=True),
         lambda x: ref.var(x, 1, 0, True), REDUCE_SHAPES),
    Spec("std_dim", lambda x: x.std(2), lambda x: ref.std(x, 2), REDUCE_SHAPES),
    Spec("prod_all", lambda x: x.prod(), np.prod, [((2, 3),)], low=0.5, high=1.5),
    Spec("prod_dim", lambda x: x.prod(1), lambda x: np.prod(x, 1), REDUCE_SHAPES, low=0.5, high=1.5),
    Spec("amax", lambda x: x.amax(1), lambda x: np.max(x, 1), REDUCE_SHAPES),
    Spec("amin_dims", lambda x: x.amin((0, 2), keepdim=True), lambda x: np.min(x, (0, 2), keepdims=True),
         REDUCE_SHAPES),
    Spec("max_all", lambda x: x.max(), np.max, REDUCE_SHAPES + [((),)]),
    Spec("min_all", lambda x: dl.min(x), np.min, REDUCE_SHAPES),
    Spec("max_dim_values", lambda x: x.max(2).values, lambda x: np.max(x, 2), REDUCE_SHAPES),
    Spec("min_dim_values", lambda x: x.min(0, keepdim=True)[0], lambda x: np.min(x, 0, keepdims=True),
         REDUCE_SHAPES),
    Spec("logsumexp", lambda x: x.logsumexp(1), lambda x: ref.logsumexp(x, 1), REDUCE_SHAPES),
    Spec("logsumexp_keep", lambda x: dl.logsumexp(x, -1, keepdim=True),
         lambda x: ref.logsumexp(x, -1, True), REDUCE_SHAPES, low=-30, high=30),
    Spec("cumsum", lambda x: x.cumsum(1), lambda x: ref.cumsum(x, 1), REDUCE_SHAPES),
    Spec("cumprod", lambda x: x.cumprod(1), lambda x: ref.cumprod(x, 1), REDUCE_SHAPES, low=0.5, high=1.5),
    Spec("cumprod_signs", lambda x: dl.cumprod(x, -1), lambda x: ref.cumprod(x, -1), REDUCE_SHAPES),
    Spec("cummax", lambda x: x.cummax(1).values, lambda x: ref.cum_extreme(x, 1, True)[0], REDUCE_SHAPES),
    Spec("cummin", lambda x: dl.cummin(x, 0)[0], lambda x: ref.cum_extreme(x, 0, False)[0], REDUCE_SHAPES),
    Spec("logcumsumexp", lambda x: x.logcumsumexp(-1), lambda x: ref.logcumsumexp(x, -1), REDUCE_SHAPES,
         low=-30, high=30),
    Spec("softmax", lambda x: x.softmax(-1), lambda x: ref.softmax(x, -1), REDUCE_SHAPES, low=-5, high=5),
    Spec("softmax_dim0", lambda x: dl.softmax(x, 0), lambda x: ref.softmax(x, 0), REDUCE_SHAPES),
    Spec("log_softmax", lambda x: x.log_softmax(1), lambda x: ref.log_softmax(x, 1), REDUCE_SHAPES,
         low=-5, high=5),
    Spec("log_softmax_last", lambda x: dl.log_softmax(x, -1), lambda x: ref.log_softmax(x, -1),
         REDUCE_SHAPES + [((),), ((7,),)], low=-5, high=5),
    # ---- matmul
    Spec("matmul_2d", dl.matmul, ref.matmul, [((3, 4), (4, 5)), ((1, 7), (7, 1))], rtol=1e-5, atol=1e-5),
    Spec("matmul_vec", dl.matmul, ref.matmul, [((4,), (4,)), ((4,), (4, 3)), ((2, 4), (4,))], atol=1e-5),
    Spec("matmul_batched", lambda a, b: a @ b, ref.matmul, [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2))],
         atol=1e-5),
    Spec("matmul_large", dl.matmul, ref.matmul, [((37, 70), (70, 45))], atol=1e-4, grad=False),
    # ---- nn: linear, activations, cross-entropy (python/dlcore/nn/functional.py)
    Spec("linear", F.linear, nnref.linear, [((3, 4), (5, 4), (5,)), ((2, 3, 4), (2, 4), (2,)),
                                            ((4,), (3, 4), (3,)), ((0, 4), (3, 4), (3,))], atol=1e-5),
    Spec("linear_nobias", lambda x, w: F.linear(x, w), nnref.linear, [((3, 4), (5, 4)), ((2, 1, 3), (2, 3))],
         atol=1e-5),
    unary("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: nnref.leaky_relu(x, 0.2)),
    unary("elu", lambda x: F.elu(x, 0.7), lambda x: nnref.elu(x, 0.7)),
    unary("softplus", lambda x: F.softplus(x, 2.0), lambda x: nnref.softplus(x, 2.0), low=-6, high=6),
    unary("softplus_threshold", lambda x: F.softplus(x, 1.0, 1.0), lambda x: nnref.softplus(x, 1.0, 1.0),
          grad=False),
    unary("gelu", F.gelu, nnref.gelu, low=-4, high=4),
    unary("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), nnref.gelu_tanh, low=-4, high=4),
    unary("silu", F.silu, nnref.silu, low=-8, high=8),
    unary("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.5), lambda x: nnref.hardtanh(x, -0.5, 1.5)),
    unary("hardsigmoid", F.hardsigmoid, nnref.hardsigmoid, low=-4, high=4),
    unary("piecewise_linear", F.piecewise_linear, nnref.piecewise_linear),
    unary("heaviside_step", F.heaviside_step, nnref.heaviside_step),
    Spec("maxout", lambda x, w, b: F.maxout(x, w, b, 3), lambda x, w, b: nnref.maxout(x, w, b, 3),
         [((4, 5), (6, 5), (6,))], atol=1e-5),
    ce_spec("cross_entropy", [((4, 5),), ((5,),), ((2, 3, 4),)]),
    ce_spec("cross_entropy_sum", [((4, 5),)], reduction="sum"),
    ce_spec("cross_entropy_none", [((4, 5),), ((2, 3, 2),)], reduction="none"),
    ce_spec("cross_entropy_weight_ignore", [((5, 4),), ((2, 4, 3),)], weight=lambda c: np.linspace(0.5, 2.0, c),
            ignore_index=2),
    ce_spec("cross_entropy_smoothing", [((4, 6),), ((2, 6, 3),)], label_smoothing=0.2,
            weight=lambda c: np.linspace(1.0, 2.0, c)),
    ce_spec("cross_entropy_smoothing_none", [((4, 6),)], label_smoothing=0.1, reduction="none", ignore_index=0),
    Spec("conv2d", lambda x, w, b: F.conv2d(x, w, b, 2, 1, 1, 2),
         lambda x, w, b: convref.conv2d(x, w, b, (2, 2), (1, 1), (1, 1), 2), [((1, 4, 5, 4), (2, 2, 2, 3), (2,))],
         atol=1e-5),
    Spec("conv1d", lambda x, w: F.conv1d(x, w, padding=1, dilation=2), lambda x, w: convref.conv1d(x, w, None, 1, 1, 2),
         [((2, 3, 6), (2, 3, 2))], atol=1e-5),
    Spec("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w, None, 2, 1, 1),
         lambda x, w: convref.conv_transpose2d(x, w, None, (2, 2), (1, 1), (1, 1)), [((1, 2, 3, 2), (2, 2, 2, 3))],
         atol=1e-5),
    Spec("max_pool2d", lambda x: F.max_pool2d(x, 2, 1, 1), lambda x: convref.max_pool2d(x, (2, 2), (1, 1), (1, 1))[0],
         [((1, 2, 3, 4),)], grad=True),
    Spec("avg_pool2d", lambda x: F.avg_pool2d(x, 2, 1, 1), lambda x: convref.avg_pool2d(x, (2, 2), (1, 1), (1, 1)),
         [((1, 2, 3, 4),)]),
    Spec("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
         lambda x: convref.adaptive_pool2d(x, (2, 3), np.mean), [((1, 2, 3, 5),)]),
    Spec("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, 2),
         lambda x: convref.adaptive_pool2d(x, (2, 2), np.max), [((1, 2, 3, 5),)]),
    Spec("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
         lambda x, w, b: nnref.batch_norm_train(x, w, b, 0, 0, 0.1, 1e-5)[0], [((4, 3, 2), (3,), (3,))],
         rtol=1e-4, atol=1e-5),
    Spec("scaled_dot_product_attention", lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
         lambda q, k, v: attnref.sdpa(q, k, v), [((2, 3, 4), (2, 5, 4), (2, 5, 3)), ((3, 2), (1, 4, 2), (4, 3))]),
    Spec("scaled_dot_product_attention_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
         lambda q, k, v: attnref.sdpa(q, k, v, causal=True), [((1, 2, 4, 3), (1, 2, 3, 3), (1, 2, 3, 2))]),
    Spec("dropout", lambda x: dl._C._dropout_seeded(x, 0.3, 1234), lambda x: nnref.dropout_seeded(x, 0.3, 1234),
         [((3, 70),), ((0,),)]),
    Spec("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
         lambda x, w, b: nnref.layer_norm(x, 2, w, b, 1e-5), [((2, 3, 4), (3, 4), (3, 4))], rtol=1e-4, atol=1e-5),
    Spec("rms_norm", lambda x, w: F.rms_norm(x, 4, w, 1e-5), lambda x, w: attnref.rms_norm(x, 1, w, 1e-5),
         [((2, 3, 4), (4,))], rtol=1e-4, atol=1e-5),
    rnn_spec("lstm"),
    rnn_spec("gru", reverse=True),
    rnn_spec("rnn_tanh", lengths=[4, 2]),
    rnn_spec("rnn_relu", reverse=True, lengths=[1, 3]),
    # ---- shape ops and views
    Spec("reshape", lambda x: x.reshape(4, -1) * 2, lambda x: x.reshape(4, -1) * 2, [((2, 3, 2),)]),
    Spec("permute", lambda x: x.permute(2, 0, 1) * 1, lambda x: np.transpose(x, (2, 0, 1)), [((2, 3, 4),)]),
    Spec("transpose", lambda x: x.transpose(0, 1) + 0, lambda x: np.swapaxes(x, 0, 1), [((2, 3, 4),)]),
    Spec("t", lambda x: x.t() * 1, lambda x: x.T, [((2, 3),)]),
    Spec("squeeze", lambda x: x.squeeze() + 0, np.squeeze, [((1, 3, 1, 2),)]),
    Spec("unsqueeze", lambda x: x.unsqueeze(1) + 0, lambda x: np.expand_dims(x, 1), [((2, 3),)]),
    Spec("expand", lambda x: x.expand(2, 3, 4) + 0, lambda x: np.broadcast_to(x, (2, 3, 4)), [((3, 1),)]),
    Spec("flatten", lambda x: x.flatten(1) + 0, lambda x: x.reshape(x.shape[0], -1), [((2, 3, 4),)]),
    Spec("narrow", lambda x: x.narrow(1, 1, 2) + 0, lambda x: x[:, 1:3], [((3, 4),)]),
    Spec("getitem_basic", lambda x: x[1:, ::2, None, ..., -1] + 0, lambda x: x[1:, ::2, None, ..., -1],
         [((3, 4, 5),)]),
    Spec("getitem_int_tensor", lambda x: x[dl.tensor([2, 0, 2])] * 1, lambda x: x[[2, 0, 2]], [((3, 4),)]),
    Spec("getitem_two_tensors", lambda x: x[dl.tensor([0, 2]), :, dl.tensor([1, 1])] * 1,
         lambda x: x[[0, 2], :, [1, 1]], [((3, 4, 5),)]),
    Spec("getitem_adjacent", lambda x: x[:, dl.tensor([[0, 1], [2, 2]])] * 1,
         lambda x: x[:, [[0, 1], [2, 2]]], [((2, 3, 4),)]),
    Spec("getitem_mask", lambda x: x[x > 0] * 1, lambda x: x[x > 0], [((3, 4),)]),
    Spec("cat", lambda a, b: dl.cat([a, b, a], 1), lambda a, b: np.concatenate([a, b, a], 1),
         [((2, 3), (2, 5))]),
    Spec("stack", lambda a, b: dl.stack([a, b], -1), lambda a, b: np.stack([a, b], -1), [((2, 3), (2, 3))]),
    Spec("split", lambda x: x.split(2, 1)[1] * 1, lambda x: x[:, 2:4], [((3, 5),)]),
    Spec("chunk", lambda x: dl.chunk(x, 3, 0)[2] * 1, lambda x: x[4:], [((5, 2),)]),
    # Several pieces used, in another order, and one piece unused: one node joins the
    # pieces' gradients (zeros for the unused one).
    Spec("split_pieces", lambda x: dl.cat([p * (3 - i) for i, p in enumerate(x.split([1, 3, 1], 1))][::-1], 1),
         lambda x: np.concatenate([x[:, 4:5] * 1, x[:, 1:4] * 2, x[:, 0:1] * 3], 1), [((3, 5),)]),
    Spec("chunk_pieces", lambda x: (lambda p: dl.cat([p[2] * 2, p[0]], 0))(dl.chunk(x, 3, 0)),
         lambda x: np.concatenate([x[4:] * 2, x[:2]], 0), [((5, 2),)]),
    Spec("flip", lambda x: x.flip([0, 2]), lambda x: ref.flip(x, [0, 2]), [((2, 3, 4),)]),
    Spec("flip_last", lambda x: dl.flip(x, -1), lambda x: ref.flip(x, [x.ndim - 1]), [((3, 4),), ((5,),)]),
    Spec("tril", lambda x: x.tril(), lambda x: ref.triangle(x, 0, True), [((3, 4),), ((2, 4, 3),)]),
    Spec("tril_below", lambda x: dl.tril(x, -1), lambda x: ref.triangle(x, -1, True), [((4, 4),)]),
    Spec("triu", lambda x: x.triu(), lambda x: ref.triangle(x, 0, False), [((3, 4),), ((2, 4, 3),)]),
    Spec("triu_above", lambda x: dl.triu(x, 2), lambda x: ref.triangle(x, 2, False), [((3, 5),)]),
    Spec("sort", lambda x: x.sort(1)[0], lambda x: ref.sort(x, 1)[0], [((3, 5),), ((2, 4, 3),)]),
    Spec("sort_descending", lambda x: dl.sort(x, 0, descending=True).values,
         lambda x: ref.sort(x, 0, True)[0], [((4, 3),)]),
    Spec("topk", lambda x: x.topk(2, 0)[0], lambda x: ref.sort(x, 0, True, 2)[0], [((4, 3),)]),
    Spec("topk_smallest", lambda x: dl.topk(x, 3, largest=False).values,
         lambda x: ref.sort(x, -1, False, 3)[0], [((2, 5),)]),
    Spec("gather", lambda x: x.gather(1, dl.tensor([[0, 2, 2], [1, 0, 0]])),
         lambda x: ref.gather(x, 1, np.array([[0, 2, 2], [1, 0, 0]])), [((2, 3),)]),
    Spec("scatter_add", lambda x, s: x.scatter_add(0, dl.tensor([[1, 0, 1], [1, 1, 0]]), s),
         lambda x, s: ref.scatter_add(x, 0, np.array([[1, 0, 1], [1, 1, 0]]), s), [((2, 3), (2, 3))]),
    Spec("index_select", lambda x: x.index_select(1, dl.tensor([3, 0, 3])),
         lambda x: x[:, [3, 0, 3]], [((2, 4),)]),
    Spec("index_add", lambda x, s: x.index_add(0, dl.tensor([2, 0, 2]), s),
         lambda x, s: ref.index_add(x, 0, np.array([2, 0, 2]), s), [((3, 2), (3, 2))]),
    Spec("contiguous", lambda x: x.t().contiguous(), lambda x: x.T, [((3, 4),)]),
    Spec("clone", lambda x: x[:, 1:].clone(), lambda x: x[:, 1:], [((3, 4),)]),
    Spec("view", lambda x: x.view(2, -1, 3) * 1, lambda x: x.reshape(2, -1, 3), [((4, 3),)]),
    Spec("to_float64", lambda x: x.to(dl.float64) * 1, lambda x: x, [((3, 4),)], dtypes=(F64,)),
    Spec("to_float32", lambda x: x.float() * 1, lambda x: x, [((3, 4),)], dtypes=(F32,), grad=False),
]

SPEC_BY_NAME = {s.name: s for s in SPECS}

# Ops without a gradient (integer or bool results); checked in test_ops.py too.
COMPARISONS = [
    ("eq", lambda a, b: a == b, np.equal),
    ("ne", lambda a, b: a != b, np.not_equal),
    ("lt", lambda a, b: a < b, np.less),
    ("le", lambda a, b: a <= b, np.less_equal),
    ("gt", lambda a, b: a > b, np.greater),
    ("ge", dl.ge, np.greater_equal),
]
