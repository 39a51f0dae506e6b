#!/usr/bin/env python3
"""ref_rnn.py: an independent reference for charnn's training step.

Worked out from the equations of min-char-rnn's model as lib/rnn.h states
them (batched, loss averaged over B and summed over T), not from the C code:
forward pass, backward pass, clipping and Adagrad in plain Python floats
(IEEE double). It reads and writes the tensor stream (formats/tensor.md)
with nothing but the standard library.

    ref_rnn.py chain [-l LR] [-c CLIP] MODEL WINDOWS > REF
        Start from MODEL (frame "params" as rnn-init writes it) and take one
        step per frame of WINDOWS, whose tensors x and y (T,B) give inputs
        and targets; h0 (B,H) in the first frame is the starting hidden
        state (zeros if absent), and every later window starts where the
        previous one ended. Writes per step a frame "step": loss (B), the
        clipped gradients dWxh..dby, dh0 (B,H), hT (B,H), and the parameters
        Wxh..by and Adagrad memory mWxh..mby after the update, all f64.

    ref_rnn.py compare TOL REF OTHER NAME...
        Frame k of REF against frame k of OTHER, for each tensor NAME: the
        same shape, and every element within TOL of the reference, relative
        to the element or to the tensor's scale (see allowance()). Exit 1
        with a message naming step, tensor and element on the first
        mismatch; otherwise print the largest errors on stderr.

Legend: V vocab, H hidden, T steps, B batch. Matrices are lists of rows.
"""

import math
import struct
import sys
import zlib

# ---- the tensor stream ----

DTYPES = {1: ("B", 1), 2: ("i", 4), 3: ("q", 8), 4: ("f", 4), 5: ("d", 8)}
F64 = 5


def pad8(n):
    return -n % 8


def crc_ok(header, stored):
    """A header's CRC is taken with its own CRC field zeroed."""
    return zlib.crc32(header[:12] + bytes(4) + header[16:]) == stored


class Stream:
    """Frames of a tensor stream file, each a (name, {tensor: (dims, flat)})."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0
        self.path = path

    def take(self, n):
        if self.pos + n > len(self.buf):
            raise ValueError("%s: truncated at offset %d" % (self.path, self.pos))
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def frames(self):
        while self.pos < len(self.buf):
            head = self.take(16)
            if head[:4] != b"chnF" or head[4] != 1:
                raise ValueError("%s: bad frame header" % self.path)
            nlen = head[5]
            (count, crc) = struct.unpack_from("<II", head, 8)
            name = self.take(nlen + pad8(nlen))
            if not crc_ok(head + name, crc):
                raise ValueError("%s: frame header CRC" % self.path)
            tensors = {}
            for _ in range(count):
                tname, dims, flat = self.tensor()
                tensors.setdefault(tname, (dims, flat))
            yield name[:nlen].decode("ascii"), tensors

    def tensor(self):
        head = self.take(16)
        if head[:4] != b"chnT" or head[4] != 1:
            raise ValueError("%s: bad tensor header" % self.path)
        code, rank, nlen = head[5], head[6], head[7]
        (flags, crc) = struct.unpack_from("<II", head, 8)
        rest = self.take(8 * rank + nlen + pad8(nlen))
        if not crc_ok(head + rest, crc):
            raise ValueError("%s: tensor header CRC" % self.path)
        dims = list(struct.unpack_from("<%dQ" % rank, rest))
        name = rest[8 * rank:8 * rank + nlen].decode("ascii")
        fmt, size = DTYPES[code]
        n = math.prod(dims)
        data = self.take(n * size)
        self.take(pad8(n * size))
        (dcrc, _) = struct.unpack("<II", self.take(8))
        if not flags & 1 and zlib.crc32(data) != dcrc:
            raise ValueError("%s: data CRC of '%s'" % (self.path, name))
        return name, dims, list(struct.unpack("<%d%s" % (n, fmt), data))


def write_frame(out, name, tensors):
    """tensors: [(name, dims, flat list of floats)], written as f64."""
    nb = name.encode("ascii")
    head = bytearray(b"chnF" + bytes([1, len(nb), 0, 0]) +
                     struct.pack("<II", len(tensors), 0) + nb + bytes(pad8(len(nb))))
    struct.pack_into("<I", head, 12, zlib.crc32(head))
    out.write(head)
    for tname, dims, flat in tensors:
        tb = tname.encode("ascii")
        head = bytearray(b"chnT" + bytes([1, F64, len(dims), len(tb)]) +
                         struct.pack("<II", 0, 0) +
                         struct.pack("<%dQ" % len(dims), *dims) + tb + bytes(pad8(len(tb))))
        struct.pack_into("<I", head, 12, zlib.crc32(head))
        data = struct.pack("<%dd" % len(flat), *flat)
        out.write(head + data + bytes(pad8(len(data))) +
                  struct.pack("<II", zlib.crc32(data), 0))


def matrix(dims, flat):
    """A (rows, cols) tensor's flat values as a list of rows."""
    rows, cols = dims
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


