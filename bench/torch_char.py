#!/usr/bin/python3
"""torch_char.py: the PyTorch baseline of `make quality`.

Trains a character model on CORPUS for a fixed wall-clock budget with the
same data schedule as charnn's feed (formats/model.md): the last
floor(F*N) characters held out, the rest cut into B slices of
floor(ntrain/B) characters, windows of T steps, the hidden state carried
from window to window and reset to zero when a slice wraps round.  Then it
measures held-out bits per character from a zero state over the first E
held-out characters, as feed does, and prints one line:

    torch CELL LxH B T OPT LR[ cosine]: chars N rate R char/s val BPC bpc

With -R the rate follows lr (1 + cos(pi e/t)) / 2 over the elapsed time e
of the budget t: the decay charnn's -R cosine gives over iterations, set
here by the clock, so it ends exactly at the budget's end.

Only the measurement is compared with charnn: the code shares nothing
with it.  Needs python3-torch (Debian's; say which BLAS it uses).
"""
import argparse
import math
import sys
import time

import torch
import torch.nn.functional as F


def parse():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("-c", "--corpus", required=True)
    a.add_argument("-m", "--cell", choices=("rnn", "lstm", "gru"), default="lstm")
    a.add_argument("-H", "--hidden", type=int, default=128)
    a.add_argument("-L", "--layers", type=int, default=2)
    a.add_argument("-B", "--batch", type=int, default=50)
    a.add_argument("-T", "--steps", type=int, default=50)
    a.add_argument("-O", "--optim", choices=("adam", "adagrad", "rmsprop"), default="adam")
    a.add_argument("-l", "--lr", type=float, default=2e-3)
    a.add_argument("-D", "--dropout", type=float, default=0.0)
    a.add_argument("-R", "--cosine", action="store_true",
                   help="rate decayed to 0 on a cosine over the wall-clock budget")
    a.add_argument("-r", "--reduce", choices=("mean", "sum"), default="mean",
                   help="loss over a window: mean per character, or min-char-rnn's sum")
    a.add_argument("-t", "--seconds", type=float, default=120.0)
    a.add_argument("-v", "--valfrac", type=float, default=0.1)
    a.add_argument("-E", "--valmax", type=int, default=100000)
    a.add_argument("-j", "--threads", type=int, default=1)
    a.add_argument("-s", "--seed", type=int, default=1)
    return a.parse_args()


class Model(torch.nn.Module):
    def __init__(self, cell, V, H, L, dropout):
        super().__init__()
        kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        self.V = V
        self.rnn = kind(V, H, L, dropout=dropout if L > 1 else 0.0)
        self.drop = torch.nn.Dropout(dropout)
        self.out = torch.nn.Linear(H, V)

    def forward(self, x, state):
        h, state = self.rnn(F.one_hot(x, self.V).float(), state)
        return self.out(self.drop(h)), state


def detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def held_out_bpc(model, val, T):
    model.eval()
    nats, state = 0.0, None
    with torch.no_grad():
        for i in range(0, len(val) - 1, T):
            x = val[i:i + T + 1]
            if len(x) < 2:
                break
            logits, state = model(x[:-1].view(-1, 1), state)
            nats += F.cross_entropy(logits.view(-1, model.V), x[1:], reduction="sum").item()
    model.train()
    return nats / (len(val) - 1) / math.log(2)


def main():
    o = parse()
    torch.manual_seed(o.seed)
    torch.set_num_threads(o.threads)
    text = open(o.corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = len(data)
    nval = int(n * o.valfrac)
    ntrain = n - nval
    train, val = data[:ntrain], data[ntrain:ntrain + min(nval, o.valmax)]
    L = ntrain // o.batch
    if L < o.steps + 2:
        sys.exit("torch_char.py: corpus too small for -B and -T")
    slices = train[:L * o.batch].view(o.batch, L)

    model = Model(o.cell, len(chars), o.hidden, o.layers, o.dropout)
    opt = {"adam": lambda p: torch.optim.Adam(p, lr=o.lr),
           "adagrad": lambda p: torch.optim.Adagrad(p, lr=o.lr, eps=1e-8),
           "rmsprop": lambda p: torch.optim.RMSprop(p, lr=o.lr, alpha=0.95)}[o.optim](
               model.parameters())
    pos, state, seen = 0, None, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < o.seconds:
        if o.cosine:
            e = (time.perf_counter() - t0) / o.seconds
            for g in opt.param_groups:
                g["lr"] = o.lr * (1 + math.cos(math.pi * min(e, 1.0))) / 2
        if pos + o.steps + 1 >= L:
            pos, state = 0, None
        win = slices[:, pos:pos + o.steps + 1].t()  # (T+1, B)
        logits, state = model(win[:-1], detach(state))
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), win[1:].reshape(-1),
                               reduction="sum")
        loss = loss / (o.steps * o.batch) if o.reduce == "mean" else loss / o.batch
        opt.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.grad.clamp_(-5, 5)
        opt.step()
        pos += o.steps
        seen += o.steps * o.batch
    secs = time.perf_counter() - t0
    bpc = held_out_bpc(model, val, 256)
    print("torch %s %dx%d B%d T%d %s %g%s: chars %d rate %.0f char/s val %.4f bpc"
          % (o.cell, o.layers, o.hidden, o.batch, o.steps, o.optim, o.lr,
             " cosine" if o.cosine else "", seen, seen / secs, bpc))


if __name__ == "__main__":
    main()
