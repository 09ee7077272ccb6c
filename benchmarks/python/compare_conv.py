"""Convolutional building blocks and CNN training steps, dlcore side by side with PyTorch.

Lines (float32, NCHW), each forward and forward+backward:
  conv2d  (32, 3->64, 32x32, 3x3, pad 1), (32, 64->64, 16x16, 3x3, pad 1),
          (32, 64->128, 16x16, 1x1), (64, 1->6, 28x28, 5x5), (64, 6->16, 14x14, 5x5),
          depthwise (32, 64, 32x32, 3x3)
  max_pool2d and avg_pool2d 2x2 on (32, 64, 32, 32); BatchNorm2d on (32, 64, 32, 32)
and training steps (forward, cross-entropy, backward, SGD step) of LeNet-5 (batch 64,
1x28x28) and a small CIFAR ResNet (resnet_cifar depth 8, width 16, batch 64, 3x32x32),
built with the same initial weights in both libraries. Rounds alternate between the
libraries; the table shows median milliseconds and the ratio torch/dlcore (above 1:
dlcore is faster).

    python benchmarks/python/compare_conv.py [--threads 1,2] [--reps 7] [--json FILE]
"""
import json

from per_thread import argument_parser, libraries, print_ms_table, run_main, time_lines

CONVS = [  # name, N, C, O, H, k, padding, groups
    ("conv 3->64 32x32 3x3", 32, 3, 64, 32, 3, 1, 1),
    ("conv 64->64 16x16 3x3", 32, 64, 64, 16, 3, 1, 1),
    ("conv 64->128 16x16 1x1", 32, 64, 128, 16, 1, 0, 1),
    ("conv 1->6 28x28 5x5", 64, 1, 6, 28, 5, 0, 1),
    ("conv 6->16 14x14 5x5", 64, 6, 16, 14, 5, 0, 1),  # LeNet's second layer
    ("depthwise 64 32x32 3x3", 32, 64, 64, 32, 3, 1, 64),
]


def parse_args(argv=None):
    p = argument_parser(__doc__, reps=7)
    return p.parse_args(argv)


def cases(lib, np):
    """(name, {library: callable}) for every line; each callable runs the line once."""
    out = []
    rng = np.random.default_rng(0)

    def tensors(*shapes, grad=False):
        arrays = [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
        return {name: [m.from_numpy(a.copy()).requires_grad_(grad) for a in arrays] for name, m in lib.items()}

    for name, n, c, o, h, k, pad, g in CONVS:
        args = tensors((n, c, h, h), (o, c // g, k, k), (o,), grad=True)

        def fwd(m, x, w, b, pad=pad, g=g):
            with m.no_grad():
                return m.nn.functional.conv2d(x, w, b, padding=pad, groups=g)

        def fwd_bwd(m, x, w, b, pad=pad, g=g):
            m.nn.functional.conv2d(x, w, b, padding=pad, groups=g).sum().backward()

        out.append((name + " fwd", {k_: (lambda m=lib[k_], a=args[k_], f=fwd: f(m, *a)) for k_ in lib}))
        out.append((name + " fwd+bwd", {k_: (lambda m=lib[k_], a=args[k_], f=fwd_bwd: f(m, *a)) for k_ in lib}))
    x = tensors((32, 64, 32, 32), grad=True)
    for pool in ("max_pool2d", "avg_pool2d"):
        out.append((f"{pool} 2x2 fwd+bwd",
                    {k_: (lambda m=lib[k_], a=x[k_], p=pool: getattr(m.nn.functional, p)(a[0], 2).sum().backward())
                     for k_ in lib}))
    bns = {k_: lib[k_].nn.BatchNorm2d(64) for k_ in lib}
    out.append(("BatchNorm2d fwd+bwd", {k_: (lambda b=bns[k_], a=x[k_]: b(a[0]).sum().backward()) for k_ in lib}))
    return out


def training_steps(lib, np):
    import dlcore as dl
    from dlcore.vision import models

    out = []
    for name, build, shape in [("LeNet-5 step (64)", lambda m: models.LeNet5(), (64, 1, 28, 28)),
                               ("ResNet-8 step (64)", lambda m: models.resnet_cifar(depth=8, width=16),
                                (64, 3, 32, 32))]:
        dl.manual_seed(0)
        ref_model = build(dl)
        state = {k: v.numpy().copy() for k, v in ref_model.state_dict().items()}
        rng = np.random.default_rng(1)
        x_np = rng.normal(size=shape).astype(np.float32)
        y_np = rng.integers(0, 10, shape[0])
        steps = {}
        for lname, m in lib.items():
            model = ref_model if lname == "dlcore" else _torch_twin(m, ref_model)
            model.load_state_dict({k: m.from_numpy(v.copy()) for k, v in state.items()})
            opt = m.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            x, y = m.from_numpy(x_np.copy()), m.from_numpy(y_np.copy())

            def step(model=model, opt=opt, x=x, y=y, m=m):
                loss = m.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()

            steps[lname] = step
        out.append((name, steps))
    return out


def _torch_twin(torch, model):
    """The same architecture in torch, built from the dlcore module tree."""
    import dlcore.nn as dnn

    def convert(m):
        kind = type(m).__name__
        if isinstance(m, dnn.Conv2d):
            return torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                                   m.groups, m.bias is not None)
        if isinstance(m, dnn.Linear):
            return torch.nn.Linear(m.in_features, m.out_features, m.bias is not None)
        if isinstance(m, dnn.BatchNorm2d):
            return torch.nn.BatchNorm2d(m.num_features, m.eps, m.momentum)
        if isinstance(m, (dnn.MaxPool2d, dnn.AvgPool2d)):
            return getattr(torch.nn, kind)(m.kernel_size, m.stride, m.padding)
        if isinstance(m, dnn.AdaptiveAvgPool2d):
            return torch.nn.AdaptiveAvgPool2d(m.output_size)
        if kind in ("ReLU", "Flatten", "Identity", "Tanh"):
            return getattr(torch.nn, kind)()
        twin = TorchModule(torch, m, {name: convert(c) for name, c in m.named_children()})
        return twin

    return convert(model)


class TorchModule:
    """A torch module whose forward is the dlcore module's forward applied to torch children."""

    def __new__(cls, torch, dl_module, children):
        class Twin(torch.nn.Module):
            def __init__(self):
                super().__init__()
                for name, c in children.items():
                    self.add_module(name, c)

            def forward(self, x):
                if type(dl_module).__name__ == "Sequential":
                    for c in self.children():
                        x = c(x)
                    return x
                return type(dl_module).forward(self, x)

        return Twin()


def worker(args):
    import numpy as np

    lib = libraries(args.worker)
    print(json.dumps(time_lines(cases(lib, np) + training_steps(lib, np), args.reps, args.worker)))


def main():
    args = parse_args()
    run_main(__file__, args, worker, ["--reps", str(args.reps)], lambda t, rows: print_ms_table(t, rows, args.reps))


if __name__ == "__main__":
    main()
