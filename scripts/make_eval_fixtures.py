#!/usr/bin/env python3
"""Writes Tests/NetworkFixtures/eval_fixtures.json: onnxruntime outputs for seeded inputs.

For every benchmark network in ../shared/benchmarks/*/onnx (only the first few ACAS Xu nets, which
all share one architecture) and ../shared/compression/*.onnx, a few seeded random inputs are run
through onnxruntime (float32, CPU). The Swift tests load the same files with the ONNX importer and
compare. Inputs lie on a 1/16 grid so the JSON stays short and every value is exact in float32;
networks with the same input shape share their inputs.

Usage: python3 scripts/make_eval_fixtures.py   (needs numpy, onnx, onnxruntime)
"""
import glob
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
OUT = os.path.join(REPO, "Tests", "NetworkFixtures", "eval_fixtures.json")
SAMPLES = 3
ACASXU_COUNT = 5
SEED = 20261124


def network_files():
    files = []
    for family in sorted(glob.glob(os.path.join(SHARED, "benchmarks", "*"))):
        nets = sorted(glob.glob(os.path.join(family, "onnx", "*.onnx")))
        if os.path.basename(family) == "acasxu":
            nets = nets[:ACASXU_COUNT]
        files.extend(nets)
    files.extend(sorted(glob.glob(os.path.join(SHARED, "compression", "*.onnx"))))
    return files


def input_info(model):
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    assert len(inputs) == 1, "expected one real input"
    dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
            for d in inputs[0].type.tensor_type.shape.dim]
    return inputs[0].name, dims


def shortest(x):
    """The shortest decimal that reads back as the same float32."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def main():
    if not os.path.isdir(SHARED):
        sys.exit(f"shared folder not found: {SHARED}")
    rng = np.random.default_rng(SEED)
    input_sets = {}
    networks = {}
    for path in network_files():
        model = onnx.load(path)
        name, dims = input_info(model)
        key = "x".join(str(d) for d in dims)
        if key not in input_sets:
            size = int(np.prod(dims))
            # [-1, 1] on a 1/16 grid: covers both ACAS Xu's normalised inputs and image ranges.
            grid = rng.integers(-16, 17, size=(SAMPLES, size)) / 16.0
            input_sets[key] = grid.astype(np.float32)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        outputs = []
        for x in input_sets[key]:
            y = session.run(None, {name: x.reshape(dims)})[0]
            outputs.append([shortest(v) for v in np.asarray(y, dtype=np.float32).ravel()])
        rel = os.path.relpath(path, SHARED)
        networks[rel] = {"inputShape": dims, "inputs": key, "outputs": outputs}
        print(f"{rel}: input {dims}, output {len(outputs[0])} values")
    fixture = {
        "generator": "scripts/make_eval_fixtures.py",
        "onnxruntime": ort.__version__,
        "seed": SEED,
        "inputSets": {k: [[float(v) for v in row] for row in rows] for k, rows in input_sets.items()},
        "networks": networks,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(networks)} networks)")


if __name__ == "__main__":
    main()
