#!/usr/bin/python3
"""Generate test/reference/torch_layers.safetensors: Keras 2 layer reference outputs.

Run from the repository root with the system Python (it needs torch and numpy):

    /usr/bin/python3 test/reference/generate_torch.py

For every case, random float32 inputs and weights are drawn (per-case seed, so
adding a case leaves the others unchanged), the Keras 2 (channels-last)
semantics of the layer are reproduced with PyTorch in float64, and the output
is stored rounded to float32.  Weights are stored in Keras layouts and in the
order of Keras's `layer.get_weights()`.  The file is a standard safetensors
file written by hand (see write_safetensors / verify_safetensors below and
README.md next to this script).
"""

import itertools
import json
import math
import os
import re
import struct
import sys
import zlib
from collections import Counter, OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)  # deterministic float64 reductions
torch.manual_seed(0)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "torch_layers.safetensors")

RTOL = 1e-5
ATOL = 1e-5
NAME_RE = re.compile(r"^[a-z0-9_]+$")


# --------------------------------------------------------------------------
# Case collection
# --------------------------------------------------------------------------

class Case:
    def __init__(self, name):
        if not NAME_RE.match(name):
            raise ValueError("bad case name %r" % name)
        self.name = name
        # Per-case seed: independent of the order and number of other cases.
        self.rng = np.random.RandomState(zlib.crc32(name.encode()) & 0x7FFFFFFF)

    def input(self, shape):
        """Keras input, batch first: uniform(-1, 1) float32."""
        return self.rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)

    def int_input(self, shape, high):
        """Integer indices in [0, high) (Embedding)."""
        return self.rng.randint(0, high, size=shape).astype(np.int32)

    def weight(self, shape, low=-0.5, high=0.5):
        return self.rng.uniform(low, high, size=shape).astype(np.float32)


CASES = []          # list of dicts: name, class, config, rtol, atol
TENSORS = []        # list of (tensor name, numpy array) in file order
_CASE_NAMES = set()


def add_case(case, cls, config, inputs, weights, expected, rtol=RTOL, atol=ATOL):
    """Register one case. `config` gets "name" (the case name) prepended.
    `expected` is one tensor, or a list of the layer's outputs for multi-output
    layers (RNN return_state): output 0 is stored as "<case>/expected", output k >= 1
    as "<case>/expected.<k>"."""
    name = case.name
    if name in _CASE_NAMES:
        raise ValueError("duplicate case name %r" % name)
    _CASE_NAMES.add(name)
    cfg = OrderedDict()
    cfg["name"] = re.sub(r"[^A-Za-z0-9]", "_", name)
    for k, v in config.items():
        cfg[k] = v
    CASES.append(OrderedDict([("name", name), ("class", cls), ("config", cfg),
                              ("rtol", rtol), ("atol", atol)]))
    for i, x in enumerate(inputs):
        TENSORS.append(("%s/input.%d" % (name, i), x))
    for i, w in enumerate(weights):
        TENSORS.append(("%s/weight.%d" % (name, i), w))
    outputs = list(expected) if isinstance(expected, (list, tuple)) else [expected]
    for k, out in enumerate(outputs):
        exp = out.detach().numpy() if isinstance(out, torch.Tensor) else out
        exp = np.asarray(exp, dtype=np.float64)
        if not np.all(np.isfinite(exp)):
            raise ValueError("non-finite expected output in %r" % name)
        suffix = "" if k == 0 else ".%d" % k
        TENSORS.append(("%s/expected%s" % (name, suffix), exp.astype(np.float32)))


# --------------------------------------------------------------------------
# Torch helpers (float64, layout conversion, activations, padding)
# --------------------------------------------------------------------------

def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def to_channels_first(x):
    """Keras (batch, d1..dn, C) -> torch (batch, C, d1..dn)."""
    n = x.dim() - 2
    return x.permute(0, n + 1, *range(1, n + 1)).contiguous()


def to_channels_last(x):
    """torch (batch, C, d1..dn) -> Keras (batch, d1..dn, C)."""
    n = x.dim() - 2
    return x.permute(0, *range(2, n + 2), 1).contiguous()


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def activation(name, x):
    """Keras 2 activations (on channels-last tensors; softmax uses the last axis)."""
    if name == "linear":
        return x
    if name == "relu":
        return torch.relu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softmax":
        return torch.softmax(x, dim=-1)
    if name == "gelu":  # Keras 2 gelu(approximate=False): 0.5 x (1 + erf(x / sqrt 2))
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name == "elu":   # alpha = 1
        return torch.where(x > 0, x, torch.expm1(x))
    if name == "selu":
        return SELU_SCALE * torch.where(x > 0, x, SELU_ALPHA * torch.expm1(x))
    if name == "swish":  # x * sigmoid(x)
        return x * torch.sigmoid(x)
    if name == "hard_sigmoid":  # Keras 2: clip(0.2 x + 0.5, 0, 1) (Keras 3: relu6(x + 3) / 6)
        return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)
    raise ValueError(name)


