"""PyTorch eager on the GPU: the peer of bench/gpu/run.sh's layerc figures.

The same architectures as bench/inference_peers.py (the guide's MLP, toy
ResNet and autoencoder), on CUDA, float32 (TF32 off, as layerc's kernels):
median ms of predict (no_grad, eval) at batch 1, 64 and 256, and of one MLP
train step (Adam, cross-entropy) at batch 64, times 937 for an epoch.
Each timing synchronizes the device, as layerc's calls return results to the
host (the copies are included for layerc, not here: PyTorch's inputs stay on
the GPU, a bound in its favour).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch  # noqa: E402
from inference_peers import INPUT_SHAPES, build  # noqa: E402


def median_ms(fn, reps=11, target_ms=20.0):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    one = (time.perf_counter() - start) * 1e3
    inner = max(1, int(target_ms / max(one, 1e-3)))
    times = []
    for _ in range(reps):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3 / inner)
    times.sort()
    return times[len(times) // 2]


def main():
    if not torch.cuda.is_available():
        print("pytorch: no CUDA device")
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    print(f"pytorch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    for name in ("mlp", "toy_resnet", "autoencoder"):
        model = build(name).to(dev).eval()
        for batch in (1, 64, 256):
            x = torch.randn((batch,) + INPUT_SHAPES[name], device=dev)
            with torch.no_grad():
                ms = median_ms(lambda: model(x))
            print(f"pytorch {name:12s} predict batch {batch:4d}: {ms:9.3f} ms")
    model = build("mlp").to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(64, 784, device=dev)
    y = torch.randint(0, 10, (64,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    ms = median_ms(step)
    print(f"pytorch mlp train_step batch 64: {ms:.3f} ms, epoch of 937 "
          f"steps {ms * 937:.0f} ms")
    model = build("toy_resnet").to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(256, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (256,), device=dev)
    ms = median_ms(step)
    print(f"pytorch toy_resnet train_step batch 256: {ms:.3f} ms")


if __name__ == "__main__":
    main()
