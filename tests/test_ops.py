"""Table-driven checks of every op in op_specs.SPECS: forward against the NumPy
reference (float32 and float64, broadcasting, 0-d, empty, non-contiguous
views), gradients against float64 finite differences, every ISA path, and
the same bits for every thread count."""
import math

import numpy as np
import pytest

import dlcore as dl
from op_specs import COMPARISONS, SPECS, Spec
from reference import ops as ops_ref

NP = {dl.float32: np.float32, dl.float64: np.float64}


def make_inputs(spec: Spec, shapes, rng, np_dtype):
    return [rng.uniform(spec.low, spec.high, size=s).astype(np_dtype) for s in shapes]


def check_close(out, expected, spec: Spec, dtype):
    got = out.numpy() if isinstance(out, dl.Tensor) else np.asarray(out)
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{spec.name}: shape {got.shape} != {expected.shape}"
    if dtype == dl.float64:
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=spec.name)
    else:
        np.testing.assert_allclose(got, expected, rtol=spec.rtol, atol=spec.atol, err_msg=spec.name)


CASES = [(s, i, d) for s in SPECS for i in range(len(s.shapes)) for d in s.dtypes]


@pytest.mark.parametrize("spec,case,dtype", CASES, ids=[f"{s.name}-{i}-{d}" for s, i, d in CASES])
def test_forward(spec, case, dtype, rng):
    arrays = make_inputs(spec, spec.shapes[case], rng, NP[dtype])
    out = spec.fn(*[dl.tensor(a) for a in arrays])
    assert out.dtype == dtype
    check_close(out, spec.ref(*[a.astype(np.float64) for a in arrays]), spec, dtype)


def noncontiguous(a):
    """A dlcore view with a's values whose last dim has stride 2 (0-d and empty: unchanged)."""
    if a.ndim == 0 or a.size == 0:
        return dl.tensor(a)
    big = np.repeat(a, 2, axis=-1)
    t = dl.tensor(big)[..., ::2]
    assert not t.is_contiguous() or a.shape[-1] == 1
    return t


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_noncontiguous_inputs(spec, rng):
    arrays = make_inputs(spec, spec.shapes[0], rng, np.float32)
    out = spec.fn(*[noncontiguous(a) for a in arrays])
    check_close(out, spec.ref(*[a.astype(np.float64) for a in arrays]), spec, dl.float32)


GRAD_SPECS = [s for s in SPECS if s.grad]


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=[s.name for s in GRAD_SPECS])
def test_gradcheck(spec, rng):
    for shapes in spec.shapes:
        if any(np.prod(s, dtype=int) == 0 for s in shapes) or sum(np.prod(s, dtype=int) for s in shapes) > 80:
            continue
        arrays = make_inputs(spec, shapes, rng, np.float64)
        inputs = [dl.tensor(a, requires_grad=True) for a in arrays]
        assert dl.autograd.gradcheck(spec.fn, inputs), spec.name


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=[s.name for s in GRAD_SPECS])
def test_grad_dtype_and_shape(spec, rng):
    """Gradients have the input's shape and dtype, in float32 too."""
    arrays = make_inputs(spec, spec.shapes[0], rng, np.float32)
    inputs = [dl.tensor(a, requires_grad=True) for a in arrays]
    spec.fn(*inputs).sum().backward()
    for t in inputs:
        assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == dl.float32


ELEMENTWISE = [s for s in SPECS if s.elementwise]


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=[s.name for s in ELEMENTWISE])
@pytest.mark.parametrize("dtype", [dl.float32, dl.float64], ids=["f32", "f64"])
def test_every_isa_long_inputs(spec, dtype, isa, rng):
    """1003 elements: the vector main loop and the scalar tail of each ISA's kernels."""
    n = len(spec.shapes[0])
    arrays = make_inputs(spec, [(1003,)] * n, rng, NP[dtype])
    out = spec.fn(*[dl.tensor(a) for a in arrays])
    check_close(out, spec.ref(*[a.astype(np.float64) for a in arrays]), spec, dtype)


