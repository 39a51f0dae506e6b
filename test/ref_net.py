#!/usr/bin/env python3
"""ref_net.py: an independent reference for the model family's step.

Written from the equations of formats/model.md (THE MODEL FAMILY), not from
the C code: the forward pass of L stacked rnn, lstm or gru layers under the
softmax output, the loss (1/B) sum_b sum_t -ln p[t][y[t]], and its
gradients by backpropagation through time, in plain Python floats (IEEE
double), each gradient element clipped to [-CLIP, CLIP].

    ref_net.py CLIP TOL WINDOW GRADS [OPT LR UPDATED]

WINDOW and GRADS are the text form (tensordump -a) of a frame carrying a
family model, x, y (T,B) and each layer's h0.l (and c0.l) as rnn-fwd reads
it (or wrote it: with dropout, its masks drop.l (T,B,H) are used as the
equations page says: on each layer's output where it feeds the layer
above or the output layer), and of what rnn-bwd wrote for it. Every gradient dWx.l, dWh.l, db.l,
dWhy, dby, dh0.l, dc0.l (lstm) and loss must be within TOL * (|r| + m) of
the reference r, m the largest |r| of that tensor or, for the gradients,
of any gradient of the frame: an element that is small by cancellation
(dby sums p - 1 over the window: terms of 0.2 that cancel to 1e-4) is
judged against the scale of what was summed, not against its own size.
With OPT (adagrad or adam) and LR, UPDATED is the text form of what the
optimiser stage wrote for GRADS: every parameter's update (its new value
less its value in WINDOW) and new state (mNAME, for adam vNAME too; the
state before is WINDOW's, or zeros) must be within TOL of the update the
rules give for the gradients in GRADS (themselves checked against the
reference's), by the rules of THE
OPTIMISERS (adam's update number: WINDOW's step + 1); a state element is
judged against the scale of the gradients it sums. Exits 1 naming the
first one that is not; prints the largest relative error otherwise.

Legend: V vocab, L layers, H and I a layer's hidden and input sizes, T
steps, B batch.
"""

import math
import sys


def read_text(path):
    """The tensors of the first frame of a tensordump -a text: name -> (dims, values)."""
    out, name, frames = {}, None, 0
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "frame":
                frames += 1
                if frames > 1:
                    break
                continue
            if w[0] == "tensor":
                name = w[1]
                dims = [int(d) for d in line[line.index("[") + 1:line.index("]")].split()]
                out[name] = (dims, [])
                continue
            out[name][1].extend(float(v) for v in w if v not in ("live", "pad"))
    return out


def mat(vals, rows, cols):
    return [vals[r * cols:(r + 1) * cols] for r in range(rows)]


def sig(a):
    return 1.0 / (1.0 + math.exp(-a))


GATES = {0: 1, 1: 4, 2: 3}


def model(t):
    """cell, layers (list of dicts Wx, Wh, b, H, I), Why, by, V."""
    arch = [int(v) for v in t["arch"][1]]
    cell, sizes = arch[0], arch[1:]
    V = len(t["by"][1])
    G = GATES[cell]
    layers, inp = [], V
    for l, H in enumerate(sizes):
        layers.append({"H": H, "I": inp,
                       "Wx": mat(t["Wx.%d" % l][1], G * H, inp),
                       "Wh": mat(t["Wh.%d" % l][1], G * H, H),
                       "b": list(t["b.%d" % l][1])})
        inp = H
    return cell, layers, mat(t["Why"][1], V, inp), list(t["by"][1]), V


