"""Inputs and checks for threads-run.mlir.

gen DIR: writes x.npy, k.npy, b.npy (a convolution) and a.npy, w.npy (a
matmul). check DIR: the results of one thread and of two must be equal
bit for bit (threads split images and rows, never a sum), and match
NumPy's convolution + bias + relu and matmul.
"""
import sys
import numpy as np


def conv_relu(x, k, b):
    n, h, w, _ = x.shape
    kh, kw, _, f = k.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1, f), np.float64)
    for i in range(kh):
        for j in range(kw):
            window = x[:, i:i + out.shape[1], j:j + out.shape[2], :]
            out += np.einsum("nhwc,cf->nhwf", window, k[i, j])
    return np.maximum(out + b, 0)


def main():
    mode, d = sys.argv[1], sys.argv[2]
    if mode == "gen":
        rng = np.random.default_rng(7)
        for name, shape in [("x", (16, 13, 13, 8)), ("k", (3, 3, 8, 32)),
                            ("b", (32,)), ("a", (96, 128)), ("w", (128, 64))]:
            np.save(f"{d}/{name}.npy",
                    rng.standard_normal(shape).astype(np.float32))
        return
    x, k, b, a, w = (np.load(f"{d}/{n}.npy").astype(np.float64)
                     for n in "x k b a w".split())
    for name, want in [("conv", conv_relu(x, k, b)), ("matmul", a @ w)]:
        one = np.load(f"{d}/{name}_1.npy")
        two = np.load(f"{d}/{name}_2.npy")
        if not np.array_equal(one, two):
            print(f"FAIL {name}: 1 and 2 threads differ by "
                  f"{np.abs(one - two).max()}")
            continue
        err = np.abs(one - want).max() / np.abs(want).max()
        print(f"{'OK' if err < 1e-5 else 'FAIL'} {name} {one.shape} "
              f"relative error {err:.1e}")


main()
