"""3-D convolution and pooling (nn/volumetric.py) against plain NumPy loops over whole 3-D
windows (tests/reference/conv.py), float64 finite-difference gradients, the layers, and
the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.autograd import gradcheck
from dlcore.nn import functional as F
from reference import conv as ref


def t(a, grad=False, dtype=np.float64):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def check(got, want, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=rtol, atol=atol)


CONV_CASES = [  # (C, O, kernel, stride, padding, dilation, groups)
    (3, 4, (3, 3, 3), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1),
    (4, 6, (2, 3, 1), (2, 1, 2), (1, 1, 0), (1, 1, 1), 2),
    (2, 3, (3, 2, 2), (1, 2, 1), (2, 0, 1), (2, 1, 2), 1),
    (4, 4, (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 4),
]


@pytest.mark.parametrize("c,o,k,s,p,d,g", CONV_CASES)
def test_conv3d_against_numpy(rng, c, o, k, s, p, d, g):
    x = rng.normal(size=(2, c, 6, 7, 5))
    w = rng.normal(size=(o, c // g) + k)
    b = rng.normal(size=o)
    check(F.conv3d(t(x), t(w), t(b), s, p, d, g), ref.conv3d(x, w, b, s, p, d, g))
    check(F.conv3d(t(x[0]), t(w), None, s, p, d, g), ref.conv3d(x[:1], w, None, s, p, d, g)[0])
    check(dl.conv3d(t(x), t(w), t(b), s, p, d, g), ref.conv3d(x, w, b, s, p, d, g))


def test_conv3d_gradients(rng):
    x = rng.normal(size=(1, 2, 4, 4, 3))
    w = rng.normal(size=(4, 1, 2, 2, 2))
    b = rng.normal(size=4)
    assert gradcheck(lambda a, k, c: F.conv3d(a, k, c, (1, 2, 1), 1, (1, 1, 2), 2),
                     (t(x, True), t(w, True), t(b, True)))


def test_conv3d_layer_and_padding_modes(rng):
    m = nn.Conv3d(2, 3, 3, padding="same", bias=False).double()
    assert m.weight.shape == (3, 2, 3, 3, 3) and m.bias is None
    x = rng.normal(size=(1, 2, 4, 5, 6))
    check(m(t(x)), ref.conv3d(x, m.weight.detach().numpy(), None, padding=(1, 1, 1)))
    r = nn.Conv3d(2, 3, (1, 3, 3), padding=(0, 1, 1), padding_mode="reflect").double()
    xp = np.pad(x, ((0, 0), (0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    check(r(t(x)), ref.conv3d(xp, r.weight.detach().numpy(), r.bias.detach().numpy()))
    bound = 1 / np.sqrt(2 * 27)
    w = nn.Conv3d(2, 8, 3).weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > bound / 2  # PyTorch's default init bound
    assert "Conv3d(2, 3, kernel_size=(3, 3, 3)" in repr(m)


def test_conv3d_errors(rng):
    x = t(rng.normal(size=(1, 3, 4, 4, 4)))
    with pytest.raises(ValueError, match=r"conv3d: the input has 3 channels, the weight \(2, 2, 1, 1, 1\) "
                                         r"expects 2 \(2 per group x 1 groups\)"):
        F.conv3d(x, t(np.ones((2, 2, 1, 1, 1))))
    with pytest.raises(ValueError, match=r"conv3d: the input's depth 4 \(padded to 4\) is smaller than the kernel's "
                                         r"extent 5"):
        F.conv3d(x, t(np.ones((2, 3, 5, 1, 1))))
    with pytest.raises(ValueError, match=r"conv3d: expected a 4-D or 5-D input, got shape \(3, 4, 4\)"):
        F.conv3d(t(np.ones((3, 4, 4))), t(np.ones((2, 3, 1, 1, 1))))


TRANSPOSE_CASES = [  # (Cin, Cout, kernel, stride, padding, output_padding, groups, dilation)
    (4, 6, (3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 1, 1), 2, (1, 1, 1)),
    (2, 3, (2, 3, 1), (1, 2, 3), (0, 1, 0), (0, 1, 2), 1, (2, 1, 1)),
    (3, 3, (3, 2, 2), (3, 1, 2), (2, 0, 1), (2, 0, 1), 3, (1, 2, 1)),
]


@pytest.mark.parametrize("cin,cout,k,s,p,op,g,d", TRANSPOSE_CASES)
def test_conv_transpose3d_against_numpy(rng, cin, cout, k, s, p, op, g, d):
    x = rng.normal(size=(2, cin, 3, 4, 3))
    w = rng.normal(size=(cin, cout // g) + k)
    b = rng.normal(size=cout)
    want = ref.conv_transpose3d(x, w, b, s, p, op, g, d)
    check(F.conv_transpose3d(t(x), t(w), t(b), s, p, op, g, d), want)
    check(F.conv_transpose3d(t(x[0]), t(w), t(b), s, p, op, g, d), want[0])
    layer = nn.ConvTranspose3d(cin, cout, k, s, p, op, g, dilation=d).double()
    assert layer.weight.shape == (cin, cout // g) + k
    check(layer(t(x)), ref.conv_transpose3d(x, layer.weight.detach().numpy(), layer.bias.detach().numpy(), s, p,
                                            op, g, d))


def test_conv_transpose3d_gradients_and_errors(rng):
    x, w, b = rng.normal(size=(1, 2, 2, 3, 2)), rng.normal(size=(2, 2, 2, 2, 3)), rng.normal(size=2)
    assert gradcheck(lambda a, k, c: F.conv_transpose3d(a, k, c, (2, 1, 2), (1, 0, 1), (1, 0, 0)),
                     (t(x, True), t(w, True), t(b, True)))
    with pytest.raises(ValueError, match=r"conv_transpose3d: output_padding \(2, 0, 0\) must be smaller than "
                                         r"stride or dilation"):
        F.conv_transpose3d(t(x), t(w), None, 2, 0, (2, 0, 0))
    with pytest.raises(ValueError, match=r"conv_transpose3d: the input has 2 channels, the weight \(3, 2, 2, 2, 3\)"):
        F.conv_transpose3d(t(x), t(np.ones((3, 2, 2, 2, 3))))


POOL_CASES = [  # (kernel, stride, padding, dilation, ceil_mode)
    ((2, 2, 2), None, (0, 0, 0), (1, 1, 1), False),
    ((3, 2, 3), (2, 1, 2), (1, 1, 1), (1, 1, 1), True),
    ((2, 3, 2), (1, 2, 3), (0, 1, 1), (2, 1, 1), False),
    ((3, 3, 3), (2, 2, 2), (1, 0, 1), (1, 1, 1), True),
]


@pytest.mark.parametrize("k,s,p,d,ceil", POOL_CASES)
def test_max_pool3d_against_numpy(rng, k, s, p, d, ceil):
    x = rng.normal(size=(2, 3, 6, 7, 8))
    x[0, 0, :2, :2, :2] = 5.0  # ties: the first in (depth, row, column) order
    y, idx = F.max_pool3d(t(x), k, s, p, d, ceil, return_indices=True)
    want, want_idx = ref.max_pool3d(x, k, s or k, p, d, ceil)
    check(y, want, rtol=0, atol=0)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    m = nn.MaxPool3d(k, s, p, d, ceil_mode=ceil)
    check(m(t(x[0])), want[0], rtol=0, atol=0)


def test_max_pool3d_gradient_goes_to_the_maxima(rng):
    x = rng.normal(size=(1, 2, 4, 5, 4))
    assert gradcheck(lambda a: F.max_pool3d(a, (2, 3, 2), (2, 1, 2), (1, 1, 0)), (t(x, True),))
    g = t(x, True)
    F.max_pool3d(g, 2).sum().backward()
    _, idx = ref.max_pool3d(x, (2, 2, 2), (2, 2, 2))
    want = np.zeros(x.size)
    for flat_plane, plane_idx in zip(range(2), idx[0]):
        np.add.at(want, flat_plane * 80 + plane_idx.ravel(), 1.0)
    check(g.grad, want.reshape(x.shape), rtol=0, atol=0)


@pytest.mark.parametrize("k,s,p,d,ceil", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool3d_against_numpy(rng, k, s, p, d, ceil, count_include_pad):
    x = rng.normal(size=(2, 3, 6, 7, 8))
    want = ref.avg_pool3d(x, k, s or k, p, ceil, count_include_pad)
    check(F.avg_pool3d(t(x), k, s, p, ceil, count_include_pad), want)
    check(nn.AvgPool3d(k, s, p, ceil, count_include_pad)(t(x)), want)
    check(F.avg_pool3d(t(x), k, s, p, ceil, count_include_pad, divisor_override=5),
          ref.avg_pool3d(x, k, s or k, p, ceil, count_include_pad, divisor_override=5))


def test_avg_pool3d_gradient(rng):
    x = rng.normal(size=(1, 2, 5, 4, 4))
    assert gradcheck(lambda a: F.avg_pool3d(a, 3, 2, 1, True, False), (t(x, True),))


@pytest.mark.parametrize("size", [(1, 1, 1), (2, 3, 4), (4, 5, 3), (3, None, 2)])
def test_adaptive_pools3d_against_numpy(rng, size):
    x = rng.normal(size=(2, 3, 5, 6, 7))
    full = tuple(x.shape[2 + i] if v is None else v for i, v in enumerate(size))
    check(F.adaptive_avg_pool3d(t(x), size), ref.adaptive_pool3d(x, full, np.mean))
    check(nn.AdaptiveAvgPool3d(size)(t(x)), ref.adaptive_pool3d(x, full, np.mean))
    check(F.adaptive_max_pool3d(t(x), size), ref.adaptive_pool3d(x, full, np.max), rtol=0, atol=0)
    y, idx = nn.AdaptiveMaxPool3d(size, return_indices=True)(t(x))
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2).reshape(y.shape),
                                  y.numpy())
    assert gradcheck(lambda a: F.adaptive_avg_pool3d(a, (2, 2, 3)), (t(x[:1, :1], True),))
    assert gradcheck(lambda a: F.adaptive_max_pool3d(a, (2, 2, 3)), (t(x[:1, :1], True),))


def test_pool3d_errors():
    x = t(np.zeros((1, 1, 4, 4, 4)))
    with pytest.raises(ValueError, match=r"max_pool3d: expected a 4-D \(C, D, H, W\) or 5-D \(N, C, D, H, W\) "
                                         r"input, got shape \(4, 4\)"):
        F.max_pool3d(t(np.zeros((4, 4))), 2)
    with pytest.raises(ValueError, match="max_pool3d: padding should be at most half of the"):
        F.max_pool3d(x, 2, padding=2)
    with pytest.raises(ValueError, match="avg_pool3d: divisor_override must be positive, got -1"):
        F.avg_pool3d(x, 2, divisor_override=-1)
    with pytest.raises(ValueError, match="adaptive_avg_pool3d: output_size must be an int or a tuple of 3"):
        F.adaptive_avg_pool3d(x, (2, 2))
