"""dlcore side by side with NumPy and (when importable) PyTorch, in one run.

Each op runs `--reps` times per library, the libraries interleaved round by round so
machine noise hits all alike; the table shows median milliseconds and the ratios
numpy/dlcore and torch/dlcore (above 1: dlcore is faster).

    python benchmarks/python/compare_core.py [--threads N] [--reps R]

dlcore and PyTorch each bring an OpenMP runtime; with both spinning after their ops,
each steals the cores from the other when interleaved. The script therefore asks for
passive waiting (OMP_WAIT_POLICY=PASSIVE, unless set already), the same for both.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before any OpenMP runtime loads

import numpy as np

import dlcore as dl

try:
    import torch
except ImportError:  # the project never requires torch
    torch = None


def timeit(fn, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def run_case(name, fns, reps, inner):
    for fn in fns.values():  # warm up
        fn()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            times[k].append(timeit(fn, inner))
    return name, {k: statistics.median(v) for k, v in times.items()}


def ref_softmax(x):
    """Softmax over rows, written in NumPy the plain way."""
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def ref_log_softmax(x):
    """Log-softmax over rows, written in NumPy the plain way."""
    shifted = x - x.max(1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(1, keepdims=True))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=dl.get_num_threads())
    p.add_argument("--reps", type=int, default=15)
    args = p.parse_args()
    dl.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)

    n = 1 << 24
    rng = np.random.default_rng(0)
    a_np = rng.random(n, dtype=np.float32)
    b_np = rng.random(n, dtype=np.float32)
    m_np = a_np.reshape(4096, 4096)
    x_np = rng.random((512, 512), dtype=np.float32)
    y_np = rng.random((512, 512), dtype=np.float32)
    z_np = rng.standard_normal((4096, 76), dtype=np.float32)  # logits: tokens x vocabulary
    s_np, t_np = np.ones(1, np.float32), np.ones(1, np.float32)

    a, b, m = dl.from_numpy(a_np), dl.from_numpy(b_np), dl.from_numpy(m_np)
    x, y, s, t = dl.from_numpy(x_np), dl.from_numpy(y_np), dl.tensor(s_np), dl.tensor(t_np)
    libs = {"dlcore": dict(a=a, b=b, m=m, x=x, y=y, z=dl.from_numpy(z_np), s=s, t=t)}
    if torch is not None:
        libs["torch"] = {k: torch.from_numpy(v) for k, v in
                         dict(a=a_np, b=b_np, m=m_np, x=x_np, y=y_np, z=z_np, s=s_np.copy(),
                              t=t_np.copy()).items()}

    cases = []

    def case(name, dlf, npf, tf, inner=1):
        fns = {"dlcore": lambda: dlf(libs["dlcore"]), "numpy": npf}
        if torch is not None and tf is not None:
            fns["torch"] = lambda: tf(libs["torch"])
        cases.append(run_case(name, fns, args.reps, inner))

    case("add 16M", lambda v: v["a"] + v["b"], lambda: np.add(a_np, b_np), lambda v: v["a"] + v["b"])
    case("mul 16M", lambda v: v["a"] * v["b"], lambda: np.multiply(a_np, b_np), lambda v: v["a"] * v["b"])
    case("relu 16M", lambda v: dl.relu(v["a"]), lambda: np.maximum(a_np, 0), lambda v: torch.relu(v["a"]))
    case("exp 16M", lambda v: dl.exp(v["a"]), lambda: np.exp(a_np), lambda v: torch.exp(v["a"]))
    case("sum 16M", lambda v: v["a"].sum(), lambda: a_np.sum(), lambda v: v["a"].sum())
    case("sum dim=0 4096x4096", lambda v: v["m"].sum(0), lambda: m_np.sum(0), lambda v: v["m"].sum(0))
    case("sum dim=1 4096x4096", lambda v: v["m"].sum(1), lambda: m_np.sum(1), lambda v: v["m"].sum(1))
    case("amax dim=1 4096x4096", lambda v: v["m"].amax(1), lambda: m_np.max(1), lambda v: v["m"].amax(1))
    case("x - rowmax 512x512", lambda v: v["x"] - v["x"].amax(1, keepdim=True),
         lambda: x_np - x_np.max(1, keepdims=True), lambda v: v["x"] - v["x"].amax(1, keepdim=True))
    case("softmax 512x512", lambda v: v["x"].softmax(1), lambda: ref_softmax(x_np),
         lambda v: v["x"].softmax(1))
    case("log_softmax 4096x76", lambda v: v["z"].log_softmax(1), lambda: ref_log_softmax(z_np),
         lambda v: v["z"].log_softmax(1))
    case("matmul 512", lambda v: v["x"] @ v["y"], lambda: x_np @ y_np, lambda v: v["x"] @ v["y"], inner=3)
    case("tiny add (1 elem)", lambda v: dl.add(v["s"], v["t"]), lambda: np.add(s_np, t_np),
         lambda v: torch.add(v["s"], v["t"]), inner=2000)

    print(f"dlcore {dl.__version__} ({dl.config()['isa']}), numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch is not None else ", torch not installed")
          + f"; {args.threads} thread(s); OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; "
          f"median of {args.reps} rounds")
    header = f"{'op':<22}{'dlcore':>12}{'numpy':>12}"
    if torch is not None:
        header += f"{'torch':>12}"
    header += f"{'numpy/dl':>10}" + (f"{'torch/dl':>10}" if torch is not None else "")
    print(header)
    for name, t in cases:
        unit, scale = ("us", 1e6) if t["dlcore"] < 1e-3 else ("ms", 1e3)
        row = f"{name:<22}" + "".join(f"{t[k] * scale:>10.3f}{unit}" for k in ("dlcore", "numpy", "torch") if k in t)
        row += f"{t['numpy'] / t['dlcore']:>10.2f}"
        if "torch" in t:
            row += f"{t['torch'] / t['dlcore']:>10.2f}"
        print(row)


if __name__ == "__main__":
    main()
