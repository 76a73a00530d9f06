"""NumPy reference for test/codegen/concatenate-run.mlir and
test/codegen/wide-graphs.test.

  concatenate.py gen DIR         write the random inputs
  concatenate.py check WHAT DIR  compare layerc-run's output WHAT.npy in DIR
                                 with np.concatenate; exit 1 on a mismatch

Concatenation only moves values, so the comparison is exact.
"""

import sys

import numpy as np

BATCH = 3


def gen(d):
    rng = np.random.default_rng(20251202)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    arrays = {
        "a": f32(BATCH, 3, 8),
        "b": f32(BATCH, 3, 600),
        "c": f32(BATCH, 3, 5),
        "p": rng.standard_normal((BATCH, 2, 4, 6)),
        "q": rng.standard_normal((BATCH, 5, 4, 6)),
        "s": f32(BATCH, 4, 2),
        "t": f32(BATCH, 3, 2),
        "x": f32(BATCH, 8),
    }
    for name, value in arrays.items():
        np.save("%s/%s.npy" % (d, name), value)


def expected(what, d):
    v = lambda name: np.load("%s/%s.npy" % (d, name))
    relu = lambda x: np.maximum(x, 0)
    if what == "last_axis":
        return np.concatenate([v("a"), v("b"), v("c"), v("a")], axis=2)
    if what == "middle_axis":
        return np.concatenate([v("p"), v("q"), v("p")], axis=1)
    if what == "slices":
        a = v("a")
        low = np.concatenate([a[:, :, 2:7], a[:, :, 0:3]], axis=2)
        return np.concatenate([low, a[:, 1:3, :], a], axis=1)
    if what == "size_on_axis_at_run_time":
        return np.concatenate([v("s"), v("t")], axis=1).mean(axis=1)
    if what.startswith("width"):  # graph_series.py width N
        n = int(what[len("width"):])
        return np.tile(relu(v("x")), (1, n))
    sys.exit("unknown output %r" % what)


def check(what, d):
    got = np.load("%s/%s.npy" % (d, what))
    want = expected(what, d)
    exact = not what.startswith("size_on_axis")
    if got.shape != want.shape or got.dtype != want.dtype:
        sys.exit("%s: shape %s %s, expected %s %s"
                 % (what, got.shape, got.dtype, want.shape, want.dtype))
    same = (np.array_equal(got, want) if exact
            else np.allclose(got, want, rtol=1e-6, atol=1e-6))
    if not same:
        bad = np.argwhere(got != want)[0] if exact else "-"
        sys.exit("%s differs from NumPy (first at %s)" % (what, bad))
    print("OK", what)


if __name__ == "__main__":
    if sys.argv[1:2] == ["gen"] and len(sys.argv) == 3:
        gen(sys.argv[2])
    elif sys.argv[1:2] == ["check"] and len(sys.argv) == 4:
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
