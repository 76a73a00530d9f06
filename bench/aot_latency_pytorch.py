"""PyTorch's inference latency for the MNIST MLP (bench/aot_latency.sh).
With an argument, also exports the model to that ONNX file."""
import sys
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
    # The same model for onnxruntime (bench/aot_latency_onnxruntime.js).
    if len(sys.argv) > 1:
        torch.onnx.export(model, torch.randn(1, 784), sys.argv[1],
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    scripted = torch.jit.script(model)
    for name, m in (("pytorch", model), ("pytorch-jit", scripted)):
        print(f"{name} batch1_us {median_us(m, 1, 201, 100):.2f}")
        print(f"{name} batch64_us {median_us(m, 64, 101, 10):.2f}")


if __name__ == "__main__":
    main()