def flatten(m):
    """A list of rows as one flat list, row-major like the stream."""
    return [v for row in m for v in row]


# ---- the model ----

NAMES = ["Wxh", "Whh", "Why", "bh", "by"]


def matvec(M, v):
    """M (rows of n) times v (n)."""
    return [sum(a * b for a, b in zip(row, v)) for row in M]


def matTvec(M, v):
    """M transposed times v: sum over rows of M weighted by v."""
    out = [0.0] * len(M[0])
    for row, vi in zip(M, v):
        for j, a in enumerate(row):
            out[j] += a * vi
    return out


def step(P, xs, ys, h0):
    """One window. P: dict of Wxh (H,V), Whh (H,H), Why (V,H) as row lists
    and bh (H), by (V); xs, ys: (T,B) index rows; h0: (B,H).
    Returns (loss (B), gradients dict like P, dh0 (B,H), hT (B,H))."""
    T, B = len(xs), len(xs[0])
    H, V = len(P["bh"]), len(P["by"])
    G = {"Wxh": [[0.0] * V for _ in range(H)], "Whh": [[0.0] * H for _ in range(H)],
         "Why": [[0.0] * H for _ in range(V)], "bh": [0.0] * H, "by": [0.0] * V}
    loss, dh0, hT = [], [], []
    for b in range(B):
        # Forward: keep every hidden state and probability vector.
        hs, ps = [list(h0[b])], []
        total = 0.0
        for t in range(T):
            x = xs[t][b]
            pre = [P["Wxh"][i][x] + r + P["bh"][i]
                   for i, r in enumerate(matvec(P["Whh"], hs[-1]))]
            h = [math.tanh(a) for a in pre]
            z = [a + c for a, c in zip(matvec(P["Why"], h), P["by"])]
            top = max(z)
            e = [math.exp(a - top) for a in z]
            s = sum(e)
            p = [a / s for a in e]
            total -= math.log(p[ys[t][b]])
            hs.append(h)
            ps.append(p)
        loss.append(total)
        hT.append(hs[-1])
        # Backward through time: the loss is averaged over B, hence 1/B.
        carry = [0.0] * H
        for t in reversed(range(T)):
            dz = [v / B for v in ps[t]]
            dz[ys[t][b]] -= 1.0 / B
            h, hprev = hs[t + 1], hs[t]
            for v in range(V):
                G["by"][v] += dz[v]
                row = G["Why"][v]
                for j in range(H):
                    row[j] += dz[v] * h[j]
            dh = [a + c for a, c in zip(matTvec(P["Why"], dz), carry)]
            da = [(1.0 - hi * hi) * d for hi, d in zip(h, dh)]
            x = xs[t][b]
            for i in range(H):
                G["bh"][i] += da[i]
                G["Wxh"][i][x] += da[i]
                row = G["Whh"][i]
                for j in range(H):
                    row[j] += da[i] * hprev[j]
            carry = matTvec(P["Whh"], da)
        dh0.append(carry)
    return loss, G, dh0, hT


def flat_of(name, value):
    """Parameter-shaped value (rows for a matrix) as a flat list."""
    return flatten(value) if name in ("Wxh", "Whh", "Why") else list(value)


def clip(G, c):
    """Every element of the gradients G into [-c, c]."""
    for name in NAMES:
        if name in ("Wxh", "Whh", "Why"):
            G[name] = [[min(max(v, -c), c) for v in row] for row in G[name]]
        else:
            G[name] = [min(max(v, -c), c) for v in G[name]]


def adagrad(P, M, G, lr):
    """In place: m += g^2; p -= lr g / sqrt(m + 1e-8), element by element."""
    for name in NAMES:
        p, m, g = P[name], M[name], G[name]
        rows = (zip(p, m, g) if name in ("Wxh", "Whh", "Why")
                else [(p, m, g)])
        for pr, mr, gr in rows:
            for j in range(len(pr)):
                mr[j] += gr[j] * gr[j]
                pr[j] -= lr * gr[j] / math.sqrt(mr[j] + 1e-8)


