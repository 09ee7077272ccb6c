"""Tensors: creation, dtypes, views sharing storage, conversions, subscripts and
zero-copy exchange with NumPy and DLPack."""
import numpy as np
import pytest

import dlcore as dl
from reference import ops as ref


def test_tensor_from_lists_scalars_and_arrays():
    assert dl.tensor([[1.0, 2.0]]).dtype == dl.float32
    assert dl.tensor([1, 2]).dtype == dl.int64
    assert dl.tensor([True, False]).dtype == dl.bool
    assert dl.tensor(3.5).shape == () and dl.tensor(3.5).item() == 3.5
    assert dl.tensor(np.zeros(3)).dtype == dl.float64
    assert dl.tensor(np.zeros(3, np.int32)).dtype == dl.int32
    assert dl.tensor([1, 2], dtype=dl.float64).dtype == dl.float64
    assert dl.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    t = dl.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(ValueError, match="could not build a tensor"):
        dl.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="unsupported"):
        dl.tensor(["a"])
    # Integers out of the target's range raise instead of wrapping around.
    assert dl.tensor([2**63 - 1, -2**63]).tolist() == [2**63 - 1, -2**63]
    for data, dtype, value in [([2**63], None, 2**63), (np.array([2**64 - 1], np.uint64), None, 2**64 - 1),
                               ([2**31], dl.int32, 2**31), ([-2**31 - 1], dl.int32, -2**31 - 1)]:
        with pytest.raises(OverflowError, match=f"the value {value} does not fit in int"):
            dl.tensor(data, dtype=dtype)


def test_tensor_constructor_copies_lists_and_shares_tensors():
    t = dl.Tensor([1, 2, 3])
    assert t.dtype == dl.float32 and t.tolist() == [1.0, 2.0, 3.0]
    u = dl.Tensor(t)
    u[0] = 5.0
    assert t[0].item() == 5.0