def same_pads(length, k_eff, stride):
    """TensorFlow "SAME": out = ceil(L / s), total = max((out-1)*s + k_eff - L, 0),
    before = total // 2, after = total - before."""
    out = -(-length // stride)
    total = max((out - 1) * stride + k_eff - length, 0)
    return total // 2, total - total // 2


def torch_pad_list(pads):
    """[(before, after) per spatial axis, first axis first] -> F.pad's list (last axis first)."""
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return flat


CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


# --------------------------------------------------------------------------
# Convolutions
# --------------------------------------------------------------------------

def keras_conv(x, kernel, bias, strides, padding, dilation, groups, act):
    """Keras ConvND: kernel (k1..kn, in/groups, filters) -> torch (filters, in/groups, k1..kn).
    "same" pads explicitly with the TF split (before = total // 2), then a padding-0 conv."""
    n = x.dim() - 2
    xt = to_channels_first(x)
    w = kernel.permute(n + 1, n, *range(n))
    if padding == "same":
        pads = [same_pads(xt.shape[2 + i], (kernel.shape[i] - 1) * dilation[i] + 1, strides[i])
                for i in range(n)]
        xt = F.pad(xt, torch_pad_list(pads))
    y = CONV[n](xt, w, None, stride=tuple(strides), padding=0,
                dilation=tuple(dilation), groups=groups)
    y = to_channels_last(y)
    if bias is not None:
        y = y + bias
    return activation(act, y)


def deconv_output_length(length, k, padding, output_padding, stride, dilation):
    """keras.utils.conv_utils.deconv_output_length."""
    k_eff = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(k_eff - stride, 0)
        return length * stride  # same
    pad = k_eff // 2 if padding == "same" else 0
    return (length - 1) * stride + k_eff - 2 * pad + output_padding


def keras_conv_transpose(x, kernel, bias, strides, padding, output_padding, dilation, act):
    """Keras ConvNDTranspose = gradient of a TF conv whose input has the Keras output length.
    kernel (k1..kn, filters, in) -> torch conv_transpose weight (in, filters, k1..kn).
    Full transposed conv (padding 0) has length (L-1)*s + k_eff; the Keras output is
    positions [pad_before, pad_before + L_out) of it, zero past its end, where for "same"
    pad_before = max((L-1)*s + k_eff - L_out, 0) // 2 and for "valid" pad_before = 0."""
    n = x.dim() - 2
    xt = to_channels_first(x)
    w = kernel.permute(n + 1, n, *range(n))
    y = CONV_T[n](xt, w, None, stride=tuple(strides), padding=0, output_padding=0,
                  dilation=tuple(dilation))
    for i in range(n):
        L = xt.shape[2 + i]
        k, s, d = kernel.shape[i], strides[i], dilation[i]
        k_eff = (k - 1) * d + 1
        op = None if output_padding is None else output_padding[i]
        L_out = deconv_output_length(L, k, padding, op, s, d)
        full = (L - 1) * s + k_eff
        assert y.shape[2 + i] == full
        if padding == "same":
            before = max((L - 1) * s + k_eff - L_out, 0) // 2
        else:
            before = 0
        extra = before + L_out - full
        if extra > 0:  # zeros past the end of the full transposed conv
            pad = [(0, 0)] * n
            pad[i] = (0, extra)
            y = F.pad(y, torch_pad_list(pad))
        y = y.narrow(2 + i, before, L_out)
    y = to_channels_last(y)
    if bias is not None:
        y = y + bias
    return activation(act, y)


def conv_case(cls, name, in_shape, filters, kernel_size, strides=None, padding="valid",
              dilation=None, groups=1, act="linear", use_bias=True):
    n = len(kernel_size)
    strides = strides or [1] * n
    dilation = dilation or [1] * n
    assert not (max(strides) > 1 and max(dilation) > 1), "Keras forbids strides>1 with dilation>1"
    cin = in_shape[-1]
    assert cin % groups == 0 and filters % groups == 0
    c = Case(name)
    x = c.input(in_shape)
    kernel = c.weight(list(kernel_size) + [cin // groups, filters])
    weights = [kernel]
    bias = None
    if use_bias:
        bias = c.weight([filters])
        weights.append(bias)
    y = keras_conv(t64(x), t64(kernel), None if bias is None else t64(bias),
                   strides, padding, dilation, groups, act)
    config = OrderedDict([("filters", filters), ("kernel_size", list(kernel_size)),
                          ("strides", list(strides)), ("padding", padding),
                          ("dilation_rate", list(dilation)), ("groups", groups),
                          ("activation", act), ("use_bias", use_bias)])
    add_case(c, cls, config, [x], weights, y)


def conv_transpose_case(cls, name, in_shape, filters, kernel_size, strides=None,
                        padding="valid", output_padding=None, dilation=None,
                        act="linear", use_bias=True):
    n = len(kernel_size)
    strides = strides or [1] * n
    dilation = dilation or [1] * n
    assert not (max(strides) > 1 and max(dilation) > 1)
    if output_padding is not None:
        # Keras: output_padding must be smaller than the stride.
        assert all(op < s for op, s in zip(output_padding, strides))
    for i in range(n):
        # TF's conv2d_backprop_input requires the forward conv of the output to give
        # back the input length; this fails for "same" + even k_eff + output_padding 0.
        k_eff = (kernel_size[i] - 1) * dilation[i] + 1
        op = None if output_padding is None else output_padding[i]
        L_out = deconv_output_length(in_shape[1 + i], kernel_size[i], padding, op,
                                     strides[i], dilation[i])
        fwd = (-(-L_out // strides[i]) if padding == "same"
               else (L_out - k_eff) // strides[i] + 1)
        assert fwd == in_shape[1 + i], (name, i)
    cin = in_shape[-1]
    c = Case(name)
    x = c.input(in_shape)
    kernel = c.weight(list(kernel_size) + [filters, cin])  # Keras: (k..., filters, in)
    weights = [kernel]
    bias = None
    if use_bias:
        bias = c.weight([filters])
        weights.append(bias)
    y = keras_conv_transpose(t64(x), t64(kernel), None if bias is None else t64(bias),
                             strides, padding, output_padding, dilation, act)
    config = OrderedDict([("filters", filters), ("kernel_size", list(kernel_size)),
                          ("strides", list(strides)), ("padding", padding),
                          ("output_padding", None if output_padding is None else list(output_padding)),
                          ("dilation_rate", list(dilation)), ("activation", act),
                          ("use_bias", use_bias)])
    add_case(c, cls, config, [x], weights, y)


def gen_conv():
    # Conv1D
    conv_case("Conv1D", "conv1d_valid_k3", [3, 9, 4], 5, [3])
    conv_case("Conv1D", "conv1d_same_k4_s2", [1, 10, 3], 4, [4], [2], "same")
    conv_case("Conv1D", "conv1d_same_d2_relu", [3, 11, 2], 3, [3], padding="same",
              dilation=[2], act="relu")
    conv_case("Conv1D", "conv1d_groups2_s3", [1, 11, 4], 6, [3], [3], groups=2, use_bias=False)
    conv_case("Conv1D", "conv1d_k1", [3, 7, 5], 2, [1])
    conv_case("Conv1D", "conv1d_same_s3_k2", [1, 8, 3], 2, [2], [3], "same")
    # Conv2D
    conv_case("Conv2D", "conv2d_valid_3x3", [3, 7, 8, 3], 4, [3, 3])
    conv_case("Conv2D", "conv2d_same_s2", [1, 9, 8, 3], 5, [3, 3], [2, 2], "same")
    conv_case("Conv2D", "conv2d_same_even_k_relu", [3, 7, 6, 2], 3, [2, 4], padding="same",
              act="relu")
    conv_case("Conv2D", "conv2d_same_d2", [1, 9, 10, 3], 4, [3, 3], padding="same",
              dilation=[2, 2])
    conv_case("Conv2D", "conv2d_valid_d21", [3, 9, 7, 2], 3, [3, 2], dilation=[2, 1])
    conv_case("Conv2D", "conv2d_groups2_s23", [3, 6, 7, 4], 6, [3, 2], [2, 3], groups=2)
    conv_case("Conv2D", "conv2d_groups2_same", [1, 7, 7, 6], 4, [3, 3], padding="same",
              groups=2, act="relu")
    conv_case("Conv2D", "conv2d_1x1_nobias", [1, 5, 5, 6], 3, [1, 1], use_bias=False)
    conv_case("Conv2D", "conv2d_same_s3_k4x3", [1, 11, 10, 2], 3, [4, 3], [3, 2], "same")
    # Conv3D
    conv_case("Conv3D", "conv3d_valid_k3", [1, 5, 6, 7, 2], 3, [3, 3, 3])
    conv_case("Conv3D", "conv3d_same_s2_k232", [3, 5, 5, 6, 2], 2, [2, 3, 2], [2, 2, 2], "same")
    conv_case("Conv3D", "conv3d_same_d212", [1, 7, 6, 5, 3], 4, [3, 2, 3], padding="same",
              dilation=[2, 1, 2])
    conv_case("Conv3D", "conv3d_groups2_relu", [1, 5, 5, 5, 4], 4, [1, 2, 3], groups=2,
              act="relu")
    conv_case("Conv3D", "conv3d_valid_s3_nobias", [3, 7, 5, 6, 2], 3, [2, 2, 2], [3, 1, 2],
              use_bias=False)


def gen_conv_transpose():
    # Conv2DTranspose
    C = "Conv2DTranspose"
    conv_transpose_case(C, "conv2dt_same_s2_k3", [3, 5, 6, 4], 3, [3, 3], [2, 2], "same")
    conv_transpose_case(C, "conv2dt_valid_s2_k4", [1, 5, 4, 3], 2, [4, 4], [2, 2], "valid")
    conv_transpose_case(C, "conv2dt_same_s2_k4_op1", [1, 5, 6, 3], 3, [4, 4], [2, 2], "same",
                        output_padding=[1, 1])
    conv_transpose_case(C, "conv2dt_valid_s3_k2", [3, 4, 5, 2], 3, [2, 2], [3, 3], "valid")
    conv_transpose_case(C, "conv2dt_same_s3_k3_op21", [1, 4, 5, 2], 2, [3, 3], [3, 3], "same",
                        output_padding=[2, 1], act="relu")
    conv_transpose_case(C, "conv2dt_valid_s2_k3_op10", [1, 5, 5, 3], 4, [3, 3], [2, 2], "valid",
                        output_padding=[1, 0], use_bias=False)
    conv_transpose_case(C, "conv2dt_same_d2_s1", [3, 6, 5, 2], 3, [3, 3], [1, 1], "same",
                        dilation=[2, 2])
    conv_transpose_case(C, "conv2dt_valid_d2_s1", [1, 5, 6, 3], 2, [3, 2], [1, 1], "valid",
                        dilation=[2, 2])
    conv_transpose_case(C, "conv2dt_same_s1_k3x2_op0", [1, 5, 6, 2], 2, [3, 3], [1, 1], "same",
                        output_padding=[0, 0])
    conv_transpose_case(C, "conv2dt_same_s21_k25", [1, 5, 5, 3], 2, [2, 5], [2, 1], "same")
    # Conv1DTranspose
    C = "Conv1DTranspose"
    conv_transpose_case(C, "conv1dt_same_s2_k3", [3, 7, 3], 4, [3], [2], "same")
    conv_transpose_case(C, "conv1dt_valid_s3_k2_op1", [1, 6, 2], 3, [2], [3], "valid",
                        output_padding=[1])
    conv_transpose_case(C, "conv1dt_same_s3_k2", [1, 6, 4], 2, [2], [3], "same", act="relu")
    conv_transpose_case(C, "conv1dt_valid_d2", [3, 8, 2], 3, [3], [1], "valid", dilation=[2])
    # Conv3DTranspose (Keras 2 ignores dilation_rate in Conv3DTranspose.call: no dilation here)
    C = "Conv3DTranspose"
    conv_transpose_case(C, "conv3dt_same_s212", [1, 4, 5, 4, 2], 3, [2, 3, 3], [2, 1, 2], "same")
    conv_transpose_case(C, "conv3dt_valid_s2_op101", [3, 3, 4, 3, 2], 2, [3, 3, 3], [2, 2, 2],
                        "valid", output_padding=[1, 0, 1])
    conv_transpose_case(C, "conv3dt_same_s1_k3", [1, 5, 4, 5, 3], 2, [3, 2, 3], [1, 1, 1],
                        "same", output_padding=None, use_bias=False)
    conv_transpose_case(C, "conv3dt_valid_s3_k2", [1, 3, 3, 4, 2], 2, [2, 2, 3], [3, 2, 1],
                        "valid")


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------

def keras_pool(x, kind, pool, strides, padding):
    """Keras Max/AveragePoolingND. valid: floor((L-p)/s)+1; same: ceil(L/s), pad split
    before = total // 2. Max ignores padding (pads with -inf); Average divides by the
    number of non-padded positions in the window (TF): sum(zero-padded x) / sum(padded ones)."""
    n = x.dim() - 2
    xt = to_channels_first(x)
    pads = [(0, 0)] * n
    if padding == "same":
        pads = [same_pads(xt.shape[2 + i], pool[i], strides[i]) for i in range(n)]
    flat = torch_pad_list(pads)
    if kind == "max":
        y = MAX_POOL[n](F.pad(xt, flat, value=-math.inf), tuple(pool), tuple(strides))
    else:
        num = AVG_POOL[n](F.pad(xt, flat), tuple(pool), tuple(strides))
        den = AVG_POOL[n](F.pad(torch.ones_like(xt), flat), tuple(pool), tuple(strides))
        y = num / den
    for i in range(n):
        L = xt.shape[2 + i]
        exp = -(-L // strides[i]) if padding == "same" else (L - pool[i]) // strides[i] + 1
        assert y.shape[2 + i] == exp
    return to_channels_last(y)


def pool_case(cls, name, in_shape, pool, strides, padding):
    c = Case(name)
    x = c.input(in_shape)
    kind = "max" if cls.startswith("Max") else "avg"
    y = keras_pool(t64(x), kind, pool, strides, padding)
    config = OrderedDict([("pool_size", list(pool)), ("strides", list(strides)),
                          ("padding", padding)])
    add_case(c, cls, config, [x], [], y)


def gen_pool():
    for kind, prefix in (("MaxPooling", "maxpool"), ("AveragePooling", "avgpool")):
        C = kind + "1D"
        p = prefix + "1d"
        pool_case(C, p + "_p2_s2", [3, 9, 4], [2], [2], "valid")
        pool_case(C, p + "_p3_s2_same", [1, 10, 3], [3], [2], "same")
        pool_case(C, p + "_p3_s1_valid", [3, 7, 2], [3], [1], "valid")
        pool_case(C, p + "_p2_s3_same", [1, 11, 3], [2], [3], "same")
        pool_case(C, p + "_p4_s1_same", [3, 9, 2], [4], [1], "same")
        C = kind + "2D"
        p = prefix + "2d"
        pool_case(C, p + "_p2_s2", [3, 7, 8, 3], [2, 2], [2, 2], "valid")
        pool_case(C, p + "_p3_s2_same", [1, 9, 7, 2], [3, 3], [2, 2], "same")
        pool_case(C, p + "_p3_s1_valid", [3, 6, 7, 2], [3, 3], [1, 1], "valid")
        pool_case(C, p + "_p23_s32_same", [1, 11, 9, 3], [2, 3], [3, 2], "same")
        pool_case(C, p + "_p42_s1_same", [1, 5, 6, 4], [4, 2], [1, 1], "same")
        pool_case(C, p + "_p2_s3_valid", [3, 9, 10, 2], [2, 2], [3, 3], "valid")
        C = kind + "3D"
        p = prefix + "3d"
        pool_case(C, p + "_p2_s2", [1, 6, 7, 5, 2], [2, 2, 2], [2, 2, 2], "valid")
        pool_case(C, p + "_p3_s2_same", [3, 5, 6, 7, 2], [3, 3, 3], [2, 2, 2], "same")
        pool_case(C, p + "_p322_s1_valid", [1, 7, 5, 6, 3], [3, 2, 2], [1, 1, 1], "valid")
        pool_case(C, p + "_p232_s321_same", [1, 5, 7, 6, 2], [2, 3, 2], [3, 2, 1], "same")


def global_pool_case(cls, name, in_shape, keepdims):
    """Keras GlobalMax/AveragePoolingND: reduce all spatial axes (1..n) of channels-last x."""
    c = Case(name)
    x = c.input(in_shape)
    xt = t64(x)
    axes = tuple(range(1, xt.dim() - 1))
    if cls.startswith("GlobalMax"):
        y = torch.amax(xt, dim=axes, keepdim=keepdims)
    else:
        y = torch.mean(xt, dim=axes, keepdim=keepdims)
    add_case(c, cls, OrderedDict([("keepdims", keepdims)]), [x], [], y)


def gen_global_pool():
    for kind, prefix in (("GlobalMaxPooling", "gmaxpool"), ("GlobalAveragePooling", "gavgpool")):
        C = kind + "1D"
        global_pool_case(C, prefix + "1d_a", [3, 9, 4], False)
        global_pool_case(C, prefix + "1d_b", [1, 5, 6], False)
        global_pool_case(C, prefix + "1d_c", [3, 11, 2], False)
        global_pool_case(C, prefix + "1d_keepdims", [3, 7, 3], True)
        C = kind + "2D"
        global_pool_case(C, prefix + "2d_a", [3, 7, 8, 3], False)
        global_pool_case(C, prefix + "2d_b", [1, 5, 9, 6], False)
        global_pool_case(C, prefix + "2d_c", [3, 6, 5, 2], False)
        global_pool_case(C, prefix + "2d_keepdims", [3, 5, 7, 4], True)
        C = kind + "3D"
        global_pool_case(C, prefix + "3d_a", [1, 5, 6, 7, 2], False)
        global_pool_case(C, prefix + "3d_b", [3, 5, 5, 5, 3], False)
        global_pool_case(C, prefix + "3d_c", [1, 6, 5, 7, 4], False)
        global_pool_case(C, prefix + "3d_keepdims", [3, 5, 6, 5, 2], True)


# --------------------------------------------------------------------------
# UpSampling
# --------------------------------------------------------------------------

def upsample_nearest(x, sizes):
    """Keras UpSamplingND nearest: repeat each element `size` times along each spatial axis."""
    for i, s in enumerate(sizes):
        x = torch.repeat_interleave(x, s, dim=1 + i)
    return x


def upsample_bilinear(x, sizes):
    """Keras UpSampling2D bilinear = tf.image.resize(bilinear, half_pixel_centers=True)
    = torch interpolate(bilinear, align_corners=False) with the output size."""
    xt = to_channels_first(x)
    out = (xt.shape[2] * sizes[0], xt.shape[3] * sizes[1])
    y = F.interpolate(xt, size=out, mode="bilinear", align_corners=False)
    return to_channels_last(y)


def upsampling_case(cls, name, in_shape, size, interpolation=None):
    c = Case(name)
    x = c.input(in_shape)
    sizes = [size] if isinstance(size, int) else list(size)
    if interpolation == "bilinear":
        y = upsample_bilinear(t64(x), sizes)
    else:
        y = upsample_nearest(t64(x), sizes)
    config = OrderedDict([("size", size)])
    if interpolation is not None:
        config["interpolation"] = interpolation
    add_case(c, cls, config, [x], [], y)


def gen_upsampling():
    upsampling_case("UpSampling1D", "upsampling1d_s2", [3, 7, 3], 2)
    upsampling_case("UpSampling1D", "upsampling1d_s3", [1, 5, 4], 3)
    upsampling_case("UpSampling1D", "upsampling1d_s1", [3, 6, 2], 1)
    upsampling_case("UpSampling1D", "upsampling1d_s4", [1, 9, 5], 4)
    upsampling_case("UpSampling2D", "upsampling2d_nearest_22", [3, 5, 6, 2], [2, 2], "nearest")
    upsampling_case("UpSampling2D", "upsampling2d_nearest_23", [1, 5, 7, 3], [2, 3], "nearest")
    upsampling_case("UpSampling2D", "upsampling2d_nearest_31", [3, 6, 5, 2], [3, 1], "nearest")
    upsampling_case("UpSampling2D", "upsampling2d_bilinear_22", [3, 5, 6, 2], [2, 2], "bilinear")
    upsampling_case("UpSampling2D", "upsampling2d_bilinear_23", [1, 7, 5, 3], [2, 3], "bilinear")
    upsampling_case("UpSampling2D", "upsampling2d_bilinear_32", [3, 5, 5, 2], [3, 2], "bilinear")
    upsampling_case("UpSampling2D", "upsampling2d_bilinear_14", [1, 6, 5, 2], [1, 4], "bilinear")
    upsampling_case("UpSampling3D", "upsampling3d_222", [1, 5, 4, 5, 2], [2, 2, 2])
    upsampling_case("UpSampling3D", "upsampling3d_123", [3, 5, 5, 4, 2], [1, 2, 3])
    upsampling_case("UpSampling3D", "upsampling3d_211", [1, 6, 5, 7, 3], [2, 1, 1])
    upsampling_case("UpSampling3D", "upsampling3d_321", [3, 5, 5, 5, 2], [3, 2, 1])


# --------------------------------------------------------------------------
# BatchNormalization, Embedding, Dense
# --------------------------------------------------------------------------

def batchnorm_case(name, in_shape, epsilon, center=True, scale=True):
    """Keras BatchNormalization inference (axis -1):
    y = (x - moving_mean) / sqrt(moving_variance + eps) * gamma + beta.
    Weights: gamma (if scale), beta (if center), moving_mean, moving_variance."""
    c = Case(name)
    x = c.input(in_shape)
    ch = in_shape[-1]
    weights = []
    gamma = beta = None
    if scale:
        gamma = c.weight([ch])
        weights.append(gamma)
    if center:
        beta = c.weight([ch])
        weights.append(beta)
    mean = c.weight([ch])
    var = c.weight([ch], 0.5, 1.5)
    weights += [mean, var]
    y = (t64(x) - t64(mean)) / torch.sqrt(t64(var) + epsilon)
    if scale:
        y = y * t64(gamma)
    if center:
        y = y + t64(beta)
    config = OrderedDict([("axis", -1), ("momentum", 0.99), ("epsilon", epsilon),
                          ("center", center), ("scale", scale)])
    add_case(c, "BatchNormalization", config, [x], weights, y)


def embedding_case(name, in_shape, input_dim, output_dim):
    """Keras Embedding: out[..., :] = embeddings[index]."""
    c = Case(name)
    idx = c.int_input(in_shape, input_dim)
    emb = c.weight([input_dim, output_dim])
    y = t64(emb)[torch.from_numpy(idx.astype(np.int64))]
    config = OrderedDict([("input_dim", input_dim), ("output_dim", output_dim)])
    add_case(c, "Embedding", config, [idx], [emb], y)


def dense_case(name, in_shape, units, act="linear", use_bias=True):
    """Keras Dense: y = act(x @ kernel + bias) on the last axis (any rank)."""
    c = Case(name)
    x = c.input(in_shape)
    kernel = c.weight([in_shape[-1], units])
    weights = [kernel]
    y = torch.matmul(t64(x), t64(kernel))
    if use_bias:
        bias = c.weight([units])
        weights.append(bias)
        y = y + t64(bias)
    y = activation(act, y)
    config = OrderedDict([("units", units), ("activation", act), ("use_bias", use_bias)])
    add_case(c, "Dense", config, [x], weights, y)


def gen_batchnorm_embedding_dense():
    batchnorm_case("batchnorm_rank2_eps1e3", [3, 5], 1e-3)
    batchnorm_case("batchnorm_rank4_eps1e5", [3, 5, 6, 4], 1e-5)
    batchnorm_case("batchnorm_rank3_nocenter", [1, 7, 3], 1e-3, center=False)
    batchnorm_case("batchnorm_rank4_noscale", [1, 6, 5, 2], 1e-3, scale=False)
    batchnorm_case("batchnorm_rank2_plain_eps1e5", [3, 6], 1e-5, center=False, scale=False)

    embedding_case("embedding_seq", [3, 7], 10, 4)
    embedding_case("embedding_seq_b1", [1, 5], 3, 6)
    embedding_case("embedding_rank3", [3, 2, 4], 7, 3)
    embedding_case("embedding_rank3_b1", [1, 3, 5], 20, 2)

    dense_case("dense_rank2", [3, 5], 4)
    dense_case("dense_rank2_relu_nobias", [1, 6], 3, "relu", use_bias=False)
    dense_case("dense_rank3", [3, 4, 6], 3)
    dense_case("dense_rank3_softmax", [1, 5, 2], 4, "softmax")
    dense_case("dense_rank4_tanh", [1, 2, 3, 5], 2, "tanh")


# --------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------

def merge_case(cls, name, shapes, axis=None):
    """Keras merge layers: element-wise Add / Subtract (x0 - x1) / Multiply /
    Average (mean) / Maximum, and Concatenate along `axis` (batch is axis 0)."""
    c = Case(name)
    xs = [c.input(s) for s in shapes]
    ts = [t64(x) for x in xs]
    if cls == "Add":
        y = sum(ts[1:], ts[0])
    elif cls == "Subtract":
        assert len(ts) == 2
        y = ts[0] - ts[1]
    elif cls == "Multiply":
        y = ts[0]
        for t in ts[1:]:
            y = y * t
    elif cls == "Average":
        y = sum(ts[1:], ts[0]) / len(ts)
    elif cls == "Maximum":
        y = ts[0]
        for t in ts[1:]:
            y = torch.maximum(y, t)
    elif cls == "Concatenate":
        y = torch.cat(ts, dim=axis)
    else:
        raise ValueError(cls)
    config = OrderedDict()
    if cls == "Concatenate":
        config["axis"] = axis
    add_case(c, cls, config, xs, [], y)


def gen_merging():
    for cls in ("Add", "Multiply", "Average", "Maximum"):
        p = cls.lower()
        merge_case(cls, p + "_2_rank2", [[3, 5]] * 2)
        merge_case(cls, p + "_3_rank2", [[1, 6]] * 3)
        merge_case(cls, p + "_2_rank4", [[3, 5, 6, 2]] * 2)
        merge_case(cls, p + "_3_rank3", [[3, 4, 5]] * 3)
    merge_case("Subtract", "subtract_rank2", [[3, 5]] * 2)
    merge_case("Subtract", "subtract_rank2_b1", [[1, 7]] * 2)
    merge_case("Subtract", "subtract_rank3", [[3, 4, 5]] * 2)
    merge_case("Subtract", "subtract_rank4", [[1, 5, 6, 3]] * 2)
    merge_case("Concatenate", "concatenate_last_rank2", [[3, 4], [3, 6]], axis=-1)
    merge_case("Concatenate", "concatenate_last_rank4_3", [[1, 5, 6, 2], [1, 5, 6, 3],
                                                          [1, 5, 6, 1]], axis=-1)
    merge_case("Concatenate", "concatenate_axis1_rank3", [[3, 4, 5], [3, 2, 5]], axis=1)
    merge_case("Concatenate", "concatenate_axis2_rank4", [[3, 5, 2, 3], [3, 5, 4, 3],
                                                         [3, 5, 1, 3]], axis=2)
    merge_case("Concatenate", "concatenate_axis1_rank4", [[1, 3, 5, 2], [1, 4, 5, 2]], axis=1)


# --------------------------------------------------------------------------
# Activation, Flatten, Reshape
# --------------------------------------------------------------------------

def activation_case(name, in_shape, act, scale=None):
    """Keras Activation layer. `scale` (a power of two, so exact in float32) widens the
    inputs from uniform(-1, 1) to uniform(-scale, scale)."""
    c = Case(name)
    x = c.input(in_shape)
    if scale is not None:
        x = x * np.float32(scale)
    if act == "hard_sigmoid":  # both clipped regions and the linear part are covered
        assert (x < -2.5).any() and (x > 2.5).any() and (np.abs(x) < 2.5).any(), name
    y = activation(act, t64(x))
    add_case(c, "Activation", OrderedDict([("activation", act)]), [x], [], y)


def flatten_case(name, in_shape):
    """Keras Flatten (channels_last): (batch, d1, ..., dn) -> (batch, d1*...*dn), row-major."""
    c = Case(name)
    x = c.input(in_shape)
    y = t64(x).reshape(in_shape[0], -1)
    add_case(c, "Flatten", OrderedDict(), [x], [], y)


def reshape_case(name, in_shape, target_shape):
    """Keras Reshape: row-major reshape of each sample to target_shape (one -1 allowed)."""
    c = Case(name)
    x = c.input(in_shape)
    y = t64(x).reshape([in_shape[0]] + list(target_shape))
    add_case(c, "Reshape", OrderedDict([("target_shape", list(target_shape))]), [x], [], y)


def gen_misc():
    for act, shape in (("linear", [3, 5]), ("relu", [3, 4, 5]), ("sigmoid", [1, 6]),
                       ("tanh", [3, 2, 3, 4]), ("softmax", [3, 7]), ("gelu", [1, 4, 5]),
                       ("elu", [3, 6]), ("selu", [3, 3, 4]), ("swish", [1, 2, 3, 5])):
        activation_case("activation_" + act, shape, act)
    # Keras softmax reduces over the last axis for rank > 2 too.
    activation_case("activation_softmax_rank4", [1, 3, 4, 5], "softmax")
    # Keras 2 hard_sigmoid(x) = clip(0.2 x + 0.5, 0, 1): 0 for x <= -2.5, 1 for x >= 2.5.
    # Inputs uniform(-4, 4) so that both clipped regions and the linear part are hit.
    activation_case("activation_hard_sigmoid", [3, 4, 5], "hard_sigmoid", scale=4.0)

    flatten_case("flatten_rank3", [3, 4, 5])
    flatten_case("flatten_rank4", [1, 2, 3, 4])
    flatten_case("flatten_rank5", [3, 5, 2, 3, 2])
    flatten_case("flatten_rank2", [1, 7])

    reshape_case("reshape_rank2_to_rank3", [3, 12], [3, 4])
    reshape_case("reshape_rank4_to_rank3", [1, 4, 6, 2], [8, 6])
    reshape_case("reshape_rank3_to_rank2", [3, 6, 4], [24])
    reshape_case("reshape_rank2_to_rank4", [1, 24], [2, 3, 4])
    reshape_case("reshape_minus_one", [3, 2, 3, 4], [6, -1])


# --------------------------------------------------------------------------
# Recurrent layers: SimpleRNN, LSTM, GRU
# --------------------------------------------------------------------------
#
# Keras 2 rules reproduced here (keras.layers.RNN + SimpleRNNCell / LSTMCell / GRUCell,
# inference, no masking, stateful=False, time_major=False):
# - Input (batch, timesteps, features); the initial states are zeros.
# - The recurrences are written out step by step below (explicit loop over time),
#   not delegated to torch.nn.RNN/LSTM/GRU, whose gate order and bias layout differ;
#   self_check_rnn() cross-checks them against torch.nn and a scalar loop.
# - Weights in get_weights() order: kernel (features, g*units), recurrent_kernel
#   (units, g*units), then bias if use_bias; g = 1 (SimpleRNN), 4 (LSTM), 3 (GRU).
#   Gate blocks are contiguous slices [k*units, (k+1)*units) of the last axis.
# - go_backwards: the time steps are processed from the last to the first; with
#   return_sequences the output sequence is in processing order, i.e. output[:, t]
#   is the state after the step on input[:, T-1-t] (Keras does not reverse it back).
# - return_sequences=False: the output is the last processed h, (batch, units).
# - return_state: the outputs are [output, h_last] (SimpleRNN, GRU) or
#   [output, h_last, c_last] (LSTM); stored as expected, expected.1, expected.2.
# - RNN tolerances: rtol 1e-4 (error accumulates through the time steps), atol 1e-5.

RNN_RTOL = 1e-4
RNN_ATOL = 1e-5


def keras_rnn(x, step, states, go_backwards):
    """keras.backend.rnn: run `step(x_t, states) -> (h_t, new states)` over the time
    axis (axis 1), reversed if go_backwards; returns (stacked h_t in processing order,
    final states)."""
    steps = x.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    outs = []
    for t in order:
        h, states = step(x[:, t, :], states)
        outs.append(h)
    return torch.stack(outs, dim=1), states


def simple_rnn_cell(kernel, rec, bias, act):
    """SimpleRNNCell: h_t = act(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)."""
    def step(x, states):
        (h,) = states
        z = x @ kernel
        if bias is not None:
            z = z + bias
        h = activation(act, z + h @ rec)
        return h, (h,)
    return step


def lstm_cell(kernel, rec, bias, act, rec_act):
    """LSTMCell (implementation 1 and 2 give the same math): gate order i, f, c, o;
    z = x @ kernel + h @ recurrent_kernel + bias (bias (4u,));
    i = rec_act(z_i), f = rec_act(z_f), c = f * c + i * act(z_c), o = rec_act(z_o),
    h = o * act(c). (unit_forget_bias only affects the initializer.)"""
    u = rec.shape[0]

    def step(x, states):
        h, c = states
        z = x @ kernel + h @ rec
        if bias is not None:
            z = z + bias
        zi, zf, zc, zo = (z[:, k * u:(k + 1) * u] for k in range(4))
        i = activation(rec_act, zi)
        f = activation(rec_act, zf)
        c = f * c + i * activation(act, zc)
        o = activation(rec_act, zo)
        h = o * activation(act, c)
        return h, (h, c)
    return step


def gru_cell(kernel, rec, bias, act, rec_act, reset_after):
    """GRUCell: gate order z (update), r (reset), h (candidate).
    reset_after=True (Keras 2 default, the CuDNN-compatible form): bias (2, 3u), row 0
    input bias, row 1 recurrent bias;
      x_z, x_r, x_h = split(x @ kernel + b_in), r_z, r_r, r_h = split(h @ rec + b_rec),
      z = rec_act(x_z + r_z), r = rec_act(x_r + r_r), hh = act(x_h + r * r_h).
    reset_after=False: bias (3u,) added on the input side only;
      z = rec_act(x_z + h @ rec_z), r = rec_act(x_r + h @ rec_r),
      hh = act(x_h + (r * h) @ rec_h).
    Both: h_t = z * h_{t-1} + (1 - z) * hh."""
    u = rec.shape[0]
    b_in = b_rec = None
    if bias is not None:
        if reset_after:
            b_in, b_rec = bias[0], bias[1]
        else:
            b_in = bias

    def step(x, states):
        (h,) = states
        mx = x @ kernel
        if b_in is not None:
            mx = mx + b_in
        x_z, x_r, x_h = (mx[:, k * u:(k + 1) * u] for k in range(3))
        if reset_after:
            mi = h @ rec
            if b_rec is not None:
                mi = mi + b_rec
            r_z, r_r, r_h = (mi[:, k * u:(k + 1) * u] for k in range(3))
        else:
            mi = h @ rec[:, :2 * u]
            r_z, r_r = mi[:, :u], mi[:, u:]
        z = activation(rec_act, x_z + r_z)
        r = activation(rec_act, x_r + r_r)
        if reset_after:
            r_h = r * r_h
        else:
            r_h = (r * h) @ rec[:, 2 * u:]
        hh = activation(act, x_h + r_h)
        h = z * h + (1 - z) * hh
        return h, (h,)
    return step


RNN_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def keras_recurrent(cls, x, weights, act, rec_act, use_bias, return_sequences,
                    return_state, go_backwards, reset_after):
    """The Keras layer's outputs (a list) for torch tensors x and weights (any dtype)."""
    kernel, rec = weights[0], weights[1]
    bias = weights[2] if use_bias else None
    batch, units = x.shape[0], rec.shape[0]
    zeros = torch.zeros(batch, units, dtype=x.dtype)
    if cls == "SimpleRNN":
        step, states = simple_rnn_cell(kernel, rec, bias, act), (zeros,)
    elif cls == "LSTM":
        step, states = lstm_cell(kernel, rec, bias, act, rec_act), (zeros, zeros.clone())
    else:
        step, states = gru_cell(kernel, rec, bias, act, rec_act, reset_after), (zeros,)
    seq, states = keras_rnn(x, step, states, go_backwards)
    out = seq if return_sequences else seq[:, -1, :]
    assert torch.equal(seq[:, -1, :], states[0])
    return [out] + list(states) if return_state else [out]


def rnn_case(cls, name, batch, steps, features, units, act="tanh", rec_act="sigmoid",
             use_bias=True, return_sequences=False, return_state=False, go_backwards=False,
             reset_after=True):
    c = Case(name)
    x = c.input([batch, steps, features])
    g = RNN_GATES[cls]
    weights = [c.weight([features, g * units]), c.weight([units, g * units])]
    if use_bias:
        if cls == "GRU" and reset_after:
            weights.append(c.weight([2, g * units]))
        else:
            weights.append(c.weight([g * units]))
    args = (act, rec_act, use_bias, return_sequences, return_state, go_backwards, reset_after)
    ys = keras_recurrent(cls, t64(x), [t64(w) for w in weights], *args)
    # The same recurrence in float32 (as a compiled model computes it) must sit well
    # inside the tolerance, so that the tolerance is not the limiting factor.
    ys32 = keras_recurrent(cls, torch.from_numpy(x), [torch.from_numpy(w) for w in weights],
                           *args)
    for y, y32 in zip(ys, ys32):
        ratio = ((y32.double() - y).abs() / (RNN_ATOL + RNN_RTOL * y.abs())).max().item()
        assert ratio < 0.25, (name, ratio)
    config = OrderedDict([("units", units), ("activation", act)])
    if cls != "SimpleRNN":
        config["recurrent_activation"] = rec_act
    config["use_bias"] = use_bias
    config["return_sequences"] = return_sequences
    config["return_state"] = return_state
    config["go_backwards"] = go_backwards
    if cls == "GRU":
        config["reset_after"] = reset_after
    add_case(c, cls, config, [x], weights, ys, rtol=RNN_RTOL, atol=RNN_ATOL)


def gen_recurrent():
    # SimpleRNN
    C = "SimpleRNN"
    rnn_case(C, "simplernn_last", 3, 7, 4, 5)
    rnn_case(C, "simplernn_seq_b1", 1, 5, 3, 4, return_sequences=True)
    rnn_case(C, "simplernn_backwards_seq", 3, 6, 2, 3, return_sequences=True,
             go_backwards=True)
    rnn_case(C, "simplernn_backwards_last_b1", 1, 8, 5, 6, go_backwards=True)
    rnn_case(C, "simplernn_state", 3, 4, 5, 6, return_state=True)
    rnn_case(C, "simplernn_relu_seq", 1, 9, 3, 7, act="relu", return_sequences=True)
    rnn_case(C, "simplernn_nobias_t1_state", 3, 1, 2, 8, use_bias=False,
             return_sequences=True, return_state=True)
    rnn_case(C, "simplernn_t40_seq", 3, 40, 4, 8, return_sequences=True)
    # LSTM
    C = "LSTM"
    rnn_case(C, "lstm_last", 3, 8, 4, 5)
    rnn_case(C, "lstm_seq_b1", 1, 6, 3, 4, return_sequences=True)
    rnn_case(C, "lstm_backwards_last", 3, 5, 5, 3, go_backwards=True)
    rnn_case(C, "lstm_backwards_seq_state_b1", 1, 7, 2, 6, return_sequences=True,
             return_state=True, go_backwards=True)
    rnn_case(C, "lstm_state", 3, 4, 3, 8, return_state=True)
    rnn_case(C, "lstm_nobias_seq", 3, 12, 4, 4, use_bias=False, return_sequences=True)
    rnn_case(C, "lstm_t1_seq_state", 3, 1, 2, 3, return_sequences=True, return_state=True)
    rnn_case(C, "lstm_t40_seq", 3, 40, 3, 8, return_sequences=True)
    # GRU (reset_after=True is the Keras 2 default; "v1" cases use reset_after=False)
    C = "GRU"
    rnn_case(C, "gru_last", 3, 8, 4, 5)
    rnn_case(C, "gru_seq_b1", 1, 6, 3, 4, return_sequences=True)
    rnn_case(C, "gru_backwards_seq", 3, 5, 5, 3, return_sequences=True, go_backwards=True)
    rnn_case(C, "gru_state", 3, 4, 2, 8, return_state=True)
    rnn_case(C, "gru_t1_state_b1", 1, 1, 5, 7, return_state=True)
    rnn_case(C, "gru_nobias_seq", 3, 6, 3, 4, use_bias=False, return_sequences=True)
    rnn_case(C, "gru_v1_last", 3, 7, 3, 6, reset_after=False)
    rnn_case(C, "gru_v1_backwards_seq_state_b1", 1, 10, 4, 5, return_sequences=True,
             return_state=True, go_backwards=True, reset_after=False)
    rnn_case(C, "gru_v1_nobias_state", 3, 5, 2, 3, use_bias=False, return_state=True,
             reset_after=False)
    rnn_case(C, "gru_t40_seq_b1", 1, 40, 3, 8, return_sequences=True)


# --------------------------------------------------------------------------
# Convolutional recurrent layers: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
# --------------------------------------------------------------------------
#
# Keras 2 rules reproduced here (keras.layers.ConvLSTM1D/2D/3D = ConvRNN + ConvLSTMCell,
# data_format="channels_last", inference, no masking or dropout, stateful=False):
# - Input (batch, time, s1..sn, channels), n = 1, 2, 3.
# - Weights in get_weights() order: kernel (k1..kn, channels, 4*filters),
#   recurrent_kernel (k1..kn, filters, 4*filters) (same kernel_size as the input
#   kernel), then bias (4*filters,) if use_bias. Gate order i, f, c, o along the last
#   axis: gate g is the contiguous slice [g*filters, (g+1)*filters) (Keras tf.split's the
#   kernels into 4 along the last axis).
# - Input convolution (ConvLSTMCell.input_conv), per gate g:
#     x_g = conv(x_t, kernel_g, strides, padding, dilation_rate) + bias_g,
#   a cross-correlation like ConvND; "same" is TensorFlow's: out = ceil(L / s),
#   pad_total = max((out - 1) * s + (k - 1) * d + 1 - L, 0), pad_before = pad_total // 2
#   (the extra element of an odd total goes after); "valid": out = floor((L - k_eff) / s) + 1.
# - Recurrent convolution (ConvLSTMCell.recurrent_conv), per gate g:
#     h_g = conv(h, recurrent_kernel_g, strides=1, padding="same", dilation 1), no bias:
#   never strided or dilated whatever the layer's strides / dilation_rate, always "same",
#   so h keeps the input convolution's output shape (even kernels: pad_before = (k-1)//2).
# - States: h and c start as zeros of shape (batch, out_1..out_n, filters), the input
#   convolution's output shape (ConvRNN.get_initial_state convolves zeros with input_conv).
# - Per step: i = rec_act(x_i + h_i), f = rec_act(x_f + h_f),
#   c = f * c + i * act(x_c + h_c), o = rec_act(x_o + h_o), h = o * act(c).
# - Defaults: activation "tanh", recurrent_activation "hard_sigmoid" (Keras 2:
#   clip(0.2 x + 0.5, 0, 1); Keras 3 changed it to relu6(x + 3) / 6, not used here).
#   unit_forget_bias only affects the initializer.
# - return_sequences: output (batch, time, out_1..out_n, filters), every h in processing
#   order; else the last h, (batch, out_1..out_n, filters). go_backwards: the time steps are
#   processed from last to first and the sequence output stays in processing order (as in
#   the recurrent layers above). return_state: outputs [output, h_last, c_last], stored as
#   expected, expected.1, expected.2.
# - Keras forbids strides > 1 together with dilation_rate > 1.
# - Tolerances as for the recurrent layers: rtol 1e-4, atol 1e-5.

CONV_LSTM_RTOL = RNN_RTOL
CONV_LSTM_ATOL = RNN_ATOL


def conv_lstm_out_spatial(spatial, kernel_size, strides, padding, dilation):
    """Output spatial shape of ConvLSTMCell.input_conv (= the states' spatial shape)."""
    out = []
    for L, k, s, d in zip(spatial, kernel_size, strides, dilation):
        k_eff = (k - 1) * d + 1
        out.append(-(-L // s) if padding == "same" else (L - k_eff) // s + 1)
    return out


def conv_lstm_cell(kernel, rec, bias, strides, padding, dilation, act, rec_act):
    """ConvLSTMCell step on channels-last tensors: x (batch, s..., channels), h and c
    (batch, out..., filters). Each gate is one input conv (+ bias) plus one recurrent conv
    (stride 1, "same", no dilation), both through keras_conv (F.convNd, explicit TF pads)."""
    n = kernel.dim() - 2
    filters = rec.shape[-1] // 4
    ones = [1] * n

    def step(x, states):
        h, c = states
        z = []
        for g in range(4):  # i, f, c, o
            blk = slice(g * filters, (g + 1) * filters)
            x_g = keras_conv(x, kernel[..., blk], None if bias is None else bias[blk],
                             strides, padding, dilation, 1, "linear")
            h_g = keras_conv(h, rec[..., blk], None, ones, "same", ones, 1, "linear")
            z.append(x_g + h_g)
        i = activation(rec_act, z[0])
        f = activation(rec_act, z[1])
        c = f * c + i * activation(act, z[2])
        o = activation(rec_act, z[3])
        h = o * activation(act, c)
        return h, (h, c)
    return step


def keras_conv_lstm(x, weights, strides, padding, dilation, act, rec_act, use_bias,
                    return_sequences, return_state, go_backwards):
    """The Keras ConvLSTMND layer's outputs (a list) for torch tensors x and weights."""
    kernel, rec = weights[0], weights[1]
    bias = weights[2] if use_bias else None
    n = x.dim() - 3
    filters = rec.shape[-1] // 4
    out_sp = conv_lstm_out_spatial(list(x.shape[2:2 + n]), list(kernel.shape[:n]), strides,
                                   padding, dilation)
    assert min(out_sp) >= 1, out_sp
    zeros = torch.zeros([x.shape[0]] + out_sp + [filters], dtype=x.dtype)
    step = conv_lstm_cell(kernel, rec, bias, strides, padding, dilation, act, rec_act)
    seq, states = keras_rnn(x, step, (zeros, zeros.clone()), go_backwards)
    out = seq if return_sequences else seq[:, -1]
    assert torch.equal(seq[:, -1], states[0])
    return [out] + list(states) if return_state else [out]


def np_conv_lstm(x, kernel, rec, bias, strides, padding, dilation, act, rec_act,
                 go_backwards):
    """Independent ConvLSTM (self-checks only): numpy float64, each convolution an explicit
    loop over output positions and kernel taps with bounds checks (no padding op, no torch
    conv), the 4 gates as one matmul per tap. Returns (h sequence in processing order,
    h_last, c_last)."""
    fn = {"tanh": np.tanh, "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
          "hard_sigmoid": lambda v: np.minimum(np.maximum(0.2 * v + 0.5, 0.0), 1.0)}
    a, ra = fn[act], fn[rec_act]
    x, kernel, rec = (np.asarray(v, dtype=np.float64) for v in (x, kernel, rec))
    n = x.ndim - 3
    units = rec.shape[-1] // 4

    def corr(inp, w, s, d, pad):
        geo = []  # (output length, pad_before) per axis
        for i in range(n):
            L, k = inp.shape[1 + i], w.shape[i]
            span = (k - 1) * d[i] + 1
            if pad == "valid":
                geo.append(((L - span) // s[i] + 1, 0))
            else:
                out = int(math.ceil(L / float(s[i])))
                geo.append((out, max((out - 1) * s[i] + span - L, 0) // 2))
        res = np.zeros([inp.shape[0]] + [g[0] for g in geo] + [w.shape[-1]])
        for o in itertools.product(*[range(g[0]) for g in geo]):
            acc = np.zeros((inp.shape[0], w.shape[-1]))
            for tap in itertools.product(*[range(k) for k in w.shape[:n]]):
                idx = tuple(o[i] * s[i] - geo[i][1] + tap[i] * d[i] for i in range(n))
                if all(0 <= idx[i] < inp.shape[1 + i] for i in range(n)):
                    acc += inp[(slice(None),) + idx] @ w[tap]
            res[(slice(None),) + o] = acc
        return res

    ones = [1] * n
    h = c = None
    seq = []
    steps = x.shape[1]
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        zx = corr(x[:, t], kernel, strides, dilation, padding)
        if bias is not None:
            zx = zx + np.asarray(bias, dtype=np.float64)
        if h is None:
            h = np.zeros(zx.shape[:-1] + (units,))
            c = np.zeros_like(h)
        z = zx + corr(h, rec, ones, ones, "same")
        gi, gf, gc, go = (z[..., k * units:(k + 1) * units] for k in range(4))
        c = ra(gf) * c + ra(gi) * a(gc)
        h = ra(go) * a(c)
        seq.append(h)
    return np.stack(seq, axis=1), h, c


def conv_lstm_case(cls, name, batch, steps, spatial, channels, filters, kernel_size,
                   strides=None, padding="valid", dilation=None, act="tanh",
                   rec_act="hard_sigmoid", use_bias=True, return_sequences=False,
                   return_state=False, go_backwards=False):
    n = len(kernel_size)
    assert cls == "ConvLSTM%dD" % n and len(spatial) == n
    strides = strides or [1] * n
    dilation = dilation or [1] * n
    assert not (max(strides) > 1 and max(dilation) > 1), "Keras forbids strides>1 with dilation>1"
    c = Case(name)
    x = c.input([batch, steps] + list(spatial) + [channels])
    weights = [c.weight(list(kernel_size) + [channels, 4 * filters]),
               c.weight(list(kernel_size) + [filters, 4 * filters])]
    if use_bias:
        weights.append(c.weight([4 * filters]))
    args = (strides, padding, dilation, act, rec_act, use_bias, return_sequences,
            return_state, go_backwards)
    ys = keras_conv_lstm(t64(x), [t64(w) for w in weights], *args)
    # Independent formulation on the same data (explicit tap loops in numpy).
    seq, h_last, c_last = np_conv_lstm(x, weights[0], weights[1],
                                       weights[2] if use_bias else None, strides, padding,
                                       dilation, act, rec_act, go_backwards)
    refs = [seq if return_sequences else seq[:, -1]] + ([h_last, c_last] if return_state else [])
    assert len(refs) == len(ys)
    for y, ref in zip(ys, refs):
        assert tuple(y.shape) == ref.shape and np.allclose(y.numpy(), ref, rtol=0, atol=1e-12), name
    # The same recurrence in float32 must sit well inside the tolerance.
    ys32 = keras_conv_lstm(torch.from_numpy(x), [torch.from_numpy(w) for w in weights], *args)
    for y, y32 in zip(ys, ys32):
        ratio = ((y32.double() - y).abs() / (CONV_LSTM_ATOL + CONV_LSTM_RTOL * y.abs())).max().item()
        assert ratio < 0.25, (name, ratio)
    config = OrderedDict([("filters", filters), ("kernel_size", list(kernel_size)),
                          ("strides", list(strides)), ("padding", padding),
                          ("dilation_rate", list(dilation)), ("activation", act),
                          ("recurrent_activation", rec_act), ("use_bias", use_bias),
                          ("return_sequences", return_sequences),
                          ("return_state", return_state), ("go_backwards", go_backwards)])
    add_case(c, cls, config, [x], weights, ys, rtol=CONV_LSTM_RTOL, atol=CONV_LSTM_ATOL)


def gen_conv_lstm():
    # ConvLSTM2D: (batch, steps, spatial, channels, filters, kernel_size, ...)
    C = "ConvLSTM2D"
    conv_lstm_case(C, "convlstm2d_valid_last", 2, 3, [6, 7], 2, 3, [3, 3])
    conv_lstm_case(C, "convlstm2d_same_seq_b1", 1, 4, [5, 6], 3, 2, [3, 3], padding="same",
                   return_sequences=True)
    conv_lstm_case(C, "convlstm2d_same_s2_state", 2, 3, [7, 8], 1, 4, [3, 3], [2, 2], "same",
                   return_state=True)
    conv_lstm_case(C, "convlstm2d_valid_d2_backwards_seq_b1", 1, 5, [7, 7], 2, 3, [3, 3],
                   dilation=[2, 2], go_backwards=True, return_sequences=True)
    # even kernel width: the recurrent "same" conv pads 0 before, 1 after along that axis
    conv_lstm_case(C, "convlstm2d_same_k32_nobias_sigmoid_seq_state", 2, 2, [6, 5], 2, 2,
                   [3, 2], padding="same", rec_act="sigmoid", use_bias=False,
                   return_sequences=True, return_state=True)
    conv_lstm_case(C, "convlstm2d_t1_same_state_b1", 1, 1, [5, 5], 1, 3, [3, 3],
                   padding="same", return_state=True)
    conv_lstm_case(C, "convlstm2d_valid_s21_k2_backwards_last", 2, 4, [8, 6], 3, 2, [2, 2],
                   [2, 1], go_backwards=True)
    # ConvLSTM1D
    C = "ConvLSTM1D"
    conv_lstm_case(C, "convlstm1d_same_seq", 2, 4, [8], 3, 3, [3], padding="same",
                   return_sequences=True)
    conv_lstm_case(C, "convlstm1d_valid_s2_k4_backwards_state_b1", 1, 5, [9], 2, 2, [4], [2],
                   go_backwards=True, return_state=True)
    # ConvLSTM3D
    C = "ConvLSTM3D"
    conv_lstm_case(C, "convlstm3d_same_seq_b1", 1, 3, [4, 4, 4], 2, 2, [3, 3, 3],
                   padding="same", return_sequences=True)
    conv_lstm_case(C, "convlstm3d_valid_s212_state", 2, 2, [4, 3, 4], 1, 3, [2, 2, 3],
                   [2, 1, 2], return_state=True)


# --------------------------------------------------------------------------
# Independent self-checks of the trickier semantics (brute force / adjointness)
# --------------------------------------------------------------------------

def self_check():
    rng = np.random.RandomState(1234)
    # 1. Transposed conv is the adjoint (gradient) of the Keras forward conv whose
    #    input has the transposed conv's output length: <conv(z), x> == <convT(x), z>.
    configs = [  # (in spatial, k, s, padding, output_padding, d)
        ([5, 6], [3, 3], [2, 2], "same", None, [1, 1]),
        ([5, 4], [4, 4], [2, 2], "valid", None, [1, 1]),
        ([5, 6], [4, 4], [2, 2], "same", [1, 1], [1, 1]),
        ([4, 5], [2, 2], [3, 3], "valid", None, [1, 1]),
        ([4, 5], [3, 3], [3, 3], "same", [2, 1], [1, 1]),
        ([5, 5], [3, 3], [2, 2], "valid", [1, 0], [1, 1]),
        ([6, 5], [3, 3], [1, 1], "same", None, [2, 2]),
        ([5, 6], [3, 2], [1, 1], "valid", None, [2, 2]),
        ([6, 6], [2, 2], [3, 3], "same", None, [1, 1]),
        ([5, 5], [2, 5], [2, 1], "same", None, [1, 1]),
    ]
    for spatial, k, s, pad, op, d in configs:
        cin, cout = 3, 2
        x = t64(rng.uniform(-1, 1, [2] + spatial + [cin]))
        kern = t64(rng.uniform(-1, 1, k + [cout, cin]))
        y = keras_conv_transpose(x, kern, None, s, pad, op, d, "linear")
        z = t64(rng.uniform(-1, 1, list(y.shape)))
        # forward conv kernel (k..., in=cout, out=cin) is the same array
        fz = keras_conv(z, kern, None, s, pad, d, 1, "linear")
        assert fz.shape == x.shape, (fz.shape, x.shape)
        lhs = float((fz * x).sum())
        rhs = float((y * z).sum())
        assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs)), (spatial, k, s, pad, op, d)

    # 2. Pooling "same" against a brute-force loop (window clipped to the input).
    x = t64(rng.uniform(-1, 1, [2, 7, 6, 3]))
    for pool, strides in (([3, 2], [2, 3]), ([4, 4], [1, 2]), ([2, 3], [3, 1])):
        for kind in ("max", "avg"):
            y = keras_pool(x, kind, pool, strides, "same")
            ref = torch.zeros_like(y)
            pads = [same_pads(x.shape[1 + i], pool[i], strides[i]) for i in range(2)]
            for i in range(y.shape[1]):
                for j in range(y.shape[2]):
                    h0 = i * strides[0] - pads[0][0]
                    w0 = j * strides[1] - pads[1][0]
                    win = x[:, max(h0, 0):min(h0 + pool[0], 7), max(w0, 0):min(w0 + pool[1], 6), :]
                    if kind == "max":
                        ref[:, i, j, :] = win.amax(dim=(1, 2))
                    else:
                        ref[:, i, j, :] = win.mean(dim=(1, 2))
            assert torch.allclose(y, ref, rtol=0, atol=1e-12), (pool, strides, kind)

    # 3. Bilinear upsampling against TF's half-pixel formula, one axis at a time.
    def tf_resize_axis(a, axis, out):
        n = a.shape[axis]
        res = []
        for o in range(out):
            src = (o + 0.5) * n / out - 0.5
            lo = math.floor(src)
            frac = src - lo
            i0 = min(max(lo, 0), n - 1)
            i1 = min(max(lo + 1, 0), n - 1)
            res.append(a.select(axis, i0) * (1 - frac) + a.select(axis, i1) * frac)
        return torch.stack(res, dim=axis)
    x = t64(rng.uniform(-1, 1, [2, 5, 7, 3]))
    for sizes in ([2, 3], [3, 2], [1, 4]):
        y = upsample_bilinear(x, sizes)
        ref = tf_resize_axis(tf_resize_axis(x, 1, 5 * sizes[0]), 2, 7 * sizes[1])
        assert torch.allclose(y, ref, rtol=0, atol=1e-12), sizes

    # 4. Conv "same" with stride 1 / odd kernel equals symmetric zero padding.
    x = t64(rng.uniform(-1, 1, [2, 6, 7, 3]))
    kern = t64(rng.uniform(-1, 1, [3, 5, 3, 4]))
    y = keras_conv(x, kern, None, [1, 1], "same", [1, 1], 1, "linear")
    ref = to_channels_last(F.conv2d(to_channels_first(x), kern.permute(3, 2, 0, 1), padding=(1, 2)))
    assert torch.allclose(y, ref, rtol=0, atol=1e-12)


def self_check_rnn():
    """Recurrent layers: the explicit-loop recurrences against (a) torch.nn.RNN / LSTM /
    GRU with the weights re-laid out, for the forms torch has (GRU: reset_after=True
    only), and (b) a scalar per-unit loop written from the Keras cell formulas, for
    all three cells including GRU reset_after=False. Nothing here is saved."""
    rng = np.random.RandomState(4321)
    B, T, Fe, U = 2, 6, 3, 4
    x = t64(rng.uniform(-1, 1, [B, T, Fe]))

    def w(*shape):
        return t64(rng.uniform(-0.5, 0.5, list(shape)))

    def run_torch(module, params, go_backwards):
        with torch.no_grad():
            for pname, value in params.items():
                getattr(module, pname).copy_(value)
            xin = torch.flip(x, dims=[1]) if go_backwards else x
            return module(xin)

    # (a) torch.nn. Keras returns the states in processing order even with go_backwards,
    #     which is what torch gives on the time-reversed input.
    for go_backwards in (False, True):
        for act in ("tanh", "relu"):
            k, r, b = w(Fe, U), w(U, U), w(U)
            ys = keras_recurrent("SimpleRNN", x, [k, r, b], act, None, True, True, True,
                                 go_backwards, True)
            m = torch.nn.RNN(Fe, U, nonlinearity=act, batch_first=True).double()
            seq, hn = run_torch(m, {"weight_ih_l0": k.T, "weight_hh_l0": r.T,
                                    "bias_ih_l0": b, "bias_hh_l0": torch.zeros(U, dtype=b.dtype)},
                                go_backwards)
            assert torch.allclose(ys[0], seq, rtol=0, atol=1e-12), ("SimpleRNN", act)
            assert torch.allclose(ys[1], hn[0], rtol=0, atol=1e-12)

        # LSTM: torch's gate order i, f, g, o is Keras's i, f, c, o.
        k, r, b = w(Fe, 4 * U), w(U, 4 * U), w(4 * U)
        ys = keras_recurrent("LSTM", x, [k, r, b], "tanh", "sigmoid", True, True, True,
                             go_backwards, True)
        m = torch.nn.LSTM(Fe, U, batch_first=True).double()
        seq, (hn, cn) = run_torch(m, {"weight_ih_l0": k.T, "weight_hh_l0": r.T,
                                      "bias_ih_l0": b,
                                      "bias_hh_l0": torch.zeros(4 * U, dtype=b.dtype)},
                                  go_backwards)
        assert torch.allclose(ys[0], seq, rtol=0, atol=1e-12), "LSTM"
        assert torch.allclose(ys[1], hn[0], rtol=0, atol=1e-12)
        assert torch.allclose(ys[2], cn[0], rtol=0, atol=1e-12)

        # GRU reset_after=True: torch's gate order is r, z, n (Keras: z, r, h), torch's
        # n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and h = (1 - z) n + z h.
        k, r, b = w(Fe, 3 * U), w(U, 3 * U), w(2, 3 * U)
        ys = keras_recurrent("GRU", x, [k, r, b], "tanh", "sigmoid", True, True, True,
                             go_backwards, True)
        idx = torch.cat([torch.arange(U, 2 * U), torch.arange(0, U), torch.arange(2 * U, 3 * U)])
        m = torch.nn.GRU(Fe, U, batch_first=True).double()
        seq, hn = run_torch(m, {"weight_ih_l0": k[:, idx].T, "weight_hh_l0": r[:, idx].T,
                                "bias_ih_l0": b[0][idx], "bias_hh_l0": b[1][idx]},
                            go_backwards)
        assert torch.allclose(ys[0], seq, rtol=0, atol=1e-12), "GRU"
        assert torch.allclose(ys[1], hn[0], rtol=0, atol=1e-12)

    # (b) Scalar loops, one unit and one product at a time.
    fn = {"tanh": math.tanh, "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
          "relu": lambda v: max(v, 0.0)}
    xs = x.numpy()

    def scalar(cls, kern, rec, bias, act, reset_after, go_backwards):
        kern, rec = kern.numpy(), rec.numpy()
        bias = None if bias is None else bias.numpy()
        a, ra = fn[act], fn["sigmoid"]
        seqs, finals = [], []
        for bi in range(B):
            h, c = [0.0] * U, [0.0] * U
            seq = []
            order = range(T - 1, -1, -1) if go_backwards else range(T)
            for t in order:
                def xin(g, j):   # input part of gate g, unit j, with the input bias
                    s = sum(xs[bi, t, f] * kern[f, g * U + j] for f in range(Fe))
                    if bias is not None:
                        s += bias[0, g * U + j] if bias.ndim == 2 else bias[g * U + j]
                    return s

                def hin(g, j, vec):  # recurrent part of gate g, unit j
                    s = sum(vec[m] * rec[m, g * U + j] for m in range(U))
                    if bias is not None and bias.ndim == 2:
                        s += bias[1, g * U + j]
                    return s
                if cls == "SimpleRNN":
                    h = [a(xin(0, j) + hin(0, j, h)) for j in range(U)]
                elif cls == "LSTM":
                    i_ = [ra(xin(0, j) + hin(0, j, h)) for j in range(U)]
                    f_ = [ra(xin(1, j) + hin(1, j, h)) for j in range(U)]
                    g_ = [a(xin(2, j) + hin(2, j, h)) for j in range(U)]
                    o_ = [ra(xin(3, j) + hin(3, j, h)) for j in range(U)]
                    c = [f_[j] * c[j] + i_[j] * g_[j] for j in range(U)]
                    h = [o_[j] * a(c[j]) for j in range(U)]
                else:
                    z_ = [ra(xin(0, j) + hin(0, j, h)) for j in range(U)]
                    r_ = [ra(xin(1, j) + hin(1, j, h)) for j in range(U)]
                    if reset_after:
                        hh = [a(xin(2, j) + r_[j] * hin(2, j, h)) for j in range(U)]
                    else:
                        rh = [r_[m] * h[m] for m in range(U)]
                        hh = [a(xin(2, j) + hin(2, j, rh)) for j in range(U)]
                    h = [z_[j] * h[j] + (1 - z_[j]) * hh[j] for j in range(U)]
                seq.append(h)
            seqs.append(seq)
            finals.append(c)
        return torch.tensor(seqs, dtype=torch.float64), torch.tensor(finals, dtype=torch.float64)

    for cls, reset_after, use_bias, go_backwards, act in (
            ("SimpleRNN", True, True, True, "tanh"), ("SimpleRNN", True, False, False, "relu"),
            ("LSTM", True, True, True, "tanh"), ("LSTM", True, False, False, "tanh"),
            ("GRU", True, True, True, "tanh"), ("GRU", False, True, True, "tanh"),
            ("GRU", False, True, False, "tanh"), ("GRU", False, False, False, "tanh"),
            ("GRU", True, False, False, "tanh")):
        g = RNN_GATES[cls]
        ws = [w(Fe, g * U), w(U, g * U)]
        if use_bias:
            ws.append(w(2, g * U) if cls == "GRU" and reset_after else w(g * U))
        ys = keras_recurrent(cls, x, ws, act, "sigmoid", use_bias, True, True, go_backwards,
                             reset_after)
        seq, cfin = scalar(cls, ws[0], ws[1], ws[2] if use_bias else None, act, reset_after,
                           go_backwards)
        assert torch.allclose(ys[0], seq, rtol=0, atol=1e-12), (cls, reset_after, use_bias)
        assert torch.allclose(ys[1], seq[:, -1], rtol=0, atol=1e-12)
        if cls == "LSTM":
            assert torch.allclose(ys[2], cfin, rtol=0, atol=1e-12)
        # return_sequences=False gives the last processed state, return_state=False one output
        last = keras_recurrent(cls, x, ws, act, "sigmoid", use_bias, False, False,
                               go_backwards, reset_after)
        assert len(last) == 1 and torch.equal(last[0], ys[0][:, -1])
    # GRU reset_after True and False really differ (the check above is not vacuous).
    ws = [w(Fe, 3 * U), w(U, 3 * U), w(3 * U)]
    a1 = keras_recurrent("GRU", x, ws, "tanh", "sigmoid", True, True, False, False, False)[0]
    a2 = keras_recurrent("GRU", x, ws[:2] + [torch.stack([ws[2], torch.zeros_like(ws[2])])],
                         "tanh", "sigmoid", True, True, False, False, True)[0]
    assert (a1 - a2).abs().max() > 1e-3


def self_check_conv_lstm():
    """ConvLSTM: (a) keras_conv_lstm (torch F.convNd with explicit TF pads) against
    np_conv_lstm (explicit tap loops with bounds checks) on extra geometries; (b) a ConvLSTM
    whose "valid" input kernel covers the whole input has 1x..x1 states, so it is an LSTM
    on the flattened input whose recurrent kernel is the recurrent kernel's tap at
    pad_before = (k - 1) // 2 of the "same" conv: checked against torch.nn.LSTM; (c) the
    TF "same" split and hard_sigmoid on known values. Nothing here is saved."""
    rng = np.random.RandomState(8765)

    # (c) TF "same": L=13, k=6, s=5 -> out 3, pad 1 before, 2 after (TF's documented example).
    assert same_pads(13, 6, 5) == (1, 2)
    assert same_pads(8, 3, 2) == (0, 1) and same_pads(7, 3, 2) == (1, 1)
    hs = activation("hard_sigmoid", t64([-4.0, -2.5, -1.0, 0.0, 1.0, 2.5, 4.0]))
    assert torch.allclose(hs, t64([0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0]), rtol=0, atol=1e-15)

    # (a) Extra geometries: (spatial, kernel, strides, padding, dilation, use_bias, backwards,
    #     recurrent activation).
    B, T, Cin, U = 2, 3, 2, 3
    configs = [
        ([7], [3], [2], "same", [1], True, False, "hard_sigmoid"),
        ([8], [4], [1], "same", [1], True, True, "sigmoid"),
        ([9], [3], [1], "valid", [2], False, False, "hard_sigmoid"),
        ([6, 7], [3, 2], [2, 1], "same", [1, 1], True, True, "hard_sigmoid"),
        ([7, 6], [3, 3], [1, 1], "same", [2, 2], True, False, "sigmoid"),
        ([5, 5], [2, 4], [1, 1], "same", [1, 1], False, True, "hard_sigmoid"),
        ([8, 7], [3, 3], [3, 2], "valid", [1, 1], True, False, "hard_sigmoid"),
        ([7, 8], [2, 3], [2, 3], "same", [1, 1], True, False, "hard_sigmoid"),
        ([4, 4, 3], [2, 3, 2], [1, 2, 1], "same", [1, 1, 1], True, True, "hard_sigmoid"),
        ([4, 3, 4], [3, 2, 2], [1, 1, 1], "valid", [1, 1, 1], True, False, "sigmoid"),
        ([5, 4, 4], [2, 2, 2], [1, 1, 1], "same", [2, 1, 2], False, False, "hard_sigmoid"),
    ]
    for spatial, k, s, pad, d, use_bias, back, rec_act in configs:
        x = rng.uniform(-1, 1, [B, T] + spatial + [Cin])
        ws = [rng.uniform(-0.5, 0.5, k + [Cin, 4 * U]), rng.uniform(-0.5, 0.5, k + [U, 4 * U])]
        if use_bias:
            ws.append(rng.uniform(-0.5, 0.5, [4 * U]))
        ys = keras_conv_lstm(t64(x), [t64(w) for w in ws], s, pad, d, "tanh", rec_act,
                             use_bias, True, True, back)
        seq, h_last, c_last = np_conv_lstm(x, ws[0], ws[1], ws[2] if use_bias else None, s,
                                           pad, d, "tanh", rec_act, back)
        for y, ref in zip(ys, (seq, h_last, c_last)):
            assert tuple(y.shape) == ref.shape, (spatial, k, s, pad, d)
            assert np.allclose(y.numpy(), ref, rtol=0, atol=1e-12), (spatial, k, s, pad, d)
        last = keras_conv_lstm(t64(x), [t64(w) for w in ws], s, pad, d, "tanh", rec_act,
                               use_bias, False, False, back)
        assert len(last) == 1 and torch.equal(last[0], ys[0][:, -1])

    # (b) Reduction to torch.nn.LSTM (sigmoid recurrent activation, as torch has).
    for k, back in (([3], False), ([4], True), ([3, 2], True), ([2, 3], False),
                    ([2, 3, 2], True), ([3, 1, 2], False)):
        x = rng.uniform(-1, 1, [B, T] + k + [Cin])
        kern = rng.uniform(-0.5, 0.5, k + [Cin, 4 * U])
        rec = rng.uniform(-0.5, 0.5, k + [U, 4 * U])
        bias = rng.uniform(-0.5, 0.5, [4 * U])
        n = len(k)
        ys = keras_conv_lstm(t64(x), [t64(kern), t64(rec), t64(bias)], [1] * n, "valid",
                             [1] * n, "tanh", "sigmoid", True, True, True, back)
        center = tuple((kk - 1) // 2 for kk in k)
        m = torch.nn.LSTM(int(np.prod(k)) * Cin, U, batch_first=True).double()
        with torch.no_grad():
            m.weight_ih_l0.copy_(t64(kern.reshape(-1, 4 * U)).T)
            m.weight_hh_l0.copy_(t64(rec[center]).T)
            m.bias_ih_l0.copy_(t64(bias))
            m.bias_hh_l0.zero_()
            xin = t64(x.reshape(B, T, -1))
            seq, (hn, cn) = m(torch.flip(xin, dims=[1]) if back else xin)
        assert torch.allclose(ys[0].reshape(B, T, U), seq, rtol=0, atol=1e-12), k
        assert torch.allclose(ys[1].reshape(B, U), hn[0], rtol=0, atol=1e-12), k
        assert torch.allclose(ys[2].reshape(B, U), cn[0], rtol=0, atol=1e-12), k
        # the other recurrent taps really are unused here (the check is not vacuous
        # about which tap is the "same" conv's centre)
        other = rec.copy()
        other[center] = 0.0
        ys0 = keras_conv_lstm(t64(x), [t64(kern), t64(other), t64(bias)], [1] * n, "valid",
                              [1] * n, "tanh", "sigmoid", True, True, False, back)
        zero_rec = keras_conv_lstm(t64(x), [t64(kern), t64(np.zeros_like(rec)), t64(bias)],
                                   [1] * n, "valid", [1] * n, "tanh", "sigmoid", True, True,
                                   False, back)
        assert torch.equal(ys0[0], zero_rec[0]), k


# --------------------------------------------------------------------------
# safetensors writer / verifier
# --------------------------------------------------------------------------

DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}


def write_safetensors(path, tensors, metadata):
    header = OrderedDict()
    header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        dtype = DTYPES[arr.dtype]
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = OrderedDict([("dtype", dtype), ("shape", list(arr.shape)),
                                    ("data_offsets", [offset, offset + len(data)])])
        offset += len(data)
        blobs.append(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)  # pad the header with spaces to a multiple of 8
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def verify_safetensors(path):
    """Re-read the file: header, offsets (contiguous, in order, no holes), sizes, cases."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0 and 8 + n <= len(raw)
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    data = raw[8 + n:]
    meta = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in meta.values())
    cases = json.loads(meta["cases"])
    pos = 0
    arrays = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        assert begin == pos, (name, begin, pos)
        np_dtype = {"F32": "<f4", "I32": "<i4"}[info["dtype"]]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        assert end - begin == 4 * count, name
        arrays[name] = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(info["shape"])
        pos = end
    assert pos == len(data), "trailing bytes after the last tensor"

    seen = set()
    used = set()
    for case in cases:
        c = case["name"]
        assert NAME_RE.match(c) and c not in seen, c
        seen.add(c)
        assert set(case) == {"name", "class", "config", "rtol", "atol"}
        assert case["config"]["name"] == c
        names = [k for k in header if k.startswith(c + "/")]
        n_in = sum(1 for k in names if k.startswith(c + "/input."))
        n_w = sum(1 for k in names if k.startswith(c + "/weight."))
        n_out = 1 + sum(1 for k in names if k.startswith(c + "/expected."))
        outs = ["%s/expected" % c] + ["%s/expected.%d" % (c, i) for i in range(1, n_out)]
        expected = ["%s/input.%d" % (c, i) for i in range(n_in)]
        expected += ["%s/weight.%d" % (c, i) for i in range(n_w)]
        expected += outs
        assert n_in >= 1 and sorted(names) == sorted(expected), (c, names)
        batch = arrays[c + "/input.0"].shape[0]
        for k in expected:
            assert np.all(np.isfinite(arrays[k])), k
        for i in range(n_in):
            assert arrays["%s/input.%d" % (c, i)].shape[0] == batch, c
        for k in outs:
            assert arrays[k].shape[0] == batch, k
            assert header[k]["dtype"] == "F32", k
        used.update(expected)
    assert used == set(header), "tensors not belonging to any case"
    return cases, header


def main():
    self_check()
    self_check_rnn()
    self_check_conv_lstm()
    gen_conv()
    gen_conv_transpose()
    gen_pool()
    gen_global_pool()
    gen_upsampling()
    gen_batchnorm_embedding_dense()
    gen_merging()
    gen_misc()
    gen_recurrent()
    gen_conv_lstm()

    metadata = {"cases": json.dumps(CASES, separators=(",", ":"))}
    write_safetensors(OUT_PATH, TENSORS, metadata)

    cases, header = verify_safetensors(OUT_PATH)
    counts = Counter(c["class"] for c in cases)
    for cls in sorted(counts):
        print("%-24s %3d" % (cls, counts[cls]))
    size = os.path.getsize(OUT_PATH)
    print("%d cases, %d classes, %d tensors, %d bytes -> %s"
          % (len(cases), len(counts), len(header), size, OUT_PATH))
    small = [cls for cls, n in counts.items() if n < 4]
    if small:
        print("classes with fewer than 4 cases:", ", ".join(sorted(small)))
    if size > 1_500_000:
        print("error: file larger than 1.5 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
