"""dlcore's demo: a two-layer network on the 8x8 handwritten digits, written with raw
tensors and autograd (no layers yet), trained with minibatch SGD with momentum.

Run it with ``python -m dlcore.demo``; it prints the loss and accuracy per epoch and the
final test accuracy (about 97%).
"""
import argparse
import time

import numpy as np

import dlcore as dl
from dlcore.datasets import load_digits, train_test_split


def cross_entropy(logits, labels):
    """Mean negative log-likelihood of the labels under softmax(logits)."""
    logp = logits.log_softmax(1)
    return -logp.gather(1, labels.unsqueeze(1)).mean()


def accuracy(logits, labels):
    return (logits.argmax(1) == labels).float().mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    dl.manual_seed(args.seed)
    images, labels = load_digits()
    train_idx, test_idx = train_test_split(images.shape[0], 0.2, seed=args.seed)
    x_train, y_train = images[dl.tensor(train_idx)], labels[dl.tensor(train_idx)]
    x_test, y_test = images[dl.tensor(test_idx)], labels[dl.tensor(test_idx)]
    print(f"dlcore {dl.__version__} ({dl.config()['isa']}, {dl.get_num_threads()} threads): "
          f"{x_train.shape[0]} training and {x_test.shape[0]} test images of 8x8 digits")

    # Parameters, initialised like PyTorch's Linear (uniform in +-1/sqrt(fan_in)).
    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return (dl.rand(*shape) * (2 * bound) - bound).requires_grad_()

    params = [uniform((64, args.hidden), 64), uniform((args.hidden,), 64),
              uniform((args.hidden, 10), args.hidden), uniform((10,), args.hidden)]
    w1, b1, w2, b2 = params
    velocity = [dl.zeros_like(p) for p in params]

    def forward(x):
        return (x @ w1 + b1).relu() @ w2 + b2

    order_rng = np.random.default_rng(args.seed)
    n = x_train.shape[0]
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        perm = dl.tensor(order_rng.permutation(n))
        total = 0.0
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            loss = cross_entropy(forward(x_train[idx]), y_train[idx])
            for p in params:
                p.grad = None
            loss.backward()
            with dl.no_grad():
                for p, v in zip(params, velocity):
                    v.mul_(0.9).add_(p.grad)
                    p.sub_(v, alpha=args.lr)
            total += loss.item() * idx.shape[0]
        if epoch == 1 or epoch % 5 == 0 or epoch == args.epochs:
            with dl.no_grad():
                train_acc = accuracy(forward(x_train), y_train)
                test_acc = accuracy(forward(x_test), y_test)
            print(f"epoch {epoch:3d}  loss {total / n:.4f}  train acc {train_acc:.3f}  "
                  f"test acc {test_acc:.3f}")
    with dl.no_grad():
        test_acc = accuracy(forward(x_test), y_test)
    print(f"trained in {time.perf_counter() - start:.2f} s; final test accuracy {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main()
