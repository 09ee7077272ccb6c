"""Attention, dlcore side by side with PyTorch, same inputs, same thread count.

Lines (float32): scaled_dot_product_attention at batch 8, heads 8, head dim 64,
T = 128, 512 and 2048, causal and not, forward (no grad) and forward+backward (of
out.sum() against a fixed gradient); and a training step of the tiny GPT of
examples/tiny_gpt.py (same weights, same batch, AdamW). `maxdiff` is the largest
difference between the two forward outputs. Rounds alternate between the libraries;
the table shows median milliseconds and the ratio torch/dlcore (above 1: dlcore is
faster). `--memory` also reports the peak resident memory of one forward+backward at
T = 4096 (batch 1, 8 heads), each library in a fresh process.

    python benchmarks/python/compare_attention.py [--threads 1,2] [--reps 5] [--json FILE]
        [--lengths 128,512,2048] [--memory] [--no-gpt | --gpt-only]
"""
import argparse
import json
import os
import subprocess
import sys

from per_thread import (argument_parser, fwd_and_bwd_lines, language_model_steps, libraries, print_ms_table,
                        run_main, time_lines, twins)

B, H, D = 8, 8, 64


def parse_args(argv=None):
    p = argument_parser(__doc__, reps=5)
    p.add_argument("--lengths", default="128,512,2048")
    p.add_argument("--memory", action="store_true", help="also measure peak memory at T=4096")
    p.add_argument("--no-gpt", action="store_true", help="skip the tiny-GPT training step")
    p.add_argument("--gpt-only", action="store_true", help="only the tiny-GPT training step")
    p.add_argument("--peak-worker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def attention_lines(lib, np, lengths):
    lines, diffs = [], {}
    rng = np.random.default_rng(0)
    for T in lengths:
        q, k, v, g = (rng.standard_normal((B, H, T, D)).astype(np.float32) for _ in range(4))
        for causal in (False, True):
            name = f"T={T}{' causal' if causal else ''}"
            ins = {n: [m.from_numpy(a.copy()) for a in (q, k, v)] for n, m in lib.items()}
            grads = {n: [m.from_numpy(a.copy()).requires_grad_() for a in (q, k, v)] for n, m in lib.items()}
            gout = {n: m.from_numpy(g.copy()) for n, m in lib.items()}

            def fwd(n, ins=ins, causal=causal):
                m = lib[n]
                with m.no_grad():
                    return m.nn.functional.scaled_dot_product_attention(*ins[n], is_causal=causal)

            def fwd_bwd(n, grads=grads, gout=gout, causal=causal):
                m = lib[n]
                out = m.nn.functional.scaled_dot_product_attention(*grads[n], is_causal=causal)
                out.backward(gout[n])

            lines += fwd_and_bwd_lines(lib, name, fwd, fwd_bwd, diffs)
    return lines, diffs


def gpt_line(lib, np):
    """One training step of examples/tiny_gpt.py's model, both libraries on the same weights."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    import tiny_gpt

    cfg = tiny_gpt.BENCH_CONFIG
    models = twins(lib, lambda m: tiny_gpt.TinyGPT(m, **cfg))
    data = np.random.default_rng(1).integers(0, cfg["vocab"], (32, cfg["block"] + 1))
    steps = language_model_steps(lib, models, data, cfg["vocab"], lambda m, p: m.optim.AdamW(p, lr=1e-3))
    return [(f"tiny-GPT step (batch 32, block {cfg['block']})", steps)]


def peak_worker(name, T):
    """Peak resident memory (MiB) of one forward+backward at length T, in this process."""
    import resource

    import numpy as np

    m = __import__(name)
    rng = np.random.default_rng(0)
    q, k, v = (m.from_numpy(rng.standard_normal((1, H, T, D)).astype(np.float32)).requires_grad_() for _ in range(3))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    m.nn.functional.scaled_dot_product_attention(q, k, v).sum().backward()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mib": (after - before) / 1024}))


def memory_rows(threads):
    rows = []
    for name in ("dlcore", "torch"):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        r = subprocess.run([sys.executable, __file__, "--peak-worker", name], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0:
            rows.append((name, json.loads(r.stdout.strip().splitlines()[-1])["peak_mib"]))
    return rows


def worker(args):
    import numpy as np

    lib = libraries(args.worker)
    lengths = [] if args.gpt_only else [int(x) for x in args.lengths.split(",")]
    lines, diffs = attention_lines(lib, np, lengths)
    if not args.no_gpt:
        lines += gpt_line(lib, np)
    print(json.dumps(time_lines(lines, args.reps, args.worker, diffs)))


def main():
    args = parse_args()
    if args.peak_worker:
        peak_worker(args.peak_worker, 4096)
        return
    extra = (["--reps", str(args.reps), "--lengths", args.lengths] + (["--no-gpt"] if args.no_gpt else [])
             + (["--gpt-only"] if args.gpt_only else []))
    run_main(__file__, args, worker, extra,
             lambda t, rows: print_ms_table(t, rows, args.reps, width=36))
    if args.memory:
        T = 4096
        print(f"\npeak resident memory of one forward+backward, T={T}, 1 x {H} heads x {D}: "
              f"(the scores alone would be {H * T * T * 4 / 2**20:.0f} MiB)")
        for name, mib in memory_rows(1):
            print(f"  {name:<8} {mib:8.1f} MiB")


if __name__ == "__main__":
    main()
