#!/usr/bin/env python3
"""Check that a compressed ONNX network computes the same function as the original on a box.

    python3 scripts/check_compressed.py ORIGINAL.onnx COMPRESSED.onnx \\
        [--samples 10000] [--vertices 1000] [--low 0 --high 1] [--seed 0] [--rtol 1e-6] \\
        [--test-npz benchmarks/compression/digits_test.npz]

Inputs: --samples seeded uniform random points of the box [low,high]^n (float32), --vertices
random vertices of the box, the two corners, and (with --test-npz) the test inputs.

Both networks are evaluated
  * in float64 with numpy, directly from the ONNX initializers (supported ops: Gemm, MatMul, Add,
    Sub, Mul, Relu, Flatten, Reshape, Identity, Constant). This evaluation decides: the check fails
    if max |y_comp - y_orig| / max(|y_orig|, 1) over all inputs and outputs exceeds --rtol (1e-6).
  * in float32 with onnxruntime (reported alongside; a float32 runtime reorders sums, so its
    differences are only informative). If the float64 evaluator does not know an op of either
    network, it says so and the onnxruntime float32 difference decides instead.

With --test-npz (arrays `inputs` [N,n] and `labels` [N]) it also reports the accuracy (argmax of
the outputs) of both networks, and fails if any prediction changes (in float64, or in
onnxruntime).

Exit status: 0 = equivalent within tolerance, 1 = a check failed, 2 = could not run.
"""

import argparse
import sys

import numpy as np


class Unsupported(Exception):
    pass


# --------------------------------------------------------------------------- float64 evaluator


def _attrs(node):
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class F64Net:
    """A float64 evaluator for simple feed-forward ONNX graphs; the batch is the leading axis."""

    OPS = {"Gemm", "MatMul", "Add", "Sub", "Mul", "Relu", "Flatten", "Reshape", "Identity",
           "Constant", "Dropout"}

    def __init__(self, model):
        from onnx import numpy_helper

        g = model.graph
        self.consts = {}
        for init in g.initializer:
            a = numpy_helper.to_array(init)
            self.consts[init.name] = a.astype(np.float64) if a.dtype.kind == "f" else a
        unknown = sorted({n.op_type for n in g.node if n.op_type not in self.OPS})
        if unknown:
            raise Unsupported("unsupported op(s) for the float64 evaluator: " + ", ".join(unknown))
        self.nodes = list(g.node)
        inputs = [i for i in g.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise Unsupported(f"expected one graph input, found {len(inputs)}")
        self.input_name = inputs[0].name
        self.output_names = [o.name for o in g.output]

    def __call__(self, X):
        env = dict(self.consts)
        env[self.input_name] = np.asarray(X, dtype=np.float64)
        N = X.shape[0]
        for node in self.nodes:
            op, a = node.op_type, _attrs(node)
            ins = [env[i] if i else None for i in node.input]
            if op == "Gemm":
                A, B = ins[0], ins[1]
                C = ins[2] if len(ins) > 2 and ins[2] is not None else 0.0
                if a.get("transA", 0):
                    raise Unsupported("Gemm with transA=1 on the data path")
                if a.get("transB", 0):
                    B = B.T
                y = a.get("alpha", 1.0) * (A @ B) + a.get("beta", 1.0) * C
            elif op == "MatMul":
                y = ins[0] @ ins[1]
            elif op == "Add":
                y = ins[0] + ins[1]
            elif op == "Sub":
                y = ins[0] - ins[1]
            elif op == "Mul":
                y = ins[0] * ins[1]
            elif op == "Relu":
                y = np.maximum(ins[0], 0.0)
            elif op in ("Identity", "Dropout"):
                y = ins[0]
            elif op == "Constant":
                from onnx import numpy_helper

                if "value" not in a:
                    raise Unsupported("Constant without a tensor `value`")
                y = numpy_helper.to_array(a["value"])
                y = y.astype(np.float64) if y.dtype.kind == "f" else y
            elif op == "Flatten":
                if a.get("axis", 1) != 1:
                    raise Unsupported("Flatten with axis != 1")
                y = ins[0].reshape(ins[0].shape[0], -1)
            elif op == "Reshape":
                shape = [int(s) for s in np.asarray(ins[1]).ravel()]
                if not shape or shape[0] not in (1, 0, -1):
                    raise Unsupported(f"Reshape to {shape}: cannot keep the batch axis")
                rest = [ins[0].shape[i + 1] if s == 0 else s for i, s in enumerate(shape[1:])]
                y = ins[0].reshape([N] + rest)
            else:  # pragma: no cover (filtered in __init__)
                raise Unsupported(op)
            for o in node.output[:1]:
                env[o] = y
        return env[self.output_names[0]]


# --------------------------------------------------------------------------- onnxruntime


class OrtNet:
    def __init__(self, path):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        self.sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        inp = self.sess.get_inputs()[0]
        self.name, self.shape = inp.name, inp.shape
        self.fixed_batch = isinstance(self.shape[0], int)

    def __call__(self, X):
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not self.fixed_batch:
            return self.sess.run(None, {self.name: X})[0].astype(np.float64)
        b = self.shape[0]
        out = [self.sess.run(None, {self.name: X[i:i + b]})[0] for i in range(0, X.shape[0], b)]
        return np.concatenate(out).astype(np.float64)


def input_shape(model):
    inits = {i.name for i in model.graph.initializer}
    inp = [i for i in model.graph.input if i.name not in inits][0]
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inp.type.tensor_type.shape.dim]
    return dims


