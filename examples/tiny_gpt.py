"""A tiny GPT: a causal Transformer language model over the characters of the Shakespeare
text shipped with dlcore.

Token and learned position embeddings -> 4 pre-norm Transformer blocks (causal
self-attention with 4 heads through the fused scaled_dot_product_attention, then a GELU
MLP) -> LayerNorm -> linear head over the 76 characters. Trained with AdamW on random
windows of 64 characters (batch 32), gradients clipped at norm 1, a cosine learning rate.
Prints the training and validation loss (the last 5% of the text, never trained on),
the steps per second, then saves a checkpoint (model, optimizer, step; written
atomically), loads it into a fresh model to show the validation loss is unchanged, and
samples a continuation of a prompt. `--resume` continues training from the checkpoint.

The default 500 steps (some three minutes on 2 cores) reach a validation loss of about 2.0,
against ln 76 = 4.33 for a uniform guess.

    python examples/tiny_gpt.py [--steps 500] [--checkpoint tiny_gpt.dlc] [--resume]

The model is written against the module it is given (``TinyGPT(dlcore, ...)``), so the
benchmark benchmarks/python/compare_attention.py builds the same network in PyTorch.
"""
import argparse
import math
import os
import time

import numpy as np

# The size the benchmark trains (one step, batch 32).
BENCH_CONFIG = dict(vocab=76, block=128, d_model=128, heads=4, layers=4)


def TinyGPT(lib, vocab, block, d_model, heads, layers):
    """The model, built from `lib` (dlcore, or torch: the same code runs on both)."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d_model)
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.proj = nn.Linear(d_model, d_model)
            self.ln2 = nn.LayerNorm(d_model)
            self.fc = nn.Linear(d_model, 4 * d_model)
            self.out = nn.Linear(4 * d_model, d_model)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = (t.reshape(B, T, heads, C // heads).transpose(1, 2)
                       for t in self.qkv(self.ln1(x)).chunk(3, -1))
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(B, T, C))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Embedding(block, d_model)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.ln = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)
            for name, p in self.named_parameters():  # GPT-2's initialisation
                if name.endswith("weight") and p.ndim == 2:
                    nn.init.normal_(p, 0.0, 0.02)
                    if name.endswith(("proj.weight", "out.weight")):
                        nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))
                elif name.endswith("bias") and "ln" not in name:
                    nn.init.zeros_(p)

        def forward(self, idx):
            T = idx.shape[1]
            x = self.tok(idx) + self.pos(lib.arange(T))
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln(x))

    return GPT()


def main():
    import dlcore as dl
    from dlcore import nn, optim
    from dlcore.nn import functional as F

    p = argparse.ArgumentParser(description="tiny GPT on Shakespeare")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--checkpoint", default="tiny_gpt.dlc")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--prompt", default="ROMEO.\n")
    p.add_argument("--sample-len", type=int, default=300)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    dl.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    text = dl.datasets.load_shakespeare()
    vocab = dl.datasets.CharVocab(text)
    codes = vocab.encode(text)
    n_val = len(codes) // 20
    train, val = codes[:-n_val], codes[-n_val:]
    cfg = dict(vocab=len(vocab), block=args.block, d_model=args.d_model, heads=args.heads, layers=args.layers)

    def windows(source, n):
        starts = rng.integers(0, len(source) - args.block - 1, n)
        block = np.stack([source[s:s + args.block + 1] for s in starts])
        return dl.from_numpy(block[:, :-1].copy()), dl.from_numpy(block[:, 1:].copy())

    def loss_of(model, x, y):
        return F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))

    def val_loss(model):
        model.eval()
        with dl.no_grad():
            v = loss_of(model, x_val, y_val).item()
        model.train()
        return v

    model = TinyGPT(dl, **cfg)
    opt = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    first = 1
    if args.resume and os.path.exists(args.checkpoint):
        ckpt = dl.load(args.checkpoint)
        if ckpt["config"] != cfg:
            raise SystemExit(f"{args.checkpoint} holds a model of another size: {ckpt['config']}")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        first = ckpt["step"] + 1
        print(f"resumed from {args.checkpoint} at step {ckpt['step']}")
    last = first + args.steps - 1

    def lr_at(step):  # linear warm-up for 50 steps, then cosine down to a tenth
        if step <= 50:
            return args.lr * step / 50
        frac = min(1.0, (step - 50) / max(1, last - 50))
        return args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * frac)))

    x_val, y_val = windows(val, 64)
    print(f"{len(text):,} characters, {len(vocab)} distinct; {sum(q.numel() for q in model.parameters()):,} "
          f"parameters")
    start = time.perf_counter()
    running = None
    for step in range(first, last + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        x, y = windows(train, args.batch_size)
        loss = loss_of(model, x, y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
        if step % 100 == 0 or step == last:
            print(f"step {step:5d}  train loss {running:.3f}  val loss {val_loss(model):.3f}")
    elapsed = time.perf_counter() - start
    print(f"{args.steps / elapsed:.1f} steps/s ({dl.get_num_threads()} threads)")
    v = val_loss(model)
    print(f"final val loss {v:.3f}")

    dl.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": last, "config": cfg},
            args.checkpoint)
    fresh = TinyGPT(dl, **cfg)
    fresh.load_state_dict(dl.load(args.checkpoint)["model"])
    print(f"saved {args.checkpoint}; reloaded model val loss {val_loss(fresh):.3f}")

    fresh.eval()
    out = vocab.encode(args.prompt).tolist()
    gen = dl.Generator().manual_seed(args.seed)
    with dl.no_grad():
        for _ in range(args.sample_len):
            ctx = dl.tensor([out[-args.block:]])
            logits = fresh(ctx)[0, -1] / args.temperature
            out.append(dl.multinomial(F.softmax(logits, 0), 1, generator=gen).item())
    print("--- sample ---")
    print("".join(vocab.chars[c] for c in out))


if __name__ == "__main__":
    main()
