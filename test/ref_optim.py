#!/usr/bin/env python3
"""Independent reference for the optimiser stages (rmsprop, adam, adagrad),
written from the equations of formats/model.md (THE OPTIMISERS), in plain
Python doubles.

  ref_optim.py gen DTYPE K          K gradient frames, text form, on stdout
  ref_optim.py check OPT LR GNORM TOL < OUT

gen writes K frames "grads" for one run of a stage: each carries its own
parameters (tensors with any names: Wxh, bh, Wxh.1), their gradients dNAME,
and a real tensor "loss" that has no gradient and must pass through
untouched. The data come from a fixed linear congruential generator, so
check makes the same frames again. check reads the stage's output (the text
form of tensordump -a) and recomputes every update, the state carried from
frame to frame as the stage keeps its own, updates counted from 1; every
parameter and state value must agree within the relative tolerance TOL
(measured against the value, or a hundredth of the tensor's largest value
if that is more). It prints the worst error and exits 1 if it is over TOL.
"""
import math
import sys

SHAPES = [("Wxh", [3, 2]), ("bh", [3]), ("Wxh.1", [2, 3])]


class Lcg:
    """A 64-bit LCG giving values in (-1, 1)."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return ((self.s >> 11) / float(1 << 53)) * 2 - 1


def count(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def frames(K):
    """K frames: a list of (params, grads), each a dict name -> flat list."""
    r = Lcg(12345)
    out = []
    for _ in range(K):
        P = {n: [r.next() for _ in range(count(d))] for n, d in SHAPES}
        G = {n: [3 * r.next() for _ in range(count(d))] for n, d in SHAPES}
        out.append((P, G))
    return out


def fmt(vals):
    return " ".join(repr(v) for v in vals)


def gen(dtype, K):
    for P, G in frames(K):
        print("frame grads")
        print("tensor loss %s [1]\n1.5" % dtype)
        for n, d in SHAPES:
            print("tensor %s %s [%s]\n%s" % (n, dtype, " ".join(map(str, d)), fmt(P[n])))
        for n, d in SHAPES:
            print("tensor d%s %s [%s]\n%s" % (n, dtype, " ".join(map(str, d)), fmt(G[n])))


def read_text(stream):
    """The text form of tensordump -a: a list of frames, each a dict."""
    out, cur, name = [], None, None
    for line in stream:
        w = line.split()
        if not w:
            continue
        if w[0] == "frame":
            cur = {}
            out.append(cur)
        elif w[0] == "tensor":
            name = w[1]
            cur[name] = []
        else:
            cur[name] += [float(v) for v in w]
    return out


def clip_norm(G, gnorm):
    """All gradients scaled by gnorm / norm if their global L2 norm is over
    gnorm."""
    norm = math.sqrt(sum(g * g for n in G for g in G[n]))
    if gnorm > 0 and norm > gnorm:
        for n in G:
            G[n] = [g * gnorm / norm for g in G[n]]


def update(opt, lr, P, G, S, t):
    """One update of P (in place) with gradients G and state S, update t."""
    for n in P:
        p, g = P[n], G[n]
        if opt == "adagrad":
            m = S.setdefault("m" + n, [0.0] * len(p))
            for i in range(len(p)):
                m[i] += g[i] * g[i]
                p[i] -= lr * g[i] / math.sqrt(m[i] + 1e-8)
        elif opt == "rmsprop":
            m = S.setdefault("m" + n, [0.0] * len(p))
            for i in range(len(p)):
                m[i] = 0.95 * m[i] + 0.05 * g[i] * g[i]
                p[i] -= lr * g[i] / (math.sqrt(m[i]) + 1e-8)
        else:
            m = S.setdefault("m" + n, [0.0] * len(p))
            v = S.setdefault("v" + n, [0.0] * len(p))
            for i in range(len(p)):
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                mhat = m[i] / (1 - 0.9 ** t)
                vhat = v[i] / (1 - 0.999 ** t)
                # torch's form: eps added to sqrt(v), not to sqrt(vhat)
                p[i] -= lr * mhat / (math.sqrt(vhat) + 1e-8 / math.sqrt(1 - 0.999 ** t))


def worst(got, want):
    floor = 1e-2 * max((abs(v) for v in want), default=0.0)
    e = 0.0
    for g, w in zip(got, want):
        a = max(abs(w), floor)
        e = max(e, abs(g - w) / a if a > 0 else (0.0 if g == w else math.inf))
    return e


def check(opt, lr, gnorm, tol):
    outs = read_text(sys.stdin)
    S, bad, top = {}, [], 0.0
    fs = frames(len(outs))
    for k, ((P, G), out) in enumerate(zip(fs, outs)):
        clip_norm(G, gnorm)
        update(opt, lr, P, G, S, k + 1)
        if out.get("loss") != [1.5] or any(("d" + n) in out for n, _ in SHAPES):
            bad.append("frame %d: loss not passed or gradients not dropped" % k)
        for name, want in list(P.items()) + list(S.items()):
            got = out.get(name)
            if got is None or len(got) != len(want):
                bad.append("frame %d: tensor %s missing or misshapen" % (k, name))
                continue
            e = worst(got, want)
            top = max(top, e)
            if e > tol:
                bad.append("frame %d: %s off by %.3g" % (k, name, e))
    print("worst relative error %.3g over %d frames" % (top, len(outs)))
    for b in bad:
        print(b)
    return 1 if bad or not outs else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "gen":
        gen(argv[2], int(argv[3]))
        return 0
    if len(argv) == 6 and argv[1] == "check":
        return check(argv[2], float(argv[3]), float(argv[4]), float(argv[5]))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
