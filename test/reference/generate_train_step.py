#!/usr/bin/env python3
"""One training step of the functional-API guide's toy ResNet and of its
autoencoder (the encoder and decoder models nested), computed in float64 by
PyTorch autograd: the reference for test/unittests/frontend/TrainStepTest.cpp.

Both sides draw the initial weights and the batch from one tiny generator
(splitmix64, below and in the test), so only the results are stored:
the loss and every weight after one SGD step (learning rate 0.1), in
train_step_reference.safetensors. Layouts, padding and pooling rules are
Keras's, through the helpers of generate_torch.py (which checks them).

The toy ResNet is compared with Dropout(0.0): a dropout mask cannot be
reproduced across frameworks; layerc's masks are tested on their own.

A third case trains BatchNormalization: torch's F.batch_norm in training
mode normalizes by the batch's statistics, and the moving statistics
follow Keras's rule, moving * 0.99 + batch * 0.01 with the biased batch
variance (PyTorch's own running_var would use the unbiased one).

Run with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 test/reference/generate_train_step.py
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_torch import (keras_conv, keras_conv_transpose, keras_pool,  # noqa: E402
                            to_channels_first, to_channels_last,
                            upsample_nearest, write_safetensors)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "train_step_reference.safetensors")
MASK = (1 << 64) - 1
LEARNING_RATE = 0.1


class SplitMix64:
    """splitmix64; uniform() = (next >> 11) * 2^-53, as the C++ test."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self, shape, lo, hi):
        n = int(np.prod(shape)) if shape else 1
        out = np.empty(n, dtype=np.float32)
        for i in range(n):
            u = (self.next() >> 11) * (1.0 / (1 << 53))
            out[i] = np.float32(lo + (hi - lo) * u)
        return out.reshape(shape)


def initial_weights(rng, shapes):
    """Kernels (rank >= 2): uniform(+-sqrt(6 / (fan_in + fan_out))), Keras's
    glorot limit; biases uniform(+-0.05)."""
    out = []
    for shape in shapes:
        if len(shape) >= 2:
            receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            limit = np.sqrt(6.0 / ((shape[-2] + shape[-1]) * receptive))
        else:
            limit = 0.05
        out.append(rng.uniform(shape, -limit, limit))
    return out


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64)).requires_grad_(True)


ONE = [1, 1]


def conv(x, k, b, padding="valid"):
    return keras_conv(x, k, b, ONE, padding, ONE, 1, "relu")


# ---- toy ResNet ----------------------------------------------------------

RESNET_SHAPES = [
    (3, 3, 3, 32), (32,), (3, 3, 32, 64), (64,),
    (3, 3, 64, 64), (64,), (3, 3, 64, 64), (64,),
    (3, 3, 64, 64), (64,), (3, 3, 64, 64), (64,),
    (3, 3, 64, 64), (64,), (64, 256), (256,), (256, 10), (10,),
]


def resnet_forward(w, x):
    h = conv(x, w[0], w[1])
    h = conv(h, w[2], w[3])
    block1 = keras_pool(h, "max", [3, 3], [3, 3], "valid")
    h = conv(block1, w[4], w[5], "same")
    h = conv(h, w[6], w[7], "same")
    block2 = h + block1
    h = conv(block2, w[8], w[9], "same")
    h = conv(h, w[10], w[11], "same")
    block3 = h + block2
    h = conv(block3, w[12], w[13])
    h = h.mean(dim=(1, 2))
    h = torch.relu(h @ w[14] + w[15])
    return h @ w[16] + w[17]


def resnet_case(tensors, meta):
    rng = SplitMix64(1)
    weights = initial_weights(rng, RESNET_SHAPES)
    x = rng.uniform((8, 32, 32, 3), 0.0, 1.0)
    labels = np.arange(8) % 10
    w = [t64(a) for a in weights]
    logits = resnet_forward(w, torch.from_numpy(x.astype(np.float64)))
    loss = F.cross_entropy(logits, torch.from_numpy(labels))
    loss.backward()
    add_results(tensors, meta, "resnet", loss, w)


# ---- autoencoder: encoder(img) then decoder(code), nested ----------------

AUTOENCODER_SHAPES = [
    (3, 3, 1, 16), (16,), (3, 3, 16, 32), (32,), (3, 3, 32, 32), (32,),
    (3, 3, 32, 16), (16,),
    # Conv2DTranspose kernels: (kh, kw, filters, in)
    (3, 3, 16, 1), (16,), (3, 3, 32, 16), (32,), (3, 3, 16, 32), (16,),
    (3, 3, 1, 16), (1,),
]


def deconv(x, k, b):
    return keras_conv_transpose(x, k, b, ONE, "valid", None, ONE, "relu")


def autoencoder_forward(w, img):
    h = conv(img, w[0], w[1])
    h = conv(h, w[2], w[3])
    h = keras_pool(h, "max", [3, 3], [3, 3], "valid")
    h = conv(h, w[4], w[5])
    h = conv(h, w[6], w[7])
    code = h.amax(dim=(1, 2))
    h = code.reshape(-1, 4, 4, 1)
    h = deconv(h, w[8], w[9])
    h = deconv(h, w[10], w[11])
    h = upsample_nearest(h, [3, 3])
    h = deconv(h, w[12], w[13])
    return deconv(h, w[14], w[15])