def chain(args):
    """The chain command: see the top of the file."""
    lr, c = 0.1, 5.0
    while args and args[0] in ("-l", "-c"):
        if args[0] == "-l":
            lr = float(args[1])
        else:
            c = float(args[1])
        args = args[2:]
    if len(args) != 2:
        sys.exit("usage: ref_rnn.py chain [-l LR] [-c CLIP] MODEL WINDOWS")
    _, model = next(Stream(args[0]).frames())
    P, M = {}, {}
    for name in NAMES:
        dims, flat = model[name]
        if len(dims) == 2:
            P[name] = matrix(dims, flat)
            M[name] = [[0.0] * dims[1] for _ in range(dims[0])]
        else:
            P[name] = list(flat)
            M[name] = [0.0] * dims[0]
    H = len(P["bh"])
    h = None
    out = sys.stdout.buffer
    for _, win in Stream(args[1]).frames():
        (T, B), xf = win["x"]
        xs, ys = matrix((T, B), xf), matrix((T, B), win["y"][1])
        if h is None:
            h = matrix((B, H), win["h0"][1]) if "h0" in win else [[0.0] * H for _ in range(B)]
        loss, G, dh0, hT = step(P, xs, ys, h)
        if c > 0:
            clip(G, c)
        adagrad(P, M, G, lr)
        h = hT
        V = len(P["by"])
        shapes = {"Wxh": [H, V], "Whh": [H, H], "Why": [V, H], "bh": [H], "by": [V]}
        tensors = [("loss", [B], loss)]
        tensors += [("d" + n, shapes[n], flat_of(n, G[n])) for n in NAMES]
        tensors += [("dh0", [B, H], flatten(dh0)), ("hT", [B, H], flatten(hT))]
        tensors += [(n, shapes[n], flat_of(n, P[n])) for n in NAMES]
        tensors += [("m" + n, shapes[n], flat_of(n, M[n])) for n in NAMES]
        write_frame(out, "step", tensors)


# ---- comparison ----

def allowance(want):
    """The size an error is measured against for each element of want: the
    element itself, but never less than a hundredth of the tensor's largest
    element. A value that is the small difference of large terms (a
    gradient summed over steps, a parameter moved back and forth by
    Adagrad) carries the rounding error of those terms, not of itself."""
    floor = 1e-2 * max((abs(v) for v in want), default=0.0)
    return [max(abs(w), floor) for w in want]


def worst(got, want):
    """(largest relative error, its index) of got against want."""
    best = (0.0, -1)
    for i, (g, w, a) in enumerate(zip(got, want, allowance(want))):
        err = abs(g - w) / a if a > 0 else (0.0 if g == w else math.inf)
        if err != err:
            return (math.inf, i)  # a NaN on either side
        if err > best[0]:
            best = (err, i)
    return best


def compare(args):
    """The compare command: see the top of the file."""
    if len(args) < 4:
        sys.exit("usage: ref_rnn.py compare TOL REF OTHER NAME...")
    tol, names = float(args[0]), args[3:]
    ref = list(Stream(args[1]).frames())
    other = list(Stream(args[2]).frames())
    if len(ref) != len(other):
        sys.exit("compare: %d reference steps, %d in %s" % (len(ref), len(other), args[2]))
    largest = {}
    for k, ((_, r), (_, o)) in enumerate(zip(ref, other)):
        for name in names:
            if name not in o:
                sys.exit("compare: step %d: no tensor '%s' in %s" % (k, name, args[2]))
            (rd, rv), (od, ov) = r[name], o[name]
            if rd != od:
                sys.exit("compare: step %d: '%s' has shape %s, reference %s"
                         % (k, name, od, rd))
            err, i = worst(ov, rv)
            if not err <= tol:
                sys.exit("compare: step %d: '%s'[%d] = %.17g, reference %.17g "
                         "(relative error %.3g, tolerance %g)"
                         % (k, name, i, ov[i], rv[i], err, tol))
            largest[name] = max(largest.get(name, 0.0), err)
    for name in names:
        print("%-5s largest relative error %.3g" % (name, largest[name]), file=sys.stderr)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "chain":
        chain(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "compare":
        compare(sys.argv[2:])
    else:
        sys.exit("usage: ref_rnn.py chain|compare ...")


if __name__ == "__main__":
    main()
