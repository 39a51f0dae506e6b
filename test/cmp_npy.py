#!/usr/bin/env python3
"""cmp_npy.py: two builds' tensors, exported by tensordump -e, side by side.

    cmp_npy.py TOL DIR_A DIR_B NAME...

For each NAME, the files F-FRAME-NAME.npy of DIR_A (the float build's) and
DIR_B (the double build's) for every frame F: the same shape, every value
finite, and max |a - b| <= TOL * max |b| (the tensor's scale: float carries
about 7 digits of each element, and sums of many elements round at that
scale, not at each element's). Exits 1 naming the first that is not;
prints the largest scaled difference otherwise. Standard library only.
"""

import array
import ast
import glob
import math
import os
import sys


def load(path):
    """(shape, values) of a little-endian f4 or f8 NumPy file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit("cmp_npy.py: %s: not a NumPy file" % path)
    hlen = int.from_bytes(data[8:10], "little")
    head = ast.literal_eval(data[10:10 + hlen].decode("latin1"))
    code = {"<f4": "f", "<f8": "d"}.get(head["descr"])
    if not code:
        sys.exit("cmp_npy.py: %s: dtype %s" % (path, head["descr"]))
    a = array.array(code)
    a.frombytes(data[10 + hlen:])
    return tuple(head["shape"]), a


def main():
    tol, da, db = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    worst = 0.0
    for name in sys.argv[4:]:
        files = sorted(glob.glob(os.path.join(db, "*-" + name + ".npy")))
        if not files:
            sys.exit("cmp_npy.py: no tensor %s in %s" % (name, db))
        for fb in files:
            fa = os.path.join(da, os.path.basename(fb))
            (sa, a), (sb, b) = load(fa), load(fb)
            if sa != sb:
                sys.exit("cmp_npy.py: %s: shape %s, double %s" % (fa, sa, sb))
            if not all(math.isfinite(v) for v in a):
                sys.exit("cmp_npy.py: %s: a value that is not finite" % fa)
            scale = max(abs(v) for v in b) or 1.0
            d = max(abs(x - y) for x, y in zip(a, b)) / scale
            worst = max(worst, d)
            if not d <= tol:
                sys.exit("cmp_npy.py: %s: difference %.3g of the scale > %g"
                         % (fa, d, tol))
    print("cmp_npy.py: largest difference %.3g of the scale (limit %g)" % (worst, tol))


main()
