#!/usr/bin/env python3
"""Writes tiny hand-made ONNX models that exercise every operator and folding path of the
importer, with onnxruntime reference outputs, to Tests/NetworkFixtures/operators/.

The benchmark networks use few operator variants; these models cover the rest: conv padding,
strides, groups, dilation and auto_pad, normalisation before a padded conv (not foldable),
batch norm, transposes, reshapes, concat, residual Sub, Gemm transposes, constant-left MatMul,
symbolic batch dims, float_data initializers. Also two models with unsupported operators.

Usage: python3 scripts/make_operator_fixtures.py   (needs numpy, onnx, onnxruntime)
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "NetworkFixtures", "operators")
rng = np.random.default_rng(7)


def w(*shape):
    return (rng.integers(-8, 9, size=shape) / 8.0).astype(np.float32)


def init(name, array, raw=True):
    if raw:
        return numpy_helper.from_array(np.asarray(array), name)
    array = np.asarray(array, dtype=np.float32)
    return helper.make_tensor(name, TensorProto.FLOAT, array.shape, array.ravel().tolist(), raw=False)


def model(name, nodes, inits, in_shape, out_shape, opset=13, in_name="x", out_name="y"):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def conv_block():
    """Input normalisation (Sub/Div per channel) before a padded conv: must not fold the shift."""
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["xs"], name="sub_mean"),
        helper.make_node("Div", ["xs", "std"], ["xn"], name="div_std"),
        helper.make_node("Conv", ["xn", "w1", "b1"], ["c1"], name="conv_pad", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn"], name="bn", epsilon=1e-3),
        helper.make_node("Relu", ["bn"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv_group_dil", group=3, dilations=[2, 2], strides=[2, 1],
                         pads=[0, 1, 1, 0]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="conv_same", auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
        helper.make_node("Flatten", ["r3"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    inits = [init("mean", w(1, 2, 1, 1)), init("std", np.array([0.5, 2.0], np.float32).reshape(1, 2, 1, 1)),
             init("w1", w(6, 2, 3, 3)), init("b1", w(6)), init("g", w(6)), init("be", w(6)), init("mu", w(6)),
             init("var", np.abs(w(6)) + 0.25), init("w2", w(6, 2, 2, 2)), init("w3", w(4, 6, 3, 3)), init("b3", w(4))]
    # shapes: x 2x7x6 -> c1 6x7x6 -> c2 (7+1-2-1)/2+1=3, (6+1-2-1)/1+1=5 -> 6x3x5 -> same/2 -> 4x2x3
    inits += [init("wf", w(3, 24)), init("bf", w(3))]
    return model("conv_block", nodes, inits, [1, 2, 7, 6], [1, 3])


def shift_before_unpadded_conv():
    """BatchNorm on the input before an unpadded conv: folds forward into the filters."""
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "be", "mu", "var"], ["bn"], name="bn_in"),
        helper.make_node("Conv", ["bn", "w1", "b1"], ["c1"], name="conv_valid", auto_pad="VALID", strides=[1, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
        helper.make_node("Reshape", ["r1", "shape"], ["flat"], name="reshape"),
        helper.make_node("MatMul", ["flat", "wm"], ["mm"], name="matmul"),
        helper.make_node("Add", ["mm", "bm"], ["y"], name="bias"),
    ]
    inits = [init("g", w(3)), init("be", w(3)), init("mu", w(3)), init("var", np.abs(w(3)) + 0.5),
             init("w1", w(2, 3, 2, 2)), init("b1", w(2)), init("shape", np.array([1, -1], np.int64)),
             init("wm", w(2 * 4 * 2, 5)), init("bm", w(5))]
    return model("shift_before_unpadded_conv", nodes, inits, ["batch", 3, 5, 4], ["batch", 5])


def reindexing():
    """Transpose, Reshape, Squeeze/Unsqueeze, Concat with a constant, Mul, Identity, Dropout."""
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["b1", "m1"], ["a1"], name="add1"),
        helper.make_node("Reshape", ["a1", "s1"], ["r"], name="to_2x3"),
        helper.make_node("Transpose", ["r"], ["t"], name="transpose", perm=[0, 2, 1]),
        helper.make_node("Relu", ["t"], ["rt"], name="relu_t"),
        helper.make_node("Unsqueeze", ["rt", "ax0"], ["u"], name="unsqueeze"),
        helper.make_node("Squeeze", ["u", "ax0"], ["sq"], name="squeeze"),
        helper.make_node("Flatten", ["sq"], ["f"], name="flatten"),
        helper.make_node("Concat", ["f", "cst"], ["cat"], name="concat", axis=1),
        helper.make_node("Mul", ["cat", "scale"], ["ms"], name="mul"),
        helper.make_node("Identity", ["ms"], ["id"], name="identity"),
        helper.make_node("Dropout", ["id"], ["dr"], name="dropout"),
        helper.make_node("Sub", ["cst2", "dr"], ["neg"], name="const_minus_x"),
        helper.make_node("Relu", ["neg"], ["rn"], name="relu_n"),
        helper.make_node("Gemm", ["rn", "w2", "b2"], ["y"], name="gemm", alpha=0.5, beta=2.0),
    ]
    inits = [init("w1", w(4, 6), raw=False), init("b1", w(6), raw=False), init("s1", np.array([1, 2, 3], np.int64)),
             init("ax0", np.array([0], np.int64)), init("cst", w(1, 2)), init("scale", w(1, 8)), init("cst2", w(8)),
             init("w2", w(8, 3)), init("b2", w(3))]
    return model("reindexing", nodes, inits, [1, 4], [1, 3])


def residual():
    """Residual add of two computed tensors, Sub of two computed tensors, Concat of two nodes."""
    nodes = [
        helper.make_node("Gemm", ["x", "w0", "b0"], ["h0"], name="fc0", transB=1),
        helper.make_node("Relu", ["h0"], ["r0"], name="relu0"),
        helper.make_node("Gemm", ["r0", "wa", "ba"], ["ha"], name="fca", transB=1),
        helper.make_node("Gemm", ["r0", "wb", "bb"], ["hb"], name="fcb"),
        helper.make_node("Sub", ["ha", "hb"], ["d"], name="diff"),
        helper.make_node("Relu", ["d"], ["rd"], name="relu_d"),
        helper.make_node("Add", ["rd", "r0"], ["res"], name="residual"),
        helper.make_node("Relu", ["ha"], ["rha"], name="relu_a"),
        helper.make_node("Concat", ["res", "rha"], ["cat"], name="concat2", axis=-1),
        helper.make_node("Gemm", ["cat", "wc", "bc"], ["y"], name="fc_out", transB=1),
    ]
    inits = [init("w0", w(5, 3)), init("b0", w(5)), init("wa", w(5, 5)), init("ba", w(5)), init("wb", w(5, 5)),
             init("bb", w(5)), init("wc", w(2, 10)), init("bc", w(2))]
    return model("residual", nodes, inits, [1, 3], [1, 2])


def column_input():
    """Gemm with transA on a column input, constant-left MatMul, opset 11 Squeeze attributes."""
    nodes = [
        helper.make_node("Gemm", ["x", "wa", "ca"], ["g"], name="gemm_transA", transA=1, alpha=0.5, beta=2.0),
        helper.make_node("Relu", ["g"], ["r"], name="relu"),
        helper.make_node("Transpose", ["r"], ["rt"], name="to_column"),
        helper.make_node("MatMul", ["wl", "rt"], ["m"], name="const_left_matmul"),
        helper.make_node("Squeeze", ["m"], ["y"], name="squeeze", axes=[1]),
    ]
    inits = [init("wa", w(4, 3)), init("ca", w(3)), init("wl", w(2, 3))]
    return model("column_input", nodes, inits, [4, 1], [2], opset=11)


def dense_then_padded_conv():
    """A shift between a dense layer and a padded conv: folds backward into the dense bias."""
    nodes = [
        helper.make_node("Gemm", ["x", "w0", "b0"], ["h"], name="fc0", transB=1),
        helper.make_node("Reshape", ["h", "shape"], ["img"], name="to_image"),
        helper.make_node("Sub", ["img", "shift"], ["shifted"], name="shift"),
        helper.make_node("Conv", ["shifted", "w1", "b1"], ["c"], name="conv_pad", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], name="fc1", transB=1),
    ]
    inits = [init("w0", w(8, 3)), init("b0", w(8)), init("shape", np.array([1, 2, 2, 2], np.int64)),
             init("shift", w(1, 2, 2, 2)), init("w1", w(3, 2, 3, 3)), init("b1", w(3)), init("w2", w(2, 12)),
             init("b2", w(2))]
    return model("dense_then_padded_conv", nodes, inits, [1, 3], [1, 2])


def unsupported(op):
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc", transB=1)]
    if op == "Sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["h"], ["y"], name="the_sigmoid"))
        return model("sigmoid", nodes, [init("w", w(3, 2)), init("b", w(3))], [1, 2], [1, 3])
    nodes = [helper.make_node("MaxPool", ["x"], ["y"], name="the_pool", kernel_shape=[2, 2])]
    return model("maxpool", nodes, [], [1, 1, 4, 4], [1, 1, 3, 3])


def main():
    os.makedirs(OUT, exist_ok=True)
    references = {}
    for m in [conv_block(), shift_before_unpadded_conv(), reindexing(), residual(), column_input(),
              dense_then_padded_conv()]:
        path = os.path.join(OUT, m.graph.name + ".onnx")
        onnx.save(m, path)
        dims = [d.dim_value if d.dim_value > 0 else 1 for d in m.graph.input[0].type.tensor_type.shape.dim]
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        cases = []
        for _ in range(3):
            x = (rng.integers(-16, 17, size=dims) / 16.0).astype(np.float32)
            y = session.run(None, {"x": x})[0]
            cases.append({"input": [float(v) for v in x.ravel()], "output": [float(v) for v in y.ravel()]})
        references[m.graph.name] = cases
        print(f"{path}: {os.path.getsize(path)} bytes")
    for op in ["Sigmoid", "MaxPool"]:
        m = unsupported(op)
        onnx.save(m, os.path.join(OUT, m.graph.name + ".onnx"))
    with open(os.path.join(OUT, "references.json"), "w") as f:
        json.dump(references, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
