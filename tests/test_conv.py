"""conv2d / conv1d and the Conv layers against the NumPy reference in tests/reference/conv.py:
stride, padding (ints, pairs, 'same', 'valid', every padding mode), dilation, groups
(depthwise included), odd sizes, batch 1, channel 1, non-contiguous inputs, float32 and
float64, every ISA and thread count; gradients by float64 finite differences; bad inputs."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn import functional as F
from reference import conv as ref

CASES = [
    # x shape, w shape, stride, padding, dilation, groups
    ((2, 3, 7, 6), (4, 3, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((1, 1, 5, 5), (1, 1, 2, 2), (1, 1), (1, 1), (1, 1), 1),
    ((2, 4, 9, 8), (6, 2, 3, 2), (2, 3), (1, 2), (2, 1), 2),
    ((3, 6, 8, 8), (6, 1, 3, 3), (1, 1), (1, 1), (1, 1), 6),  # depthwise
    ((2, 5, 6, 7), (3, 5, 1, 1), (1, 1), (0, 0), (1, 1), 1),  # 1x1: the direct path
    ((2, 4, 6, 7), (8, 4, 1, 1), (2, 2), (0, 0), (1, 1), 1),  # 1x1 strided: patches
    ((1, 2, 11, 4), (2, 2, 5, 3), (3, 1), (2, 0), (1, 1), 1),
    ((2, 3, 9, 8), (6, 1, 3, 3), (2, 2), (1, 2), (2, 1), 3),  # depthwise, multiplier 2, strided, dilated
    ((2, 4, 5, 37), (4, 1, 3, 5), (1, 1), (1, 2), (1, 1), 4),  # depthwise rows longer than a vector
    ((1, 3, 6, 7), (3, 1, 2, 3), (1, 1), (2, 3), (1, 1), 3),  # depthwise, padding beyond the kernel
    ((2, 2, 7, 19), (4, 1, 3, 3), (1, 1), (0, 0), (2, 1), 2),  # depthwise, no padding, multiplier 2
]
IDS = [f"case{i}" for i in range(len(CASES))]


def rnd(shape, rng):
    return rng.uniform(-1, 1, size=shape)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [dl.float32, dl.float64], ids=["f32", "f64"])
def test_conv2d_forward(case, dtype, rng):
    xs, ws, stride, padding, dilation, groups = case
    x, w, b = rnd(xs, rng), rnd(ws, rng), rnd(ws[0], rng)
    got = F.conv2d(dl.tensor(x).to(dtype), dl.tensor(w).to(dtype), dl.tensor(b).to(dtype), stride, padding,
                   dilation, groups)
    want = ref.conv2d(x, w, b, stride, padding, dilation, groups)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == dl.float64 else dict(rtol=1e-5, atol=1e-5)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), want, **tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_gradcheck(case, rng):
    xs, ws, stride, padding, dilation, groups = case
    ts = [dl.tensor(rnd(s, rng), requires_grad=True) for s in (xs, ws, (ws[0],))]
    assert dl.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), ts)


def test_conv2d_gradients_against_reference_large_batch(rng):
    """A batch whose patches exceed one weight-gradient chunk: dw sums chunks in order."""
    x, w = rnd((40, 16, 20, 20), rng), rnd((8, 16, 3, 3), rng)
    tx, tw = dl.tensor(x, requires_grad=True), dl.tensor(w, requires_grad=True)
    tb = dl.zeros(8, dtype=dl.float64, requires_grad=True)
    g = rnd((40, 8, 20, 20), rng)
    F.conv2d(tx, tw, tb, padding=1).backward(dl.tensor(g))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dw = np.zeros_like(w)
    for i in range(3):
        for j in range(3):
            dw[:, :, i, j] = np.einsum("nohw,nchw->oc", g, xp[:, :, i:i + 20, j:j + 20])
    np.testing.assert_allclose(tw.grad.numpy(), dw, rtol=1e-10)
    np.testing.assert_allclose(tb.grad.numpy(), g.sum((0, 2, 3)), rtol=1e-10)
    # dx is the convolution of g with the flipped, transposed kernel.
    dx = ref.conv2d(g, np.flip(w, (2, 3)).transpose(1, 0, 2, 3), padding=(1, 1))
    np.testing.assert_allclose(tx.grad.numpy(), dx, rtol=1e-10, atol=1e-12)


WIDE_CASES = [
    # x shape, w shape, stride, padding, dilation, groups: layers with 16 or more input
    # channels per group, whose input gradient at stride 1 is a convolution of dy by the
    # flipped kernel, and whose patches the GEMM gathers from a bordered copy or in place.
    ((2, 16, 9, 11), (16, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((2, 16, 6, 37), (5, 16, 3, 3), (1, 1), (0, 0), (1, 1), 1),  # rows longer than a sliver
    ((1, 16, 5, 4), (3, 16, 3, 3), (1, 1), (3, 2), (1, 1), 1),  # padding beyond the kernel
    ((2, 17, 8, 9), (4, 17, 3, 2), (1, 1), (2, 1), (2, 3), 1),  # dilated
    ((2, 32, 7, 6), (8, 16, 3, 3), (1, 1), (1, 1), (1, 1), 2),  # grouped
    ((2, 16, 9, 10), (6, 16, 3, 3), (2, 1), (1, 1), (1, 1), 1),  # strided rows: no flipped dx
    ((2, 16, 9, 10), (6, 16, 3, 3), (1, 2), (1, 1), (1, 1), 1),  # strided columns
    ((2, 16, 6, 3), (4, 16, 2, 3), (1, 1), (0, 0), (1, 1), 1),  # one output column
    ((2, 16, 7, 32), (20, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # rows of whole vectors: B read in place
    ((1, 48, 6, 18), (5, 48, 3, 3), (1, 1), (0, 1), (1, 2), 1),  # the same, K over one k block
]


def check_gradients(case, rng, dtype, tol, bias=False, msg=""):
    """Runs conv2d forward and backward on random data for one case and compares the
    output and both gradients with the NumPy references."""
    xs, ws, stride, padding, dilation, groups = case
    x, w = rnd(xs, rng), rnd(ws, rng)
    b = rnd(ws[0], rng) if bias else None
    want = ref.conv2d(x, w, b, stride, padding, dilation, groups)
    gy = rnd(want.shape, rng)
    dx, dw = ref.conv2d_grads(x, w, gy, stride, padding, dilation, groups)
    tx, tw = (dl.tensor(a).to(dtype).requires_grad_() for a in (x, w))
    tb = None if b is None else dl.tensor(b).to(dtype)
    y = F.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    y.backward(dl.tensor(gy).to(dtype))
    for got, expected in ((y.detach(), want), (tx.grad, dx), (tw.grad, dw)):
        np.testing.assert_allclose(got.numpy(), expected, rtol=tol, atol=tol, err_msg=msg)


@pytest.mark.parametrize("case", WIDE_CASES, ids=[f"case{i}" for i in range(len(WIDE_CASES))])
def test_wide_layer_gradients_against_reference(case, threads, rng):
    for t in (1, 2):
        dl.set_num_threads(t)
        check_gradients(case, rng, dl.float64, 1e-12, bias=True, msg=f"threads={t}")


@pytest.mark.parametrize("case", [WIDE_CASES[i] for i in (1, 2, 3, 6, 8, 9)],
                         ids=["long", "pad", "dilated", "strided", "in_place", "in_place_deep"])
def test_wide_layers_on_every_isa(case, isa, rng):
    check_gradients(case, rng, dl.float32, 1e-4, msg=isa)


FLAT_CASES = [
    # x shape, w shape, stride, padding, dilation, groups: stride 1, no padding, output
    # rows shorter than 16 and at least half the input's width: the patches run on over
    # whole input rows (ops/conv.cpp, flat_rows), the junk columns dropped or zeroed.
    ((7, 6, 14, 14), (16, 6, 5, 5), (1, 1), (0, 0), (1, 1), 1),  # LeNet's second layer; dw in chunks
    ((2, 8, 9, 11), (6, 4, 3, 3), (1, 1), (0, 0), (1, 1), 2),  # grouped
    ((2, 5, 10, 12), (7, 5, 3, 2), (1, 1), (0, 0), (2, 3), 1),  # dilated, kernel not square
    ((2, 16, 8, 8), (4, 16, 3, 3), (1, 1), (0, 0), (1, 1), 1),  # dx by the flipped kernel instead
    ((1, 4, 7, 9), (100, 4, 3, 3), (1, 1), (0, 0), (1, 1), 1),  # over 96 outputs: B packed, not read in place
]


@pytest.mark.parametrize("case", FLAT_CASES, ids=[f"case{i}" for i in range(len(FLAT_CASES))])
def test_flat_row_layers_against_reference(case, threads, rng):
    for t in (1, 2):
        dl.set_num_threads(t)
        check_gradients(case, rng, dl.float64, 1e-12, bias=True, msg=f"threads={t}")


@pytest.mark.parametrize("case", FLAT_CASES, ids=[f"case{i}" for i in range(len(FLAT_CASES))])
def test_flat_row_layers_on_every_isa(case, isa, rng):
    check_gradients(case, rng, dl.float32, 1e-4, bias=True, msg=isa)


def test_flat_rows_keep_nonfinite_inputs_where_they_belong(rng):
    """A NaN in the input reaches only the outputs and weight gradients whose patches
    hold it, although the flat rows read it again in their junk columns."""
    x, w = rnd((1, 4, 9, 11), rng), rnd((3, 4, 3, 3), rng)
    x[0, 1, 4, 0] = np.nan  # read by the junk columns of row 3 of the output
    tx, tw = dl.tensor(x, requires_grad=True), dl.tensor(w, requires_grad=True)
    y = F.conv2d(tx, tw)
    gy = rnd(tuple(y.shape), rng)
    y.backward(dl.tensor(gy))
    want = ref.conv2d(x, w)
    dx, dw = ref.conv2d_grads(x, w, gy)
    for got, expected in ((y.detach(), want), (tx.grad, dx), (tw.grad, dw)):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


WINOGRAD_CASES = [
    # 3x3 layers at stride 1 with 32 or more channels on both sides and at least 512 tiles
    # of 2x2 outputs in the batch run as Winograd F(2x2, 3x3) products: forward, the input
    # gradient (the flipped convolution) and the weight gradient; from 16 channels the
    # weight gradient alone. Odd output sizes leave half-filled tiles.
    ((11, 32, 13, 13), (32, 32, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # chunks cut samples, 7 chunks
    ((26, 40, 9, 12), (33, 40, 3, 3), (1, 1), (0, 0), (1, 1), 1),  # channel counts off the vectors
    ((32, 32, 5, 7), (48, 32, 3, 3), (1, 1), (2, 1), (1, 1), 1),  # dx's padding 0 and 1
    ((128, 32, 4, 3), (32, 32, 3, 3), (1, 1), (3, 2), (1, 1), 1),  # dx's padding -1 (crops dy)
    ((512, 36, 1, 1), (32, 36, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # a single output
    ((26, 16, 10, 7), (24, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # the weight gradient alone
]


@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=[f"case{i}" for i in range(len(WINOGRAD_CASES))])
def test_winograd_layers_against_reference(case, threads, rng):
    for t in (1, 2):
        dl.set_num_threads(t)
        check_gradients(case, rng, dl.float64, 1e-12, bias=True, msg=f"threads={t}")


@pytest.mark.parametrize("case", [WINOGRAD_CASES[i] for i in (0, 1, 5)], ids=["chunks", "tails", "weight"])
def test_winograd_layers_on_every_isa(case, isa, rng):
    check_gradients(case, rng, dl.float32, 1e-4, bias=True, msg=isa)


def test_winograd_same_bits_for_any_thread_count(threads, rng):
    x, w = rnd((11, 32, 13, 13), rng).astype(np.float32), rnd((32, 32, 3, 3), rng).astype(np.float32)
    results = []
    for t in (1, 2, 3):
        dl.set_num_threads(t)
        tx, tw = dl.tensor(x, requires_grad=True), dl.tensor(w, requires_grad=True)
        y = F.conv2d(tx, tw, padding=1)
        (y * y).sum().backward()
        results.append([a.numpy().copy() for a in (y.detach(), tx.grad, tw.grad)])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_winograd_transposed_convolution(rng):
    # conv_transpose2d at stride 1 runs its forward pass as the input gradient of a
    # convolution, so 3x3 ones with 32 channels take the Winograd path too.
    x, w, b = rnd((48, 32, 6, 7), rng), rnd((32, 40, 3, 3), rng), rnd(40, rng)
    want = ref.conv_transpose2d(x, w, b, padding=(1, 1))
    got = F.conv_transpose2d(dl.tensor(x), dl.tensor(w), dl.tensor(b), padding=1)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


PLANE_CASES = [
    # Few input channels at stride 1 along rows (and depthwise layers) run as plane
    # kernels; the weight gradient has a path per kernel width up to 7 (bordered by the
    # padding) and a general one.
    ((2, 1, 12, 28), (6, 1, 5, 5), (1, 1), (2, 2), (1, 1), 1),
    ((2, 3, 9, 20), (4, 3, 7, 7), (1, 1), (3, 3), (1, 1), 1),
    ((2, 2, 8, 19), (4, 2, 3, 4), (2, 1), (1, 2), (1, 1), 1),
    ((2, 2, 8, 21), (3, 2, 2, 6), (1, 1), (1, 2), (1, 2), 1),  # width 6: the general path
    ((2, 4, 9, 33), (8, 1, 3, 1), (1, 1), (1, 0), (2, 1), 4),  # depthwise 3x1, dilated rows
]


@pytest.mark.parametrize("case", PLANE_CASES, ids=[f"case{i}" for i in range(len(PLANE_CASES))])
def test_plane_kernel_gradients_against_reference(case, isa, rng):
    for dtype, tol in ((dl.float64, 1e-12), (dl.float32, 1e-4)):
        check_gradients(case, rng, dtype, tol, msg=isa)


def test_noncontiguous_input_and_weight(rng):
    x, w = rnd((2, 3, 6, 10), rng), rnd((4, 3, 3, 3), rng)
    tx = dl.tensor(np.repeat(x, 2, axis=-1))[..., ::2]
    tw = dl.tensor(w.transpose(1, 0, 2, 3).copy()).transpose(0, 1)
    assert not tx.is_contiguous() and not tw.is_contiguous()
    np.testing.assert_allclose(F.conv2d(tx, tw, padding=1).numpy(), ref.conv2d(x, w, padding=(1, 1)), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 5])
def test_same_bits_for_any_thread_count(n, threads, rng):
    x, w = rnd((n, 8, 12, 12), rng).astype(np.float32), rnd((16, 8, 3, 3), rng).astype(np.float32)
    results = []
    for t in (1, 2):
        dl.set_num_threads(t)
        tx, tw = dl.tensor(x, requires_grad=True), dl.tensor(w, requires_grad=True)
        y = F.conv2d(tx, tw, padding=1, stride=(1, 2))
        (y * y).sum().backward()
        results.append([y.detach().numpy().copy(), tx.grad.numpy().copy(), tw.grad.numpy().copy()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("wshape,groups", [((10, 3, 3, 3), 2), ((6, 1, 3, 3), 6)], ids=["grouped", "depthwise"])
def test_every_isa(wshape, groups, isa, rng):
    x, w, b = rnd((3, 6, 9, 19), rng), rnd(wshape, rng), rnd(wshape[0], rng)
    tx, tw = dl.tensor(x).float().requires_grad_(), dl.tensor(w).float().requires_grad_()
    y = F.conv2d(tx, tw, dl.tensor(b).float(), 1, 2, 2, groups)
    np.testing.assert_allclose(y.detach().numpy(), ref.conv2d(x, w, b, (1, 1), (2, 2), (2, 2), groups), rtol=1e-5,
                               atol=1e-5, err_msg=isa)
    y.sum().backward()
    xd, wd = dl.tensor(x, requires_grad=True), dl.tensor(w, requires_grad=True)
    F.conv2d(xd, wd, None, 1, 2, 2, groups).sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), xd.grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=isa)
    np.testing.assert_allclose(tw.grad.numpy(), wd.grad.numpy(), rtol=1e-5, atol=1e-4, err_msg=isa)


@pytest.mark.parametrize("k,d", [(3, 1), (4, 1), (3, 2), (2, 3)])
def test_same_and_valid_padding(k, d, rng):
    x, w = rnd((2, 3, 7, 8), rng), rnd((5, 3, k, k), rng)
    y = F.conv2d(dl.tensor(x), dl.tensor(w), padding="same", dilation=d)
    assert y.shape == (2, 5, 7, 8)
    total = d * (k - 1)
    xp = np.pad(x, ((0, 0), (0, 0), (total // 2, total - total // 2), (total // 2, total - total // 2)))
    np.testing.assert_allclose(y.numpy(), ref.conv2d(xp, w, dilation=(d, d)), rtol=1e-12)
    np.testing.assert_allclose(F.conv2d(dl.tensor(x), dl.tensor(w), padding="valid", dilation=d).numpy(),
                               ref.conv2d(x, w, dilation=(d, d)), rtol=1e-12)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_layer_padding_modes(mode, rng):
    dl.manual_seed(0)
    layer = nn.Conv2d(3, 4, (3, 2), padding=(2, 1), padding_mode=mode).double()
    x = rnd((2, 3, 6, 5), rng)
    pads = (1, 1, 2, 2)
    xp = ref.pad(x, pads, "constant" if mode == "zeros" else mode)
    want = ref.conv2d(xp, layer.weight.detach().numpy(), layer.bias.detach().numpy())
    np.testing.assert_allclose(layer(dl.tensor(x)).detach().numpy(), want, rtol=1e-12)
    assert dl.autograd.gradcheck(lambda t: layer(t), [dl.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode, rng):
    x = rnd((2, 3, 4, 5), rng)
    pads = (2, 1, 0, 3)
    got = F.pad(dl.tensor(x), pads, mode, *([1.5] if mode == "constant" else []))
    np.testing.assert_allclose(got.numpy(), ref.pad(x, pads, mode, 1.5), rtol=1e-15)
    assert dl.autograd.gradcheck(lambda t: F.pad(t, pads, mode), [dl.tensor(x, requires_grad=True)])
    with pytest.raises(ValueError, match="even length"):
        F.pad(dl.tensor(x), (1, 2, 3))
    np.testing.assert_array_equal(F.pad(dl.tensor(x), (-1, 1)).numpy(), ref.pad(x[..., 1:], (0, 1)))
    with pytest.raises(ValueError, match="smaller than the dim's size"):
        F.pad(dl.tensor(x), (5, 0), "reflect")


def test_conv1d_and_layer(rng):
    x, w, b = rnd((2, 4, 13), rng), rnd((6, 2, 3), rng), rnd(6, rng)
    got = F.conv1d(dl.tensor(x), dl.tensor(w), dl.tensor(b), stride=2, padding=1, dilation=2, groups=2)
    np.testing.assert_allclose(got.numpy(), ref.conv1d(x, w, b, 2, 1, 2, 2), rtol=1e-12)
    ts = [dl.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert dl.autograd.gradcheck(lambda x, w, b: F.conv1d(x, w, b, 2, 1, 2, 2), ts)
    layer = nn.Conv1d(4, 3, 5, padding="same", padding_mode="reflect")
    assert layer.weight.shape == (3, 4, 5) and layer(dl.randn(1, 4, 9)).shape == (1, 3, 9)


def test_conv_layer_init_and_summary():
    dl.manual_seed(0)
    layer = nn.Conv2d(6, 12, 5, groups=3)
    bound = 1 / np.sqrt(2 * 25)
    w = layer.weight.detach().numpy()
    assert w.shape == (12, 2, 5, 5) and np.abs(w).max() <= bound and w.std() > bound / 3
    totals = nn.summary(nn.Sequential(layer), (2, 6, 9, 9), print_fn=lambda s: None)
    assert totals["flops"] == 2 * 12 * 5 * 5 * (2 * 2 * 25 + 1)


def test_bad_inputs():
    x, w = dl.ones(2, 4, 5, 5), dl.ones(6, 4, 3, 3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\), got \(5, 5\)"):
        F.conv2d(dl.ones(5, 5), w)
    with pytest.raises(ValueError, match=r"expects 8 input channels \(groups=2\)"):
        F.conv2d(x, w, groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        F.conv2d(x, dl.ones(6, 4, 3, 3), groups=4)
    with pytest.raises(ValueError, match="smaller than the"):
        F.conv2d(x, dl.ones(6, 4, 7, 7))
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        F.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(TypeError, match="one dtype"):
        F.conv2d(x, w.double())
    with pytest.raises(ValueError, match=r"bias must have shape \(6\)"):
        F.conv2d(x, w, dl.ones(5))
    with pytest.raises(ValueError, match="stride and dilation must be positive"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(4, 6, 3, padding_mode="mirror")
    with pytest.raises(RuntimeError, match="create_graph"):
        tx = dl.ones(1, 4, 5, 5, requires_grad=True)
        (g,) = dl.autograd.grad(F.conv2d(tx, w).sum(), [tx], create_graph=True)


TRANSPOSE_CASES = [((2, 4, 3, 5), (4, 3, 3, 2), (2, 2), (1, 1), (1, 1), 2, (1, 2)),
                   ((1, 2, 4, 4), (2, 5, 2, 2), (2, 2), (0, 0), (0, 0), 1, (1, 1)),
                   ((2, 3, 5, 4), (3, 2, 3, 3), (1, 2), (1, 0), (0, 1), 1, (2, 1)),
                   ((2, 4, 5, 6), (4, 1, 3, 3), (1, 1), (1, 1), (0, 0), 4, (1, 1)),  # depthwise: plane kernels
                   ((1, 6, 4, 5), (6, 1, 3, 2), (2, 2), (1, 0), (1, 1), 6, (1, 1))]  # depthwise, strided


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[f"case{i}" for i in range(len(TRANSPOSE_CASES))])
def test_conv_transpose2d(case, rng):
    xs, ws, stride, padding, out_pad, groups, dilation = case
    x, w, b = rnd(xs, rng), rnd(ws, rng), rnd(ws[1] * groups, rng)
    got = F.conv_transpose2d(dl.tensor(x), dl.tensor(w), dl.tensor(b), stride, padding, out_pad, groups, dilation)
    np.testing.assert_allclose(got.numpy(), ref.conv_transpose2d(x, w, b, stride, padding, out_pad, groups, dilation),
                               rtol=1e-12, atol=1e-12)
    ts = [dl.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert dl.autograd.gradcheck(
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, out_pad, groups, dilation), ts)


def test_conv_transpose_layers(rng):
    dl.manual_seed(0)
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
    assert up.weight.shape == (4, 6, 3, 3) and up(dl.randn(1, 4, 5, 5)).shape == (1, 6, 10, 10)
    bound = 1 / np.sqrt(6 * 9)
    assert np.abs(up.weight.detach().numpy()).max() <= bound
    x, w = rnd((2, 3, 7), rng), rnd((3, 2, 4), rng)
    got = F.conv_transpose1d(dl.tensor(x), dl.tensor(w), stride=3, padding=1, output_padding=2)
    want = ref.conv_transpose2d(x[:, :, None], w[:, :, None], None, (1, 3), (0, 1), (0, 2))[:, :, 0]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    assert nn.ConvTranspose1d(3, 2, 4, stride=3)(dl.randn(2, 3, 7)).shape == (2, 2, 22)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(dl.ones(1, 4, 3, 3), dl.ones(4, 2, 3, 3), stride=1, output_padding=1)
    with pytest.raises(ValueError, match="expects 4 input channels"):
        F.conv_transpose2d(dl.ones(1, 3, 3, 3), dl.ones(4, 2, 3, 3))


def test_unbatched_convolutions(rng):
    x, w = rnd((3, 6, 6), rng), rnd((2, 3, 3, 3), rng)
    np.testing.assert_allclose(F.conv2d(dl.tensor(x), dl.tensor(w), padding=1).numpy(),
                               ref.conv2d(x[None], w, padding=(1, 1))[0], rtol=1e-12)
    assert nn.Conv1d(3, 4, 3)(dl.randn(3, 10)).shape == (4, 8)
