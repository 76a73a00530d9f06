"""Inputs and NumPy results for shared-init.test: `gen DIR`, `check DIR`."""
import sys

import numpy as np

mode, d = sys.argv[1], sys.argv[2]
if mode == "gen":
    np.save(f"{d}/x.npy", np.arange(8, dtype=np.float32).reshape(2, 4))
    np.save(f"{d}/k0.npy", np.ones((4, 3), np.float32))
    np.save(f"{d}/k1.npy", 2 * np.ones((4, 3), np.float32))
    np.save(f"{d}/p.npy", np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3],
                                   np.float32).reshape(2, 8, 1))
    sys.exit(0)
x, k0, k1 = (np.load(f"{d}/{n}.npy") for n in ("x", "k0", "k1"))
assert np.allclose(np.load(f"{d}/d0.npy"), x @ k0)
assert np.allclose(np.load(f"{d}/d1.npy"), x @ k1)
p = np.load(f"{d}/p.npy")[:, :, 0]
valid = p.reshape(2, 4, 2).max(axis=2)
padded = np.pad(p, ((0, 0), (0, 1)), constant_values=-np.inf)  # same: 3 wide, stride 2
same = np.stack([padded[:, i:i + 3].max(axis=1) for i in range(0, 8, 2)], axis=1)
assert np.allclose(np.load(f"{d}/p0.npy")[:, :, 0], valid)
assert np.allclose(np.load(f"{d}/p1.npy")[:, :, 0], same), np.load(f"{d}/p1.npy")
print("OK two outputs")
