"""A character-level LSTM language model trained on the Shakespeare text shipped with dlcore.

Embedding (76 characters -> 64) -> 2-layer LSTM (256 units) -> linear head over the
characters, trained with Adam on random windows of 64 characters (batch 32), gradients
clipped at norm 1. Prints the training loss, the validation loss and perplexity on the
last 5% of the text (never trained on), the steps per second, and a sampled continuation
of a prompt, generated one character at a time with the LSTM's state carried along.

The default 600 steps (about 100 s on 2 cores) reach a validation loss of about 1.85
(perplexity ~6.4), against ln 76 = 4.33 for a uniform guess; the samples already show
speaker names, verse lines and mostly real words.

    python examples/char_lstm.py [--steps 600] [--prompt "HAMLET."] [--temperature 0.8]
"""
import argparse
import time

import numpy as np

import dlcore as dl
from dlcore import nn, optim
from dlcore.nn import functional as F

parser = argparse.ArgumentParser(description="character LSTM on Shakespeare")
parser.add_argument("--steps", type=int, default=600)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--seq-len", type=int, default=64)
parser.add_argument("--hidden", type=int, default=256)
parser.add_argument("--layers", type=int, default=2)
parser.add_argument("--lr", type=float, default=3e-3)
parser.add_argument("--prompt", default="HAMLET.\n")
parser.add_argument("--sample-len", type=int, default=300)
parser.add_argument("--temperature", type=float, default=0.8)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
dl.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
gen = dl.Generator().manual_seed(args.seed)  # draws the sampled characters

text = dl.datasets.load_shakespeare()
vocab = dl.datasets.CharVocab(text)
codes = vocab.encode(text)
n_val = len(codes) // 20
train, val = codes[:-n_val], codes[-n_val:]


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed, hidden, layers):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def windows(source, n, length):
    """n random windows of length + 1 characters: inputs and next-character targets."""
    starts = rng.integers(0, len(source) - length - 1, n)
    block = np.stack([source[s:s + length + 1] for s in starts])
    return dl.from_numpy(block[:, :-1].copy()), dl.from_numpy(block[:, 1:].copy())


def loss_of(model, x, y):
    logits, _ = model(x)
    return F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))


def sample(model, prompt, length, temperature):
    """Feeds the prompt, then draws one character at a time from the softmax."""
    model.eval()
    out = list(prompt)
    with dl.no_grad():
        logits, state = model(dl.from_numpy(vocab.encode(prompt)[None]))
        for _ in range(length):
            c = dl.multinomial(F.softmax(logits[0, -1] / temperature, 0), 1, generator=gen).item()
            out.append(vocab.chars[c])
            logits, state = model(dl.tensor([[c]]), state)
    model.train()
    return "".join(out)


model = CharLSTM(len(vocab), 64, args.hidden, args.layers)
opt = optim.Adam(model.parameters(), lr=args.lr)
sched = optim.lr_scheduler.CosineAnnealingLR(opt, args.steps, eta_min=args.lr / 10)
x_val, y_val = windows(val, 64, args.seq_len)
print(f"{len(text):,} characters, {len(vocab)} distinct; {sum(p.numel() for p in model.parameters()):,} parameters")

start = time.perf_counter()
running = None
for step in range(1, args.steps + 1):
    x, y = windows(train, args.batch_size, args.seq_len)
    loss = loss_of(model, x, y)
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
    if step % 100 == 0 or step == args.steps:
        with dl.no_grad():
            model.eval()
            v = loss_of(model, x_val, y_val).item()
            model.train()
        print(f"step {step:5d}  train loss {running:.3f}  val loss {v:.3f}  perplexity {np.exp(v):.2f}")
elapsed = time.perf_counter() - start
print(f"{args.steps / elapsed:.1f} steps/s ({dl.get_num_threads()} threads)")
print(f"final val loss {v:.3f} perplexity {np.exp(v):.2f}")
print("--- sample ---")
print(sample(model, args.prompt, args.sample_len, args.temperature))
