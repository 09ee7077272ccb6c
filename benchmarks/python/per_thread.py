"""Runs a benchmark script once per thread count, each in its own process (OpenMP and
OpenBLAS fix their thread pools when they load), and collects the JSON list of rows each
worker prints as its last line."""
import argparse
import json
import os
import subprocess
import sys


def run_workers(script, thread_counts, extra_args=()):
    """Yields (threads, rows) for each thread count; the worker is `script --worker T ...`."""
    for t in thread_counts:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t))
        # Each library keeps its idle threads spinning for a while after a call
        # (OpenBLAS for about 0.1 s by default), and a spinning pool steals the
        # cores from the library timed next. All get the same short spin, a few
        # tens of microseconds, before their threads sleep.
        env.setdefault("GOMP_SPINCOUNT", "30000")  # dlcore's and PyTorch's OpenMP
        env.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")  # 2**16 cycles
        cmd = [sys.executable, script, "--worker", str(t), *extra_args]
        out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        yield t, json.loads(out.strip().splitlines()[-1])


def argument_parser(doc, reps):
    """The compare scripts' common flags: --threads, --reps, --json (and the hidden --worker)."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--reps", type=int, default=reps)
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    return p


def run_main(script, args, worker, extra_args, show):
    """A compare script's main: in a worker process, `worker(args)`; otherwise one worker per
    thread count in `args.threads`, `show(threads, rows)` for each, and all rows written to
    `args.json` when given."""
    if args.worker:
        worker(args)
        return
    results = []
    for t, rows in run_workers(script, [int(x) for x in args.threads.split(",")], extra_args):
        results += rows
        show(t, rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def libraries(threads):
    """{"dlcore": dlcore, "torch": torch (when importable)}, both set to `threads` threads."""
    import dlcore

    libs = {"dlcore": dlcore}
    try:
        import torch

        torch.set_num_threads(threads)
        libs["torch"] = torch
    except ImportError:
        pass
    dlcore.set_num_threads(threads)
    return libs


def twins(lib, build):
    """{library: module}: build(dlcore) and, with torch in lib, build(torch) loaded with the same
    weights, so both libraries run the same network."""
    import dlcore as dl

    dl.manual_seed(0)
    m = build(dl)
    out = {"dlcore": m}
    if "torch" in lib:
        torch = lib["torch"]
        t = build(torch)
        t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
        out["torch"] = t
    return out


def fwd_and_bwd_lines(lib, name, fwd, fwd_bwd, diffs):
    """The two lines "<name> fwd" and "<name> fwd+bwd" for time_lines, from fwd(library) (returning
    the output) and fwd_bwd(library); records in diffs the largest difference between the two
    libraries' forward outputs."""
    import numpy as np

    outs = {k: fwd(k).numpy() for k in lib}
    if "torch" in outs:
        diffs[name + " fwd"] = float(np.abs(outs["dlcore"] - outs["torch"]).max())
    return [(name + " fwd", {k: (lambda k=k: fwd(k)) for k in lib}),
            (name + " fwd+bwd", {k: (lambda k=k: fwd_bwd(k)) for k in lib})]


def language_model_steps(lib, models, data, vocab, make_opt):
    """{library: step}: one training step of a next-token model (logits (B, T, vocab)) on the
    integer array data (B, T + 1): cross-entropy, backward, make_opt(library, params).step()."""
    steps = {}
    for k, m in lib.items():
        model = models[k]
        opt = make_opt(m, model.parameters())
        x, y = m.from_numpy(data[:, :-1].copy()), m.from_numpy(data[:, 1:].copy())

        def step(model=model, opt=opt, x=x, y=y, m=m):
            loss = m.nn.functional.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()

        steps[k] = step
    return steps


def time_lines(lines, reps, threads, diffs=None):
    """Times each (name, {library: callable}) line: one warm-up call each, then `reps` rounds
    alternating the order of the libraries. Rows hold median milliseconds and, with torch,
    the ratio torch/dlcore (above 1: dlcore is faster), and "maxdiff" where `diffs` (from
    fwd_and_bwd_lines) has the line."""
    import statistics
    import time

    rows = []
    for name, fns in lines:
        for f in fns.values():
            f()
        times = {k: [] for k in fns}
        for r in range(reps):
            for k in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
                start = time.perf_counter()
                fns[k]()
                times[k].append(time.perf_counter() - start)
        ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
        row = {"case": name, "threads": threads, "ms": ms}
        if "torch" in ms:
            row["ratio"] = ms["torch"] / ms["dlcore"]
        if diffs and name in diffs:
            row["maxdiff"] = diffs[name]
        rows.append(row)
    return rows


def print_ms_table(threads, rows, reps, width=34, extra=None):
    """The table of time_lines rows, with a row's maxdiff when it has one; extra(row) may add
    a column string."""
    have_torch = "ratio" in rows[0]
    print(f"\nthreads {threads}: milliseconds, median of {reps} rounds")
    print(f"{'case':<{width}} {'dlcore':>9}" + (f" {'torch':>9} {'torch/dlcore':>13}" if have_torch else ""))
    for r in rows:
        line = f"{r['case']:<{width}} {r['ms']['dlcore']:>9.2f}"
        if have_torch:
            line += f" {r['ms']['torch']:>9.2f} {r['ratio']:>13.2f}"
        if "maxdiff" in r:
            line += f"  maxdiff {r['maxdiff']:.1e}"
        print(line + (extra(r) if extra else ""))