def diffs(y_orig, y_comp):
    y_orig = y_orig.reshape(y_orig.shape[0], -1)
    y_comp = y_comp.reshape(y_comp.shape[0], -1)
    if y_orig.shape != y_comp.shape:
        raise ValueError(f"output shapes differ: {y_orig.shape} vs {y_comp.shape}")
    ad = np.abs(y_comp - y_orig)
    rd = ad / np.maximum(np.abs(y_orig), 1.0)
    i = np.unravel_index(np.argmax(rd), rd.shape)
    return float(ad.max()), float(rd.max()), int(i[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("original")
    ap.add_argument("compressed")
    ap.add_argument("--samples", type=int, default=10000, help="uniform random points (10000)")
    ap.add_argument("--vertices", type=int, default=1000, help="random box vertices (1000)")
    ap.add_argument("--low", type=float, default=0.0)
    ap.add_argument("--high", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rtol", type=float, default=1e-6,
                    help="max relative difference |dy|/max(|y|,1) allowed (1e-6)")
    ap.add_argument("--test-npz", help="npz with `inputs` and `labels`: accuracy before/after")
    args = ap.parse_args()

    import onnx

    try:
        m_orig, m_comp = onnx.load(args.original), onnx.load(args.compressed)
    except Exception as e:  # noqa: BLE001
        print(f"error: cannot load: {e}", file=sys.stderr)
        return 2
    shp_o, shp_c = input_shape(m_orig), input_shape(m_comp)
    if shp_o[1:] != shp_c[1:]:
        print(f"error: input shapes differ: {shp_o} vs {shp_c}", file=sys.stderr)
        return 2
    sample_shape = shp_o[1:]
    if any(d is None for d in sample_shape):
        print(f"error: input shape {shp_o} has symbolic non-batch dims", file=sys.stderr)
        return 2
    n = int(np.prod(sample_shape))

    try:
        ort_o, ort_c = OrtNet(args.original), OrtNet(args.compressed)
    except Exception as e:  # noqa: BLE001
        print(f"error: onnxruntime cannot load a network: {e}", file=sys.stderr)
        return 2

    f64 = None
    try:
        f64 = (F64Net(m_orig), F64Net(m_comp))
    except Unsupported as e:
        print(f"note: {e}; falling back to onnxruntime float32 for the criterion")

    lo, hi = np.float32(args.low), np.float32(args.high)
    rng = np.random.default_rng(args.seed)
    parts = [("uniform", rng.uniform(lo, hi, size=(args.samples, n)).astype(np.float32)),
             ("vertices", np.concatenate([
                 np.full((1, n), lo, np.float32), np.full((1, n), hi, np.float32),
                 np.where(rng.random((args.vertices, n)) < 0.5, lo, hi).astype(np.float32)]))]
    test = None
    if args.test_npz:
        d = np.load(args.test_npz)
        if "inputs" not in d.files or "labels" not in d.files:
            print(f"error: {args.test_npz} needs arrays `inputs` and `labels` (has {d.files})",
                  file=sys.stderr)
            return 2
        tx = d["inputs"].astype(np.float32).reshape(len(d["inputs"]), -1)
        if tx.shape[1] != n:
            print(f"error: {args.test_npz} has {tx.shape[1]} inputs per row, networks take {n}",
                  file=sys.stderr)
            return 2
        outside = int(((tx < lo) | (tx > hi)).any(axis=1).sum())
        if outside:
            print(f"note: {outside} test inputs lie outside the box [{lo},{hi}]^{n}; they are used "
                  "for accuracy only, not for the equivalence check")
        test = (tx, d["labels"].astype(np.int64).ravel())
        parts.append(("test (in box)", tx[~((tx < lo) | (tx > hi)).any(axis=1)]))

    X = np.concatenate([p for _, p in parts])
    Xs = X.reshape([X.shape[0]] + sample_shape)
    print(f"original:   {args.original}")
    print(f"compressed: {args.compressed}")
    print(f"inputs: {X.shape[0]} points of [{args.low},{args.high}]^{n} ("
          + ", ".join(f"{len(p)} {k}" for k, p in parts) + f"), seed {args.seed}")

    failed = False
    yo_ort, yc_ort = ort_o(Xs), ort_c(Xs)
    a32, r32, i32 = diffs(yo_ort, yc_ort)
    if f64 is not None:
        yo64, yc64 = f64[0](Xs), f64[1](Xs)
        a64, r64, i64 = diffs(yo64, yc64)
        # sanity: the float64 evaluator agrees with onnxruntime on each network
        _, so, _ = diffs(yo64, yo_ort)
        _, sc, _ = diffs(yc64, yc_ort)
        print(f"float64 (numpy):        max abs diff {a64:.3e}, max rel diff {r64:.3e}  "
              f"(criterion, rtol {args.rtol:g})")
        print(f"float32 (onnxruntime):  max abs diff {a32:.3e}, max rel diff {r32:.3e}  "
              f"(informative)")
        print(f"onnxruntime vs float64: original {so:.3e}, compressed {sc:.3e} (max rel)")
        if max(so, sc) > 1e-3:
            print("WARNING: onnxruntime and the float64 evaluator disagree: the float64 evaluator "
                  "may not model this graph; check by hand")
            failed = True
        crit = r64
    else:
        print(f"float32 (onnxruntime):  max abs diff {a32:.3e}, max rel diff {r32:.3e}  "
              f"(criterion, rtol {args.rtol:g}; float32 reordering may exceed a tight rtol)")
        crit = r32
    if not crit <= args.rtol:
        print(f"FAIL: max relative difference {crit:.3e} > {args.rtol:g}")
        failed = True

    if test is not None:
        tx, ty = test
        txs = tx.reshape([tx.shape[0]] + sample_shape)
        po, pc = ort_o(txs).argmax(axis=1), ort_c(txs).argmax(axis=1)
        line = (f"accuracy on {len(ty)} test inputs (onnxruntime): original "
                f"{100 * np.mean(po == ty):.2f}%, compressed {100 * np.mean(pc == ty):.2f}%, "
                f"{int(np.sum(po != pc))} predictions changed")
        print(line)
        if np.any(po != pc):
            failed = True
            print("FAIL: onnxruntime predictions changed on inputs", np.nonzero(po != pc)[0][:20])
        if f64 is not None:
            qo, qc = f64[0](txs).argmax(axis=1), f64[1](txs).argmax(axis=1)
            print(f"accuracy on {len(ty)} test inputs (float64):     original "
                  f"{100 * np.mean(qo == ty):.2f}%, compressed {100 * np.mean(qc == ty):.2f}%, "
                  f"{int(np.sum(qo != qc))} predictions changed")
            if np.any(qo != qc):
                failed = True
                print("FAIL: float64 predictions changed on inputs", np.nonzero(qo != qc)[0][:20])

    print("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