def test_creation_functions():
    assert dl.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert dl.ones((2,), dtype=dl.int32).tolist() == [1, 1]
    assert dl.full((2, 2), 7).dtype == dl.int64 and dl.full((1,), 1.5).tolist() == [1.5]
    assert dl.arange(5).tolist() == [0, 1, 2, 3, 4] and dl.arange(5).dtype == dl.int64
    np.testing.assert_allclose(dl.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(dl.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert dl.linspace(-1, 3, 7).numpy()[-1] == 3.0
    np.testing.assert_array_equal(dl.eye(3, 2).numpy(), np.eye(3, 2))
    x = dl.zeros(2, 3)
    assert dl.zeros_like(x).shape == (2, 3) and dl.ones_like(x, dtype=dl.int64).dtype == dl.int64
    assert dl.empty(0, 4).numel() == 0
    with pytest.raises(ValueError, match="negative dimension"):
        dl.zeros(-1)


@pytest.fixture
def default_dtype():
    """Restores the default dtype after the test."""
    d = dl.get_default_dtype()
    yield
    dl.set_default_dtype(d)


def test_set_default_dtype_reaches_factories_python_floats_promotion_and_layers(default_dtype):
    assert dl.get_default_dtype() == dl.float32
    dl.set_default_dtype(dl.float64)
    assert dl.get_default_dtype() == dl.float64
    f64 = dl.float64
    made = {"zeros": dl.zeros(2), "ones": dl.ones(2, 3), "empty": dl.empty(2), "full": dl.full((2,), 1.5),
            "rand": dl.rand(2), "randn": dl.randn(2), "normal": dl.normal(0.0, 1.0, (2,)), "eye": dl.eye(2),
            "linspace": dl.linspace(0, 1, 5), "arange of floats": dl.arange(0.5, 3),
            "int / int": dl.arange(3) / 2, "int + float": dl.arange(3) + 0.5, "sqrt of int": dl.sqrt(dl.arange(3)),
            "clamp of int to a float": dl.arange(3).clamp(max=0.5), "Linear": dl.nn.Linear(2, 3).weight,
            "LSTM": dl.nn.LSTM(2, 3).weight_ih_l0, "LayerNorm": dl.nn.LayerNorm(3).weight,
            "Embedding": dl.nn.Embedding(4, 3).weight,
            "causal mask": dl.nn.Transformer.generate_square_subsequent_mask(3)}
    assert {k: t.dtype for k, t in made.items() if t.dtype != f64} == {}
    # Python floats are float64 values now, not float32 roundings of them.
    assert dl.tensor([0.1]).numpy()[0] == 0.1
    np.testing.assert_array_equal((dl.arange(3) / 3).numpy(), np.arange(3) / 3)
    assert dl.finfo().eps == np.finfo(np.float64).eps
    # What is not floating, or says its dtype, is unchanged.
    assert dl.tensor([1, 2]).dtype == dl.int64 and dl.arange(3).dtype == dl.int64
    assert dl.tensor(np.ones(2, np.float32)).dtype == dl.float32
    assert dl.zeros(2, dtype=dl.float32).dtype == dl.float32
    assert (dl.ones(2, dtype=dl.float32) * 0.5).dtype == dl.float32
    dl.set_default_dtype("float32")
    assert dl.zeros(2).dtype == dl.float32 and (dl.arange(3) / 2).dtype == dl.float32
    assert dl.tensor([0.1]).numpy()[0] == np.float32(0.1)


def test_set_default_dtype_takes_only_floating_dtypes(default_dtype):
    for bad in (dl.int64, dl.bool, "int32"):
        with pytest.raises(TypeError, match="only float32 and float64 can be the default dtype"):
            dl.set_default_dtype(bad)
    with pytest.raises(TypeError, match="unsupported dtype"):
        dl.set_default_dtype("float16")
    assert dl.get_default_dtype() == dl.float32


def test_random_is_seeded_and_generators_are_independent():
    dl.manual_seed(3)
    a = dl.randn(100)
    dl.manual_seed(3)
    b = dl.randn(100)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g1, g2 = dl.Generator().manual_seed(5), dl.Generator().manual_seed(5)
    np.testing.assert_array_equal(dl.rand(10, generator=g1).numpy(), dl.rand(10, generator=g2).numpy())
    u = dl.rand(20000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    n = dl.normal(2.0, 3.0, (20000,)).numpy()
    assert abs(n.mean() - 2.0) < 0.1 and abs(n.std() - 3.0) < 0.1
    r = dl.randint(-2, 3, (10000,)).numpy()
    assert set(np.unique(r)) == {-2, -1, 0, 1, 2}
    assert dl.randint(10, (3,)).dtype == dl.int64


def frequencies_agree(counts, probs, n):
    """Whether observed counts of n draws agree with probabilities within 5 standard errors
    of the binomial count (a false alarm about once in 3 million per category)."""
    probs = np.asarray(probs, dtype=np.float64)
    sd = np.sqrt(n * probs * (1 - probs))
    return np.all(np.abs(counts - n * probs) <= 5 * sd + 1e-9), (counts, n * probs, sd)


def test_multinomial_with_replacement_draws_each_category_at_its_probability():
    dl.manual_seed(11)
    w = np.array([1.0, 0.0, 3.0, 6.0, 0.5])
    n = 200000
    s = dl.multinomial(dl.tensor(w, dtype=dl.float32), n, replacement=True)
    assert s.dtype == dl.int64 and s.shape == (n,)
    counts = np.bincount(s.numpy(), minlength=5)
    assert counts[1] == 0  # a zero weight is never drawn
    ok, detail = frequencies_agree(counts, w / w.sum(), n)
    assert ok, detail


def test_multinomial_without_replacement_is_successive_draws_from_what_is_left():
    dl.manual_seed(12)
    w = np.array([4.0, 1.0, 0.0, 2.0, 3.0])
    rows = 40000
    s = dl.multinomial(dl.tensor(np.tile(w, (rows, 1))), 2).numpy()
    assert s.shape == (rows, 2) and (s[:, 0] != s[:, 1]).all() and (s != 2).all()
    # P(first = i, second = j) = w_i / W * w_j / (W - w_i) for i != j.
    W = w.sum()
    probs = np.array([[w[i] / W * w[j] / (W - w[i]) if i != j else 0.0 for j in range(5)] for i in range(5)])
    counts = np.zeros((5, 5))
    np.add.at(counts, (s[:, 0], s[:, 1]), 1)
    ok, detail = frequencies_agree(counts.ravel(), probs.ravel(), rows)
    assert ok, detail
    # Drawing every non-zero category gives a permutation of them.
    full = dl.multinomial(dl.tensor([[0.5, 0.0, 2.0, 1.0]]), 3).numpy()
    assert sorted(full[0]) == [0, 2, 3]


def test_multinomial_is_seeded_and_takes_a_generator():
    p = dl.tensor([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])
    dl.manual_seed(5)
    a = dl.multinomial(p, 3, replacement=True)
    dl.manual_seed(5)
    b = p.multinomial(3, True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g1, g2 = dl.Generator().manual_seed(9), dl.Generator().manual_seed(9)
    np.testing.assert_array_equal(dl.multinomial(p, 2, generator=g1).numpy(),
                                  dl.multinomial(p, 2, generator=g2).numpy())


def test_multinomial_rejects_bad_probabilities():
    with pytest.raises(ValueError, match="row 1 has -0.5 at index 0"):
        dl.multinomial(dl.tensor([[1.0, 1.0], [-0.5, 1.0]]), 1)
    with pytest.raises(ValueError, match="finite and non-negative; row 0 has nan"):
        dl.multinomial(dl.tensor([float("nan"), 1.0]), 1)
    with pytest.raises(ValueError, match="row 0 has inf"):
        dl.multinomial(dl.tensor([float("inf"), 1.0]), 1)
    with pytest.raises(ValueError, match="row 0 sum to 0"):
        dl.multinomial(dl.tensor([0.0, 0.0]), 1, replacement=True)
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement from row 0, "
                                         "which has 2 categories"):
        dl.multinomial(dl.tensor([1.0, 0.0, 2.0]), 3)
    with pytest.raises(ValueError, match=r"1-D or 2-D, got shape \(1, 2, 2\)"):
        dl.multinomial(dl.ones(1, 2, 2), 1)
    with pytest.raises(TypeError, match="floating tensor"):
        dl.multinomial(dl.tensor([1, 2]), 1)
    with pytest.raises(ValueError, match="num_samples must be positive"):
        dl.multinomial(dl.tensor([1.0, 2.0]), 0)


def test_views_share_storage():
    x = dl.arange(12, dtype=dl.float32)
    v = x.view(3, 4)
    v[1, 2] = 100.0
    assert x[6].item() == 100.0
    t = v.t()
    assert not t.is_contiguous() and t.stride() == (1, 4)
    assert t.contiguous().is_contiguous() and t.contiguous().tolist() == v.numpy().T.tolist()
    assert v.unsqueeze(0).shape == (1, 3, 4) and v.unsqueeze(0).squeeze(0).shape == (3, 4)
    assert v.expand(2, 3, 4).stride() == (0, 4, 1)
    assert v.narrow(1, 1, 2).shape == (3, 2) and v.flatten().shape == (12,)
    assert v.permute(1, 0).shape == (4, 3)
    with pytest.raises(RuntimeError, match="view: size"):
        t.view(12)
    assert t.reshape(12).tolist() == v.numpy().T.reshape(12).tolist()


def test_subscripts_match_numpy(rng):
    a = rng.standard_normal((4, 5, 6)).astype(np.float32)
    t = dl.tensor(a)
    for idx in [1, -1, (slice(1, 3),), (slice(None), 2), (Ellipsis, 1), (None, 1, Ellipsis),
                (slice(None, None, 2), slice(4, 0, -1) if False else slice(1, None, 3)),
                (slice(-3, None), None, 0), (1, 2, 3)]:
        np.testing.assert_array_equal(t[idx].numpy(), a[idx])
    for idx in [([0, 3, 3],), (slice(None), [1, 0]), ([1, 2], slice(None), [0, 5]), (a[:, 0, 0] > 0,),
                (Ellipsis, [5, 0])]:
        dl_idx = tuple(dl.tensor(np.asarray(i)) if isinstance(i, (list, np.ndarray)) else i for i in idx)
        np.testing.assert_array_equal(t[dl_idx].numpy(), a[idx])
    with pytest.raises(IndexError, match="out of bounds"):
        t[4]
    with pytest.raises(IndexError, match="too many indices"):
        t[0, 0, 0, 0]
    with pytest.raises(IndexError, match="out of bounds"):
        t[dl.tensor([0, 9])]
    with pytest.raises(IndexError):
        t[dl.tensor([0.5])]


def test_setitem(rng):
    a = np.zeros((3, 4), np.float32)
    t = dl.zeros(3, 4)
    t[1] = 2.0
    a[1] = 2.0
    t[:, 1:3] = dl.tensor([5.0, 6.0])
    a[:, 1:3] = [5.0, 6.0]
    t[dl.tensor([0, 2]), dl.tensor([3, 0])] = 9.0
    a[[0, 2], [3, 0]] = 9.0
    t[t > 5.5] = -1.0
    a[a > 5.5] = -1.0
    t[2, :2] = [7.0, 8.0]
    a[2, :2] = [7.0, 8.0]
    t[0] = np.arange(4)
    a[0] = np.arange(4)
    np.testing.assert_array_equal(t.numpy(), a)


def test_dtype_conversions_and_item():
    x = dl.tensor([1.7, -2.2])
    assert x.long().tolist() == [1, -2] and x.double().dtype == dl.float64
    assert x.to(dl.int32).dtype == dl.int32 and x.bool().tolist() == [True, True]
    assert x.to(dl.float32) is not None and float(dl.tensor([2.5])) == 2.5 and int(dl.tensor(3)) == 3
    with pytest.raises(ValueError, match="one element"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    assert repr(dl.float32) == "dlcore.float32"
    assert "requires_grad=True" in repr(dl.tensor([1.0], requires_grad=True))


def test_numpy_shares_memory_both_ways():
    t = dl.arange(6, dtype=dl.float32).reshape(2, 3)
    a = t.numpy()
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    b = np.arange(6, dtype=np.float64).reshape(2, 3)
    u = dl.from_numpy(b)
    u[1, 1] = -5
    assert b[1, 1] == -5
    assert np.shares_memory(np.asarray(u), b)
    s = dl.from_numpy(b[:, ::2])
    assert s.stride() == (3, 2) and s.tolist() == b[:, ::2].tolist()
    with pytest.raises(TypeError, match="unsupported NumPy dtype"):
        dl.from_numpy(np.zeros(2, np.float16))
    with pytest.raises(ValueError, match="negative"):
        dl.from_numpy(b[:, ::-1])
    with pytest.raises(RuntimeError, match="requires grad"):
        dl.tensor([1.0], requires_grad=True).numpy()
    del b
    assert u.tolist() == [[0.0, 1.0, 2.0], [3.0, -5.0, 5.0]]  # the array lives on in the tensor


def test_dlpack_round_trip_with_numpy():
    t = dl.arange(6, dtype=dl.int32).reshape(2, 3).t()
    a = np.from_dlpack(t)
    assert a.shape == (3, 2) and a.dtype == np.int32 and a.tolist() == t.tolist()
    assert t.__dlpack_device__() == (1, 0)
    b = np.arange(5.0)
    u = dl.from_dlpack(b)
    assert np.shares_memory(np.asarray(u), b) and u.dtype == dl.float64
    cap = t.__dlpack__()
    v = dl.from_dlpack(cap)
    assert v.tolist() == t.tolist()


def test_dlpack_with_torch_when_installed():
    torch = pytest.importorskip("torch")
    t = dl.arange(6, dtype=dl.float32).reshape(2, 3)
    pt = torch.from_dlpack(t)
    pt[0, 0] = 7
    assert t[0, 0].item() == 7
    back = dl.from_dlpack(torch.ones(2, 2, dtype=torch.float64))
    assert back.dtype == dl.float64 and back.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_empty_and_zero_dim_tensors():
    e = dl.zeros(0, 3)
    assert (e + 1).shape == (0, 3) and e.sum().item() == 0 and e.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert e.mean(1).shape == (0,)
    s = dl.tensor(2.0)
    assert (s * dl.ones(2, 2)).shape == (2, 2) and s.sum().shape == () and s.ndim == 0
    with pytest.raises(ValueError, match="empty"):
        e.max()


def test_inplace_ops_return_the_same_object_and_keep_subclasses():
    class Param(dl.Tensor):
        pass

    p = Param(dl.zeros(2))
    q = p
    assert p.add_(1) is p and p.relu_() is p and p.requires_grad_() is p
    with dl.no_grad():
        p -= 0.5
        p *= 4
    assert p is q and type(p) is Param and p.tolist() == [2.0, 2.0]


def test_copies_of_broadcast_and_sliced_sources():
    """copy_ and contiguous() over broadcast sources (filled per row), contiguous rows of
    the same dtype (copied per row), and conversions, against NumPy."""
    col = np.arange(4.0).reshape(4, 1)
    np.testing.assert_array_equal(dl.tensor(col).expand(4, 5).contiguous().numpy(), np.broadcast_to(col, (4, 5)))
    base = np.arange(60.0).reshape(6, 10)
    np.testing.assert_array_equal(dl.tensor(base)[1:5, 2:9].contiguous().numpy(), base[1:5, 2:9])
    t = dl.zeros(3, 5)
    t.copy_(dl.tensor(np.arange(5, dtype=np.int32)))
    np.testing.assert_array_equal(t.numpy(), np.broadcast_to(np.arange(5, dtype=np.float32), (3, 5)))
    u = dl.zeros(3, 7, dtype=dl.float32)
    u.copy_(dl.tensor(np.array([[2.5]])))
    np.testing.assert_array_equal(u.numpy(), np.full((3, 7), 2.5, np.float32))
    v = dl.zeros(2, 3, 4)
    v.copy_(dl.tensor(np.arange(4.0)).expand(3, 4))
    np.testing.assert_array_equal(v.numpy(), np.broadcast_to(np.arange(4.0), (2, 3, 4)))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.float64])
def test_flip_tril_triu_keep_every_dtype(dtype, rng):
    x = rng.integers(0, 5, (2, 4, 5)).astype(dtype)
    t = dl.tensor(x)
    np.testing.assert_array_equal(t.flip([1, -1]).numpy(), ref.flip(x, [1, 2]))
    for k in (-5, -1, 0, 2, 9):
        np.testing.assert_array_equal(dl.tril(t, k).numpy(), ref.triangle(x, k, True))
        np.testing.assert_array_equal(t.triu(k).numpy(), ref.triangle(x, k, False))
    # A strided view, and diagonals far outside the matrix.
    v = dl.tensor(x)[:, ::2, 1:]
    np.testing.assert_array_equal(v.tril(1).numpy(), ref.triangle(x[:, ::2, 1:], 1, True))
    np.testing.assert_array_equal(v.triu(-(2**62)).numpy(), x[:, ::2, 1:])
    assert not v.tril(-(2**62)).numpy().any()
    assert dl.flip(dl.tensor(3.0), []).item() == 3.0


def test_flip_tril_triu_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"tril: input must have at least 2 dimensions, got shape \(3,\)"):
        dl.tril(dl.ones(3))
    with pytest.raises(ValueError, match="triu: input must have at least 2 dimensions"):
        dl.ones(()).triu()
    with pytest.raises(ValueError, match="flip: dim 1 appears more than once"):
        dl.ones(2, 3).flip([1, -1])
    with pytest.raises(IndexError, match="flip: dimension out of range"):
        dl.ones(2, 3).flip([2])


def test_movedim_unbind_outer_match_numpy(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    t = dl.tensor(x)
    for src, dst in [(0, -1), ((0, 1), (2, 0)), ([3], [1]), ((), ())]:
        np.testing.assert_array_equal(dl.movedim(t, src, dst).numpy(), np.moveaxis(x, src, dst))
        np.testing.assert_array_equal(t.moveaxis(src, dst).numpy(), np.moveaxis(x, src, dst))
    parts = t.unbind(2)
    assert len(parts) == 4
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(p.numpy(), x[:, :, i])
    a, b = rng.standard_normal(3), rng.standard_normal(4)
    np.testing.assert_allclose(dl.outer(dl.tensor(a), dl.tensor(b)).numpy(), np.outer(a, b), rtol=1e-15)
    # Views and products: gradients flow through them.
    g = dl.tensor(x, requires_grad=True)
    (dl.movedim(g, 0, -1) * 2).sum().backward()
    np.testing.assert_array_equal(g.grad.numpy(), np.full(x.shape, 2.0))
    with pytest.raises(ValueError, match="movedim: repeated dim in source"):
        t.movedim((0, 0), (1, 2))
    with pytest.raises(ValueError, match="must have the same number of dims"):
        t.movedim((0, 1), 2)
    with pytest.raises(IndexError, match="movedim: dimension out of range"):
        t.movedim(4, 0)
    with pytest.raises(ValueError, match=r"outer: expected two 1-D tensors, got shapes \(2, 2\)"):
        dl.outer(dl.ones(2, 2), dl.ones(2))


def test_value_tests_and_logical_reductions_match_numpy():
    x = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.0]])
    t = dl.tensor(x)
    np.testing.assert_array_equal(dl.isnan(t).numpy(), np.isnan(x))
    np.testing.assert_array_equal(t.isinf().numpy(), np.isinf(x))
    np.testing.assert_array_equal(dl.isfinite(t).numpy(), np.isfinite(x))
    i = dl.tensor([3, 0, -1])
    assert dl.isfinite(i).numpy().all() and not dl.isnan(i).numpy().any() and not dl.isinf(i).numpy().any()
    a, b = np.array([[0, 2, 0], [1, 1, 0]]), np.array([[1, 0, 0], [1, 3, 1]])
    np.testing.assert_array_equal(dl.logical_and(dl.tensor(a), dl.tensor(b)).numpy(), np.logical_and(a, b))
    np.testing.assert_array_equal(dl.logical_or(dl.tensor(a), dl.tensor(b)).numpy(), np.logical_or(a, b))
    for dim in (None, 0, 1):
        for keepdim in (False, True):
            kw = {} if dim is None else {"axis": dim, "keepdims": keepdim}
            got_any = dl.any(dl.tensor(a), dim, keepdim) if dim is not None else dl.tensor(a).any()
            got_all = dl.tensor(a).all(dim, keepdim) if dim is not None else dl.all(dl.tensor(a))
            assert got_any.dtype == dl.bool
            np.testing.assert_array_equal(got_any.numpy(), np.any(a, **kw))
            np.testing.assert_array_equal(got_all.numpy(), np.all(a, **kw))


