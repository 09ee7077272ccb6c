"""Sequence labelling with a bidirectional GRU (many-to-many): restore the capital letters
of lower-cased Shakespeare lines.

Every line of the shipped plays (up to 80 characters) is lower-cased; the model reads it
both ways and labels each character "upper" or "lower". Whether a letter was a capital
depends on both sides of it: the start of a sentence or a verse line (left), a speaker
name such as "HAMLET." written all in capitals (both). Lines have different lengths, so each
batch is packed with ``pack_padded_sequence`` and the GRU stops every line at its own end.

Prints the loss per epoch and, on held-out lines, the F1 score of the capitals against the
simple rule "capitalise the first letter of the line" (about 0.92 against 0.59 after the
default 4 epochs, some 20 s on 2 cores).

    python examples/bigru_capitalize.py [--epochs 4] [--lines 6000]
"""
import argparse
import time

import numpy as np

import dlcore as dl
from dlcore import nn, optim
from dlcore.nn import functional as F
from dlcore.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

parser = argparse.ArgumentParser(description="capitalisation restoring with a bidirectional GRU")
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--lines", type=int, default=6000, help="training lines")
parser.add_argument("--hidden", type=int, default=64)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
dl.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)

text = dl.datasets.load_shakespeare()
lines = [ln for ln in text.split("\n") if 2 <= len(ln.strip()) and len(ln) <= 80 and any(c.isalpha() for c in ln)]
rng.shuffle(lines)
test_lines, train_lines = lines[:2000], lines[2000:2000 + args.lines]
vocab = dl.datasets.CharVocab(text.lower())


def batch(group):
    """Padded inputs (B, T), padded labels (B, T) (-100 past each end) and the lengths."""
    T = max(len(s) for s in group)
    x = np.zeros((len(group), T), np.int64)
    y = np.full((len(group), T), -100, np.int64)
    for b, s in enumerate(group):
        x[b, :len(s)] = vocab.encode(s.lower())
        y[b, :len(s)] = [c.isupper() for c in s]
    return dl.from_numpy(x), dl.from_numpy(y), [len(s) for s in group]


class Capitalizer(nn.Module):
    def __init__(self, vocab_size, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 32)
        self.gru = nn.GRU(32, hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 2)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.embed(x), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return self.head(out)  # (B, T, 2)


def f1(pred, truth):
    tp = np.sum(pred & truth)
    return 2 * tp / max(np.sum(pred) + np.sum(truth), 1)


def evaluate(model):
    preds, truths, rule = [], [], []
    with dl.no_grad():
        for k in range(0, len(test_lines), 256):
            x, y, lengths = batch(test_lines[k:k + 256])
            p = model(x, lengths).argmax(-1).numpy()
            y = y.numpy()
            keep = y >= 0
            preds.append(p[keep] == 1)
            truths.append(y[keep] == 1)
            first = np.zeros_like(y, dtype=bool)
            for b, s in enumerate(test_lines[k:k + 256]):
                i = next(i for i, c in enumerate(s) if c.isalpha())
                first[b, i] = True
            rule.append(first[keep])
    p, t, r = np.concatenate(preds), np.concatenate(truths), np.concatenate(rule)
    return f1(p, t), f1(r, t)


model = Capitalizer(len(vocab), args.hidden)
opt = optim.Adam(model.parameters(), lr=3e-3)
print(f"{len(train_lines)} training lines, {len(test_lines)} test lines, {len(vocab)} characters")
start = time.perf_counter()
for epoch in range(1, args.epochs + 1):
    order = rng.permutation(len(train_lines))
    total, count = 0.0, 0
    for k in range(0, len(order), 32):
        x, y, lengths = batch([train_lines[i] for i in order[k:k + 32]])
        loss = F.cross_entropy(model(x, lengths).reshape(-1, 2), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total, count = total + loss.item(), count + 1
    score, baseline = evaluate(model)
    print(f"epoch {epoch}  loss {total / count:.4f}  capitals F1 {score:.3f}  (first-letter rule {baseline:.3f})")
print(f"final capitals F1 {score:.3f} ({time.perf_counter() - start:.1f} s)")
x, _, lengths = batch(test_lines[:4])
with dl.no_grad():
    p = model(x, lengths).argmax(-1).numpy()
for b, s in enumerate(test_lines[:4]):
    print(f"  {s.lower()!r:>50} -> {''.join(c.upper() if p[b, i] else c for i, c in enumerate(s.lower()))!r}")
