"""dlcore matmul side by side with NumPy (OpenBLAS) and, when importable, PyTorch.

All libraries run with the same thread count, interleaved round by round so machine
noise hits all alike. Each cell is the median over `--reps` rounds; the table shows
GFLOP/s (2 M N K per product) and the ratios dlcore/numpy and dlcore/torch (above 1:
dlcore is faster).

    python benchmarks/python/compare_gemm.py [--threads 1,2] [--reps 11] [--quick] [--json FILE]

Shapes: square float32 32..2048, square float64 256..2048, and the products of a
dense layer's training step, forward C = A B and backward dA = dC B^T (NT),
dB = A^T dC (TN), for (64x784)x(784x256), (64x256)x(256x10), (256x4096)x(4096x1024).
The transposes are views in all three libraries: no copy is timed.

Each thread count runs in its own process, because OpenBLAS and OpenMP fix their
thread pools when they load.
"""
import json

from per_thread import argument_parser, run_main


def parse_args(argv=None):
    p = argument_parser(__doc__, reps=11)
    p.add_argument("--quick", action="store_true", help="sizes up to 512 only")
    return p.parse_args(argv)


def cases(quick):
    out = []
    top = 512 if quick else 2048
    n = 32
    while n <= top:
        out.append(("square", "float32", "NN", n, n, n))
        n *= 2
    n = 256
    while n <= top:
        out.append(("square", "float64", "NN", n, n, n))
        n *= 2
    for m, n, k in [(64, 256, 784), (64, 10, 256), (256, 1024, 4096)]:
        if quick and k > 1024:
            continue
        out += [("train fwd", "float32", "NN", m, n, k),
                ("train dA", "float32", "NT", m, k, n),
                ("train dB", "float32", "TN", k, n, m)]
    return out


def worker(args):
    """Runs every case at one thread count; prints one JSON list on stdout."""
    import statistics
    import time

    import numpy as np

    import dlcore as dl

    try:
        import torch
    except ImportError:  # the project never requires torch
        torch = None
    dl.set_num_threads(args.worker)
    if torch is not None:
        torch.set_num_threads(args.worker)
    rng = np.random.default_rng(0)
    rows = []
    for name, dtype, op, m, n, k in cases(args.quick):
        # Stored operands: A is M x K (K x M when transposed), B is K x N (N x K).
        a = rng.standard_normal((k, m) if op[0] == "T" else (m, k)).astype(dtype)
        b = rng.standard_normal((n, k) if op[1] == "T" else (k, n)).astype(dtype)

        def views(x, y, lib_t):
            return (lib_t(x) if op[0] == "T" else x), (lib_t(y) if op[1] == "T" else y)

        fns = {}
        xa, xb = views(a, b, lambda t: t.T)
        fns["numpy"] = lambda xa=xa, xb=xb: np.matmul(xa, xb)
        da, db = views(dl.from_numpy(a), dl.from_numpy(b), lambda t: t.T)
        fns["dlcore"] = lambda da=da, db=db: dl.matmul(da, db)
        if torch is not None:
            ta, tb = views(torch.from_numpy(a), torch.from_numpy(b), lambda t: t.T)
            fns["torch"] = lambda ta=ta, tb=tb: torch.matmul(ta, tb)
        ref = np.matmul(a.T if op[0] == "T" else a, b.T if op[1] == "T" else b)
        got = fns["dlcore"]().numpy()
        tol = 1e-3 if dtype == "float32" else 1e-10
        if not np.allclose(got, ref, rtol=tol, atol=tol * np.sqrt(k)):
            raise SystemExit(f"compare_gemm: dlcore's {op} {m}x{n}x{k} result differs from NumPy's")
        flop = 2.0 * m * n * k
        t0 = time.perf_counter()
        fns["numpy"]()
        inner = max(1, int(0.01 / max(time.perf_counter() - t0, 1e-7)))
        times = {lib: [] for lib in fns}
        for fn in fns.values():
            fn()
        for _ in range(args.reps):
            for lib, fn in fns.items():
                t0 = time.perf_counter()
                for _ in range(inner):
                    fn()
                times[lib].append((time.perf_counter() - t0) / inner)
        gflops = {lib: flop / statistics.median(t) / 1e9 for lib, t in times.items()}
        rows.append(dict(threads=args.worker, case=name, dtype=dtype, op=op, M=m, N=n, K=k,
                         gflops=gflops))
    print(json.dumps(rows))


def show(args, t, rows):
    have_torch = "torch" in rows[0]["gflops"]
    print(f"\nthreads {t}: GFLOP/s, median of {args.reps} interleaved rounds")
    head = f"{'case':<10} {'type':<8} {'op':<3} {'M':>5} {'N':>5} {'K':>5} {'dlcore':>8} {'numpy':>8}"
    head += f" {'torch':>8}" if have_torch else ""
    head += f" {'vs numpy':>9}" + (f" {'vs torch':>9}" if have_torch else "")
    print(head)
    for r in rows:
        g = r["gflops"]
        line = (f"{r['case']:<10} {r['dtype']:<8} {r['op']:<3} {r['M']:>5} {r['N']:>5} {r['K']:>5}"
                f" {g['dlcore']:>8.1f} {g['numpy']:>8.1f}")
        line += f" {g['torch']:>8.1f}" if have_torch else ""
        line += f" {g['dlcore'] / g['numpy']:>9.2f}"
        line += f" {g['dlcore'] / g['torch']:>9.2f}" if have_torch else ""
        print(line)


def main():
    args = parse_args()
    extra = ["--reps", str(args.reps)] + (["--quick"] if args.quick else [])
    run_main(__file__, args, worker, extra, lambda t, rows: show(args, t, rows))


if __name__ == "__main__":
    main()