@pytest.mark.parametrize("name,fn,reffn", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparisons(name, fn, reffn, rng):
    a = rng.integers(-3, 3, size=(4, 5))
    b = rng.integers(-3, 3, size=(5,))
    for da, db in [(np.float32, np.float32), (np.int64, np.int64), (np.int32, np.float64)]:
        out = fn(dl.tensor(a.astype(da)), dl.tensor(b.astype(db)))
        assert out.dtype == dl.bool
        np.testing.assert_array_equal(out.numpy(), reffn(a, b))
    out = fn(dl.tensor(a.astype(np.float32)), 1)
    np.testing.assert_array_equal(out.numpy(), reffn(a, 1))
    assert not fn(dl.tensor(a.astype(np.float64), requires_grad=True), 0.0).requires_grad


@pytest.mark.parametrize("op", ["add", "mul", "sum_all", "sum_dim", "sum_last", "exp", "tanh", "matmul_large",
                                "softmax", "cumsum", "cumprod", "cummax", "logcumsumexp"])
def test_same_bits_for_any_thread_count(op, threads):
    from op_specs import SPEC_BY_NAME

    spec = SPEC_BY_NAME[op]
    rng = np.random.default_rng(7)
    shapes = [(2000, 300)] * len(spec.shapes[0])
    if op == "matmul_large":
        shapes = [(130, 257), (257, 190)]
    arrays = make_inputs(spec, shapes, rng, np.float32)
    results = []
    for n in (1, 2, 3):
        dl.set_num_threads(n)
        results.append(spec.fn(*[dl.tensor(a) for a in arrays]).numpy().copy())
        results.append(spec.fn(*[dl.tensor(a) for a in arrays]).numpy().copy())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_integer_arithmetic_keeps_integer_dtype():
    a = dl.tensor([[1, 2, 3], [4, 5, 6]])
    assert (a + 1).dtype == dl.int64 and (a * a).tolist() == [[1, 4, 9], [16, 25, 36]]
    assert (a + 1.5).dtype == dl.float32
    assert (a / 2).dtype == dl.float32 and (a / 2).tolist() == [[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]]
    assert (a ** 2).tolist() == [[1, 4, 9], [16, 25, 36]]
    assert a.sum().dtype == dl.int64 and a.sum().item() == 21
    assert dl.tensor([True, False, True]).sum().item() == 2
    assert (dl.tensor([1, 2], dtype=dl.int32) + dl.tensor([1.0])).dtype == dl.float32
    assert (dl.tensor([1.0], dtype=dl.float32) + dl.tensor(2.0, dtype=dl.float64)).dtype == dl.float32
    assert (dl.tensor([1, 2]) + dl.tensor(2.0, dtype=dl.float64)).dtype == dl.float64
    assert a.max().item() == 6 and a.argmax().item() == 5
    assert a.cumsum(1).tolist() == [[1, 3, 6], [4, 9, 15]]
    assert (-a).tolist() == [[-1, -2, -3], [-4, -5, -6]] and a.abs().dtype == dl.int64
    assert (a @ a.t()).tolist() == [[14, 32], [32, 77]]
    assert a.clamp(2, 5).dtype == dl.int64 and a.clamp(2, 5).tolist() == [[2, 2, 3], [4, 5, 5]]
    assert a.clamp(max=2.5).dtype == dl.float32 and a.clamp(max=2.5).tolist() == [[1.0, 2.0, 2.5], [2.5] * 3]


def test_nan_propagates_through_max_min_relu():
    x = dl.tensor([1.0, float("nan"), -1.0])
    assert np.isnan(x.max().item()) and np.isnan(x.min().item())
    assert np.isnan(dl.maximum(x, dl.zeros(3)).numpy()[1]) and np.isnan(dl.relu(x).numpy()[1])
    assert x.argmax().item() == 1


def test_argmax_argmin_nonzero_logical_not(rng):
    a = rng.integers(-3, 4, size=(4, 5, 3)).astype(np.float32)  # ties: the first index wins
    t = dl.tensor(a)
    for d in (0, 1, -1):
        np.testing.assert_array_equal(t.argmax(d).numpy(), np.argmax(a, d))
        np.testing.assert_array_equal(t.argmin(d, keepdim=True).numpy(), np.expand_dims(np.argmin(a, d), d))
    assert t.argmax().item() == np.argmax(a) and t.argmin().item() == np.argmin(a)
    np.testing.assert_array_equal(t.nonzero().numpy(), np.argwhere(a))
    np.testing.assert_array_equal(dl.logical_not(t).numpy(), np.logical_not(a))
    np.testing.assert_array_equal((~(t > 0)).numpy(), ~(a > 0))


def test_extremes_over_full_dims_of_an_empty_tensor():
    # Reducing a dimension of size 3 of a (0, 3) tensor gives an empty result, as NumPy's
    # does; only an empty reduced dimension has no value (test_errors covers it).
    a = np.zeros((0, 3), np.float32)
    x = dl.tensor(a).requires_grad_()
    for got, want in [(x.amax(1), a.max(1)), (x.amin(1, keepdim=True), a.min(1, keepdims=True)),
                      (x.max(1)[0], a.max(1)), (x.argmax(1), a.argmax(1)), (x.logsumexp(1), a.sum(1)),
                      (dl.nn.functional.softmax(x, 1), a), (dl.nn.functional.log_softmax(x, -1), a)]:
        assert got.shape == want.shape and got.numel() == 0
    dl.nn.functional.log_softmax(x, 1).sum().backward()
    assert x.grad.shape == (0, 3)


REDUCTIONS = [s for s in SPECS if s.name.split("_")[0] in (
    "sum", "mean", "var", "std", "amax", "amin", "max", "min", "logsumexp", "cumsum", "softmax", "log")
    and "pool" not in s.name]


@pytest.mark.parametrize("spec", REDUCTIONS, ids=[s.name for s in REDUCTIONS])
@pytest.mark.parametrize("shape", [(37, 129, 11), (2, 3, 40000)], ids=["colsum", "long-rows"])
def test_every_isa_reductions(spec, shape, isa):
    """Reductions on every ISA: row sums split into fixed chunks, column sums, long rows.
    Positive inputs keep float32 sums away from cancellation, so rtol alone applies."""
    rng = np.random.default_rng(11)
    a = rng.uniform(0.5, 1.5, size=shape).astype(np.float32)
    out = spec.fn(dl.tensor(a))
    np.testing.assert_allclose(out.numpy(), spec.ref(a.astype(np.float64)), rtol=2e-5, atol=1e-6,
                               err_msg=f"{spec.name} on {isa}")


@pytest.mark.parametrize("shapes", [((37, 70), (70, 45)), ((5, 129, 33), (33, 17)), ((1, 1), (1, 300))])
def test_every_isa_matmul(shapes, isa):
    rng = np.random.default_rng(5)
    for dtype, rtol in [(np.float32, 2e-5), (np.float64, 1e-12)]:
        a, b = (rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes)
        out = dl.tensor(a) @ dl.tensor(b)
        np.testing.assert_allclose(out.numpy(), a.astype(np.float64) @ b.astype(np.float64), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", ["neg", "exp", "log", "sqrt", "rsqrt", "abs", "sin", "cos", "tanh", "sigmoid",
                                  "relu", "square", "log1p", "expm1", "erf", "reciprocal", "atan", "floor",
                                  "round"])
