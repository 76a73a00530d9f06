"""ConvLSTM1D/2D/3D: the Keras 2 ConvLSTMCell recurrence with torch
convolutions, an independent numpy formulation, their cases, and the
self-check against it and torch.nn.LSTM."""

import itertools
import math
from collections import OrderedDict

import numpy as np
import torch

from .common import activation, add_case, Case, same_pads, t64
from .spatial import keras_conv
from .recurrent import keras_rnn, RNN_ATOL, RNN_RTOL


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
# - Defaults: activation "tanh", recurrent_activation "sigmoid" (Keras 3; Keras 2's was
#   "hard_sigmoid"). hard_sigmoid is Keras 3's relu6(x + 3) / 6 (Keras 2's was
#   clip(0.2 x + 0.5, 0, 1)).
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
          "hard_sigmoid": lambda v: np.minimum(np.maximum(v / 6.0 + 0.5, 0.0), 1.0)}
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
    assert torch.allclose(hs, t64([0.0, 1 / 12, 1 / 3, 0.5, 2 / 3, 11 / 12, 1.0]), rtol=0,
                          atol=1e-15)

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
