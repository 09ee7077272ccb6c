"""The packed GEMM (cpp/src/kernels/cpu/gemm/) through matmul, and its C++ API.

matmul hands transposed and sliced operands to the GEMM as strided views, so the
transpose combinations, non-contiguous inputs and batches below all reach the
kernel's own stride handling. The C++ checker (tests/cpp/gemm_check.cpp) covers
what matmul cannot reach: alpha, beta, the bias and ReLU epilogue, leading
dimensions, the BLAS-style entry points and argument errors.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import ops as ref
from test_examples import compiler

import dlcore as dl

ROOT = Path(__file__).resolve().parents[1]

# Sizes around the register tiles (at most 14 x 32), primes, empty, larger than the k
# block (288 floats / 144 doubles on this machine's caches), and tall products with fewer
# columns than a vector holds (with A transposed, computed as C^T).
SHAPES = [(1, 1, 1), (1, 5, 3), (7, 1, 11), (13, 17, 19), (14, 32, 8), (15, 33, 290), (64, 64, 64),
          (0, 4, 3), (3, 0, 4), (5, 6, 0), (97, 131, 301), (300, 200, 170), (256, 10, 64),
          (150, 5, 90), (24, 40, 30), (26, 33, 50), (11, 64, 64), (9, 20, 5)]


def tol(dtype, k):
    return (1e-5 * np.sqrt(k + 1), 1e-5) if dtype == np.float32 else (1e-12 * np.sqrt(k + 1), 1e-12)


def check(got, want, dtype, k):
    atol, rtol = tol(dtype, k)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy().astype(np.float64), want, rtol=rtol, atol=atol)


def operands(rng, m, n, k, ta, tb, dtype):
    """NumPy A (M x K) and B (K x N), stored transposed when ta / tb."""
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matmul_matches_numpy_in_float64_every_transpose(isa, rng, dtype, shape):
    m, n, k = shape
    for ta in (False, True):
        for tb in (False, True):
            a, b = operands(rng, m, n, k, ta, tb, dtype)
            da, db = dl.from_numpy(a), dl.from_numpy(b)
            da, db = (da.T if ta else da), (db.T if tb else db)
            want = ref.matmul((a.T if ta else a).astype(np.float64), (b.T if tb else b).astype(np.float64))
            check(dl.matmul(da, db), want, dtype, k)


@given(st.integers(0, 70), st.integers(0, 70), st.integers(0, 400), st.booleans(), st.booleans(),
       st.sampled_from([1, 2]), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_matmul_random_shapes_strides_and_transposes(m, n, k, ta, tb, step, dtype, seed):
    rng = np.random.default_rng(seed)
    # Stored operands with `step` times the columns, of which every step-th is used: with
    # step 2, neither stride of an operand is 1 or its row length.
    a_store = rng.standard_normal((k, m * step) if ta else (m, k * step)).astype(dtype)
    b_store = rng.standard_normal((n, k * step) if tb else (k, n * step)).astype(dtype)
    a, b = a_store[:, ::step], b_store[:, ::step]
    da, db = dl.from_numpy(a_store)[:, ::step], dl.from_numpy(b_store)[:, ::step]
    if ta:
        a, da = a.T, da.T
    if tb:
        b, db = b.T, db.T
    check(dl.matmul(da, db), ref.matmul(a.astype(np.float64), b.astype(np.float64)), dtype, k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_reads_non_contiguous_operands_in_place(isa, rng, dtype):
    # Every other row and column of larger arrays: neither stride is 1 or the row length.
    big_a = rng.standard_normal((2 * 45, 3 * 70)).astype(dtype)
    big_b = rng.standard_normal((2 * 70, 2 * 33)).astype(dtype)
    a, b = big_a[::2, ::3], big_b[::2, ::2]
    got = dl.matmul(dl.from_numpy(big_a)[::2, ::3], dl.from_numpy(big_b)[::2, ::2])
    check(got, ref.matmul(a.astype(np.float64), b.astype(np.float64)), dtype, 70)
    # A column slice of a transposed view.
    got = dl.matmul(dl.from_numpy(big_a).T[5:75], dl.from_numpy(big_a)[:, 10:40])
    want = ref.matmul(big_a.T[5:75].astype(np.float64), big_a[:, 10:40].astype(np.float64))
    check(got, want, dtype, big_a.shape[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_matmul_with_broadcast_and_strided_batches(isa, rng, dtype):
    a = rng.standard_normal((3, 1, 20, 33)).astype(dtype)
    b = rng.standard_normal((4, 33, 17)).astype(dtype)
    check(dl.matmul(dl.from_numpy(a), dl.from_numpy(b)), ref.matmul(a.astype(np.float64), b.astype(np.float64)),
          dtype, 33)
    # Batch dims that do not merge into one stride (a permuted batch), transposed matrices.
    c = rng.standard_normal((5, 2, 31, 29)).astype(dtype)
    d = rng.standard_normal((2, 5, 40, 29)).astype(dtype)
    dc = dl.from_numpy(c).permute(1, 0, 3, 2)  # (2, 5, 29, 31)
    dd = dl.from_numpy(d).transpose(-1, -2)  # (2, 5, 29, 40)
    got = dl.matmul(dc.transpose(-1, -2), dd)  # (2, 5, 31, 40)
    want = ref.matmul(np.transpose(c, (1, 0, 2, 3)).astype(np.float64), np.swapaxes(d, -1, -2).astype(np.float64))
    check(got, want, dtype, 29)


# 300 x 200 and 700 x 650: C cut into bands of rows between the threads; 120 x 900: into
# bands of columns (fewer rows than columns); 5 x 9: too small for either.
@pytest.mark.parametrize("shape", [(300, 200, 170), (700, 650, 90), (120, 900, 130), (5, 9, 3000)],
                         ids=lambda s: "x".join(map(str, s)))
def test_same_bits_on_one_and_two_threads(threads, rng, shape):
    m, n, k = shape
    a = dl.from_numpy(rng.standard_normal((m, k)).astype(np.float32))
    b = dl.from_numpy(rng.standard_normal((n, k)).astype(np.float32))
    batched = dl.from_numpy(rng.standard_normal((6, 40, k)).astype(np.float32))
    results = []
    for t in (1, 2):
        dl.set_num_threads(t)
        results.append((dl.matmul(a, b.T).numpy(), dl.matmul(batched, b.T).numpy()))
    for x, y in zip(*results):
        assert np.array_equal(x.view(np.uint32), y.view(np.uint32))


@pytest.mark.parametrize("shared", [False, True], ids=["own-copies", "shared-copies"])
def test_bias_epilogue_on_two_threads(threads, rng, shared, tmp_path):
    # A Linear layer's bias per column of C, cut into column bands (64 x 700 x 300) and row
    # bands (600 x 300 x 200); a 1x1 convolution's bias per row of C (its output channels),
    # cut into row bands (512 channels of a 16 x 16 image) and column bands (64 channels of
    # 48 x 48): each band must take the bias values of its own rows or columns. Run in a
    # child process for the threads' shared packed copies (read once, at the first product).
    code = f"""
