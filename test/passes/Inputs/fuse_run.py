"""Inputs and comparisons for test/passes/fuse-run.mlir.

  fuse_run.py gen DIR                write random inputs and weights
  fuse_run.py gen-residual DIR       the same for fuse-residual-run.mlir
  fuse_run.py compare DIR NAME...    compare DIR/NAME.npy (unfused) with
                                     DIR/NAME.fused.npy; exit 1 (and say
                                     where) on a mismatch

Folding batch normalization into the weights reassociates the arithmetic
((x k + b) s + t against x (k s) + (b s + t)), so the results agree to
float32 rounding, not bit for bit. Each element must agree within RTOL of
its value, or within RTOL of the result's largest magnitude where the value
itself is near 0 (a sum that cancels has no relative precision).
"""

import sys

import numpy as np

RTOL = 1e-5
BATCH, SIZE, IN_CHANNELS, FILTERS, HIDDEN, OUT = 5, 6, 3, 4, 6, 5


def gen(d):
    rng = np.random.default_rng(20261202)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    # Moving statistics far from 0 and 1, as a trained model's are, so that
    # a fold that dropped the mean or the variance would show.
    positive = lambda n: rng.uniform(0.2, 3.0, n).astype(np.float32)
    arrays = {
        "x": f32(BATCH, SIZE, SIZE, IN_CHANNELS),
        "y": f32(BATCH, OUT),
        "ck": f32(3, 3, IN_CHANNELS, FILTERS),
        "cb": f32(FILTERS),
        "gamma": positive(FILTERS),
        "beta": f32(FILTERS),
        "mean": f32(FILTERS) * np.float32(2.0),
        "variance": positive(FILTERS),
        "dk": f32(FILTERS, HIDDEN),
        "db": f32(HIDDEN),
        "dk2": f32(HIDDEN, OUT),
        "mean2": f32(OUT),
        "variance2": positive(OUT),
    }
    for name, a in arrays.items():
        np.save("%s/%s.npy" % (d, name), a)


def gen_residual(d):
    rng = np.random.default_rng(20261205)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    arrays = {
        "x": f32(3, 9, 9, 16),
        "y": f32(3, 5, 5, 3),
        "k1": f32(3, 3, 16, 16) * np.float32(0.2),
        "b1": f32(16),
        "k2": f32(3, 3, 16, 16) * np.float32(0.2),
        "k3": f32(3, 3, 16, 3) * np.float32(0.2),
        "b3": f32(3),
        "k4": f32(3, 3, 8, 16) * np.float32(0.2),
    }
    for name, a in arrays.items():
        np.save("%s/%s.npy" % (d, name), a)


def compare(d, names):
    ok = True
    for name in names:
        ref = np.load("%s/%s.npy" % (d, name)).astype(np.float64)
        got = np.load("%s/%s.fused.npy" % (d, name)).astype(np.float64)
        if ref.shape != got.shape:
            print("MISMATCH %s: shape %s, fused %s" % (name, ref.shape, got.shape))
            ok = False
            continue
        scale = max(np.abs(ref).max(), np.finfo(np.float32).tiny)
        err = np.abs(got - ref) / np.maximum(np.abs(ref), scale * 1e-2)
        worst = float(err.max()) if err.size else 0.0
        if not (worst <= RTOL):
            i = np.unravel_index(np.argmax(err), err.shape)
            print("MISMATCH %s at %s: %r, fused %r (relative error %.3g)"
                  % (name, i, ref[i], got[i], worst))
            ok = False
        else:
            print("%s: max relative error %.3g" % (name, worst), file=sys.stderr)
    print("OK" if ok else "FAILED", " ".join(names))
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "gen-residual":
        gen_residual(sys.argv[2])
    elif sys.argv[1] == "compare":
        sys.exit(0 if compare(sys.argv[2], sys.argv[3:]) else 1)
    else:
        sys.exit("usage: fuse_run.py gen|gen-residual DIR | compare DIR NAME...")
