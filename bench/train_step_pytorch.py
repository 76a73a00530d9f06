"""The same training steps as bench/train_step.cpp in PyTorch (Debian's
python3-torch), one thread: the MNIST MLP (batch 64) and the toy ResNet
(batch 32, channels-first as PyTorch prefers), RMSprop(lr=1e-3, alpha=0.9,
eps=1e-7), cross-entropy from logits; median of 3 passes over the steps.
"""
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


class ToyResNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        conv = torch.nn.Conv2d
        self.c1, self.c2 = conv(3, 32, 3), conv(32, 64, 3)
        self.c3, self.c4 = conv(64, 64, 3, padding=1), conv(64, 64, 3, padding=1)
        self.c5, self.c6 = conv(64, 64, 3, padding=1), conv(64, 64, 3, padding=1)
        self.c7 = conv(64, 64, 3)
        self.d1, self.d2 = torch.nn.Linear(64, 256), torch.nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.c2(F.relu(self.c1(x))))
        b1 = F.max_pool2d(x, 3)
        b2 = F.relu(self.c4(F.relu(self.c3(b1)))) + b1
        b3 = F.relu(self.c6(F.relu(self.c5(b2)))) + b2
        x = F.relu(self.c7(b3)).mean(dim=(2, 3))
        x = F.dropout(F.relu(self.d1(x)), 0.5, self.training)
        return self.d2(x)


def median_step(model, x, y, batch, steps):
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        perm = torch.randperm(batch * steps)
        for i in range(0, batch * steps, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        times.append((time.perf_counter() - start) / steps)
    times.sort()
    return times[1]


def main():
    mlp_steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    resnet_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    mlp = torch.nn.Sequential(
        torch.nn.Linear(784, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10))
    n = 64 * mlp_steps
    t = median_step(mlp, torch.rand(n, 784), torch.arange(n) % 10, 64, mlp_steps)
    print(f"pytorch mlp_step_ms {1e3 * t:.4f}")
    n = 32 * resnet_steps
    t = median_step(ToyResNet(), torch.rand(n, 3, 32, 32), torch.arange(n) % 10,
                    32, resnet_steps)
    print(f"pytorch resnet_step_ms {1e3 * t:.2f}")


if __name__ == "__main__":
    main()
