"""NumPy reference for test/tools/layerc-run.mlir.

  mlp.py gen DIR                 write random inputs, labels and weights
  mlp.py check WHAT DIR          compare layerc-run's .npy outputs in DIR with
                                 NumPy; exit 1 (and say where) on a mismatch

The model is the one in layerc-run.mlir: dense(relu) -> dense, logits or
softmax probabilities. All references are computed in float64 from the
float32 inputs.
"""

import sys

import numpy as np

BATCH, FEATURES, HIDDEN, CLASSES = 7, 5, 6, 4
RTOL, ATOL = 1e-5, 1e-6


def load(d, name):
    return np.load("%s/%s.npy" % (d, name))


def gen(d):
    rng = np.random.default_rng(20240601)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    arrays = {
        "x": f32(BATCH, FEATURES),
        "k0": f32(FEATURES, HIDDEN),
        "b0": f32(HIDDEN),
        "k1": f32(HIDDEN, CLASSES),
        "b1": f32(CLASSES),
        "y": rng.integers(0, CLASSES, BATCH).astype(np.int32),
        # Optimizer state: slots of the right shapes, non-negative where
        # they hold squares.
        "step": np.array(3.0, dtype=np.float32),
        "x64": rng.standard_normal((BATCH, FEATURES)),
        "x1": f32(1, FEATURES),
    }
    for p in ("k0", "b0", "k1", "b1"):
        shape = arrays[p].shape
        arrays[p + "_m"] = f32(*shape) * np.float32(0.1)
        arrays[p + "_v"] = np.abs(f32(*shape)) * np.float32(0.1)
    for name, a in arrays.items():
        np.save("%s/%s.npy" % (d, name), a)


def forward(d, x=None):
    x = load(d, "x").astype(np.float64) if x is None else x
    k0, b0, k1, b1 = (load(d, p).astype(np.float64) for p in ("k0", "b0", "k1", "b1"))
    pre = x @ k0 + b0
    h = np.maximum(pre, 0)
    z = h @ k1 + b1
    return x, pre, h, z


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sparse_ce_from_logits(z, y):
    lse = np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1)) + z.max(-1)
    return np.mean(lse - z[np.arange(len(y)), y])


def gradients(d):
    x, pre, h, z = forward(d)
    y = load(d, "y")
    dz = softmax(z)
    dz[np.arange(len(y)), y] -= 1
    dz /= len(y)
    dh = dz @ load(d, "k1").astype(np.float64).T
    dpre = dh * (pre > 0)
    return {"k0": x.T @ dpre, "b0": dpre.sum(0), "k1": h.T @ dz, "b1": dz.sum(0)}


failures = []


def compare(name, got, want):
    want = np.asarray(want)
    if got.shape != want.shape:
        failures.append("%s: shape %s, expected %s" % (name, got.shape, want.shape))
    elif got.dtype != np.float32:
        failures.append("%s: dtype %s, expected float32" % (name, got.dtype))
    elif not np.allclose(got, want, rtol=RTOL, atol=ATOL):
        err = np.abs(got - want).max()
        failures.append("%s: max abs error %g\n got %s\n want %s" % (name, err, got, want))


def check(what, d):
    params = ("k0", "b0", "k1", "b1")
    if what == "classify":
        compare("probabilities", load(d, "probs"), softmax(forward(d)[3]))
        compare("probabilities(batch 1)", load(d, "probs1"),
                softmax(forward(d, load(d, "x1").astype(np.float64))[3]))
    elif what == "evaluate":
        z = forward(d)[3]
        compare("loss", load(d, "eval_loss"), sparse_ce_from_logits(z, load(d, "y")))
        compare("logits", load(d, "eval_logits"), z)
    elif what == "grad":
        z = forward(d)[3]
        compare("loss", load(d, "grad_loss"), sparse_ce_from_logits(z, load(d, "y")))
        compare("logits", load(d, "grad_logits"), z)
        g = gradients(d)
        for p in params:
            compare("d" + p, load(d, "grad_" + p), g[p])
    elif what in ("sgd", "rmsprop", "adam"):
        g = gradients(d)
        for p in params:
            w = load(d, p).astype(np.float64)
            m = load(d, p + "_m").astype(np.float64)
            v = load(d, p + "_v").astype(np.float64)
            if what == "sgd":  # learning-rate=0.1 momentum=0.9
                m = 0.9 * m - 0.1 * g[p]
                w = w + m
                want = {"": w, "_m": m}
            elif what == "rmsprop":  # Keras defaults: lr 1e-3, rho 0.9, eps 1e-7
                v = 0.9 * v + 0.1 * g[p] ** 2
                w = w - 1e-3 * g[p] / np.sqrt(v + 1e-7)
                want = {"": w, "_v": v}
            else:  # Keras defaults: lr 1e-3, b1 0.9, b2 0.999, eps 1e-7
                t = float(load(d, "step"))
                alpha = 1e-3 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
                m = m + (g[p] - m) * (1 - 0.9)
                v = v + (g[p] ** 2 - v) * (1 - 0.999)
                w = w - alpha * m / (np.sqrt(v) + 1e-7)
                want = {"": w, "_m": m, "_v": v}
            for suffix, value in want.items():
                compare("%s new %s%s" % (what, p, suffix),
                        load(d, "%s_new_%s%s" % (what, p, suffix)), value)
    else:
        sys.exit("unknown check " + what)
    if failures:
        print("MISMATCH\n" + "\n".join(failures))
        sys.exit(1)
    print("OK " + what)


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
