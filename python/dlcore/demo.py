"""dlcore's demo: a convolutional network (LeNet-5) on the 8x8 handwritten digits shipped
with the package, or with ``--model mlp`` a multilayer perceptron, trained with the
PyTorch-shaped API (nn modules, CrossEntropyLoss with label smoothing, a DataLoader, an
optimizer and a learning-rate schedule), with a progress bar per epoch on a terminal.

Run it with ``python -m dlcore.demo``; it prints the loss and accuracy every few epochs and
the final test accuracy on the held-out, stratified fifth of the digits: about 99% for the
CNN (the digits resized to 28x28, shifted by up to 2 pixels per batch, AdamW with a
one-cycle schedule; some ten seconds on two cores) and 98-99% for the MLP (SGD with
momentum and a cosine schedule; about two seconds). ``examples/train_lenet.py`` and
``examples/train_mlp.py`` are the same as readable scripts.
"""
import argparse
import time

import numpy as np

import dlcore as dl
from dlcore import nn, optim
from dlcore.nn import functional as F
from dlcore.utils.data import DataLoader, TensorDataset
from dlcore.utils.progress import progress
from dlcore.vision.models import LeNet5


def make_model(hidden=256, dropout=0.2):
    """The MLP: 64 - hidden - hidden - 10 with ReLU and dropout."""
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, 10))


def accuracy(model, x, y):
    model.eval()
    with dl.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    model.train()
    return acc


def setup_mlp(args, x_train, x_test, steps_per_epoch):
    # Standardise each pixel with the training set's statistics.
    mean, std = x_train.mean(0), x_train.std(0) + 0.1
    model = make_model(args.hidden)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    epoch_sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    return model, opt, epoch_sched, None, (x_train - mean) / std, (x_test - mean) / std, lambda x: x


def setup_cnn(args, x_train, x_test, steps_per_epoch):
    def images(x):  # 8x8 digits -> 28x28 images in [-1, 1]
        return (F.interpolate(x.reshape(-1, 1, 8, 8), size=(28, 28), mode="bilinear") - 0.5) / 0.5

    shifts = np.random.default_rng(args.seed)

    def augment(x, most=2):  # the batch moved by up to 2 pixels each way
        i, j = shifts.integers(0, 2 * most + 1, 2)
        return F.pad(x, (most,) * 4, value=-1.0)[:, :, i:i + 28, j:j + 28]

    model = LeNet5()
    opt = optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    batch_sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=args.epochs * steps_per_epoch)
    return model, opt, None, batch_sched, images(x_train), images(x_test), augment


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    parser.add_argument("--epochs", type=int, default=None, help="25 for the CNN, 30 for the MLP")
    parser.add_argument("--hidden", type=int, default=256, help="MLP width")
    parser.add_argument("--batch-size", type=int, default=None, help="64 for the CNN, 32 for the MLP")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="draw progress bars even when not on a terminal")
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (25 if args.model == "cnn" else 30)
    args.batch_size = args.batch_size or (64 if args.model == "cnn" else 32)

    dl.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = dl.datasets.load_digits(split=True, seed=args.seed)
    print(f"dlcore {dl.__version__} ({dl.config()['isa']}, {dl.get_num_threads()} threads): a {args.model.upper()} on "
          f"{x_train.shape[0]} training and {x_test.shape[0]} test images of 8x8 digits")
    steps = -(-x_train.shape[0] // args.batch_size)
    setup = setup_cnn if args.model == "cnn" else setup_mlp
    model, opt, epoch_sched, batch_sched, x_train, x_test, augment = setup(args, x_train, x_test, steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, seen = 0.0, 0
        bar = progress(loader, desc=f"epoch {epoch:3d}", unit="batch", force=args.progress)
        for x, y in bar:
            loss = loss_fn(model(augment(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if batch_sched is not None:
                batch_sched.step()
            total += loss.item() * x.shape[0]
            seen += x.shape[0]
            bar.set_postfix(loss=total / seen)
        if epoch_sched is not None:
            epoch_sched.step()
        if epoch == 1 or epoch % 5 == 0 or epoch == args.epochs:
            print(f"epoch {epoch:3d}  loss {total / seen:.4f}  train acc {accuracy(model, x_train, y_train):.3f}  "
                  f"test acc {accuracy(model, x_test, y_test):.3f}")
    test_acc = accuracy(model, x_test, y_test)
    print(f"trained in {time.perf_counter() - start:.2f} s; final test accuracy {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main()
