"""Convolutions (ConvND, ConvNDTranspose), pooling (Max/AveragePoolingND,
GlobalMax/AveragePoolingND) and UpSamplingND: the Keras 2 (channels-last)
semantics with torch, their cases, and the independent self-checks of
transposed convolution, "same" pooling and bilinear upsampling."""

import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from .common import (activation, add_case, AVG_POOL, Case, CONV, CONV_T, MAX_POOL, same_pads, t64,
                     to_channels_first, to_channels_last, torch_pad_list)


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
