"""SimpleRNN, LSTM and GRU: the Keras 2 recurrences written out step by step,
their cases, and the self-check against torch.nn.RNN/LSTM/GRU and a scalar
per-unit loop."""

import math
from collections import OrderedDict

import numpy as np
import torch

from .common import activation, add_case, Case, t64


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
# Independent self-checks of the trickier semantics (brute force / adjointness)
# --------------------------------------------------------------------------

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
