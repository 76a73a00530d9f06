"""The guide's MLP, toy ResNet and autoencoder written in PyTorch, exported
to ONNX (dynamic batch) with inputs and PyTorch's outputs as .npy, so that
layerc's ONNX importer can be checked against PyTorch itself.

    /usr/bin/python3 test/onnx/export_guide.py OUT_DIR [--opset N]

Debian's python3-torch is the oracle. The weights are PyTorch's default
initialization from a fixed seed; batch norm statistics are randomized so
that they matter.
"""
import argparse
import os
import sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(784, 64)
        self.dense2 = nn.Linear(64, 64)
        self.dense3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.dense1(x))
        x = F.relu(self.dense2(x))
        return self.dense3(x)


class ToyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.pool = nn.MaxPool2d(3)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1)
        self.conv5 = nn.Conv2d(64, 64, 3, padding=1)
        self.conv6 = nn.Conv2d(64, 64, 3, padding=1)
        self.conv7 = nn.Conv2d(64, 64, 3)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.dense1 = nn.Linear(64, 256)
        self.dropout = nn.Dropout(0.5)
        self.dense2 = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        b1 = self.pool(x)
        x = F.relu(self.conv3(b1))
        x = F.relu(self.conv4(x))
        b2 = x + b1
        x = F.relu(self.conv5(b2))
        x = F.relu(self.conv6(x))
        b3 = x + b2
        x = F.relu(self.conv7(b3))
        x = torch.flatten(self.gap(x), 1)
        x = self.dropout(F.relu(self.dense1(x)))
        return self.dense2(x)


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.ModuleList([nn.Conv2d(1, 16, 3), nn.Conv2d(16, 32, 3),
                                  nn.Conv2d(32, 32, 3), nn.Conv2d(32, 16, 3)])
        self.dec = nn.ModuleList([nn.ConvTranspose2d(1, 16, 3),
                                  nn.ConvTranspose2d(16, 32, 3),
                                  nn.ConvTranspose2d(32, 16, 3),
                                  nn.ConvTranspose2d(16, 1, 3)])

    def forward(self, x):
        x = F.relu(self.enc[0](x))
        x = F.relu(self.enc[1](x))
        x = F.max_pool2d(x, 3)
        x = F.relu(self.enc[2](x))
        x = F.relu(self.enc[3](x))
        x = torch.flatten(F.adaptive_max_pool2d(x, 1), 1)
        x = x.view(-1, 1, 4, 4)
        x = F.relu(self.dec[0](x))
        x = F.relu(self.dec[1](x))
        x = F.interpolate(x, scale_factor=3, mode="nearest")
        x = F.relu(self.dec[2](x))
        return F.relu(self.dec[3](x))


class ConvBN(nn.Module):
    """Conv-BN-Pool-Conv-Pool-Dense with padding, strides and batch norm:
    the layers a CNN classifier adds to the guide's."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.dense = nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        x = F.avg_pool2d(F.relu(self.bn(self.conv1(x))), 2)
        x = F.max_pool2d(torch.sigmoid(self.conv2(x)), 2)
        return F.softmax(self.dense(torch.flatten(x, 1)), dim=1)


MODELS = {
    "mlp": (MLP, (784,)),
    "toy_resnet": (ToyResNet, (3, 32, 32)),
    "autoencoder": (Autoencoder, (1, 28, 28)),
    "conv_bn": (ConvBN, (1, 28, 28)),
}


def export(model, x, out, name, opset):
    """Exports `model` (in eval mode) to OUT/NAME.onnx with a dynamic batch,
    with `x` and PyTorch's output as OUT/NAME_x.npy and NAME_y.npy; returns
    the output."""
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=opset,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    np.save(os.path.join(out, name + "_x.npy"), x.numpy())
    np.save(os.path.join(out, name + "_y.npy"), y.numpy())
    print(f"{name}: {path} {tuple(x.shape)} -> {tuple(y.shape)}")
    return y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, (cls, sample) in MODELS.items():
        torch.manual_seed(7)
        model = cls()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)
        model.eval()
        x = torch.rand((5,) + sample)
        y = export(model, x, args.out, name, args.opset)
        # Raw float32 too, for the C harness of the AOT libraries.
        x.numpy().tofile(os.path.join(args.out, name + "_x.bin"))
        y.numpy().tofile(os.path.join(args.out, name + "_y.bin"))

if __name__ == "__main__":
    sys.exit(main())
