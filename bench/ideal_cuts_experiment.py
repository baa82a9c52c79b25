#!/usr/bin/env python3
"""How much of the triangle LP's gap do ideal single-neuron cuts close? (issue: compression)

Outside the product, with scipy's HiGHS: for layer-2 neurons of a 2-hidden-layer network of
benchmarks/compression that sampling leaves undecided (the facts file's list) and that the
triangle LP over the exact layer-1 bounds does not prove stable, compare the triangle LP bound on
the side the witnesses suggest with the bound after separating Anderson et al.'s cuts (Strong
mixed-integer programming formulations for trained neural networks, 2020: the ideal formulation of
one ReLU over a box, y <= sum_{i in I} w_i (x_i - L_i (1 - z)) + (b + sum_{i not in I} w_i U_i) z
for every subset I, separated exactly in linear time) for every unstable layer-1 neuron, round after
round until none is violated. Floating point only: this measures the gap, it proves nothing.

usage: bench/ideal_cuts_experiment.py NETWORK [COUNT]   (e.g. digits_fc_2x800_l1_2e-4 4)
"""
import json
import pathlib
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
from scipy.optimize import linprog

root = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "compression"
name, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4
model = onnx.load(root / f"{name}.onnx")
init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
layers = []
for node in (n for n in model.graph.node if n.op_type == "Gemm"):
    w, b = init[node.input[1]], init[node.input[2]]
    trans_b = any(a.name == "transB" and a.i == 1 for a in node.attribute)
    layers.append((w if trans_b else w.T, b))
(W1, b1), (W2, b2) = layers[0], layers[1]
undecided = json.load(open(root / f"{name}.facts.json"))["layers"][1]["undecided_neurons"]

# Layer 1 reads the box [0,1]^n directly: interval bounds are its exact range.
lo, hi = np.minimum(W1, 0).sum(1) + b1, np.maximum(W1, 0).sum(1) + b1
active, unstable = lo >= 0, np.where((lo < 0) & (hi > 0))[0]
n, m = W1.shape[1], len(unstable)
nv = n + 2 * m  # x, then y and z of each unstable layer-1 neuron
bounds = [(0, 1)] * n + [(0, hi[j]) for j in unstable] + [(0, 1)] * m
A0, r0 = [], []
for k, j in enumerate(unstable):  # the triangle: y >= w.x + b, y <= s (w.x + b - l)
    row = np.zeros(nv); row[:n] = W1[j]; row[n + k] = -1; A0.append(row); r0.append(-b1[j])
    s = hi[j] / (hi[j] - lo[j])
    row = np.zeros(nv); row[:n] = -s * W1[j]; row[n + k] = 1; A0.append(row); r0.append(s * (b1[j] - lo[j]))


def solve(neuron, sign, A, r):
    """max (sign = 1) or min (sign = -1) of the layer-2 pre-activation over the LP."""
    c = np.zeros(nv)
    w = W2[neuron]
    c[:n] = w[active] @ W1[active]
    c[n:n + m] = w[unstable]
    const = b2[neuron] + w[active] @ b1[active]
    res = linprog(-sign * c, A_ub=np.array(A), b_ub=np.array(r), bounds=bounds, method="highs")
    return res.x, -res.fun * sign + const


def most_violated_cuts(point):
    x, y, z = point[:n], point[n:n + m], point[n + m:]
    cuts = []
    for k, j in enumerate(unstable):
        w = W1[j]
        L, U = np.where(w >= 0, 0.0, 1.0), np.where(w >= 0, 1.0, 0.0)
        inside, outside = w * (x - L * (1 - z[k])), w * U * z[k]
        chosen = inside < outside
        if y[k] > b1[j] * z[k] + np.where(chosen, inside, outside).sum() + 1e-7:
            a, bb = (w * L)[chosen].sum(), b1[j] + (w * U)[~chosen].sum()
            row = np.zeros(nv); row[:n][chosen] = -w[chosen]; row[n + k] = 1; row[n + m + k] = -(a + bb)
            cuts.append((row, -a))
    return cuts


print(f"{name}: {m} unstable layer-1 neurons, {len(undecided)} layer-2 neurons undecided by sampling")
tried = 0
for neuron in undecided:
    if tried == count:
        break
    (_, upper), (_, lower) = solve(neuron, 1, A0, r0), solve(neuron, -1, A0, r0)
    if upper <= 0 or lower >= 0:
        continue  # the triangle LP proves it stable already
    tried += 1
    sign = 1 if abs(upper) < abs(lower) else -1
    A, r = list(A0), list(r0)
    point, value = solve(neuron, sign, A, r)
    triangle, rounds, start = value, 0, time.time()
    while rounds < 15 and (cuts := most_violated_cuts(point)):
        for row, rhs in cuts:
            A.append(row); r.append(rhs)
        point, value = solve(neuron, sign, A, r)
        rounds += 1
    side = "max" if sign == 1 else "min"
    closed = 1 - value / triangle
    print(f"n{neuron} {side}: triangle {triangle:+.5f}, with cuts {value:+.5f} "
          f"({closed:.0%} of the gap to 0 closed; {rounds} rounds, {len(A) - len(A0)} cuts, {time.time() - start:.1f} s)",
          flush=True)
