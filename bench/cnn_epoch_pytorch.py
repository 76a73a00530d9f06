"""The same epoch as bench/cnn_epoch.cpp in PyTorch (Debian's python3-torch).

Conv2d(1, 32, 3) - BatchNorm2d (Keras's momentum 0.99 and epsilon 1e-3) -
relu - MaxPool2d(2) - Conv2d(32, 64, 3) - relu - MaxPool2d(2) - Flatten -
Linear(1600, 10) (NCHW), Adam (lr 1e-3, eps 1e-7 as Keras), batch 64,
shuffled, one epoch on the first N Fashion-MNIST training images; prints
the epoch time and the accuracy on the 10,000 test images.

The weights start as Keras's do (glorot_uniform kernels, zero biases), so
that both frameworks train the same model: with PyTorch's own init
(kaiming_uniform, a = sqrt(5), and uniform biases) this epoch reached
0.880 and 0.875 test accuracy (seeds 0 and 1), with Keras's 0.869, 0.870
and 0.860 (seeds 0, 1 and 2), where layerc reaches 0.865.

  python3 cnn_epoch_pytorch.py [train-images] [threads]
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


def images(name, count):
    x = load(name, 16).reshape(count, 1, 28, 28)
    return torch.tensor(x, dtype=torch.float32) / 255.0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = images("train-images-idx3-ubyte.gz", 60000)[:n]
    y = torch.tensor(load("train-labels-idx1-ubyte.gz", 8)[:n], dtype=torch.int64)
    x_test = images("t10k-images-idx3-ubyte.gz", 10000)
    y_test = torch.tensor(load("t10k-labels-idx1-ubyte.gz", 8), dtype=torch.int64)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3),
        torch.nn.BatchNorm2d(32, eps=1e-3, momentum=0.01),
        torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1600, 10))
    for layer in model:
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    perm = torch.randperm(n)
    for i in range(0, n, 64):
        idx = perm[i:i + 64]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    epoch = time.perf_counter() - start
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, 10000, 500):
            correct += (model(x_test[i:i + 500]).argmax(1) ==
                        y_test[i:i + 500]).sum().item()
    # Keras counts BatchNormalization's moving statistics as parameters.
    print(f"pytorch params {params + 2 * 32}")
    print(f"pytorch epoch_s {epoch:.3f}")
    print(f"pytorch test_acc {correct / 10000:.4f}")


if __name__ == "__main__":
    main()
