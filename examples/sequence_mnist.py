"""Classify the shipped handwritten digits read row by row as sequences (many-to-one).

Each 8x8 digit is a sequence of 8 rows of 8 pixels (with ``--data mnist``, a 28x28 MNIST
image is 28 rows of 28). A GRU or an LSTM reads the rows and a linear layer classifies its
last hidden state. Prints loss and test accuracy per epoch (97-99% on the digits with
either cell).

    python examples/sequence_mnist.py [--cell gru|lstm] [--data digits|mnist] [--epochs 30]
"""
import argparse
import time

import dlcore as dl
from dlcore import nn, optim
from dlcore.nn import functional as F
from dlcore.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser(description="row-by-row sequence classification of digits")
parser.add_argument("--cell", choices=["gru", "lstm"], default="gru")
parser.add_argument("--data", choices=["digits", "mnist"], default="digits")
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--hidden", type=int, default=128)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
dl.manual_seed(args.seed)

load = dl.datasets.load_digits if args.data == "digits" else dl.datasets.load_mnist_5k
(x_train, y_train), (x_test, y_test) = load(split=True, seed=args.seed)
side = 8 if args.data == "digits" else 28


class RowReader(nn.Module):
    """(batch, rows, pixels) -> class scores from the last hidden state."""

    def __init__(self, cell, pixels, hidden, classes=10):
        super().__init__()
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(pixels, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h = self.rnn(x)
        h_n = h[0] if isinstance(h, tuple) else h  # LSTM returns (h_n, c_n)
        return self.head(h_n[-1])


model = RowReader(args.cell, side, args.hidden)
opt = optim.Adam(model.parameters(), lr=1e-2)
sched = optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
loader = DataLoader(TensorDataset(x_train.reshape(-1, side, side), y_train), batch_size=64, shuffle=True)
x_test = x_test.reshape(-1, side, side)
print(f"{args.cell.upper()} reading {side} rows of {side} pixels: {len(y_train)} train, {len(y_test)} test images")

start = time.perf_counter()
for epoch in range(1, args.epochs + 1):
    model.train()
    total = 0.0
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(yb)
    sched.step()
    model.eval()
    with dl.no_grad():
        acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"epoch {epoch:3d}  loss {total / len(y_train):.4f}  test accuracy {acc:.4f}")
print(f"final test accuracy {acc:.4f} ({time.perf_counter() - start:.1f} s)")
