"""merges_model.py OUT.onnx: an ONNX model with the ops the guide's models
lack, for the Halide backend's test: batch norm (not after a convolution,
so it stays an op of its own), subtract, multiply, maximum, mean of three,
a concatenation along the channels, then a convolution. Random weights from
a fixed seed; needs Debian's python3-onnx."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(5)


def init(name, *shape, low=-1.0, high=1.0):
    return numpy_helper.from_array(
        rng.uniform(low, high, shape).astype(np.float32), name)


nodes = [
    helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["bn"],
                     epsilon=1e-3),
    helper.make_node("Relu", ["x"], ["r"]),
    helper.make_node("Sub", ["bn", "r"], ["s"]),
    helper.make_node("Mul", ["bn", "r"], ["p"]),
    helper.make_node("Max", ["bn", "r"], ["mx"]),
    helper.make_node("Mean", ["bn", "r", "x"], ["mean"]),
    helper.make_node("Concat", ["s", "p", "mx", "mean"], ["cat"], axis=1),
    helper.make_node("Conv", ["cat", "w", "bias"], ["y"]),
]
inits = [init("g", 4, low=0.5, high=1.5), init("b", 4),
         init("m", 4), init("v", 4, low=0.5, high=1.5),
         init("w", 8, 16, 3, 3), init("bias", 8)]
graph = helper.make_graph(
    nodes, "merges",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6, 6])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8, 4, 4])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.save(model, sys.argv[1])
