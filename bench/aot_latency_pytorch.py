"""PyTorch's inference latency for the MNIST MLP (bench/aot_latency.sh)."""
import time

import torch


def median_us(model, batch, reps, inner):
    x = torch.randn(batch, 784)
    times = []
    with torch.no_grad():
        for _ in range(reps):
            start = time.perf_counter()
            for _ in range(inner):
                model(x)
            times.append((time.perf_counter() - start) / inner * 1e6)
    times.sort()
    return times[len(times) // 2]


def main():
    torch.set_num_threads(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10)).eval()
    scripted = torch.jit.script(model)
    for name, m in (("pytorch", model), ("pytorch-jit", scripted)):
        print(f"{name} batch1_us {median_us(m, 1, 201, 100):.2f}")
        print(f"{name} batch64_us {median_us(m, 64, 101, 10):.2f}")


if __name__ == "__main__":
    main()
