"""The same convolution layers as bench/conv_layer.cpp in PyTorch (Debian's
python3-torch), one thread, channels-first as PyTorch prefers: predict
(forward, no autograd) and one SGD step on the mean squared error against
a target (forward, kernel and bias gradients, update: the input is the
model's input, so neither side computes its gradient); medians.
"""
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def median_ms(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    times.sort()
    return times[len(times) // 2]


def run(name, size, channels, padding, repeats):
    conv = torch.nn.Conv2d(channels, 64, 3, padding=padding)
    opt = torch.optim.SGD(conv.parameters(), lr=1e-3)
    x = torch.rand(32, channels, size, size)
    with torch.no_grad():
        target = conv(x)

    def forward():
        with torch.no_grad():
            conv(x)

    def step():
        opt.zero_grad()
        F.mse_loss(conv(x), target).backward()
        opt.step()

    forward()
    step()
    print(f"pytorch {name}_forward_ms {median_ms(repeats, forward):.3f}")
    print(f"pytorch {name}_step_ms {median_ms(repeats, step):.3f}")


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    run("conv30x32", 30, 32, 0, repeats)
    run("conv9x64", 9, 64, 1, repeats)


if __name__ == "__main__":
    main()
