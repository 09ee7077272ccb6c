"""Train a multilayer perceptron on the 8x8 handwritten digits that ship with dlcore.

The PyTorch training loop, with ``import dlcore as dl`` in place of ``import torch``:
a model, a loss, an optimizer, a DataLoader, ``loss.backward()``, ``opt.step()``, and a
checkpoint saved after every epoch (``mlp_digits.safetensors``, written atomically) that
the script reloads at the end to check the test accuracy. With matplotlib installed it
also writes the training curve to ``mlp_digits_curve.png``.

    python examples/train_mlp.py [--epochs 30] [--out DIR]
"""
import argparse
import os

import dlcore as dl
from dlcore import nn, optim
from dlcore.utils.data import DataLoader, TensorDataset
from dlcore.utils.progress import progress

parser = argparse.ArgumentParser(description="MLP on the shipped 8x8 digits")
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--out", default=".", help="where the checkpoint and the curve go")
args = parser.parse_args()

dl.manual_seed(0)

# Data: a stratified 80/20 split, pixels standardised with the training statistics.
(x_train, y_train), (x_test, y_test) = dl.datasets.load_digits(split=True)
mean, std = x_train.mean(0), x_train.std(0) + 0.1
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)

# Model, loss, optimizer and learning-rate schedule.
model = nn.Sequential(
    nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(256, 10),
)
nn.summary(model, (1, 64))
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)


def evaluate(x, y):
    model.eval()
    with dl.no_grad():
        correct = (model(x).argmax(dim=1) == y).sum().item()
    model.train()
    return correct / y.shape[0]


checkpoint = os.path.join(args.out, "mlp_digits.safetensors")
history = []
for epoch in range(args.epochs):
    running = 0.0
    bar = progress(loader, desc=f"epoch {epoch + 1}")
    for inputs, targets in bar:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        running += loss.item() * inputs.shape[0]
        bar.set_postfix(loss=loss.item())
    scheduler.step()
    history.append((running / len(loader.dataset), evaluate(x_test, y_test)))
    print(f"epoch {epoch + 1:3d}  loss {history[-1][0]:.4f}  test accuracy {history[-1][1]:.4f}")
    dl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch + 1}, checkpoint)

# Reload the last checkpoint into a fresh model: the same accuracy.
state = dl.load(checkpoint)
model.load_state_dict(state["model"])
print(f"checkpoint of epoch {state['epoch']} reloaded: test accuracy {evaluate(x_test, y_test):.4f}")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([h[0] for h in history], label="training loss")
    ax.plot([h[1] for h in history], label="test accuracy")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "mlp_digits_curve.png"), dpi=100)
    print("training curve written to", os.path.join(args.out, "mlp_digits_curve.png"))
except ImportError:
    pass
