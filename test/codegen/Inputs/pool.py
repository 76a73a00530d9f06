"""Inputs and checks for pool-run.mlir: NumPy's max and average pooling
(TensorFlow's "same" split: the extra padding after; padded positions
never win a max and are not counted in an average).

gen DIR writes x.npy; check DIR NAME POOL STRIDE PADDING KIND compares
DIR/NAME.npy with NumPy.
"""
import sys
import numpy as np


def pool(x, k, s, padding, kind):
    n, h, w, c = x.shape
    if padding == "same":
        oh, ow = -(-h // s), -(-w // s)
        ph = max((oh - 1) * s + k - h, 0)
        pw = max((ow - 1) * s + k - w, 0)
        top, left = ph // 2, pw // 2
    else:
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
        top = left = 0
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - top, j * s - left
            win = x[:, max(r0, 0):min(r0 + k, h), max(c0, 0):min(c0 + k, w), :]
            out[:, i, j, :] = (win.max(axis=(1, 2)) if kind == "max"
                               else win.mean(axis=(1, 2)))
    return out


def main():
    if sys.argv[1] == "gen":
        rng = np.random.default_rng(3)
        np.save(f"{sys.argv[2]}/x.npy",
                rng.standard_normal((3, 11, 11, 32)).astype(np.float32))
        return
    d, name, k, s, padding, kind = sys.argv[2:8]
    x = np.load(f"{d}/x.npy").astype(np.float64)
    got = np.load(f"{d}/{name}.npy")
    want = pool(x, int(k), int(s), padding, kind)
    err = np.abs(got - want).max()
    print(f"{'OK' if got.shape == want.shape and err < 1e-5 else 'FAIL'} "
          f"{name} {got.shape} max error {err:.1e}")


main()
