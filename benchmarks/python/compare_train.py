"""Training steps per second, dlcore side by side with PyTorch (when importable).

Two models, each built in both libraries with the same initial weights (copied through
NumPy) and fed the same batches in the same order:

  mnist   784-256-256-10 MLP with ReLU, batch 64, Adam (lr 1e-3), on the shipped MNIST subset
  digits  64-32-10 MLP with ReLU, batch 32, SGD (lr 0.05, momentum 0.9), on the shipped digits

A step is the whole PyTorch loop body: gather the batch, forward, cross-entropy,
zero_grad, backward, optimizer step. Rounds of `--steps` steps alternate between the
libraries (the order flips each round) and the table shows the median steps/second over
`--reps` rounds and the ratio dlcore/torch (above 1: dlcore is faster). Before timing, both
libraries train 100 steps from the same start and the losses at step 100 are compared.

    python benchmarks/python/compare_train.py [--threads 1,2] [--reps 7] [--steps 200] [--json FILE]

Each thread count runs in its own process (OpenMP fixes its pool when it loads).
"""
import json

from per_thread import argument_parser, libraries, run_main


def parse_args(argv=None):
    p = argument_parser(__doc__, reps=7)
    p.add_argument("--steps", type=int, default=200, help="steps per timed round")
    return p.parse_args(argv)


MODELS = {
    # name: (layer sizes, batch, optimizer, hyperparameters, dataset)
    "mnist": ([784, 256, 256, 10], 64, "adam", {"lr": 1e-3}, "mnist"),
    "digits": ([64, 32, 10], 32, "sgd", {"lr": 0.05, "momentum": 0.9}, "digits"),
}


def build(lib, sizes, weights):
    """An MLP in dlcore or torch whose Linear layers hold copies of `weights`."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(lib.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    model = lib.nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, lib.nn.Linear)]
    with lib.no_grad():
        for m, (w, b) in zip(linears, weights):
            m.weight.copy_(lib.from_numpy(w.copy()))
            m.bias.copy_(lib.from_numpy(b.copy()))
    return model


def make_optimizer(lib, model, kind, hyper):
    return (lib.optim.Adam if kind == "adam" else lib.optim.SGD)(model.parameters(), **hyper)


def trainer(lib, model, opt, x_all, y_all):
    f = lib.nn.functional

    def step(idx):
        x = x_all.index_select(0, idx)
        y = y_all.index_select(0, idx)
        loss = f.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def worker(args):
    import statistics
    import time

    import numpy as np

    import dlcore as dl

    libs = libraries(args.worker)
    data = {"mnist": dl.datasets.load_mnist_5k(as_tensors=False), "digits": dl.datasets.load_digits(as_tensors=False)}
    rows = []
    for name, (sizes, batch, kind, hyper, dataset) in MODELS.items():
        x_np, y_np = data[dataset]
        rng = np.random.default_rng(0)
        weights = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1 / np.sqrt(a)
            weights.append((rng.uniform(-bound, bound, (b, a)).astype(np.float32),
                            rng.uniform(-bound, bound, b).astype(np.float32)))
        n_batches = 1000
        order = [rng.choice(len(y_np), batch, replace=False).astype(np.int64) for _ in range(n_batches)]
        steps, losses = {}, {}
        for lname, lib in libs.items():
            model = build(lib, sizes, weights)
            opt = make_optimizer(lib, model, kind, hyper)
            step = trainer(lib, model, opt, lib.from_numpy(x_np.copy()), lib.from_numpy(y_np.copy()))
            idx = [lib.from_numpy(o) for o in order]
            loss = None
            for i in range(100):  # the agreement check: 100 steps from the same start
                loss = step(idx[i])
            losses[lname] = float(loss.item())
            steps[lname] = (step, idx)
        times = {k: [] for k in libs}
        for r in range(args.reps):
            names = list(libs) if r % 2 == 0 else list(libs)[::-1]
            for lname in names:
                step, idx = steps[lname]
                start = time.perf_counter()
                for i in range(args.steps):
                    step(idx[(100 + r * args.steps + i) % n_batches])
                times[lname].append(args.steps / (time.perf_counter() - start))
        rate = {k: statistics.median(v) for k, v in times.items()}
        row = {"model": name, "threads": args.worker, "batch": batch, "optimizer": kind,
               "steps_per_s": rate, "loss_at_100": losses}
        if "torch" in libs:
            row["ratio"] = rate["dlcore"] / rate["torch"]
            row["loss_rel_diff"] = abs(losses["dlcore"] - losses["torch"]) / abs(losses["torch"])
        rows.append(row)
    print(json.dumps(rows))


def show(args, t, rows):
    have_torch = "ratio" in rows[0]
    print(f"\nthreads {t}: training steps per second, median of {args.reps} rounds of {args.steps} steps")
    head = f"{'model':<8} {'batch':>5} {'optim':<5} {'dlcore':>9}"
    if have_torch:
        head += f" {'torch':>9} {'ratio':>7} {'loss@100 dlcore':>16} {'torch':>10} {'rel diff':>9}"
    print(head)
    for r in rows:
        line = f"{r['model']:<8} {r['batch']:>5} {r['optimizer']:<5} {r['steps_per_s']['dlcore']:>9.1f}"
        if have_torch:
            line += (f" {r['steps_per_s']['torch']:>9.1f} {r['ratio']:>7.2f} {r['loss_at_100']['dlcore']:>16.6f}"
                     f" {r['loss_at_100']['torch']:>10.6f} {r['loss_rel_diff']:>9.1e}")
        print(line)


def main():
    args = parse_args()
    run_main(__file__, args, worker, ["--reps", str(args.reps), "--steps", str(args.steps)],
             lambda t, rows: show(args, t, rows))


if __name__ == "__main__":
    main()
