"""Property tests over generated shapes: broadcasting and reductions agree with NumPy."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dlcore as dl


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4), st.integers(0, 2**32 - 1))
def test_broadcasting_binary_ops(shapes, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shapes.input_shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes.input_shapes[1]).astype(np.float32)
    ta, tb = dl.tensor(a), dl.tensor(b)
    for got, want in [(ta + tb, a + b), (ta * tb, a * b), (dl.maximum(ta, tb), np.maximum(a, b)), (ta > tb, a > b)]:
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5), st.data())
def test_reductions_over_any_dims(shape, data):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    keepdim = data.draw(st.booleans())
    seed = data.draw(st.integers(0, 2**32 - 1))
    a = np.random.default_rng(seed).standard_normal(shape)
    t = dl.tensor(a)
    axis = tuple(dims)
    np.testing.assert_allclose(t.sum(dims, keepdim).numpy(), a.sum(axis, keepdims=keepdim), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.mean(dims, keepdim).numpy(), a.mean(axis, keepdims=keepdim), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(t.amax(dims, keepdim).numpy(), a.max(axis, keepdims=keepdim))
    np.testing.assert_array_equal(t.amin(dims, keepdim).numpy(), a.min(axis, keepdims=keepdim))
    d0 = dims[0]
    np.testing.assert_array_equal(t.argmax(d0, keepdim).numpy(),
                                  np.argmax(a, d0, keepdims=keepdim) if keepdim else np.argmax(a, d0))
    if a.shape[d0 % ndim] > 1:
        np.testing.assert_allclose(t.var(d0).numpy(), a.var(d0, ddof=1), rtol=1e-10, atol=1e-12)


@given(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5), st.integers(0, 2**32 - 1))
def test_sum_of_transposed_views(shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    t = dl.tensor(a).transpose(0, -1)
    np.testing.assert_allclose(t.sum(-1).numpy(), np.swapaxes(a, 0, -1).sum(-1), rtol=1e-5, atol=1e-5)