def step(cell, ly, xin, hp, cp):
    """One cell step: (h, c, cache). xin is a list, or an int (one-hot index)."""
    H, G = ly["H"], GATES[cell]
    a = []
    for r in range(G * H):
        s = ly["b"][r]
        s += ly["Wx"][r][xin] if isinstance(xin, int) else \
            sum(w * v for w, v in zip(ly["Wx"][r], xin))
        a.append(s)
    rec = [sum(w * v for w, v in zip(ly["Wh"][r], hp)) for r in range(G * H)]
    if cell == 0:
        h = [math.tanh(a[k] + rec[k]) for k in range(H)]
        return h, None, {"h": h}
    if cell == 1:
        i = [sig(a[k] + rec[k]) for k in range(H)]
        f = [sig(a[H + k] + rec[H + k]) for k in range(H)]
        o = [sig(a[2 * H + k] + rec[2 * H + k]) for k in range(H)]
        g = [math.tanh(a[3 * H + k] + rec[3 * H + k]) for k in range(H)]
        c = [f[k] * cp[k] + i[k] * g[k] for k in range(H)]
        h = [o[k] * math.tanh(c[k]) for k in range(H)]
        return h, c, {"i": i, "f": f, "o": o, "g": g, "c": c, "cp": cp}
    z = [sig(a[k] + rec[k]) for k in range(H)]
    r_ = [sig(a[H + k] + rec[H + k]) for k in range(H)]
    u = rec[2 * H:3 * H]
    n = [math.tanh(a[2 * H + k] + r_[k] * u[k]) for k in range(H)]
    h = [(1 - z[k]) * n[k] + z[k] * hp[k] for k in range(H)]
    return h, None, {"z": z, "r": r_, "n": n, "u": u}


def step_back(cell, ly, cache, xin, hp, dh, dc):
    """Gradients of one step: adds into the layer's grads; returns (dhp, dcp, dxin)."""
    H, G = ly["H"], GATES[cell]
    dhp = [0.0] * H
    dcp = None
    if cell == 0:
        dx = [dh[k] * (1 - cache["h"][k] ** 2) for k in range(H)]
        drec = dx
    elif cell == 1:
        i, f, o, g = cache["i"], cache["f"], cache["o"], cache["g"]
        c, cp = cache["c"], cache["cp"]
        dx = [0.0] * (4 * H)
        dcp = [0.0] * H
        for k in range(H):
            tc = math.tanh(c[k])
            dck = dh[k] * o[k] * (1 - tc * tc) + dc[k]
            dx[k] = dck * g[k] * i[k] * (1 - i[k])
            dx[H + k] = dck * cp[k] * f[k] * (1 - f[k])
            dx[2 * H + k] = dh[k] * tc * o[k] * (1 - o[k])
            dx[3 * H + k] = dck * i[k] * (1 - g[k] ** 2)
            dcp[k] = dck * f[k]
        drec = dx
    else:
        z, r_, n, u = cache["z"], cache["r"], cache["n"], cache["u"]
        dx = [0.0] * (3 * H)
        drec = [0.0] * (3 * H)
        for k in range(H):
            dn = dh[k] * (1 - z[k]) * (1 - n[k] ** 2)
            dx[k] = drec[k] = dh[k] * (hp[k] - n[k]) * z[k] * (1 - z[k])
            dx[H + k] = drec[H + k] = dn * u[k] * r_[k] * (1 - r_[k])
            dx[2 * H + k] = dn
            drec[2 * H + k] = dn * r_[k]
            dhp[k] = dh[k] * z[k]
    gr = ly["grad"]
    dxin = None if isinstance(xin, int) else [0.0] * ly["I"]
    for r in range(G * H):
        gr["b"][r] += dx[r]
        if isinstance(xin, int):
            gr["Wx"][r][xin] += dx[r]
        else:
            for j in range(ly["I"]):
                gr["Wx"][r][j] += dx[r] * xin[j]
                dxin[j] += ly["Wx"][r][j] * dx[r]
        for j in range(H):
            gr["Wh"][r][j] += drec[r] * hp[j]
            dhp[j] += ly["Wh"][r][j] * drec[r]
    return dhp, dcp, dxin


def dropped(drop, l, s, b, h):
    """h, layer l's output at step s of sequence b, times its dropout mask."""
    if drop[l] is None:
        return h
    H = len(h)
    m = drop[l][s][b]
    return [h[k] * m[k] for k in range(H)]


