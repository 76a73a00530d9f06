"""Writes malformed and hostile ONNX files, one per way an importer can be
abused, into OUT_DIR (onnx-errors.test expects each to be refused with an
error that names the problem). Needs Debian's python3-onnx.

    /usr/bin/python3 test/onnx/bad_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "bad", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def raw_tensor(name, dims, values):
    """A float tensor whose values need not fill its shape."""
    t = TensorProto(name=name, data_type=TensorProto.FLOAT)
    t.dims.extend(dims)
    t.float_data.extend(values)
    return t


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x = vi("x", ["N", 4])
    y = vi("y", ["N", 4])
    w = numpy_helper.from_array(np.ones((8, 3, 3, 3), np.float32), "w")
    cases = {
        "unsupported_op": model(
            [helper.make_node("Erf", ["x"], ["y"], name="erf1")], [x], [y]),
        "unknown_attr": model(
            [helper.make_node("Relu", ["x"], ["y"], name="r", slope=2.0)],
            [x], [y]),
        "cycle": model(
            [helper.make_node("Relu", ["t"], ["y"], name="a"),
             helper.make_node("Relu", ["y"], ["t"], name="b")], [x], [y]),
        "missing_initializer": model(
            [helper.make_node("Conv", ["img", "nowhere"], ["y"], name="c")],
            [vi("img", ["N", 3, 8, 8])], [y]),
        "wrong_channels": model(
            [helper.make_node("Conv", ["img", "w"], ["y"], name="c")],
            [vi("img", ["N", 5, 8, 8])], [y], [w]),
        "opset_too_old": model(
            [helper.make_node("Relu", ["x"], ["y"])], [x], [y], opset=5),
        "no_shape": model(
            [helper.make_node("Relu", ["x"], ["y"])],
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)], [y]),
        "huge_input": model(
            [helper.make_node("Relu", ["x"], ["y"])],
            [vi("x", ["N", 1 << 20, 1 << 20])], [y]),
        "unused_output": model(
            [helper.make_node("Relu", ["x"], ["z"])], [x], [y]),
        "batch_reshape": model(
            [helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], [x], [y],
            [numpy_helper.from_array(np.array([2, -1], np.int64), "s")]),
        "unsqueeze_twice": model(
            [helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="u")],
            [x], [y],
            [numpy_helper.from_array(np.array([1, 1], np.int64), "axes")]),
        "transpose_scalar": model(
            [helper.make_node("Constant", [], ["c"], value_float=1.0),
             helper.make_node("Transpose", ["c"], ["t"], name="tr"),
             helper.make_node("Add", ["x", "t"], ["y"])], [x], [y]),
        "reshape_scalar": model(
            [helper.make_node("Constant", [], ["c"], value_float=1.0),
             helper.make_node("Constant", [], ["s"], value_ints=[5]),
             helper.make_node("Reshape", ["c", "s"], ["r"], name="rs"),
             helper.make_node("Add", ["x", "r"], ["y"])], [x], [y]),
        "huge_pad": model(
            [helper.make_node("Pad", ["img", "pads"], ["y"], name="p")],
            [vi("img", ["N", 3, 8, 8])], [y],
            [numpy_helper.from_array(
                np.array([0, 0, 2000000000, 0, 0, 0, 0, 0], np.int64),
                "pads")]),
        "huge_resize": model(
            [helper.make_node("Resize", ["img", "", "scales"], ["y"],
                              name="rz")],
            [vi("img", ["N", 3, 8, 8])], [y],
            [numpy_helper.from_array(
                np.array([1, 1, 1e30, 1], np.float32), "scales")]),
        "huge_dilation": model(
            [helper.make_node("Conv", ["img", "w"], ["y"], name="c",
                              dilations=[1 << 62, 1])],
            [vi("img", ["N", 3, 8, 8])], [y], [w]),
        "constant_rank": model(
            [helper.make_node("Add", ["x", "c"], ["y"], name="a")], [x], [y],
            [numpy_helper.from_array(np.ones((1, 1, 1), np.float32), "c")]),
    }
    # An initializer whose shape claims a terabyte but holds 4 bytes.
    big = raw_tensor("w", [1 << 20, 1 << 20], [1.0])
    cases["huge_initializer"] = model(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [y],
        [big])
    short = raw_tensor("w", [4, 4], [1.0, 2.0])
    cases["short_initializer"] = model(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [y],
        [short])
    ext = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    ext.external_data.add(key="location", value="/etc/passwd")
    cases["external_data"] = model(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [y],
        [ext])
    for name, m in cases.items():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())
    good = cases["unsupported_op"].SerializeToString()
    with open(os.path.join(out, "truncated.onnx"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(os.path.join(out, "not_onnx.onnx"), "wb") as f:
        f.write(b"\xff\xff\xff\xff not a protobuf")


if __name__ == "__main__":
    main()
