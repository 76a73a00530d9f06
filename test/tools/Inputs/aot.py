"""Inputs and checks for layerc-aot.mlir.

gen DIR BATCH: random input and weights of examples/mlir/mnist_mlp.mlir as
  raw float32 (.bin, for the C harness) and .npy (for layerc-run).
check DIR BATCH: the AOT library's logits equal the JIT's bit for bit and
  match a NumPy forward pass.
"""
import sys

import numpy as np

SHAPES = [(784, 64), (64,), (64, 64), (64,), (64, 10), (10,)]


def gen(d, batch):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    x.tofile(f"{d}/x.bin")
    np.save(f"{d}/x.npy", x)
    for i, s in enumerate(SHAPES):
        w = (rng.standard_normal(s) * 0.1).astype(np.float32)
        w.tofile(f"{d}/w{i}.bin")
        np.save(f"{d}/w{i}.npy", w)


def check(d, batch):
    aot = np.fromfile(f"{d}/aot_out.bin", np.float32).reshape(batch, 10)
    jit = np.load(f"{d}/jit_out.npy")
    if not np.array_equal(aot, jit):
        sys.exit(f"AOT and JIT differ: max {np.abs(aot - jit).max()}")
    x = np.load(f"{d}/x.npy").astype(np.float64)
    w = [np.load(f"{d}/w{i}.npy").astype(np.float64) for i in range(6)]
    h = np.maximum(x @ w[0] + w[1], 0)
    h = np.maximum(h @ w[2] + w[3], 0)
    ref = h @ w[4] + w[5]
    if not np.allclose(aot, ref, rtol=1e-5, atol=1e-5):
        sys.exit(f"AOT differs from NumPy: max {np.abs(aot - ref).max()}")
    print("OK aot")


if __name__ == "__main__":
    {"gen": gen, "check": check}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
