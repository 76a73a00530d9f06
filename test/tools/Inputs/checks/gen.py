"""Inputs for runtime-checks.test, and (with `check`) NumPy's results for
the runs whose sizes agree."""
import sys

import numpy as np

d = sys.argv[1]
rng = np.random.default_rng(0)
shapes = {"x3x3": (3, 3), "x3x4096": (3, 4096), "x4x4": (4, 4),
          "k4096x4": (4096, 4), "x3x100004": (3, 100004),
          "x5x4096": (5, 4096)}
if len(sys.argv) == 2:
    for name, shape in shapes.items():
        np.save(f"{d}/{name}.npy", rng.standard_normal(shape).astype(np.float32))
    sys.exit(0)

x = {name: np.load(f"{d}/{name}.npy") for name in shapes}
assert np.array_equal(np.load(f"{d}/slice.npy"), x["x3x100004"][:, 100000:100002])
assert np.allclose(np.load(f"{d}/add.npy"), 2 * x["x3x4096"])
want = x["x5x4096"].astype(np.float64) @ x["k4096x4"].astype(np.float64)
assert np.allclose(np.load(f"{d}/dense.npy"), want, rtol=1e-4, atol=1e-3)
print("OK slice add dense")
