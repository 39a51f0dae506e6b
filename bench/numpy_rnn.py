"""The min-char-rnn training step in NumPy, for `make bench` to compare with.

usage: numpy_rnn.py TEXT ITERATIONS [HIDDEN] [STEPS]
Trains on the UTF-8 file TEXT exactly as charnn does (tanh RNN, softmax,
clipping to [-5, 5], Adagrad lr 0.1) and prints one line on stdout:
"chars_per_s N loss L". Float64, as NumPy computes by default.
"""
import sys
import time

import numpy as np


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    iters = int(sys.argv[2])
    H = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    T = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    chars = sorted(set(text))
    V = len(chars)
    index = {c: i for i, c in enumerate(chars)}
    data = [index[c] for c in text]

    rng = np.random.default_rng(1)
    Wxh = rng.standard_normal((H, V)) * 0.01
    Whh = rng.standard_normal((H, H)) * 0.01
    Why = rng.standard_normal((V, H)) * 0.01
    bh = np.zeros((H, 1))
    by = np.zeros((V, 1))
    params = [Wxh, Whh, Why, bh, by]
    mems = [np.zeros_like(p) for p in params]

    def step(xs, ys, hprev):
        hs, ps = {-1: hprev}, {}
        loss = 0.0
        for t in range(len(xs)):
            a = Whh @ hs[t - 1] + bh
            a[:, 0] += Wxh[:, xs[t]]
            hs[t] = np.tanh(a)
            y = Why @ hs[t] + by
            e = np.exp(y - y.max())
            ps[t] = e / e.sum()
            loss -= np.log(ps[t][ys[t], 0])
        grads = [np.zeros_like(p) for p in params]
        dWxh, dWhh, dWhy, dbh, dby = grads
        dhnext = np.zeros((H, 1))
        for t in reversed(range(len(xs))):
            dy = ps[t].copy()
            dy[ys[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            draw = (1 - hs[t] * hs[t]) * dh
            dbh += draw
            dWxh[:, xs[t]] += draw[:, 0]
            dWhh += draw @ hs[t - 1].T
            dhnext = Whh.T @ draw
        for g in grads:
            np.clip(g, -5, 5, out=g)
        return loss, grads, hs[len(xs) - 1]

    p = 0
    hprev = np.zeros((H, 1))
    start = time.perf_counter()
    for n in range(iters):
        if p + T + 1 >= len(data) or n == 0:
            hprev = np.zeros((H, 1))
            p = 0
        xs = data[p:p + T]
        ys = data[p + 1:p + T + 1]
        loss, grads, hprev = step(xs, ys, hprev)
        for param, g, mem in zip(params, grads, mems):
            mem += g * g
            param -= 0.1 * g / np.sqrt(mem + 1e-8)
        p += T
    elapsed = time.perf_counter() - start
    print("chars_per_s %.0f loss %.4f" % (iters * T / elapsed, loss))


if __name__ == "__main__":
    main()