def test_isclose_and_allclose_match_numpy():
    a = np.array([1.0, 1.0, np.inf, np.inf, np.nan, 0.0, 100.0, -np.inf])
    b = np.array([1.0 + 1e-9, 1.1, np.inf, -np.inf, np.nan, 1e-9, 100.0001, 5.0])
    for kw in ({}, {"rtol": 1e-3}, {"atol": 0.2}, {"equal_nan": True}):
        np.testing.assert_array_equal(dl.isclose(dl.tensor(a), dl.tensor(b), **kw).numpy(),
                                      np.isclose(a, b, **kw))
    assert dl.allclose(dl.tensor(a[:2]), dl.tensor(a[:2]))
    assert not dl.tensor(a).allclose(dl.tensor(b))
    assert dl.allclose(dl.tensor(a), dl.tensor(a), equal_nan=True)
    np.testing.assert_array_equal(dl.isclose(dl.tensor([1, 5]), dl.tensor([1, 6]), atol=1).numpy(), [True, True])
    np.testing.assert_array_equal(dl.isclose(dl.tensor([1.0, 2.0]), 2.0).numpy(), [False, True])
    with pytest.raises(TypeError, match="same dtype"):
        dl.isclose(dl.tensor([1.0]), dl.tensor([1]))
    with pytest.raises(ValueError, match="non-negative"):
        dl.isclose(dl.tensor([1.0]), dl.tensor([1.0]), rtol=-1)
