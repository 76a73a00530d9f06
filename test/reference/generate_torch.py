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
    """Register one case. `config` gets "name" (the case name) prepended."""
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
    exp = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    exp = np.asarray(exp, dtype=np.float64)
    if not np.all(np.isfinite(exp)):
        raise ValueError("non-finite expected output in %r" % name)
    TENSORS.append(("%s/expected" % name, exp.astype(np.float32)))


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

def activation_case(name, in_shape, act):
    c = Case(name)
    x = c.input(in_shape)
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
        expected = ["%s/input.%d" % (c, i) for i in range(n_in)]
        expected += ["%s/weight.%d" % (c, i) for i in range(n_w)]
        expected += ["%s/expected" % c]
        assert n_in >= 1 and sorted(names) == sorted(expected), (c, names)
        batch = arrays[c + "/input.0"].shape[0]
        for k in expected:
            assert np.all(np.isfinite(arrays[k])), k
        for i in range(n_in):
            assert arrays["%s/input.%d" % (c, i)].shape[0] == batch, c
        assert arrays[c + "/expected"].shape[0] == batch, c
        assert header[c + "/expected"]["dtype"] == "F32"
        used.update(expected)
    assert used == set(header), "tensors not belonging to any case"
    return cases, header


def main():
    self_check()
    gen_conv()
    gen_conv_transpose()
    gen_pool()
    gen_global_pool()
    gen_upsampling()
    gen_batchnorm_embedding_dense()
    gen_merging()
    gen_misc()

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
