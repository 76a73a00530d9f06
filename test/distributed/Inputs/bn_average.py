"""BatchNormalization's moving statistics after one data-parallel step.

    bn_average.py DIR

DIR holds init.safetensors (the initial weights), x.npy (the data, one
global batch, not shuffled) and rank0/rank1.safetensors (each rank's
weights after one step of `dist_fit --model=mlp-bn` on two ranks). With
Keras's momentum 0.99, the moving mean must be the batch's (the ranks'
means averaged) and the moving variance the average of the two halves'
variances (each rank normalizes by its own rows), computed here in float64
from the data and the initial weights.
"""
import json
import os
import struct
import sys

import numpy as np


def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    out = {}
    for name, v in header.items():
        if name != "__metadata__":
            begin, end = v["data_offsets"]
            out[name] = np.frombuffer(data[begin:end], np.float32).reshape(
                v["shape"])
    return out


d = sys.argv[1]
init = load(os.path.join(d, "init.safetensors"))
x = np.load(os.path.join(d, "x.npy")).astype(np.float64)
z = x @ init["dense/kernel"] + init["dense/bias"]
half = len(z) // 2
halves = [z[:half], z[half:]]
mean0 = init["batch_normalization/moving_mean"]
var0 = init["batch_normalization/moving_variance"]
want_mean = 0.99 * mean0 + 0.01 * np.mean([h.mean(0) for h in halves], 0)
want_var = 0.99 * var0 + 0.01 * np.mean([h.var(0) for h in halves], 0)
whole_var = 0.99 * var0 + 0.01 * z.var(0)
ok = True
for rank in (0, 1):
    got = load(os.path.join(d, "rank%d.safetensors" % rank))
    dm = np.abs(got["batch_normalization/moving_mean"] - want_mean).max()
    dv = np.abs(got["batch_normalization/moving_variance"] - want_var).max()
    dw = np.abs(got["batch_normalization/moving_variance"] - whole_var).max()
    good = dm < 1e-6 and dv < 1e-6 and dw > 1e-5
    ok &= good
    print("rank %d: moving mean off by %.2g, moving variance off by %.2g "
          "(the whole batch's variance would be off by %.2g): %s"
          % (rank, dm, dv, dw, "averaged" if good else "WRONG"))
sys.exit(0 if ok else 1)
