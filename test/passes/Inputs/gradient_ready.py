"""Inputs of autodiff-gradient-ready.mlir: gradient_ready.py DIR."""
import os
import sys

import numpy as np

d = sys.argv[1]
rng = np.random.default_rng(3)
save = lambda name, a: np.save(os.path.join(d, name + ".npy"), a)
save("x", rng.normal(size=(5, 4)).astype(np.float32))
save("y", rng.integers(0, 3, size=(5,)).astype(np.int32))
save("k", rng.normal(size=(4, 4)).astype(np.float32))
save("w", rng.normal(size=(4, 3)).astype(np.float32))
save("b", rng.normal(size=(3,)).astype(np.float32))
save("step", np.array(1, np.float32))
save("offset", np.array(0, np.float32))
