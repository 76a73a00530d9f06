"""Checks for layerc-lcm.mlir, reading the saved model as safetensors with
NumPy alone (an independent reader of the format).

gen DIR BATCH: random inputs (x.bin) and labels (y.bin, int32).
check DIR BATCH MODEL: the library's outputs match a NumPy forward pass with
  the weights in MODEL.
dump DIR BATCH MODEL: the Dense weights as raw float32 w0.bin ... w5.bin.
train DIR BATCH MODEL: checks losses.bin written by train_harness.c.
check-trained CHECKPOINT MODEL: a checkpoint saved by the context API.
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


def dense_names(meta):
    config = json.loads(meta["model_config"])
    return [l["name"] for l in config["config"]["layers"]
            if l["class_name"] == "Dense"]


def forward(x, w, names):
    h = x.astype(np.float64)
    for i, name in enumerate(names):
        h = h @ w[f"{name}/kernel"] + w[f"{name}/bias"]
        if i + 1 < len(names):
            h = np.maximum(h, 0)
    return h


def train_check(d, batch, model):
    """The first train_step loss equals NumPy's sparse cross-entropy of the
    saved weights, and training on one batch drives the loss down."""
    w, meta = read_safetensors(model)
    names = dense_names(meta)
    x = np.fromfile(f"{d}/x.bin", np.float32).reshape(batch, 784)
    y = np.fromfile(f"{d}/y.bin", np.int32)
    z = forward(x, w, names)
    z = z - z.max(axis=1, keepdims=True)
    ce = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(batch), y])
    losses = np.fromfile(f"{d}/losses.bin", np.float32)
    if not np.isclose(losses[0], ce, rtol=1e-5):
        sys.exit(f"first loss {losses[0]} != numpy {ce}")
    if not losses[-1] < 0.5 * losses[0]:
        sys.exit(f"loss did not fall: {losses[0]} -> {losses[-1]}")
    print(f"OK train {len(losses)} steps")


def check_trained(trained_path, model_path):
    """The checkpoint written by <prefix>_save_weights holds every weight of
    the model, with its shape, and training changed each one."""
    trained, _ = read_safetensors(trained_path)
    initial, _ = read_safetensors(model_path)
    initial = {k: v for k, v in initial.items()
               if not k.startswith("optimizer/")}
    if set(trained) != set(initial):
        sys.exit(f"names differ: {sorted(trained)} vs {sorted(initial)}")
    for name, t in trained.items():
        if t.shape != initial[name].shape:
            sys.exit(f"{name}: shape {t.shape} != {initial[name].shape}")
        if np.array_equal(t, initial[name]):
            sys.exit(f"{name} did not change")
    print(f"OK {len(trained)} trained weights, all changed")


def main():
    if sys.argv[1] == "check-trained":
        return check_trained(sys.argv[2], sys.argv[3])
    mode, d, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "gen":
        rng = np.random.default_rng(4)
        rng.random((batch, 784), dtype=np.float32).tofile(f"{d}/x.bin")
        rng.integers(0, 10, batch, dtype=np.int32).tofile(f"{d}/y.bin")
        return
    if mode == "dump":
        w, meta = read_safetensors(sys.argv[4])
        for i, name in enumerate(dense_names(meta)):
            w[f"{name}/kernel"].tofile(f"{d}/w{2 * i}.bin")
            w[f"{name}/bias"].tofile(f"{d}/w{2 * i + 1}.bin")
        return
    if mode == "train":
        return train_check(d, batch, sys.argv[4])
    w, meta = read_safetensors(sys.argv[4])
    names = dense_names(meta)
    x = np.fromfile(f"{d}/x.bin", np.float32).reshape(batch, 784)
    h = forward(x, w, names)
    out = np.fromfile(f"{d}/embedded_out.bin", np.float32).reshape(batch, 10)
    if not np.allclose(out, h, rtol=1e-5, atol=1e-5):
        sys.exit(f"mismatch: max {np.abs(out - h).max()}")
    print(f"OK lcm {len(names)} dense layers")


if __name__ == "__main__":
    main()
