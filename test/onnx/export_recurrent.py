"""Small PyTorch sequence models (Embedding, then nn.LSTM/GRU/RNN with
batch_first=True) exported to ONNX (dynamic batch) with their int64 token
inputs and PyTorch's outputs as .npy, so that layerc's import of ONNX's
LSTM, GRU and RNN can be checked against PyTorch itself.

    /usr/bin/python3 test/onnx/export_recurrent.py OUT_DIR [--opset N]

PyTorch exports the time-major operators between a Transpose [1, 0, 2] of
the batch-first input and a Squeeze/Transpose/Gather of the output, with
zero initial states computed from the input's Shape. Also written with
python3-onnx's helper: an LSTM with direction reverse (the backward half of
a PyTorch bidirectional LSTM, checked against that half of its output), and
graphs the importer must refuse (refused_*.onnx, onnx-recurrent.test).
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from export_guide import export

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class Classifier(nn.Module):
    """Embedding(100, 8) -> recurrent (8 -> 16) -> what `pick` says ->
    Linear(16 * directions -> 3); pick "seq" returns the whole sequence."""

    def __init__(self, cell, pick="last", bidirectional=False, layers=1):
        super().__init__()
        self.emb = nn.Embedding(100, 8)
        self.rnn = CELLS[cell](8, 16, batch_first=True, num_layers=layers,
                               bidirectional=bidirectional)
        self.fc = nn.Linear(16 * (2 if bidirectional else 1), 3)
        self.pick = pick

    def forward(self, x):
        out, state = self.rnn(self.emb(x))
        if self.pick == "seq":
            return out
        if self.pick == "hidden":
            h = state[0] if isinstance(state, tuple) else state
            return self.fc(h[-1])
        return self.fc(out[:, -1, :])


MODELS = {
    "lstm_last": lambda: Classifier("lstm"),
    "gru_last": lambda: Classifier("gru"),
    "rnn_last": lambda: Classifier("rnn"),
    "lstm_seq": lambda: Classifier("lstm", pick="seq"),
    "lstm_hidden": lambda: Classifier("lstm", pick="hidden"),
    "gru_stacked": lambda: Classifier("gru", layers=2),
    "bilstm_last": lambda: Classifier("lstm", bidirectional=True),
    "bigru_seq": lambda: Classifier("gru", pick="seq", bidirectional=True),
}


def graph_model(name, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              [numpy_helper.from_array(np.asarray(v), k)
                               for k, v in inits.items()])
    return helper.make_model(graph,
                             opset_imports=[helper.make_opsetid("", 13)])


def reverse_lstm(out):
    """Embedding -> Transpose -> LSTM(direction reverse) -> Squeeze ->
    Transpose, with the backward weights of a PyTorch bidirectional LSTM,
    whose sequence output's second half is the expected output."""
    torch.manual_seed(11)
    emb, rnn = nn.Embedding(100, 8), nn.LSTM(8, 16, batch_first=True,
                                             bidirectional=True)
    x = torch.randint(0, 100, (5, 7))
    with torch.no_grad():
        y = rnn(emb(x))[0][:, :, 16:]

    def iofc(t):  # PyTorch's gates i, f, g, o as ONNX's i, o, f, c
        i, f, g, o = t.detach().numpy().reshape(4, 16, -1)
        return np.concatenate([i, o, f, g]).reshape(64, -1)

    w = iofc(rnn.weight_ih_l0_reverse)[None]
    r = iofc(rnn.weight_hh_l0_reverse)[None]
    b = np.concatenate([iofc(rnn.bias_ih_l0_reverse),
                        iofc(rnn.bias_hh_l0_reverse)]).reshape(1, 128)
    nodes = [
        helper.make_node("Gather", ["table", "x"], ["e"]),
        helper.make_node("Transpose", ["e"], ["t"], perm=[1, 0, 2]),
        helper.make_node("LSTM", ["t", "w", "r", "b"], ["y"],
                         hidden_size=16, direction="reverse"),
        helper.make_node("Squeeze", ["y", "one"], ["s"]),
        helper.make_node("Transpose", ["s"], ["out"], perm=[1, 0, 2]),
    ]
    m = graph_model("reverse", nodes,
                    [helper.make_tensor_value_info("x", TensorProto.INT64,
                                                   ["batch", 7])],
                    [helper.make_tensor_value_info("out", TensorProto.FLOAT,
                                                   ["batch", 7, 16])],
                    {"table": emb.weight.detach().numpy(), "w": w, "r": r,
                     "b": b, "one": np.array([1], np.int64)})
    onnx.save(m, os.path.join(out, "lstm_reverse.onnx"))
    np.save(os.path.join(out, "lstm_reverse_x.npy"), x.numpy())
    np.save(os.path.join(out, "lstm_reverse_y.npy"), y.numpy())
    print(f"lstm_reverse: {tuple(x.shape)} -> {tuple(y.shape)}")


def refused(out):
    """LSTMs the importer must refuse, each for one reason."""
    rng = np.random.default_rng(3)
    weights = {"w": rng.standard_normal((1, 16, 2), np.float32),
               "r": rng.standard_normal((1, 16, 4), np.float32)}
    fx = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 2])
    def lstm(inputs, outputs, **attrs):
        return helper.make_node("LSTM", inputs, outputs, hidden_size=4,
                                **attrs)
    def y(name, shape):
        return [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)]
    transpose = helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0, 2])
    squeeze = helper.make_node("Squeeze", ["h", "zero"], ["out"])
    cases = {
        # X straight from the graph input: its first axis is the batch.
        "time_major_input": ([lstm(["x", "w", "r"], ["", "h"]), squeeze],
                             y("out", [3, 4])),
        "clip": ([transpose, lstm(["t", "w", "r"], ["", "h"], clip=3.0),
                  squeeze], y("out", ["batch", 4])),
        "initial_h": ([transpose, lstm(["t", "w", "r", "", "", "h0"],
                                       ["", "h"]), squeeze],
                      y("out", ["batch", 4])),
        "activations": ([transpose, lstm(["t", "w", "r"], ["", "h"],
                                         activations=["Sigmoid", "Tanh",
                                                      "Relu"]), squeeze],
                        y("out", ["batch", 4])),
        # Y (T, 1, N, H) transposed to (1, T, N, H): the batch third.
        "batch_moved": ([transpose, lstm(["t", "w", "r"], ["yy"]),
                         helper.make_node("Transpose", ["yy"], ["out"],
                                          perm=[1, 0, 2, 3])],
                        y("out", [1, 3, "batch", 4])),
        "time_major_output": ([transpose], y("t", [3, "batch", 2])),
    }
    for name, (nodes, outputs) in cases.items():
        inits = dict(weights, zero=np.array([0], np.int64),
                     h0=np.ones((1, 1, 4), np.float32))
        used = {i for n in nodes for i in n.input}
        m = graph_model(name, nodes, [fx], outputs,
                        {k: v for k, v in inits.items() if k in used})
        onnx.save(m, os.path.join(out, f"refused_{name}.onnx"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, make in MODELS.items():
        torch.manual_seed(11)
        model = make()
        model.eval()
        export(model, torch.randint(0, 100, (5, 7)), args.out, name,
               args.opset)
    reverse_lstm(args.out)
    refused(args.out)


if __name__ == "__main__":
    sys.exit(main())
