"""Checks for layerc-lcm.mlir, reading the saved model as safetensors with
NumPy alone (an independent reader of the format).

gen DIR BATCH: random inputs as raw float32.
check DIR BATCH MODEL: the library's outputs match a NumPy forward pass with
  the weights in MODEL.
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", entry
        b, e = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[base + b:base + e], np.float32) \
            .reshape(entry["shape"])
    return tensors, header.get("__metadata__", {})


def main():
    mode, d, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "gen":
        rng = np.random.default_rng(4)
        rng.random((batch, 784), dtype=np.float32).tofile(f"{d}/x.bin")
        return
    w, meta = read_safetensors(sys.argv[4])
    config = json.loads(meta["model_config"])
    names = [l["name"] for l in config["config"]["layers"]
             if l["class_name"] == "Dense"]
    x = np.fromfile(f"{d}/x.bin", np.float32).reshape(batch, 784)
    h = x.astype(np.float64)
    for i, name in enumerate(names):
        h = h @ w[f"{name}/kernel"] + w[f"{name}/bias"]
        if i + 1 < len(names):
            h = np.maximum(h, 0)
    out = np.fromfile(f"{d}/embedded_out.bin", np.float32).reshape(batch, 10)
    if not np.allclose(out, h, rtol=1e-5, atol=1e-5):
        sys.exit(f"mismatch: max {np.abs(out - h).max()}")
    print(f"OK lcm {len(names)} dense layers")


if __name__ == "__main__":
    main()