def forward(cell, layers, x, T, B, h0, c0, drop):
    """Every layer's states and caches over the window: hs[l][t][b] ..."""
    hs, cs, caches = [], [], []
    for l, ly in enumerate(layers):
        hs.append([[None] * B for _ in range(T)])
        cs.append([[None] * B for _ in range(T)])
        caches.append([[None] * B for _ in range(T)])
        for s in range(T):
            for b in range(B):
                hp = hs[l][s - 1][b] if s else h0[l][b]
                cp = (cs[l][s - 1][b] if s else c0[l][b]) if cell == 1 else None
                xin = x[s * B + b] if l == 0 else dropped(drop, l - 1, s, b, hs[l - 1][s][b])
                hs[l][s][b], cs[l][s][b], caches[l][s][b] = step(cell, ly, xin, hp, cp)
    return hs, caches


def output(top, Why, by, V, y, T, B):
    """Loss (B), dWhy, dby and the gradient of each top state dtop[t][b]."""
    H = len(Why[0])
    dWhy = [[0.0] * H for _ in range(V)]
    dby = [0.0] * V
    loss = [0.0] * B
    dtop = [[None] * B for _ in range(T)]
    for s in range(T):
        for b in range(B):
            h = top[s][b]
            z = [by[v] + sum(w * e for w, e in zip(Why[v], h)) for v in range(V)]
            m = max(z)
            e = [math.exp(q - m) for q in z]
            tot = sum(e)
            p = [q / tot for q in e]
            tgt = y[s * B + b]
            loss[b] -= math.log(p[tgt])
            dl = [p[v] / B for v in range(V)]
            dl[tgt] -= 1.0 / B
            dtop[s][b] = [sum(Why[v][k] * dl[v] for v in range(V)) for k in range(H)]
            for v in range(V):
                dby[v] += dl[v]
                for k in range(H):
                    dWhy[v][k] += dl[v] * h[k]
    return loss, dWhy, dby, dtop


def layer_back(cell, ly, l, hs, caches, x, h0, dH, T, B, grads, drop):
    """Backward through layer l; returns the gradient of the undropped
    outputs of the layer below, dIn[t][b]."""
    H, G = ly["H"], GATES[cell]
    ly["grad"] = {"Wx": [[0.0] * ly["I"] for _ in range(G * H)],
                  "Wh": [[0.0] * H for _ in range(G * H)], "b": [0.0] * (G * H)}
    dnext = [[0.0] * H for _ in range(B)]
    dcnext = [[0.0] * H for _ in range(B)]
    dIn = [[None] * B for _ in range(T)]
    for s in range(T - 1, -1, -1):
        for b in range(B):
            hp = hs[l][s - 1][b] if s else h0[l][b]
            xin = x[s * B + b] if l == 0 else dropped(drop, l - 1, s, b, hs[l - 1][s][b])
            dh = [dH[s][b][k] + dnext[b][k] for k in range(H)]
            dnext[b], dcp, dIn[s][b] = step_back(cell, ly, caches[l][s][b], xin, hp,
                                                 dh, dcnext[b])
            if l > 0:
                dIn[s][b] = dropped(drop, l - 1, s, b, dIn[s][b])
            if dcp is not None:
                dcnext[b] = dcp
    grads["dWx.%d" % l] = ly["grad"]["Wx"]
    grads["dWh.%d" % l] = ly["grad"]["Wh"]
    grads["db.%d" % l] = ly["grad"]["b"]
    grads["dh0.%d" % l] = dnext
    if cell == 1:
        grads["dc0.%d" % l] = dcnext
    return dIn


def run(t):
    """The loss and every gradient of the window frame t, by name."""
    cell, layers, Why, by, V = model(t)
    (T, B), x = t["x"][0], [int(v) for v in t["x"][1]]
    y = [int(v) for v in t["y"][1]]
    L = len(layers)
    h0 = [mat(t["h0.%d" % l][1], B, layers[l]["H"]) for l in range(L)]
    c0 = [mat(t["c0.%d" % l][1], B, layers[l]["H"]) if cell == 1 else None for l in range(L)]
    drop = [None] * L
    for l in range(L):
        if "drop.%d" % l in t:
            H = layers[l]["H"]
            v = t["drop.%d" % l][1]
            drop[l] = [[v[(s * B + b) * H:(s * B + b + 1) * H] for b in range(B)]
                       for s in range(T)]
    hs, caches = forward(cell, layers, x, T, B, h0, c0, drop)
    top = [[dropped(drop, L - 1, s, b, hs[-1][s][b]) for b in range(B)] for s in range(T)]
    loss, dWhy, dby, dH = output(top, Why, by, V, y, T, B)
    dH = [[dropped(drop, L - 1, s, b, dH[s][b]) for b in range(B)] for s in range(T)]
    grads = {"dWhy": dWhy, "dby": dby, "loss": loss}
    for l in range(L - 1, -1, -1):
        dH = layer_back(cell, layers[l], l, hs, caches, x, h0, dH, T, B, grads, drop)
    return grads


