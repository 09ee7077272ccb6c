"""Recurrent layers, dlcore side by side with PyTorch, same weights, same thread count.

Lines (float32): LSTM and GRU, seq 64, batch 32, input 128, hidden 256, 1 and 2 layers,
unidirectional and bidirectional, forward (no grad) and forward+backward (of out.sum());
and a training step of the char-LSTM of examples/char_lstm.py (embedding, LSTM, linear
head, cross-entropy, Adam) on a batch of 32 sequences of 64 characters. The modules are
built in dlcore and copied into torch, so both run the same weights; `maxdiff` is the
largest difference between the two forward outputs. Rounds alternate between the
libraries; the table shows median milliseconds and the ratio torch/dlcore (above 1:
dlcore is faster).

    python benchmarks/python/compare_rnn.py [--threads 1,2] [--reps 7] [--json FILE]
"""
import json

from per_thread import (argument_parser, fwd_and_bwd_lines, language_model_steps, libraries, print_ms_table,
                        run_main, time_lines, twins)

T, B, IN, H = 64, 32, 128, 256
CHAR = dict(vocab=76, embed=64, hidden=256, layers=2, seq=64, batch=32)


def parse_args(argv=None):
    p = argument_parser(__doc__, reps=7)
    return p.parse_args(argv)


def layer_lines(lib, np):
    lines, diffs = [], {}
    x_np = np.random.default_rng(0).uniform(-1, 1, (T, B, IN)).astype(np.float32)
    for kind in ("LSTM", "GRU"):
        for layers in (1, 2):
            for bi in (False, True):
                name = f"{kind} {layers} layer{'s' if layers > 1 else ''}{' bidir' if bi else ''}"
                mods = twins(lib, lambda m: getattr(m.nn, kind)(IN, H, num_layers=layers, bidirectional=bi))
                xs = {k: lib[k].from_numpy(x_np.copy()) for k in lib}
                xg = {k: lib[k].from_numpy(x_np.copy()).requires_grad_() for k in lib}

                def fwd(k, mods=mods, xs=xs):
                    with lib[k].no_grad():
                        return mods[k](xs[k])[0]

                def fwd_bwd(k, mods=mods, xg=xg):
                    mods[k](xg[k])[0].sum().backward()

                lines += fwd_and_bwd_lines(lib, name, fwd, fwd_bwd, diffs)
    return lines, diffs


def char_lstm_line(lib, np):
    c = CHAR

    def build(m):
        class CharLSTM(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = m.nn.Embedding(c["vocab"], c["embed"])
                self.lstm = m.nn.LSTM(c["embed"], c["hidden"], num_layers=c["layers"], batch_first=True)
                self.head = m.nn.Linear(c["hidden"], c["vocab"])

            def forward(self, x):
                return self.head(self.lstm(self.embed(x))[0])

        return CharLSTM()

    mods = twins(lib, build)
    data = np.random.default_rng(1).integers(0, c["vocab"], (c["batch"], c["seq"] + 1))
    steps = language_model_steps(lib, mods, data, c["vocab"], lambda m, p: m.optim.Adam(p, lr=2e-3))
    return [(f"char-LSTM step ({c['layers']}x{c['hidden']})", steps)]


def worker(args):
    import numpy as np

    lib = libraries(args.worker)
    lines, diffs = layer_lines(lib, np)
    print(json.dumps(time_lines(lines + char_lstm_line(lib, np), args.reps, args.worker, diffs)))


def main():
    args = parse_args()
    run_main(__file__, args, worker, ["--reps", str(args.reps)],
             lambda t, rows: print_ms_table(t, rows, args.reps, width=30))


if __name__ == "__main__":
    main()
