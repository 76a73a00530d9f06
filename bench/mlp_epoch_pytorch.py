"""The same epoch as bench/mlp_epoch.cpp in PyTorch (Debian's python3-torch).

784-64-64-10 MLP, RMSprop(lr=1e-3, alpha=0.9, eps=1e-7), batch 64, shuffled,
48,000 Fashion-MNIST images, one thread; prints the median epoch time.
"""
import gzip
import sys
import time

import numpy as np
import torch

DIR = "/usr/share/datasets/fashion-mnist"


def load(name, offset):
    with gzip.open(f"{DIR}/{name}", "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    torch.set_num_threads(1)
    x = load("train-images-idx3-ubyte.gz", 16).reshape(60000, 784)[:48000]
    y = load("train-labels-idx1-ubyte.gz", 8)[:48000]
    x = torch.tensor(x, dtype=torch.float32) / 255.0
    y = torch.tensor(y, dtype=torch.int64)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10))
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(48000)
        for i in range(0, 48000, 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    times.sort()
    print(f"pytorch epoch_s {times[len(times) // 2]:.4f}")


if __name__ == "__main__":
    main()