def autoencoder_case(tensors, meta):
    rng = SplitMix64(2)
    weights = initial_weights(rng, AUTOENCODER_SHAPES)
    img = rng.uniform((4, 28, 28, 1), 0.0, 1.0)
    w = [t64(a) for a in weights]
    x = torch.from_numpy(img.astype(np.float64))
    out = autoencoder_forward(w, x)
    loss = ((out - x) ** 2).mean()
    loss.backward()
    add_results(tensors, meta, "autoencoder", loss, w)


# ---- BatchNormalization in training mode ---------------------------------

# conv(3->6) bn(gamma, beta) relu conv(6->6) bn(scale only) relu gap dense(5)
BN_SHAPES = [
    (3, 3, 3, 6), (6,), (6,), (6,), (6,), (6,),
    (3, 3, 6, 6), (6,), (6,), (6,), (6,),
    (6, 5), (5,),
]
BN_GAMMAS, BN_MOVING = (2, 8), ((4, 5), (9, 10))
BN_EPSILON, BN_MOMENTUM = 1e-3, 0.99


def bn_initial_weights(rng):
    """As initial_weights, with gammas and moving variances 1 + u."""
    weights = initial_weights(rng, BN_SHAPES)
    for i in BN_GAMMAS + (BN_MOVING[0][1], BN_MOVING[1][1]):
        weights[i] = weights[i] + np.float32(1.0)
    return weights


def batch_norm_train(h, gamma, beta, moving):
    """torch's training-mode batch_norm, and the batch mean and biased
    variance the moving statistics are updated with."""
    y = to_channels_last(F.batch_norm(to_channels_first(h), None, None,
                                      gamma, beta, training=True,
                                      eps=BN_EPSILON))
    var, mean = torch.var_mean(h.detach(), dim=(0, 1, 2), unbiased=False)
    moving.append(mean)
    moving.append(var)
    return y


def bn_forward(w, x, moving):
    h = keras_conv(x, w[0], w[1], ONE, "valid", ONE, 1, "linear")
    h = torch.relu(batch_norm_train(h, w[2], w[3], moving))
    h = keras_conv(h, w[6], w[7], ONE, "same", ONE, 1, "linear")
    h = torch.relu(batch_norm_train(h, w[8], None, moving))
    h = h.mean(dim=(1, 2))
    return h @ w[11] + w[12]


def bn_case(tensors, meta):
    rng = SplitMix64(3)
    weights = bn_initial_weights(rng)
    x = rng.uniform((6, 7, 7, 3), -1.0, 1.0)
    labels = np.arange(6) % 5
    w = [t64(a) for a in weights]
    batch = []
    logits = bn_forward(w, torch.from_numpy(x.astype(np.float64)), batch)
    loss = F.cross_entropy(logits, torch.from_numpy(labels))
    loss.backward()
    after = {}
    for k, (mean_i, var_i) in enumerate(BN_MOVING):
        for i, stat in ((mean_i, batch[2 * k]), (var_i, batch[2 * k + 1])):
            moved = w[i].detach() * BN_MOMENTUM + stat * (1 - BN_MOMENTUM)
            after[i] = moved.numpy()
    add_results(tensors, meta, "batchnorm", loss, w, after)


def add_results(tensors, meta, name, loss, w, fixed=None):
    """The loss and each weight after one SGD step; `fixed` gives the new
    value of weights that are not trained (moving statistics)."""
    fixed = fixed or {}
    tensors.append(("%s/loss" % name, np.array([loss.item()], dtype=np.float32)))
    largest = 0.0
    for i, p in enumerate(w):
        if i in fixed:
            tensors.append(("%s/weight.%d" % (name, i),
                            fixed[i].astype(np.float32)))
            continue
        step = (LEARNING_RATE * p.grad).detach().numpy()
        largest = max(largest, float(np.abs(step).max()))
        after = (p.detach() - LEARNING_RATE * p.grad).numpy()
        tensors.append(("%s/weight.%d" % (name, i), after.astype(np.float32)))
    meta[name] = {"loss": loss.item(), "weights": len(w),
                  "largest_update": largest}
    print("%-12s loss %.6f, %d weights, largest update %.3g"
          % (name, loss.item(), len(w), largest))


def main():
    tensors, meta = [], {}
    resnet_case(tensors, meta)
    autoencoder_case(tensors, meta)
    bn_case(tensors, meta)
    write_safetensors(OUT_PATH, tensors,
                      {"learning_rate": str(LEARNING_RATE),
                       "cases": json.dumps(meta, separators=(",", ":"))})
    print("%d bytes -> %s" % (os.path.getsize(OUT_PATH), OUT_PATH))
    return 0


if __name__ == "__main__":
    sys.exit(main())
