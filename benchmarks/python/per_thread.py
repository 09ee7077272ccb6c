"""Runs a benchmark script once per thread count, each in its own process (OpenMP and
OpenBLAS fix their thread pools when they load), and collects the JSON list of rows each
worker prints as its last line."""
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