import numpy as np, dlcore as dl
rng = np.random.default_rng(7)
F = dl.nn.functional
out = {{}}
for name, (m, n, k) in dict(col=(64, 700, 300), row=(600, 300, 200)).items():
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((m, k), (n, k), (n,)))
    for t in (1, 2):
        dl.set_num_threads(t)
        out[f"lin_{{name}}_{{t}}"] = F.linear(dl.tensor(x), dl.tensor(w), dl.tensor(b)).numpy()
    out[f"lin_{{name}}_ref"] = x.astype(np.float64) @ w.T.astype(np.float64) + b
for name, (o, c, hw) in dict(row=(512, 256, 16), col=(64, 256, 48)).items():
    x = rng.standard_normal((1, c, hw, hw)).astype(np.float32)
    w = rng.standard_normal((o, c, 1, 1)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    for t in (1, 2):
        dl.set_num_threads(t)
        out[f"conv_{{name}}_{{t}}"] = F.conv2d(dl.tensor(x), dl.tensor(w), dl.tensor(b)).numpy()
    xf = x[0].reshape(c, -1).astype(np.float64)
    out[f"conv_{{name}}_ref"] = (w.reshape(o, c).astype(np.float64) @ xf + b[:, None]).reshape(1, o, hw, hw)
np.savez({str(tmp_path / "out.npz")!r}, **out)
"""
    env = dict(os.environ)
    env.pop("DLCORE_GEMM_SHARED", None)
    if shared:
        env["DLCORE_GEMM_SHARED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(Path(dl.__file__).parent.parent), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    out = np.load(tmp_path / "out.npz")
    for case in ("lin_col", "lin_row", "conv_row", "conv_col"):
        one, two, want = out[f"{case}_1"], out[f"{case}_2"], out[f"{case}_ref"]
        assert np.array_equal(one.view(np.uint32), two.view(np.uint32)), case
        np.testing.assert_allclose(one, want, rtol=1e-4, atol=1e-4 * np.abs(want).max(), err_msg=case)


def test_matmul_gradients_use_the_transposed_products(rng):
    # Larger than gradcheck can afford: compare with the backward formulas in NumPy.
    a = rng.standard_normal((70, 300)).astype(np.float64)
    b = rng.standard_normal((300, 45)).astype(np.float64)
    g = rng.standard_normal((70, 45)).astype(np.float64)
    da, db = dl.tensor(a, requires_grad=True), dl.tensor(b, requires_grad=True)
    dl.matmul(da, db).backward(dl.tensor(g))
    np.testing.assert_allclose(da.grad.numpy(), g @ b.T, rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(db.grad.numpy(), a.T @ g, rtol=1e-12, atol=1e-11)


def test_cpp_gemm_api_against_a_plain_loop(tmp_path):
    """Builds tests/cpp/gemm_check.cpp against the installed core and runs it."""
    inc, lib = dl.get_include(), dl.get_library_dir()
    exe = tmp_path / "gemm_check"
    cmd = [compiler(), "-std=c++17", "-O2", str(ROOT / "tests/cpp/gemm_check.cpp"), "-I", inc, "-L", lib,
           "-ldlcore", "-fopenmp", f"-Wl,-rpath,{lib}", "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    env = dict(os.environ)
    env.pop("DLCORE_ISA", None)  # the checker walks every ISA itself
    env.pop("DLCORE_GEMM_SHARED", None)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith(" 0 failures")
    assert int(run.stdout.split()[-4]) > 2000  # every case ran
    # Again with 64 KiB packing panels: products cross many panels of A and B.
    env["DLCORE_GEMM_PANEL_KIB"] = "64"
    run = subprocess.run([str(exe), "--one-isa"], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith(" 0 failures")
    # Again with every packed product split between the threads, however small.
    del env["DLCORE_GEMM_PANEL_KIB"]
    env["DLCORE_GEMM_THREADS_FROM"] = "1"
    run = subprocess.run([str(exe), "--one-isa"], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "packed products split from 1 multiply-adds" in run.stdout
    assert run.stdout.strip().endswith(" 0 failures")
    # And with the threads sharing one packed copy of each k block instead of each
    # packing its own band's operands.
    env["DLCORE_GEMM_SHARED"] = "1"
    run = subprocess.run([str(exe), "--one-isa"], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith(" 0 failures")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(256, 10, 64), (150, 5, 90), (512, 8, 300), (10000, 6, 8), (64, 9, 33),
                                   (96, 11, 20), (128, 12, 7), (300, 13, 64)], ids=str)
def test_narrow_product_as_its_transpose_keeps_the_bits(isa, rng, dtype, shape):
    # A transposed view with few columns in C runs as C^T; each value is the same chain of
    # multiply-adds over k as with A copied row-major first, so the bits agree (10000 rows:
    # three blocks of the narrow path's buffer; 9..12 columns: the 10- and 12-row tiles of
    # C^T on AVX-512).
    m, n, k = shape
    a = dl.from_numpy(rng.standard_normal((k, m)).astype(dtype))
    b = dl.from_numpy(rng.standard_normal((k, n)).astype(dtype))
    got = dl.matmul(a.T, b).numpy()
    np.testing.assert_array_equal(got, dl.matmul(a.T.contiguous(), b).numpy())
    check(dl.matmul(a.T, b), ref.matmul(a.numpy().T.astype(np.float64), b.numpy().astype(np.float64)),
          dtype, k)
