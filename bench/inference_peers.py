"""The peers of bench/inference.sh: the guide's MLP, toy ResNet and
autoencoder in PyTorch (NCHW, the layers, filters and kernel sizes of
examples/guide/GuideModels.h and examples/functional_guide.cpp), timed with
torch.jit.trace or exported to ONNX and timed with onnxruntime.

  python3 inference_peers.py export DIR             # DIR/<model>.onnx
  python3 inference_peers.py torch --threads N [--reps R] [--target-ms T]
  python3 inference_peers.py ort DIR --threads N [--reps R] [--target-ms T]

The timing commands print `<framework> <model> batch<B> <median ms per
call>` for every model at --batches (1 and 64). Each cell warms up (at
least 3 calls and 50 ms), picks a number of calls per repetition that
takes about --target-ms, and takes the median of --reps repetitions; a
call includes the Python call (the inputs are allocated once).
The weights are random: only the time is compared.
"""
import argparse
import os
import sys
import time

MODELS = ("mlp", "toy_resnet", "autoencoder")
# Per-sample input shapes (NCHW) and the guide's parameter counts, which
# check that the architectures are the ones layerc compiles.
INPUT_SHAPES = {"mlp": (784,), "toy_resnet": (3, 32, 32),
                "autoencoder": (1, 28, 28)}
PARAMS = {"mlp": 55050, "toy_resnet": 223242, "autoencoder": 28241}


def build(name):
    import torch
    from torch import nn

    if name == "mlp":
        # The guide's MNIST MLP (examples/mnist_mlp.cpp).
        return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64),
                             nn.ReLU(), nn.Linear(64, 10))

    if name == "toy_resnet":
        class ToyResNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 32, 3)
                self.c2 = nn.Conv2d(32, 64, 3)
                self.pool = nn.MaxPool2d(3)  # Keras: stride = pool size
                self.c3 = nn.Conv2d(64, 64, 3, padding=1)
                self.c4 = nn.Conv2d(64, 64, 3, padding=1)
                self.c5 = nn.Conv2d(64, 64, 3, padding=1)
                self.c6 = nn.Conv2d(64, 64, 3, padding=1)
                self.c7 = nn.Conv2d(64, 64, 3)
                self.fc1 = nn.Linear(64, 256)
                self.drop = nn.Dropout(0.5)
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                relu = torch.relu
                x = relu(self.c2(relu(self.c1(x))))
                block1 = self.pool(x)
                x = relu(self.c4(relu(self.c3(block1))))
                block2 = x + block1
                x = relu(self.c6(relu(self.c5(block2))))
                block3 = x + block2
                x = relu(self.c7(block3))
                x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
                return self.fc2(self.drop(relu(self.fc1(x))))

        return ToyResNet()

    if name == "autoencoder":
        class Autoencoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.Sequential(
                    nn.Conv2d(1, 16, 3), nn.ReLU(),
                    nn.Conv2d(16, 32, 3), nn.ReLU(),
                    nn.MaxPool2d(3),
                    nn.Conv2d(32, 32, 3), nn.ReLU(),
                    nn.Conv2d(32, 16, 3), nn.ReLU(),
                    nn.AdaptiveMaxPool2d(1))  # GlobalMaxPooling2D
                self.decoder = nn.Sequential(
                    nn.ConvTranspose2d(1, 16, 3), nn.ReLU(),
                    nn.ConvTranspose2d(16, 32, 3), nn.ReLU(),
                    nn.Upsample(scale_factor=3, mode="nearest"),
                    nn.ConvTranspose2d(32, 16, 3), nn.ReLU(),
                    nn.ConvTranspose2d(16, 1, 3), nn.ReLU())

            def forward(self, x):
                code = self.encoder(x).flatten(1)  # (N, 16)
                # Reshape((4, 4, 1)) in NHWC is (N, 1, 4, 4) in NCHW.
                return self.decoder(code.reshape(-1, 1, 4, 4))

        return Autoencoder()

    raise ValueError(name)


def checked(name):
    model = build(name).eval()
    n = sum(p.numel() for p in model.parameters())
    if n != PARAMS[name]:
        sys.exit(f"{name}: {n} parameters, the guide's model has {PARAMS[name]}")
    return model


def median_ms(fn, reps, target_ms):
    start = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - start < 0.05:
        fn()
        warm += 1
    start = time.perf_counter()
    fn()
    one = (time.perf_counter() - start) * 1e3
    inner = max(1, int(target_ms / one)) if one > 0 else 1000
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) * 1e3 / inner)
    times.sort()
    return times[len(times) // 2]


def export(out_dir):
    import torch

    for name in MODELS:
        model = checked(name)
        x = torch.rand(1, *INPUT_SHAPES[name])
        torch.onnx.export(model, x, os.path.join(out_dir, f"{name}.onnx"),
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


def time_torch(args):
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    with torch.no_grad():
        for name in MODELS:
            model = checked(name)
            for batch in args.batches:
                x = torch.rand(batch, *INPUT_SHAPES[name])
                traced = torch.jit.trace(model, x)
                ms = median_ms(lambda: traced(x), args.reps, args.target_ms)
                print(f"pytorch {name} batch{batch} {ms:.5f}", flush=True)


def time_ort(args):
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    for name in MODELS:
        session = ort.InferenceSession(
            os.path.join(args.dir, f"{name}.onnx"), options,
            providers=["CPUExecutionProvider"])
        for batch in args.batches:
            x = np.random.rand(batch, *INPUT_SHAPES[name]).astype(np.float32)
            y = session.run(None, {"x": x})[0]
            # Inputs and outputs bound once: a call is the run itself.
            binding = session.io_binding()
            binding.bind_cpu_input("x", x)
            binding.bind_ortvalue_output("y", ort.OrtValue.ortvalue_from_numpy(
                np.empty_like(y)))
            ms = median_ms(lambda: session.run_with_iobinding(binding),
                           args.reps, args.target_ms)
            print(f"onnxruntime {name} batch{batch} {ms:.5f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("export", "torch", "ort"))
    parser.add_argument("dir", nargs="?")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--target-ms", type=float, default=10.0)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    args = parser.parse_args()
    if args.what == "export":
        export(args.dir)
    elif args.what == "torch":
        time_torch(args)
    else:
        time_ort(args)


if __name__ == "__main__":
    main()
