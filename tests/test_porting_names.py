"""The names a script or a test suite written for PyTorch reaches for outside the ops:
Tensor methods as top-level functions, dlcore.Size, dlcore.random and the default
generator, dlcore.testing (assert_close, make_tensor) and dlcore.jit. Values against
NumPy or plain Python."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore.testing import assert_close, make_tensor


# ---- Tensor methods as functions -------------------------------------------------------

def test_in_place_functions_write_into_their_input(rng):
    x = rng.uniform(0.1, 2.0, size=(3, 4))
    for name, ref in [("exp_", np.exp), ("sqrt_", np.sqrt), ("log1p_", np.log1p), ("neg_", np.negative),
                      ("reciprocal_", np.reciprocal), ("tanh_", np.tanh), ("floor_", np.floor)]:
        t = dl.tensor(x)
        out = getattr(dl, name)(t)
        assert out is t
        np.testing.assert_allclose(t.numpy(), ref(x), rtol=1e-15, err_msg=name)
    t = dl.tensor(x)
    assert dl.clamp_(t, 0.5, 1.5) is t
    np.testing.assert_array_equal(t.numpy(), np.clip(x, 0.5, 1.5))
    t = dl.tensor(x)
    dl.zero_(t)
    assert not t.numpy().any()
    t = dl.tensor(-x)
    dl.relu_(t)
    assert not t.numpy().any()


def test_method_functions_match_the_methods(rng):
    x = rng.standard_normal((3, 4))
    t = dl.tensor(x)
    np.testing.assert_array_equal(dl.select(t, 1, 2).numpy(), x[:, 2])
    np.testing.assert_array_equal(dl.narrow_copy(t, 0, 1, 2).numpy(), x[1:3])
    np.testing.assert_allclose(dl.lgamma(dl.tensor([0.5, 3.0, 10.0], dtype=dl.float64)).numpy(),
                               [math.lgamma(0.5), math.lgamma(3.0), math.lgamma(10.0)], rtol=1e-14)
    # digamma(1) = -Euler's constant, digamma(x + 1) = digamma(x) + 1 / x.
    d = dl.digamma(dl.tensor([1.0, 2.0, 3.0], dtype=dl.float64)).numpy()
    euler = 0.5772156649015329
    np.testing.assert_allclose(d, [-euler, 1 - euler, 1.5 - euler], rtol=1e-13)
    assert dl.is_floating_point(t) and not dl.is_floating_point(dl.tensor([1, 2]))
    assert dl.conj(t) is t and dl.resolve_neg(t) is t and dl.real(t) is t
    np.testing.assert_array_equal(dl.adjoint(t).numpy(), x.T)
    np.testing.assert_array_equal(dl.fill(t, 2.5).numpy(), np.full((3, 4), 2.5))
    np.testing.assert_array_equal(dl.fill(t, dl.tensor(1.5)).numpy(), np.full((3, 4), 1.5))


def test_method_functions_errors():
    with pytest.raises(TypeError, match="exp_\\(\\): argument 'input' must be a Tensor, not list"):
        dl.exp_([1.0])
    with pytest.raises(RuntimeError, match="imag"):
        dl.imag(dl.ones(2))
    with pytest.raises(ValueError, match="0-dim"):
        dl.fill(dl.ones(2), dl.ones(2))


# ---- Size -------------------------------------------------------------------------------

def test_size_is_a_tuple_of_ints():
    s = dl.Size([2, 3, 4])
    assert s == (2, 3, 4) and dl.zeros(2, 3, 4).shape == s and s == dl.zeros(2, 3, 4).size()
    assert s.numel() == 24 and dl.Size([]).numel() == 1
    assert isinstance(s[1:], dl.Size) and s[1:] == (3, 4) and s[0] == 2
    assert isinstance(s + (5,), dl.Size) and s + (5,) == (2, 3, 4, 5)
    assert repr(s) == "dlcore.Size([2, 3, 4])"
    assert dl.Size(np.array([1, 2])) == (1, 2)
    with pytest.raises(TypeError, match="int"):
        dl.Size([2.0, 3])
    with pytest.raises(TypeError, match="int"):
        dl.Size([True])


# ---- random -----------------------------------------------------------------------------

def test_manual_seed_returns_the_default_generator_and_wraps_negative_seeds():
    g = dl.manual_seed(3)
    assert g is dl.default_generator and g is dl.random.default_generator
    assert dl.initial_seed() == 3 and dl.random.initial_seed() == 3
    a = dl.rand(4).numpy()
    dl.manual_seed(-1)
    assert dl.initial_seed() == 2**64 - 1
    b = dl.rand(4).numpy()
    dl.manual_seed(2**64 - 1)
    np.testing.assert_array_equal(dl.rand(4).numpy(), b)
    dl.default_generator.manual_seed(3)
    np.testing.assert_array_equal(dl.rand(4).numpy(), a)
    with pytest.raises(ValueError, match="outside"):
        dl.manual_seed(2**64)
    with pytest.raises(ValueError, match="outside"):
        dl.manual_seed(-(2**63) - 1)
    with pytest.raises(TypeError, match="must be an int"):
        dl.manual_seed("three")


def test_seed_draws_a_fresh_seed_and_applies_it():
    s = dl.seed()
    assert 0 <= s < 2**63 and dl.initial_seed() == s
    a = dl.rand(3).numpy()
    dl.manual_seed(s)
    np.testing.assert_array_equal(dl.rand(3).numpy(), a)


def test_fork_rng_restores_the_state():
    dl.manual_seed(11)
    first = dl.rand(3).numpy()
    dl.manual_seed(11)
    with dl.random.fork_rng():
        dl.manual_seed(99)
        dl.rand(100)
    np.testing.assert_array_equal(dl.rand(3).numpy(), first)
    dl.manual_seed(11)
    with dl.random.fork_rng(enabled=False):
        dl.rand(3)
    assert not np.array_equal(dl.rand(3).numpy(), first)
    dl.manual_seed(11)
    state = dl.random.get_rng_state()
    dl.rand(5)
    dl.random.set_rng_state(state)
    np.testing.assert_array_equal(dl.rand(3).numpy(), first)


# ---- testing.assert_close ---------------------------------------------------------------

def test_assert_close_passes_within_the_dtype_tolerances(rng):
    x = rng.standard_normal(50).astype(np.float32)
    # float32: atol 1e-5 + rtol 1.3e-6 |expected|; a difference just under it passes.
    y = x + (0.9e-5 + 1.2e-6 * np.abs(x)).astype(np.float32) * np.sign(rng.standard_normal(50)).astype(np.float32)
    assert_close(dl.tensor(y), dl.tensor(x))
    z = x.astype(np.float64)
    assert_close(dl.tensor(z + 0.9e-7 * (1 + np.abs(z))), dl.tensor(z))
    assert_close(dl.tensor([1, 2, 3]), dl.tensor([1, 2, 3]))
    assert_close(dl.tensor([1.0, math.inf, -math.inf]), dl.tensor([1.0, math.inf, -math.inf]))
    assert_close(dl.tensor([math.nan, 1.0]), dl.tensor([math.nan, 1.0]), equal_nan=True)
    assert_close(1.0, 1.0 + 1e-8)
    assert_close(3, 3)
    assert_close([dl.ones(2), (1.0, 2)], [dl.ones(2), (1.0, 2)])
    assert_close({"a": dl.zeros(3), "b": 2.0}, {"b": 2.0, "a": dl.zeros(3)})
    assert_close(np.ones(3), np.ones(3))
    assert_close(dl.tensor([1.0, 2.0]), dl.tensor([1.1, 2.0]), rtol=0.0, atol=0.11)
    assert_close(dl.tensor([1.0]), dl.tensor([1.0], dtype=dl.float64), check_dtype=False)
    assert_close(dl.ones(2, requires_grad=True) * 2, dl.full((2,), 2.0))


def test_assert_close_fails_with_the_mismatch_report():
    # expected [1, 2, 3] against [1, 2.5, 3.5]: 2 of 3 differ, the largest absolute
    # difference 0.5 first at index 1, the largest relative one 0.5 / 2 = 0.25 at index 1.
    with pytest.raises(AssertionError) as err:
        assert_close(dl.tensor([1.0, 2.5, 3.5], dtype=dl.float64), dl.tensor([1.0, 2.0, 3.0], dtype=dl.float64))
    text = str(err.value)
    assert text.startswith("Tensor-likes are not close!")
    assert "Mismatched elements: 2 / 3 (66.7%)" in text
    assert "Greatest absolute difference: 0.5 at index (1,) (up to 1e-07 allowed)" in text
    assert "Greatest relative difference: 0.25 at index (1,) (up to 1e-07 allowed)" in text
    with pytest.raises(AssertionError, match=r"not equal!(.|\n)*Mismatched elements: 1 / 4 \(25.0%\)"
                                             r"(.|\n)*Greatest absolute difference: 3 at index \(1, 0\)"):
        assert_close(dl.tensor([[1, 2], [7, 4]]), dl.tensor([[1, 2], [4, 4]]))
    with pytest.raises(AssertionError, match="Scalars are not close!(.|\n)*Expected 1.5 but got 1.0"):
        assert_close(dl.tensor(1.0), dl.tensor(1.5))
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):  # an infinity is close to nothing else
        assert_close(dl.tensor([1.0, math.inf]), dl.tensor([1.0, -math.inf]))
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):
        assert_close(dl.tensor([1.0, math.inf]), dl.tensor([1.0, 5.0]))
    with pytest.raises(AssertionError, match="Scalars are not close"):
        assert_close(math.nan, math.nan)
    with pytest.raises(AssertionError, match="'shape' do not match: \\(2,\\) != \\(3,\\)"):
        assert_close(dl.ones(2), dl.ones(3))
    with pytest.raises(AssertionError, match="'dtype' do not match: dlcore.float32 != dlcore.float64"):
        assert_close(dl.ones(2), dl.ones(2, dtype=dl.float64))
    with pytest.raises(AssertionError, match="types do not match"):
        assert_close(1, 1.0)
    with pytest.raises(AssertionError, match="length of the sequences mismatch: 2 != 3"):
        assert_close([1, 2], [1, 2, 3])
    with pytest.raises(AssertionError, match="Missing keys in the actual mapping: \\['b'\\]"):
        assert_close({"a": 1}, {"b": 1})
    with pytest.raises(AssertionError, match="The failure occurred for item \\[1\\]\\['x'\\]"):
        assert_close([1, {"x": dl.ones(2)}], [1, {"x": dl.zeros(2)}])
    with pytest.raises(AssertionError, match="stride"):
        assert_close(dl.ones(3, 2).t(), dl.ones(2, 3), check_stride=True)
    with pytest.raises(AssertionError, match="^custom$"):
        assert_close(dl.ones(2), dl.zeros(2), msg="custom")
    with pytest.raises(AssertionError, match="^WRAPPED: Tensor-likes"):
        assert_close(dl.ones(2), dl.zeros(2), msg=lambda m: "WRAPPED: " + m)
    with pytest.raises(TypeError, match="cannot compare inputs of type Tensor and list"):
        assert_close(dl.ones(2), [1.0, 1.0])
    with pytest.raises(ValueError, match="both rtol and atol"):
        assert_close(dl.ones(2), dl.ones(2), rtol=1e-3)


# ---- testing.make_tensor ----------------------------------------------------------------

def test_make_tensor_ranges_dtypes_and_layout():
    dl.manual_seed(5)
    a = make_tensor(40, 30, dtype=dl.float32)
    assert a.shape == (40, 30) and a.dtype == dl.float32
    v = a.numpy()
    assert v.min() >= -9 and v.max() < 9 and v.std() > 3  # spread over [-9, 9)
    dl.manual_seed(5)
    np.testing.assert_array_equal(make_tensor((40, 30), dtype=dl.float32).numpy(), v)  # the default generator
    b = make_tensor(1000, dtype=dl.int64, low=-2, high=3).numpy()
    assert set(np.unique(b)) == {-2, -1, 0, 1, 2}
    c = make_tensor(200, dtype=dl.float64, low=0.5, high=0.75).numpy()
    assert c.min() >= 0.5 and c.max() < 0.75
    assert not (make_tensor(2000, dtype=dl.int32, low=-1, high=2, exclude_zero=True).numpy() == 0).any()
    d = make_tensor(4, 6, dtype=dl.float64, noncontiguous=True, requires_grad=True)
    assert not d.is_contiguous() and d.requires_grad and d.shape == (4, 6)
    bits = make_tensor(500, dtype=dl.bool).numpy()
    assert bits.dtype == np.bool_ and 0 < bits.sum() < 500
    assert make_tensor(0, 3, dtype=dl.float32).shape == (0, 3)


def test_make_tensor_errors():
    with pytest.raises(ValueError, match="low <= high"):
        make_tensor(3, dtype=dl.float32, low=2, high=1)
    with pytest.raises(ValueError, match="low < high"):
        make_tensor(3, dtype=dl.int32, low=0, high=2**40)
    with pytest.raises(ValueError, match="bool"):
        make_tensor(3, dtype=dl.bool, low=0)
    with pytest.raises(ValueError, match="non-negative"):
        make_tensor(-1, dtype=dl.float32)
    with pytest.raises(TypeError, match="dtype"):
        make_tensor(3, dtype=np.float32)


# ---- jit --------------------------------------------------------------------------------

def test_jit_returns_what_it_is_given(tmp_path):
    model = dl.nn.Linear(3, 2)
    x = dl.randn(4, 3)
    assert dl.jit.script(model) is model and dl.jit.trace(model, x) is model

    @dl.jit.script
    def f(a):
        return a * 2

    @dl.jit.ignore(drop=True)
    def g(a):
        return a + 1

    np.testing.assert_array_equal(f(x).numpy(), x.numpy() * 2)
    np.testing.assert_array_equal(g(x).numpy(), x.numpy() + 1)
    assert not dl.jit.is_scripting() and not dl.jit.is_tracing()
    assert dl.jit.wait(dl.jit.fork(lambda a, b: a + b, 2, b=3)) == 5
    with pytest.raises(NotImplementedError, match="state_dict"):
        dl.jit.save(model, tmp_path / "m.pt")
    with pytest.raises(NotImplementedError, match="state_dict"):
        dl.jit.load(tmp_path / "m.pt")
    with pytest.raises(TypeError, match="Future"):
        dl.jit.wait(5)


# ---- storage questions, the old LU names, the unsafe splits ------------------------------

def test_storage_questions_old_lu_names_and_unsafe_splits(rng):
    x = dl.arange(12.0).reshape(3, 4)
    assert x[1:, 2:].storage_offset() == 6 and x.storage_offset() == 0
    assert x.layout is dl.strided and repr(dl.strided) == "dlcore.strided"
    assert not x.is_pinned() and not x.is_shared() and x.share_memory_() is x
    a = rng.standard_normal((2, 4, 4))
    b = rng.standard_normal((2, 4, 3))
    lu, piv = dl.tensor(a).lu()
    np.testing.assert_allclose(dl.lu_solve(dl.tensor(b), lu, piv).numpy(), np.linalg.solve(a, b), rtol=1e-10)
    np.testing.assert_allclose(dl.tensor(b).lu_solve(lu, piv).numpy(), np.linalg.solve(a, b), rtol=1e-10)
    p, lower, upper = dl.lu_unpack(lu, piv)
    np.testing.assert_allclose((p @ lower @ upper).numpy(), a, rtol=1e-12, atol=1e-12)
    singular = dl.tensor(np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert int(dl.lu(singular, get_infos=True)[2]) == 2  # the 1-based index of the zero pivot
    parts = dl.arange(7).unsafe_split(3)
    assert [p.numpy().tolist() for p in parts] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [p.numpy().tolist() for p in dl.unsafe_chunk(dl.arange(6), 2)] == [[0, 1, 2], [3, 4, 5]]
    assert [p.shape for p in dl.unsafe_split_with_sizes(dl.zeros(5, 2), [2, 3])] == [(2, 2), (3, 2)]


def test_resize_keeps_values_and_grows_memory():
    x = dl.arange(6.0)
    assert x.resize_(2, 3) is x
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))
    x.resize_((3, 4))  # grows: the first six values stay
    assert x.shape == (3, 4) and x.is_contiguous()
    np.testing.assert_array_equal(x.numpy().reshape(-1)[:6], np.arange(6.0))
    v = dl.arange(10.0)[4:]  # a view: resized from its own offset
    v.resize_(2, 2)
    np.testing.assert_array_equal(v.numpy(), [[4.0, 5.0], [6.0, 7.0]])
    assert dl.zeros(2).resize_as_(dl.ones(4, 5)).shape == (4, 5)
    assert x.resize_(0).numel() == 0
    # a tensor an op saved for backward: resizing it is an in-place change backward reports
    a, b = dl.ones(3), dl.ones(3, requires_grad=True)
    c = (a * b).sum()
    a.resize_(10)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.backward()
    with pytest.raises(RuntimeError, match="requires grad"):
        dl.ones(3, requires_grad=True).resize_(5)
    with pytest.raises(ValueError, match="non-negative"):
        dl.ones(3).resize_(-1, 2)
    with pytest.raises(TypeError, match="ints"):
        dl.ones(3).resize_(2.5)
    with pytest.raises(MemoryError, match="too large"):
        dl.ones(3).resize_(2**40, 2**40)
