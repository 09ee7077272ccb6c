"""Sorting (ops/sort.cpp): sort, argsort and topk against a plain reference (tests/reference/
ops.sort: each line sorted by (value, position), NaN above every number), their indices,
ties, NaN, every dtype, strided inputs, thread counts and bad arguments. Their values'
gradients are gradchecked in op_specs.py."""
import math

import numpy as np
import pytest

import dlcore as dl
from reference import ops as ref


@pytest.mark.parametrize("shape,dim", [((7,), 0), ((4, 9), 1), ((4, 9), 0), ((3, 5, 6), 1),
                                       ((2, 3, 70), -1), ((1, 1), 0), ((0, 4), 1), ((3, 0), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_and_indices_match_the_reference(shape, dim, descending, rng):
    # Few distinct values, so every line has ties: the order must be the stable one.
    x = rng.integers(-3, 4, shape).astype(np.float32)
    values, indices = dl.sort(dl.tensor(x), dim, descending)
    want_v, want_i = ref.sort(x, dim, descending)
    assert values.dtype == dl.float32 and indices.dtype == dl.int64
    np.testing.assert_array_equal(values.numpy(), want_v)
    np.testing.assert_array_equal(indices.numpy(), want_i)
    np.testing.assert_array_equal(dl.argsort(dl.tensor(x), dim, descending).numpy(), want_i)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_puts_nan_above_every_number(descending):
    x = np.array([[1.0, math.nan, -math.inf, 2.0, math.nan, math.inf, -0.5]])
    values, indices = dl.tensor(x).sort(descending=descending)
    want_v, want_i = ref.sort(x, 1, descending)
    np.testing.assert_array_equal(values.numpy(), want_v)  # NaN compares equal here
    np.testing.assert_array_equal(indices.numpy(), want_i)
    assert list(want_i[0, :2]) == ([1, 4] if descending else [2, 6])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float64, np.bool_])
def test_sort_every_dtype(dtype, rng):
    x = (rng.integers(0, 2, (3, 11)) if dtype == np.bool_ else rng.integers(-50, 50, (3, 11))).astype(dtype)
    for descending in (False, True):
        values, indices = dl.tensor(x).sort(1, descending=descending)
        want_v, want_i = ref.sort(x, 1, descending)
        assert values.numpy().dtype == x.dtype
        np.testing.assert_array_equal(values.numpy(), want_v)
        np.testing.assert_array_equal(indices.numpy(), want_i)


def test_sort_of_a_strided_view_and_a_0d_tensor(rng):
    base = rng.standard_normal((6, 8))
    x = dl.tensor(base)[::2, 1::3].t()  # (3, 3), neither row- nor column-contiguous
    values, indices = x.sort(0)
    want_v, want_i = ref.sort(base[::2, 1::3].T, 0)
    np.testing.assert_array_equal(values.numpy(), want_v)
    np.testing.assert_array_equal(indices.numpy(), want_i)
    v, i = dl.sort(dl.tensor(2.5))
    assert v.shape == () and v.item() == 2.5 and i.item() == 0
    assert dl.argsort(dl.tensor(2.5)).item() == 0


@pytest.mark.parametrize("k,largest", [(1, True), (3, True), (3, False), (0, True), (40, False)])
def test_topk_matches_the_first_k_of_the_sort(k, largest, rng):
    x = rng.integers(-5, 6, (5, 40)).astype(np.float64)
    x[2, 7] = math.nan
    values, indices = dl.tensor(x).topk(k, largest=largest)
    want_v, want_i = ref.sort(x, 1, largest, k)
    assert values.shape == (5, k) and indices.shape == (5, k)
    np.testing.assert_array_equal(values.numpy(), want_v)
    np.testing.assert_array_equal(indices.numpy(), want_i)
    # Along the first dim of a 3-D tensor.
    y = rng.standard_normal((6, 2, 3)).astype(np.float32)
    v0, i0 = dl.topk(dl.tensor(y), min(k, 6), 0, largest)
    want_v, want_i = ref.sort(y, 0, largest, min(k, 6))
    np.testing.assert_array_equal(v0.numpy(), want_v)
    np.testing.assert_array_equal(i0.numpy(), want_i)


def test_results_are_named_tuples_and_the_same_on_every_thread_count(threads, rng):
    x = dl.tensor(rng.standard_normal((300, 257)).astype(np.float32))
    out = {}
    for n in (1, 2):
        dl.set_num_threads(n)
        s, t = x.sort(0, descending=True), x.topk(5, 1)
        out[n] = (s.values.numpy(), s.indices.numpy(), t.values.numpy(), t.indices.numpy())
    for a, b in zip(out[1], out[2]):
        np.testing.assert_array_equal(a, b)
    want_v, want_i = ref.sort(x.numpy(), 1, True, 5)
    np.testing.assert_array_equal(out[2][3], want_i)


def test_gradients_go_to_the_positions_the_values_came_from():
    x = dl.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    (x.topk(2).values * dl.tensor([[10.0, 1.0], [10.0, 1.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[10.0, 0.0, 1.0], [0.0, 10.0, 1.0]])
    x.grad = None
    (x.sort(1).values * dl.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 1.0, 2.0], [1.0, 3.0, 2.0]])


def test_bad_arguments_raise_clear_errors():
    x = dl.ones(2, 3)
    with pytest.raises(ValueError, match=r"topk: k \(4\) is out of range for dimension 1 of size 3"):
        x.topk(4)
    with pytest.raises(ValueError, match=r"topk: k \(-1\)"):
        x.topk(-1)
    with pytest.raises(IndexError, match="sort: dimension out of range"):
        x.sort(2)
    with pytest.raises(IndexError, match="argsort: dimension out of range"):
        dl.argsort(x, -3)
    with pytest.raises(IndexError, match="topk: dimension out of range"):
        x.topk(1, 5)
