"""Fractional max pooling against a per-window NumPy reference (tests/reference/nn.py),
its gradient, the module forms, and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.autograd import gradcheck
from dlcore.nn import functional as F
from reference import nn as ref


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,out", [((2, 3, 11, 9), (3, 3), (5, 4)), ((1, 2, 10, 10), (2, 3), (5, 5)),
                                         ((2, 1, 6, 6), (6, 6), (1, 1)), ((1, 2, 7, 9), (2, 2), (6, 8))])
def test_2d_against_reference(shape, k, out, dtype, rng):
    x = rng.normal(size=shape).astype(dtype)
    s = rng.uniform(size=shape[:2] + (2,)).astype(dtype)
    y, idx = F.fractional_max_pool2d(dl.tensor(x), k, output_size=out, return_indices=True,
                                     _random_samples=dl.tensor(s))
    want, want_idx = ref.fractional_max_pool(x, k, out, s, dims_of_sample=(1, 0))  # width from sample 0
    np.testing.assert_array_equal(y.numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)


def test_3d_unbatched_ratio_module_and_gradient(rng):
    x = rng.normal(size=(2, 2, 7, 9, 8))
    s = rng.uniform(size=(2, 2, 3))
    y, idx = F.fractional_max_pool3d(dl.tensor(x), 2, output_size=(4, 5, 3), return_indices=True,
                                     _random_samples=dl.tensor(s))
    want, want_idx = ref.fractional_max_pool(x, (2, 2, 2), (4, 5, 3), s, dims_of_sample=(0, 1, 2))
    np.testing.assert_array_equal(y.numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    x2 = rng.normal(size=(3, 12, 12))
    s2 = rng.uniform(size=(1, 3, 2))
    pool = nn.FractionalMaxPool2d(2, output_ratio=0.5, _random_samples=dl.tensor(s2))
    want2, _ = ref.fractional_max_pool(x2[None], (2, 2), (6, 6), s2, dims_of_sample=(1, 0))
    np.testing.assert_array_equal(pool(dl.tensor(x2)).numpy(), want2[0])  # unbatched (C, H, W)
    xt = dl.tensor(rng.normal(size=(1, 2, 8, 8)), requires_grad=True)
    st = dl.tensor(rng.uniform(size=(1, 2, 2)))
    assert gradcheck(lambda a: F.fractional_max_pool2d(a, 3, output_size=4, _random_samples=st), (xt,))
    fresh = nn.FractionalMaxPool3d(2, output_size=3)(dl.randn(1, 1, 5, 5, 5))  # its own random windows
    assert fresh.shape == (1, 1, 3, 3, 3)
    assert issubclass(nn.NLLLoss2d, nn.NLLLoss)
    y, idx = F.fractional_max_pool2d(dl.randn(0, 2, 6, 6), 2, output_size=3, return_indices=True)
    assert y.shape == (0, 2, 3, 3) and idx.shape == (0, 2, 3, 3)  # an empty batch


def test_errors():
    x = dl.randn(1, 1, 6, 6)
    with pytest.raises(ValueError, match="exactly one of output_size and output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(ValueError, match="output_ratio must be a number in"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="output size 5 with kernel 3 does not fit input size 6"):
        F.fractional_max_pool2d(x, 3, output_size=5)
    with pytest.raises(ValueError, match=r"_random_samples must have shape \(1, 1, 2\)"):
        F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=dl.rand(1, 1, 3))
    with pytest.raises(ValueError, match="expected a 3-D or 4-D input"):
        F.fractional_max_pool2d(dl.randn(6, 6), 2, output_size=3)