def test_inplace_unary_matches_out_of_place(name, rng):
    a = rng.uniform(0.2, 2.0, size=(3, 5)).astype(np.float32)
    t = dl.tensor(a)
    v0 = t._version
    out = getattr(t, name + "_")()
    np.testing.assert_allclose(t.numpy(), getattr(dl, name)(dl.tensor(a)).numpy(), rtol=1e-6)
    assert t._version == v0 + 1 and out.shape == t.shape
    s = dl.tensor(a)[:, ::2]  # a strided view: writes land in the base
    getattr(s, name + "_")()
    np.testing.assert_allclose(s.numpy(), getattr(dl, name)(dl.tensor(a[:, ::2])).numpy(), rtol=1e-6)
    # Through autograd: d(relu_(x*2))/dx etc. equal the out-of-place op's gradient.
    x1 = dl.tensor(a.astype(np.float64), requires_grad=True)
    x2 = dl.tensor(a.astype(np.float64), requires_grad=True)
    y1 = x1 * 2
    getattr(y1, name + "_")()
    y1.sum().backward()
    getattr(dl, name)(x2 * 2).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-12)


def test_rounding_and_small_argument_accuracy():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 1.2, -0.0, np.inf, -np.inf, np.nan])
    t = dl.tensor(x)
    for name, want in [("floor", np.floor), ("ceil", np.ceil), ("round", np.round), ("trunc", np.trunc)]:
        np.testing.assert_array_equal(getattr(dl, name)(t).numpy(), want(x))  # round: halves to even
        np.testing.assert_array_equal(getattr(t.float(), name)().numpy(), want(x.astype(np.float32)))
        i = dl.tensor([-3, 0, 7])
        assert getattr(dl, name)(i).dtype == dl.int64 and getattr(dl, name)(i).tolist() == [-3, 0, 7]
    # log1p and expm1 keep their precision where log(1 + x) and exp(x) - 1 lose it.
    small = np.array([1e-10, -3e-9, 1e-20], dtype=np.float32)
    np.testing.assert_allclose(dl.log1p(dl.tensor(small)).numpy(), np.log1p(small.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(dl.expm1(dl.tensor(small)).numpy(), np.expm1(small.astype(np.float64)), rtol=1e-6)
    # Float ops on integers compute in float32, as in PyTorch.
    assert dl.erf(dl.tensor([0, 1])).dtype == dl.float32
    np.testing.assert_allclose(dl.erf(dl.tensor([-np.inf, 0.0, 6.0])).numpy(), [-1.0, 0.0, 1.0])


def test_remainder_fmod_floor_divide_follow_python():
    # Floats against Python's own % and // (and math.fmod), signs and zeros included.
    pairs = [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-7.5, -2.0), (1.0, 0.1), (-1.0, 0.3), (0.0, -3.0),
             (-0.0, 3.0), (5.0, math.inf), (-5.0, math.inf), (1e300, 1e-300)]
    a, b = (dl.tensor([p[i] for p in pairs], dtype=dl.float64) for i in (0, 1))
    assert (a % b).tolist() == [x % y for x, y in pairs]
    assert (a // b).tolist() == [x // y for x, y in pairs]
    assert dl.fmod(a, b).tolist() == [math.fmod(x, y) for x, y in pairs]
    assert [math.copysign(1, v) for v in (a // b).tolist()] == [math.copysign(1, x // y) for x, y in pairs]
    # Integers keep their dtype and round toward -inf, as Python's ints.
    ints = [(7, 2), (-7, 2), (7, -2), (-7, -2), (0, 5), (-9223372036854775807 - 1, 3), (9, -1)]
    x, y = (dl.tensor([p[i] for p in ints]) for i in (0, 1))
    assert (x // y).dtype == dl.int64
    assert (x // y).tolist() == [p // q for p, q in ints] and (x % y).tolist() == [p % q for p, q in ints]
    assert dl.fmod(x, y).tolist() == [int(math.fmod(p, q)) for p, q in ints[:5]] + [-2, 0]
    low = dl.tensor([-9223372036854775807 - 1])
    assert (low // -1).tolist() == low.tolist() and (low % -1).tolist() == [0]  # no trap
    assert (7 % dl.tensor([3, -3])).tolist() == [1, -2] and (7.5 // dl.tensor([2.0])).tolist() == [3.0]
    assert round(dl.tensor(2.5)).item() == 2.0
    for op in (lambda p, q: p % q, lambda p, q: p // q, dl.fmod):
        with pytest.raises(ValueError, match="integer division by zero"):
            op(dl.tensor([1, 2]), dl.tensor([1, 0]))
    with pytest.raises(TypeError, match="remainder: not supported on bool tensors"):
        dl.tensor([True]) % dl.tensor([True])
    assert ((dl.tensor([1, 0]) > 0) ^ dl.tensor([True, True])).tolist() == [False, True]


def test_max_min_of_two_tensors_and_inplace_errors():
    a, b = dl.tensor([1.0, 5.0]), dl.tensor([3.0, 2.0])
    assert dl.max(a, b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="exp_: result type float32 can't be cast"):
        dl.tensor([1, 2]).exp_()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        dl.tensor([1.0], requires_grad=True).relu_()


def test_exp_sigmoid_tanh_at_the_edges_on_every_isa(isa):
    """Overflow, subnormal results, infinities and NaN, mixed into vectors with ordinary
    values (so the vector kernels' wide-range path runs too)."""
    edges = np.array([-np.inf, -104.0, -100.0, -95.0, -90.0, -87.5, -86.5, -20.0, -1e-3, 0.0, 1e-3, 3.0,
                      20.0, 86.5, 88.0, 88.7, 88.8, 89.0, 100.0, np.inf, np.nan], dtype=np.float32)
    x = np.concatenate([edges, np.linspace(-5, 5, 43, dtype=np.float32), edges[::-1]])
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        want_exp = np.exp(x.astype(np.float64)).astype(np.float32)
        want_sig = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
        want_tanh = np.tanh(x.astype(np.float64)).astype(np.float32)
    t = dl.tensor(x)
    np.testing.assert_allclose(dl.exp(t).numpy(), want_exp, rtol=2e-6, atol=1e-44)
    np.testing.assert_allclose(dl.sigmoid(t).numpy(), want_sig, rtol=2e-6, atol=1e-44)
    np.testing.assert_allclose(dl.tanh(t).numpy(), want_tanh, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_row_broadcast_binary_ops_on_every_isa(dtype, isa, rng):
    # A row against a keepdim reduction of it, and a row vector against a matrix: runs of
    # adjacent and fixed values go to the SIMD kernels a run at a time. NaN and signed
    # zeros test maximum and minimum's rules; the values match the contiguous path's bits.
    x = rng.standard_normal((9, 37)).astype(dtype)
    x[2, 5], x[4, 0], x[6, 36] = np.nan, -0.0, np.inf
    col = rng.standard_normal((9, 1)).astype(dtype)
    col[3, 0] = np.nan
    row = rng.standard_normal((1, 37)).astype(dtype)
    ops = [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("div", np.divide),
           ("maximum", np.maximum), ("minimum", np.minimum)]
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, npf in ops:
            f = getattr(dl, name)
            for a, b in [(x, col), (col, x), (x, row), (row, x)]:
                got = f(dl.tensor(a), dl.tensor(b)).numpy()
                np.testing.assert_array_equal(got, npf(a, b), err_msg=name)
                full_a, full_b = np.broadcast_arrays(a, b)
                same = f(dl.tensor(full_a.copy()), dl.tensor(full_b.copy())).numpy()
                assert got.tobytes() == same.tobytes(), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 9, 31, 32, 33, 64, 100, 257])
def test_row_extremes_with_nan_and_inf(dtype, n, isa, rng):
    # amax / amin over adjacent values (the SIMD kernel, four vector running extremes):
    # row lengths around a vector and the unrolled step, a NaN first, last or inside a row,
    # infinities, on every ISA, against NumPy.
    x = rng.standard_normal((6, n)).astype(dtype)
    x[1, -1] = np.nan
    x[2, 0] = np.nan
    x[5, (n - 1) // 3] = np.nan
    x[3, n // 2] = np.inf
    x[4, n // 2] = -np.inf
    for got, want in [(dl.tensor(x).amax(-1), x.max(-1)), (dl.tensor(x).amin(-1), x.min(-1)),
                      (dl.tensor(x).amax(-1, keepdim=True), x.max(-1, keepdims=True))]:
        np.testing.assert_array_equal(got.numpy(), want)


def check_softmax_ops(x, dim, rng):
    """softmax and log_softmax of x along dim, forward and backward, against NumPy."""
    g = rng.standard_normal(x.shape).astype(x.dtype)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    cases = [(dl.softmax, ops_ref.softmax, ops_ref.softmax_backward),
             (dl.log_softmax, ops_ref.log_softmax, ops_ref.log_softmax_backward)]
    with np.errstate(invalid="ignore"):
        for fn, ref_forward, ref_backward in cases:
            t = dl.tensor(x, requires_grad=True)
            y = fn(t, dim)
            want = ref_forward(x.astype(np.float64), dim)
            np.testing.assert_allclose(y.detach().numpy(), want, rtol=tol, atol=tol, err_msg=fn.__name__)
            y.backward(dl.tensor(g))
            np.testing.assert_allclose(t.grad.numpy(), ref_backward(want, g.astype(np.float64), dim),
                                       rtol=tol, atol=tol, err_msg=fn.__name__)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n", [1, 2, 7, 15, 16, 17, 31, 32, 33, 64, 100, 257])
def test_softmax_rows_on_every_isa(dtype, n, isa, rng):
    """softmax and log_softmax along the last dimension (one kernel pass per row, forward
    and backward) at row lengths around a vector and the kernels' two-vector step, on every
    ISA, against NumPy. A row holding a NaN or +inf, or only -inf, comes out NaN; a -inf
    score weighs nothing; a row of large values is shifted by its maximum."""
    x = (rng.standard_normal((7, n)) * 10).astype(dtype)
    x[1, n // 2] = np.nan
    x[2, -1] = np.inf
    x[3] = -np.inf
    x[4, 0] = -np.inf
    x[5] += 1e6
    check_softmax_ops(x, -1, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("inner", [2, 7, 16, 17, 33, 300])
def test_softmax_columns_on_every_isa(dtype, inner, isa, rng):
    """The same along a dimension that is not the last: its values lie `inner` apart and
    the kernels run along the columns in vectors (256 columns a task; 300 makes two), with
    a column holding a NaN, +inf, only -inf, a -inf, or large values."""
    n = 9
    x = (rng.standard_normal((3, n, inner)) * 10).astype(dtype)
    x[0, n // 2, 0] = np.nan
    x[1, -1, inner - 1] = np.inf
    x[2, :, inner // 2] = -np.inf
    x[0, 0, inner - 1] = -np.inf
    x[1, :, 0] += 1e6
    check_softmax_ops(x, 1, rng)
    check_softmax_ops(np.ascontiguousarray(x[0]), 0, rng)


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_twice_differentiable(log, rng):
    """create_graph=True through the row kernels' op runs its backward as ops: its own
    gradient checks out against finite differences of the first gradient, and the first
    gradient equals the kernel's."""
    fn = dl.log_softmax if log else dl.softmax
    x = dl.tensor(rng.normal(size=(3, 5)), requires_grad=True)
    r = dl.tensor(rng.normal(size=(3, 5)))

    def first_grad(x):
        with dl.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_()
            return dl.autograd.grad((fn(x, -1) * r).sum(), [x], create_graph=True)[0]

    assert dl.autograd.gradcheck(first_grad, [x])
    graph = dl.autograd.grad((fn(x, -1) * r).sum(), [x], create_graph=True)[0]
    kernel = dl.autograd.grad((fn(x, -1) * r).sum(), [x])[0]
    np.testing.assert_allclose(graph.detach().numpy(), kernel.numpy(), rtol=1e-12, atol=1e-12)