def flat(v):
    return [e for row in v for e in row] if v and isinstance(v[0], list) else list(v)


def update(opt, lr, win, ref):
    """The reference's new state and update of each parameter: {name: list}."""
    out = {}
    t = int(win["step"][1][0]) + 1 if "step" in win else 1
    for g in ref:
        p = g[1:]
        if not g.startswith("d") or g.startswith(("dh0", "dc0")) or p not in win:
            continue
        n = len(ref[g])
        m = list(win["m" + p][1]) if "m" + p in win else [0.0] * n
        if opt == "adagrad":
            m = [a + e * e for a, e in zip(m, ref[g])]
            out["step." + p] = [-lr * e / math.sqrt(a + 1e-8) for a, e in zip(m, ref[g])]
        else:
            v = list(win["v" + p][1]) if "v" + p in win else [0.0] * n
            m = [0.9 * a + 0.1 * e for a, e in zip(m, ref[g])]
            v = [0.999 * a + 0.001 * e * e for a, e in zip(v, ref[g])]
            rate = lr * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            out["step." + p] = [-rate * a / (math.sqrt(b) + 1e-8) for a, b in zip(m, v)]
            out["v" + p] = v
        out["m" + p] = m
    return out


def updated(win, got):
    """What the optimiser wrote, its parameters as updates: {name: (dims, list)}."""
    out = dict(got)
    for name in list(got):
        if name in win and ("m" + name) in got:
            out["step." + name] = (got[name][0],
                                   [a - b for a, b in zip(got[name][1], win[name][1])])
    return out


def main():
    clip, tol = float(sys.argv[1]), float(sys.argv[2])
    win = read_text(sys.argv[3])
    ref = run(win)
    got = read_text(sys.argv[4])
    worst = 0.0
    for name in ref:
        r = flat(ref[name])
        if clip > 0 and name.startswith("d") and not name.startswith(("dh0", "dc0")):
            r = [min(clip, max(-clip, e)) for e in r]
        ref[name] = r
    if len(sys.argv) > 5:
        # The rule applied to the gradients the optimiser was given (checked
        # against the reference's below): an element with a tiny memory
        # turns a gradient's rounding into a large change of its update.
        given = {n: list(v[1]) for n, v in got.items() if n in ref}
        ref.update(update(sys.argv[5], float(sys.argv[6]), win, given))
        got.update(updated(win, read_text(sys.argv[7])))
    gmax = max(abs(e) for name, r in ref.items() if name.startswith("d") for e in r)
    for name, r in sorted(ref.items()):
        if name not in got or len(got[name][1]) != len(r):
            sys.exit("ref_net.py: %s: missing or of another size in %s" % (name, sys.argv[4]))
        m = max(abs(e) for e in r)
        if name.startswith("d"):
            m = max(m, gmax)
        elif name.startswith(("m", "v")):
            # Optimiser state sums gradients (or their squares): judged
            # against the scale of the gradients, as they are.
            m = max(m, gmax, gmax * gmax)
        for i, (a, e) in enumerate(zip(got[name][1], r)):
            err = abs(a - e) / (abs(e) + m) if m else abs(a - e)
            worst = max(worst, err)
            if not err <= tol:
                sys.exit("ref_net.py: %s[%d] is %r, reference %r: error %.3g > %g"
                         % (name, i, a, e, err, tol))
    print("ref_net.py: %d tensors, largest error %.3g (limit %g)" % (len(ref), worst, tol))


main()
