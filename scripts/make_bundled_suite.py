#!/usr/bin/env python3
"""Generate NNVerify's bundled verification suite under benchmarks/vnnlib/.

usage: python3 scripts/make_bundled_suite.py [--out DIR]

Everything is built from things inside this script (a hand-made network, scikit-learn's
digits data set, a synthetic regression target) with fixed seeds, so the suite can be
redistributed with the repository and regenerated bit for bit on the same platform.

Writes, relative to the output folder (default benchmarks/vnnlib next to this script's repo):
  onnx/*.onnx                  the networks (opset 13, float32)
  vnnlib/*.vnnlib              the properties (VNNLIB 1.0, VNN-COMP style)
  instances.csv                VNN-COMP list: onnx, vnnlib, timeout (no header)
  results.csv                  ground truth: onnx, vnnlib, timeout, verdict, method, margin
  counterexamples/*.counterexample   VNN-COMP result files for the sat instances
  justifications.txt           how every verdict was established, with the numbers
  networks.txt                 architecture and test accuracy of every network

Ground truth never comes from NNVerify. A verdict is established here by one of:
  counterexample  a concrete input inside the input box (a float32 value, so that float32 and
                  float64 runs see the same point), found by PGD or random sampling, that
                  violates the property with margin > 1e-4 both in onnxruntime (float32) and in
                  a numpy float64 forward pass of the same weights.
  enumeration     exhaustive enumeration of ReLU activation patterns over the input box
                  (depth-first, one HiGHS LP per branch to drop empty patterns) and, for every
                  feasible pattern, an exact LP maximising the violation slack; unsat when the
                  largest slack over all patterns is below -1e-3.  Phase constraints are relaxed
                  by 1e-7 so that the explored polytopes cover the box despite LP tolerances
                  (the slack is then an over-estimate, which is the safe direction).
  hand            a proof by hand (tiny network, see README.md), re-checked numerically.
"""
import argparse
import csv
import os
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
from scipy.optimize import linprog
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OPSET = 13
IR_VERSION = 8
UNSAT_MARGIN = 1e-3      # required gap between the best violation slack and 0 for unsat
SAT_MARGIN = 1e-4        # required violation slack of a counterexample (float32 and float64)
PHASE_TOL = 1e-7         # relaxation of phase constraints in the enumeration LPs
STABLE_TOL = 1e-9        # a neuron counts as stable only beyond this distance from 0


# ----------------------------------------------------------------------------------------------
# Networks as the ground-truth code sees them: a list of dense layers (float64 copies of the
# float32 weights); ReLU after every layer but the last.  Convolutions and normalisation are
# turned into dense layers; the ONNX graph keeps the original operators.

class Net:
    def __init__(self, name, layers, graph_builder, input_shape, description):
        self.name = name
        self.layers = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in layers]
        self.graph_builder = graph_builder
        self.input_shape = input_shape
        self.description = description
        self.session = None

    @property
    def n_in(self):
        return self.layers[0][0].shape[1]

    @property
    def n_out(self):
        return self.layers[-1][0].shape[0]

    def forward(self, x):
        """float64 forward pass on a batch [N, n_in]."""
        h = np.asarray(x, np.float64)
        for i, (W, b) in enumerate(self.layers):
            h = h @ W.T + b
            if i + 1 < len(self.layers):
                h = np.maximum(h, 0.0)
        return h

    def forward_ort(self, x):
        """float32 forward pass with onnxruntime on one input vector."""
        x32 = np.asarray(x, np.float32).reshape(self.input_shape)
        return self.session.run(None, {"input": x32})[0].reshape(-1)

    def grad(self, x, c):
        """Gradient of c . forward(x) with respect to x, batch [N, n_in], c [N, n_out]."""
        h = np.asarray(x, np.float64)
        masks = []
        for i, (W, b) in enumerate(self.layers):
            h = h @ W.T + b
            if i + 1 < len(self.layers):
                masks.append(h > 0)
                h = np.maximum(h, 0.0)
        g = c
        for i in range(len(self.layers) - 1, -1, -1):
            g = g @ self.layers[i][0]
            if i > 0:
                g = g * masks[i - 1]
        return g


def make_session(model_bytes):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def f32(a):
    return np.asarray(a, np.float32)


def build_model(nodes, initializers, input_shape, n_out, name):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, n_out])],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="nnverify-make_bundled_suite")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def gemm_chain(layers, first_input, prefix=""):
    """Gemm(transB=1) + Relu nodes for dense layers; the last Gemm writes 'output'."""
    nodes, inits = [], []
    cur = first_input
    for i, (W, b) in enumerate(layers):
        wn, bn = f"{prefix}W{i}", f"{prefix}b{i}"
        inits += [numpy_helper.from_array(f32(W), wn), numpy_helper.from_array(f32(b), bn)]
        last = i + 1 == len(layers)
        out = "output" if last else f"{prefix}gemm{i}"
        nodes.append(helper.make_node("Gemm", [cur, wn, bn], [out], name=f"{prefix}Gemm_{i}",
                                      transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"{prefix}relu{i}"],
                                          name=f"{prefix}Relu_{i}"))
            cur = f"{prefix}relu{i}"
    return nodes, inits


def mlp_graph(layers, name):
    nodes, inits = gemm_chain(layers, "input")
    return build_model(nodes, inits, [1, layers[0][0].shape[1]], layers[-1][0].shape[0], name)


# ----------------------------------------------------------------------------------------------
# Training (numpy, Adam)

class Adam:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads, b1=0.9, b2=0.999, eps=1e-8):
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            mh = m / (1 - b1 ** self.t)
            vh = v / (1 - b2 ** self.t)
            p -= self.lr * mh / (np.sqrt(vh) + eps)


def init_mlp(rng, sizes):
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params.append(rng.normal(0.0, np.sqrt(2.0 / a), size=(b, a)))
        params.append(np.zeros(b))
    return params


def mlp_forward_train(params, X, first=None):
    """Forward pass keeping activations; `first` optionally replaces the first affine map."""
    acts, pre = [X], []
    h = X
    n = len(params) // 2
    for i in range(n):
        W, b = params[2 * i], params[2 * i + 1]
        z = (first(h) if (i == 0 and first is not None) else h @ W.T) + b
        pre.append(z)
        h = np.maximum(z, 0.0) if i + 1 < n else z
        acts.append(h)
    return acts, pre


def softmax_xent_grad(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    g = p
    g[np.arange(len(y)), y] -= 1.0
    return loss, g / len(y)


def train_mlp(rng, X, y, sizes, epochs, lr=3e-3, batch=64, loss="xent", wd=0.0):
    params = init_mlp(rng, sizes)
    opt = Adam(params, lr)
    n = len(X)
    nl = len(params) // 2
    for _ in range(epochs):
        perm = rng.permutation(n)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            acts, pre = mlp_forward_train(params, X[idx])
            if loss == "xent":
                _, g = softmax_xent_grad(acts[-1], y[idx])
            else:
                g = 2.0 * (acts[-1] - y[idx]) / len(idx)
            grads = [None] * len(params)
            for i in range(nl - 1, -1, -1):
                grads[2 * i] = g.T @ acts[i] + wd * params[2 * i]
                grads[2 * i + 1] = g.sum(axis=0)
                if i > 0:
                    g = (g @ params[2 * i]) * (pre[i - 1] > 0)
            opt.step(grads)
    return [(params[2 * i].astype(np.float32), params[2 * i + 1].astype(np.float32))
            for i in range(nl)]


def accuracy(net, X, y):
    return float((net.forward(X).argmax(axis=1) == y).mean())


# ----------------------------------------------------------------------------------------------
# Convolution helpers: conv (1 input channel, k x k, stride s, padding p) as a dense matrix.

def conv_patches(X, k, s, p, hw):
    """X [N, hw*hw] -> patches [N, P, k*k] (row-major output positions)."""
    N = len(X)
    img = np.zeros((N, hw + 2 * p, hw + 2 * p))
    img[:, p:p + hw, p:p + hw] = X.reshape(N, hw, hw)
    o = (hw + 2 * p - k) // s + 1
    out = np.empty((N, o * o, k * k))
    for i in range(o):
        for j in range(o):
            out[:, i * o + j, :] = img[:, i * s:i * s + k, j * s:j * s + k].reshape(N, -1)
    return out, o


def conv_dense(K, bias, k, s, p, hw):
    """Dense [C*o*o, hw*hw] matrix and bias of the conv, in ONNX NCHW-flatten order."""
    C = K.shape[0]
    eye = np.eye(hw * hw)
    P, o = conv_patches(eye, k, s, p, hw)           # [hw*hw, o*o, k*k]
    Kf = K.reshape(C, k * k).astype(np.float64)
    # response of output (c, pos) to unit input e_i: sum_t K[c,t] * P[i,pos,t]
    M = np.einsum("ipt,ct->cpi", P, Kf).reshape(C * o * o, hw * hw)
    bb = np.repeat(np.asarray(bias, np.float64), o * o)
    return M, bb, o


def train_conv(rng, X, y, C, k, s, p, hw, n_cls, epochs, lr=3e-3, batch=64):
    P_all, o = conv_patches(X, k, s, p, hw)
    K = rng.normal(0.0, np.sqrt(2.0 / (k * k)), size=(C, k * k))
    bc = np.zeros(C)
    W = rng.normal(0.0, np.sqrt(2.0 / (C * o * o)), size=(n_cls, C * o * o))
    b = np.zeros(n_cls)
    params = [K, bc, W, b]
    opt = Adam(params, lr)
    n = len(X)
    for _ in range(epochs):
        perm = rng.permutation(n)
        for st in range(0, n, batch):
            idx = perm[st:st + batch]
            Pb = P_all[idx]                                    # [B, P, t]
            z = np.einsum("bpt,ct->bcp", Pb, K) + bc[None, :, None]   # [B, C, P]
            h = np.maximum(z, 0.0).reshape(len(idx), -1)       # NCHW flatten order
            logits = h @ W.T + b
            _, g = softmax_xent_grad(logits, y[idx])
            gW = g.T @ h
            gb = g.sum(axis=0)
            gh = (g @ W).reshape(z.shape) * (z > 0)
            gK = np.einsum("bcp,bpt->ct", gh, Pb)
            gbc = gh.sum(axis=(0, 2))
            opt.step([gK, gbc, gW, gb])
    return K.reshape(C, 1, k, k).astype(np.float32), bc.astype(np.float32), \
        W.astype(np.float32), b.astype(np.float32), o


# ----------------------------------------------------------------------------------------------
# Properties.  A property is a list of input boxes (a disjunction) and a violation condition in
# DNF: a list of disjuncts, each a list of atoms (op, j, rhs) meaning "Y_j op rhs" where op is
# '<=' or '>=' and rhs is ('Y', k) or a float constant.

def atom_row(atom, n_out):
    """Atom -> (g, h) with the atom equivalent to g . Y <= h."""
    op, j, rhs = atom
    g = np.zeros(n_out)
    h = 0.0
    sign = 1.0 if op == "<=" else -1.0
    g[j] += sign
    if isinstance(rhs, tuple):
        g[rhs[1]] -= sign
    else:
        h = sign * rhs
    return g, h


def slack(net_out, disjunct):
    """Largest t with g.Y + t <= h for every atom (>= 0 means the disjunct holds)."""
    n_out = len(net_out)
    return min(h - g @ net_out for g, h in (atom_row(a, n_out) for a in disjunct))


def violation(out, spec_out):
    return max(slack(out, d) for d in spec_out)


def fmt(v):
    return repr(float(v))


def write_vnnlib(path, comment, n_in, n_out, boxes, disjuncts):
    lines = [f"; {line}" for line in comment.split("\n")] + [""]
    lines += [f"(declare-const X_{i} Real)" for i in range(n_in)] + [""]
    lines += [f"(declare-const Y_{j} Real)" for j in range(n_out)] + [""]
    lines.append("; Input constraints:")
    if len(boxes) == 1:
        lo, hi = boxes[0]
        for i in range(n_in):
            lines.append(f"(assert (<= X_{i} {fmt(hi[i])}))")
            lines.append(f"(assert (>= X_{i} {fmt(lo[i])}))")
    else:
        lines.append("(assert (or")
        for lo, hi in boxes:
            parts = []
            for i in range(n_in):
                parts.append(f"(<= X_{i} {fmt(hi[i])}) (>= X_{i} {fmt(lo[i])})")
            lines.append("    (and " + " ".join(parts) + ")")
        lines.append("))")
    lines += ["", "; Output constraints (violation):"]

    def atom_text(a):
        op, j, rhs = a
        r = f"Y_{rhs[1]}" if isinstance(rhs, tuple) else fmt(rhs)
        return f"({op} Y_{j} {r})"

    if len(disjuncts) == 1:
        for a in disjuncts[0]:
            lines.append(f"(assert {atom_text(a)})")
    else:
        lines.append("(assert (or")
        for d in disjuncts:
            lines.append("    (and " + " ".join(atom_text(a) for a in d) + ")")
        lines.append("))")
    text = "\n".join(lines) + "\n"
    with open(path, "w") as f:
        f.write(text)
    return text


def parse_back_boxes(text, n_in):
    """Re-read the numbers written to the file so the checks use exactly the file's values."""
    import re
    nums = {}
    boxes = []
    cur = None
    for m in re.finditer(r"\((<=|>=) X_(\d+) ([-+0-9.eE]+)\)", text):
        op, i, v = m.group(1), int(m.group(2)), float(m.group(3))
        if cur is None or (i in cur[op]):
            cur = {"<=": {}, ">=": {}}
            boxes.append(cur)
        cur[op][i] = v
    out = []
    for b in boxes:
        lo = np.array([b[">="][i] for i in range(n_in)])
        hi = np.array([b["<="][i] for i in range(n_in)])
        out.append((lo, hi))
    return out


# ----------------------------------------------------------------------------------------------
# Ground truth 1: concrete counterexamples.

def to_box_f32(x, lo, hi):
    """Nearest float32 point inside [lo, hi] (so float32 and float64 runs use the same input)."""
    x = np.clip(np.asarray(x, np.float64), lo, hi)
    x32 = x.astype(np.float32)
    for i in range(len(x32)):
        while float(x32[i]) < lo[i]:
            x32[i] = np.nextafter(x32[i], np.float32(np.inf))
        while float(x32[i]) > hi[i]:
            x32[i] = np.nextafter(x32[i], np.float32(-np.inf))
    return x32.astype(np.float64)


def attack(net, boxes, disjuncts, rng, restarts=64, steps=200):
    """PGD on the violation slack from random starts in every box; returns the best point."""
    best_x, best_v = None, -np.inf
    n_out = net.n_out
    for lo, hi in boxes:
        width = hi - lo
        X = lo + rng.random((restarts, len(lo))) * width
        X[0] = (lo + hi) / 2
        for it in range(steps):
            out = net.forward(X)
            # gradient of the slack of the best disjunct (its binding atom)
            C = np.zeros((len(X), n_out))
            vals = np.full(len(X), -np.inf)
            for d in disjuncts:
                rows = [atom_row(a, n_out) for a in d]
                s = np.stack([h - out @ g for g, h in rows], axis=1)   # [N, atoms]
                k = s.argmin(axis=1)
                sv = s[np.arange(len(X)), k]
                upd = sv > vals
                vals[upd] = sv[upd]
                G = np.stack([-g for g, _ in rows])                     # d slack / d Y
                C[upd] = G[k[upd]]
            i = vals.argmax()
            if vals[i] > best_v:
                best_v, best_x = vals[i], X[i].copy()
            grad = net.grad(X, C)
            step = 0.05 * width * (1.0 - it / steps) + 1e-6
            X = np.clip(X + step * np.sign(grad), lo, hi)
    return best_x, best_v


def check_counterexample(net, x, boxes, disjuncts):
    """Margins of x in float64 numpy and float32 onnxruntime; x must lie in one box."""
    inside = any(np.all(x >= lo) and np.all(x <= hi) for lo, hi in boxes)
    assert inside, "counterexample outside the input region"
    y64 = net.forward(x[None])[0]
    y32 = net.forward_ort(x).astype(np.float64)
    return violation(y64, disjuncts), violation(y32, disjuncts), y64, y32


# ----------------------------------------------------------------------------------------------
# Ground truth 2: enumeration of activation patterns with exact LPs.

def interval_unstable(net, lo, hi):
    """Number of ReLUs whose interval-arithmetic pre-activation bounds straddle 0."""
    l, u = lo.copy(), hi.copy()
    count = 0
    for i, (W, b) in enumerate(net.layers[:-1]):
        Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
        nl = Wp @ l + Wn @ u + b
        nu = Wp @ u + Wn @ l + b
        count += int(np.sum((nl < 0) & (nu > 0)))
        l, u = np.maximum(nl, 0), np.maximum(nu, 0)
    return count


def interval_slack_bound(net, boxes, disjuncts):
    """Upper bound on the violation slack from interval arithmetic (the output constraints
    folded into the last layer); below 0 means interval bounds alone prove the property."""
    best = -np.inf
    for lo, hi in boxes:
        l, u = lo.copy(), hi.copy()
        for W, b in net.layers[:-1]:
            Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
            l, u = np.maximum(Wp @ l + Wn @ u + b, 0), np.maximum(Wp @ u + Wn @ l + b, 0)
        W, b = net.layers[-1]
        for d in disjuncts:
            s = np.inf
            for g, h in (atom_row(a, net.n_out) for a in d):
                gw = g @ W
                low = np.maximum(gw, 0) @ l + np.minimum(gw, 0) @ u + g @ b
                s = min(s, h - low)
            best = max(best, s)
    return best


class Enumerator:
    """Depth-first enumeration of activation patterns over one box, neuron by neuron in layer
    order: once every earlier neuron has a phase the pre-activation is an exact affine function
    of x, whose range over the box settles the neuron when it does not straddle 0; otherwise
    both phases are tried, each kept only if its polytope is non-empty (LP)."""

    def __init__(self, net, lo, hi, disjuncts, stop_at_sat=False):
        self.net, self.lo, self.hi = net, lo, hi
        self.disjuncts = disjuncts
        self.rows = [[atom_row(a, net.n_out) for a in d] for d in disjuncts]
        self.bounds = list(zip(lo, hi))
        self.lp_calls = 0
        self.leaves = 0
        self.branch_neurons = set()
        self.best = -np.inf
        self.best_x = None
        self.stop_at_sat = stop_at_sat

    def feasible(self, A, c):
        self.lp_calls += 1
        if not A:
            return True
        res = linprog(np.zeros(len(self.lo)), A_ub=np.array(A), b_ub=np.array(c),
                      bounds=self.bounds, method="highs")
        if res.status == 0:
            return True
        if res.status == 2:
            return False
        raise RuntimeError(f"LP failed: {res.message}")

    def leaf(self, A, c, M, m):
        """Output is Y = M x + m on this pattern; maximise each disjunct's slack t."""
        self.leaves += 1
        n = len(self.lo)
        for d, rows in enumerate(self.rows):
            # variables (x, t): maximise t s.t. g.(Mx+m) + t <= h, pattern constraints
            Aub = [np.append(g @ M, 1.0) for g, _ in rows]
            bub = [h - g @ m for g, h in rows]
            if A:
                Aub += [np.append(a, 0.0) for a in A]
                bub += list(c)
            obj = np.zeros(n + 1)
            obj[-1] = -1.0
            self.lp_calls += 1
            res = linprog(obj, A_ub=np.array(Aub), b_ub=np.array(bub),
                          bounds=self.bounds + [(None, None)], method="highs")
            if res.status == 2:
                continue
            if res.status != 0:
                raise RuntimeError(f"LP failed: {res.message}")
            t = -res.fun
            if t > self.best:
                self.best, self.best_x = t, res.x[:n].copy()

    def run(self):
        n = len(self.lo)
        self._layer(0, np.eye(n), np.zeros(n), [], [])
        return self

    def _layer(self, li, M, m, A, c):
        if self.stop_at_sat and self.best > 0:
            return
        W, b = self.net.layers[li]
        Z, z = W @ M, W @ m + b           # pre-activations as affine maps of x
        if li + 1 == len(self.net.layers):
            self.leaf(A, c, Z, z)
            return
        self._neuron(li, 0, Z, z, np.zeros(len(z), bool), A, c)

    def _neuron(self, li, k, Z, z, active, A, c):
        if k == len(z):
            D = active.astype(np.float64)
            self._layer(li + 1, Z * D[:, None], z * D, A, c)
            return
        a, a0 = Z[k], z[k]
        zmin = a0 + np.sum(np.minimum(a * self.lo, a * self.hi))
        zmax = a0 + np.sum(np.maximum(a * self.lo, a * self.hi))
        if zmin >= STABLE_TOL:
            active[k] = True
            self._neuron(li, k + 1, Z, z, active, A, c)
            return
        if zmax <= -STABLE_TOL:
            active[k] = False
            self._neuron(li, k + 1, Z, z, active, A, c)
            return
        self.branch_neurons.add((li, k))
        for phase in (True, False):
            if phase:   # a.x + a0 >= -tol  <=>  -a.x <= a0 + tol
                A2, c2 = A + [-a], c + [a0 + PHASE_TOL]
            else:       # a.x + a0 <= tol
                A2, c2 = A + [a], c + [-a0 + PHASE_TOL]
            if self.feasible(A2, c2):
                act = active.copy()
                act[k] = phase
                self._neuron(li, k + 1, Z, z, act, A2, c2)


def enumerate_property(net, boxes, disjuncts, stop_at_sat=False):
    best, best_x, lp, leaves, branched = -np.inf, None, 0, 0, 0
    for lo, hi in boxes:
        e = Enumerator(net, lo, hi, disjuncts, stop_at_sat).run()
        lp += e.lp_calls
        leaves += e.leaves
        branched += len(e.branch_neurons)
        if e.best > best:
            best, best_x = e.best, e.best_x
    return best, best_x, lp, leaves, branched


# ----------------------------------------------------------------------------------------------
# The networks.

def hand_net():
    """Y_0 = relu(x0+x1) + relu(x0-x1) + 0.25,  Y_1 = relu(x0+x1) - relu(x0-x1) - 0.5."""
    layers = [(np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([0.0, 0.0])),
              (np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([0.25, -0.5]))]
    layers = [(f32(W), f32(b)) for W, b in layers]
    return Net("tiny_hand_2x2", layers, lambda: mlp_graph(layers, "tiny_hand_2x2"), [1, 2],
               "2 inputs, one hidden layer of 2 ReLUs, 2 outputs; weights set by hand "
               "(W1 = [[1,1],[1,-1]], b1 = 0, W2 = [[1,1],[1,-1]], b2 = [0.25,-0.5])")


def digits_data():
    d = load_digits()
    X = (d.data / 16.0).astype(np.float64)
    y = d.target.astype(np.int64)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def digits_mlp(name, hidden, Xtr, ytr, Xte, yte, seed, epochs):
    rng = np.random.default_rng(seed)
    layers = train_mlp(rng, Xtr, ytr, [64] + hidden + [10], epochs)
    net = Net(name, layers, lambda: mlp_graph(layers, name), [1, 64], "")
    acc = accuracy(net, Xte, yte)
    net.description = (f"64 inputs (8x8 digit, pixels/16 in [0,1]), hidden "
                       f"{'x'.join(map(str, hidden))} ReLU, 10 outputs; Adam (lr 3e-3, batch 64, "
                       f"{epochs} epochs, seed {seed}) on cross-entropy; test accuracy "
                       f"{acc * 100:.2f}% ({len(yte)} test images)")
    return net, acc


def digits_norm_net(name, hidden, Xtr, ytr, Xte, yte, seed, epochs):
    """Trained on (x - mean) / std; the ONNX graph keeps Sub, Div and Flatten on [1,1,8,8]."""
    rng = np.random.default_rng(seed)
    mean = f32(Xtr.mean(axis=0)).astype(np.float64)
    std = float(np.float32(0.5))      # a power of two: Div is exact in float32 and float64
    layers = train_mlp(rng, (Xtr - mean) / std, ytr, [64] + hidden + [10], epochs)
    W0, b0 = layers[0]
    W0d, b0d = W0.astype(np.float64), b0.astype(np.float64)
    dense = [(W0d / std, b0d - (W0d / std) @ mean)] + [(W, b) for W, b in layers[1:]]

    def graph():
        nodes = [helper.make_node("Sub", ["input", "mean"], ["centered"], name="Sub_0"),
                 helper.make_node("Div", ["centered", "std"], ["scaled"], name="Div_0"),
                 helper.make_node("Flatten", ["scaled"], ["flat"], name="Flatten_0", axis=1)]
        inits = [numpy_helper.from_array(f32(mean).reshape(1, 1, 8, 8), "mean"),
                 numpy_helper.from_array(f32([std]), "std")]
        gn, gi = gemm_chain(layers, "flat")
        return build_model(nodes + gn, inits + gi, [1, 1, 8, 8], 10, name)

    net = Net(name, dense, graph, [1, 1, 8, 8], "")
    acc = accuracy(net, Xte, yte)
    net.description = (f"input [1,1,8,8] (pixels/16); Sub(per-pixel training mean) -> "
                       f"Div(0.5) -> Flatten -> Gemm/Relu {'x'.join(map(str, hidden))} -> 10 "
                       f"outputs; Adam (lr 3e-3, batch 64, {epochs} epochs, seed {seed}); "
                       f"test accuracy {acc * 100:.2f}%")
    return net, acc


def digits_conv_net(name, Xtr, ytr, Xte, yte, seed, epochs, C=4):
    rng = np.random.default_rng(seed)
    k, s, p = 3, 2, 1
    K, bc, W, b, o = train_conv(rng, Xtr, ytr, C, k, s, p, 8, 10, epochs)
    M, mb, _ = conv_dense(K, bc, k, s, p, 8)
    dense = [(M, mb), (W, b)]

    def graph():
        nodes = [helper.make_node("Conv", ["input", "K", "Kb"], ["conv"], name="Conv_0",
                                  kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p]),
                 helper.make_node("Relu", ["conv"], ["relu"], name="Relu_0"),
                 helper.make_node("Flatten", ["relu"], ["flat"], name="Flatten_0", axis=1)]
        inits = [numpy_helper.from_array(K, "K"), numpy_helper.from_array(bc, "Kb")]
        gn, gi = gemm_chain([(W, b)], "flat", prefix="fc_")
        return build_model(nodes + gn, inits + gi, [1, 1, 8, 8], 10, name)

    net = Net(name, dense, graph, [1, 1, 8, 8], "")
    acc = accuracy(net, Xte, yte)
    net.description = (f"input [1,1,8,8] (pixels/16); Conv {C}x3x3 stride 2 pad 1 -> Relu "
                       f"({C}x{o}x{o} = {C * o * o} ReLUs) -> Flatten -> Gemm -> 10 outputs; Adam "
                       f"(lr 3e-3, batch 64, {epochs} epochs, seed {seed}); test accuracy "
                       f"{acc * 100:.2f}%")
    return net, acc


def lowdim_net(name, seed, epochs):
    """ACAS Xu-like: 5 inputs in [-0.5, 0.5], 5 'advisory scores', regression on a fixed
    smooth synthetic target."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(5, 8))
    B = rng.normal(size=(8, 5)) / np.sqrt(8)
    target = lambda X: np.tanh(2.0 * X @ A) @ B + 0.2 * (X ** 2) @ np.ones((5, 5))
    X = rng.random((4000, 5)) - 0.5
    Y = target(X)
    Xv = rng.random((1000, 5)) - 0.5
    Yv = target(Xv)
    layers = train_mlp(rng, X, Y, [5, 12, 12, 12, 5], epochs, lr=3e-3, loss="mse")
    net = Net(name, layers, lambda: mlp_graph(layers, name), [1, 5], "")
    mse = float(np.mean((net.forward(Xv) - Yv) ** 2))
    var = float(np.var(Yv))
    net.description = (f"5 inputs (domain [-0.5,0.5]^5), hidden 12x12x12 ReLU, 5 outputs; "
                       f"regression (MSE, Adam lr 3e-3, batch 64, {epochs} epochs, seed {seed}) "
                       f"on the synthetic target tanh(2 x A) B + 0.2 |x|^2 (A, B Gaussian from "
                       f"the same seed); validation MSE {mse:.4f} (target variance {var:.4f})")
    return net, mse


# ----------------------------------------------------------------------------------------------

def robustness_disjuncts(label, n_out=10):
    return [[(">=", j, ("Y", label))] for j in range(n_out) if j != label]


def linf_box(x, eps):
    return np.maximum(x - eps, 0.0), np.minimum(x + eps, 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "benchmarks", "vnnlib"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    for sub in ("onnx", "vnnlib", "counterexamples"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    t_start = time.time()

    Xtr, Xte, ytr, yte = digits_data()
    nets = {}
    n = hand_net()
    nets[n.name] = n
    for name, hidden, seed, epochs in [("digits_16x16", [16, 16], 1, 60),
                                       ("digits_32x32", [32, 32], 2, 60),
                                       ("digits_24x24x24", [24, 24, 24], 3, 60)]:
        n, _ = digits_mlp(name, hidden, Xtr, ytr, Xte, yte, seed, epochs)
        nets[name] = n
    n, _ = digits_norm_net("digits_norm_16x16", [16, 16], Xtr, ytr, Xte, yte, 4, 60)
    nets[n.name] = n
    n, _ = digits_conv_net("digits_conv4", Xtr, ytr, Xte, yte, 5, 60)
    nets[n.name] = n
    n, _ = lowdim_net("lowdim_5x12x12x12x5", 6, 80)
    nets[n.name] = n

    # export, check, and compare onnxruntime with the float64 dense view of every network
    for name, net in nets.items():
        model = net.graph_builder()
        data = model.SerializeToString()
        with open(os.path.join(out, "onnx", f"{name}.onnx"), "wb") as f:
            f.write(data)
        onnx.checker.check_model(os.path.join(out, "onnx", f"{name}.onnx"), full_check=True)
        net.session = make_session(data)
        rng = np.random.default_rng(0)
        for _ in range(20):
            x = rng.random(net.n_in)
            d = np.max(np.abs(net.forward(x[None])[0] - net.forward_ort(x)))
            assert d < 1e-4, f"{name}: onnxruntime and float64 forward differ by {d}"

    props = build_properties(nets, Xte, yte)
    print(f"{len(props)} properties; deciding them", flush=True)

    instances, results, justif = [], [], []
    for p in props:
        net = nets[p["net"]]
        vpath = os.path.join("vnnlib", f"{p['name']}.vnnlib")
        text = write_vnnlib(os.path.join(out, vpath), p["comment"], net.n_in, net.n_out,
                            p["boxes"], p["disjuncts"])
        boxes = parse_back_boxes(text, net.n_in)
        for (lo, hi), (lo2, hi2) in zip(p["boxes"], boxes):
            assert np.array_equal(lo, lo2) and np.array_equal(hi, hi2)
        t0 = time.time()
        verdict, method, margin, note = decide(net, p, boxes, out)
        dt = time.time() - t0
        if p.get("expect") and p["expect"] != verdict:
            raise AssertionError(f"{p['name']}: expected {p['expect']}, established {verdict}")
        onnx_rel = f"onnx/{p['net']}.onnx"
        instances.append([onnx_rel, vpath, p["timeout"]])
        results.append([onnx_rel, vpath, p["timeout"], verdict, method, f"{margin:.6g}"])
        justif.append(f"{p['name']} ({p['net']}): {verdict} by {method}, margin {margin:.6g}\n"
                      f"  {p['comment'].splitlines()[0]}\n  {note}")
        print(f"  {p['name']:45s} {verdict:5s} {method:14s} margin {margin:.4g}  "
              f"({dt:.1f} s)  {note.splitlines()[0][:90]}", flush=True)

    with open(os.path.join(out, "instances.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(instances)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["onnx", "vnnlib", "timeout", "verdict", "method", "margin"])
        w.writerows(results)
    with open(os.path.join(out, "justifications.txt"), "w") as f:
        f.write("Ground truth of every instance (generated by scripts/make_bundled_suite.py).\n"
                "margin: unsat -> minus the largest violation slack over the input region;\n"
                "        sat   -> the smaller of the float64 and float32 violation slacks of the\n"
                "                 counterexample.\n\n")
        f.write("\n\n".join(justif) + "\n")
    with open(os.path.join(out, "networks.txt"), "w") as f:
        for name, net in nets.items():
            f.write(f"{name}.onnx: {net.description}\n")
    print(f"done in {time.time() - t_start:.1f} s", flush=True)


def decide(net, p, boxes, out):
    """Establish the verdict of one property; returns (verdict, method, margin, note)."""
    dis = p["disjuncts"]
    rng = np.random.default_rng(p["seed"])
    x, v = attack(net, boxes, dis, rng)
    if v > SAT_MARGIN:
        return record_sat(net, p, boxes, x, out, "PGD")
    # No attack success: exhaustive enumeration (exact LP per pattern).
    unstable = [interval_unstable(net, lo, hi) for lo, hi in boxes]
    ibound = interval_slack_bound(net, boxes, dis)
    best, bx, lp, leaves, branched = enumerate_property(net, boxes, dis)
    if best > 0:
        # the enumeration found a violating region: its LP optimum is a counterexample
        return record_sat(net, p, boxes, bx, out, "the enumeration LP optimum")
    assert -best > UNSAT_MARGIN, f"{p['name']}: unsat margin too thin ({-best})"
    method = p.get("method", "enumeration")
    note = (f"no activation pattern admits a violation: {leaves} feasible patterns, {lp} LPs, "
            f"{branched} neurons branched on, interval-unstable neurons "
            f"{'/'.join(map(str, unstable))}; largest violation slack {best:.6g}; "
            f"best PGD slack {v:.6g}; interval arithmetic alone bounds the slack by "
            f"{ibound:.6g} ({'proves' if ibound < 0 else 'does not prove'} it)")
    if method == "hand":
        note = p["proof"] + "\n  numerical re-check: " + note
    return "unsat", method, -best, note


def record_sat(net, p, boxes, x, out, how):
    best = None
    for lo, hi in boxes:
        if np.all(x >= lo - 1e-12) and np.all(x <= hi + 1e-12):
            xb = to_box_f32(x, lo, hi)
            m64, m32, y64, y32 = check_counterexample(net, xb, boxes, p["disjuncts"])
            best = (xb, m64, m32, y64, y32)
            break
    assert best is not None
    xb, m64, m32, y64, y32 = best
    assert m64 > SAT_MARGIN and m32 > SAT_MARGIN, \
        f"{p['name']}: counterexample margin too small ({m64}, {m32})"
    lines = ["sat"]
    entries = [f"(X_{i} {fmt(v)})" for i, v in enumerate(xb)] + \
              [f"(Y_{j} {fmt(v)})" for j, v in enumerate(y64)]
    lines.append("(" + "\n ".join(entries) + ")")
    cpath = os.path.join(out, "counterexamples", f"{p['name']}.counterexample")
    with open(cpath, "w") as f:
        f.write("\n".join(lines) + "\n")
    note = (f"counterexample from {how} (float32 point, in the input box) stored in "
            f"counterexamples/{p['name']}.counterexample; violation slack float64 {m64:.6g}, "
            f"onnxruntime float32 {m32:.6g}")
    return "sat", "counterexample", min(m64, m32), note


def build_properties(nets, Xte, yte):
    props = []

    # --- the hand-made network over [-1, 1]^2 -----------------------------------------------
    box = [(np.array([-1.0, -1.0]), np.array([1.0, 1.0]))]
    props += [
        dict(net="tiny_hand_2x2", name="tiny_hand_y0_ge_2.5", boxes=box, expect="unsat",
             disjuncts=[[(">=", 0, 2.5)]], timeout=30, seed=11, method="hand",
             comment="Y_0 >= 2.5 somewhere on [-1,1]^2? No: Y_0 <= 2.25 (hand proof in README).",
             proof="hand proof: Y_0 - 0.25 = relu(a) + relu(b) with a = x0+x1, b = x0-x1; "
                   "both active: a+b = 2 x0 <= 2; one active: a <= 2 or b <= 2; none: 0. "
                   "So Y_0 <= 2.25 < 2.5 (margin 0.25), although interval arithmetic gives 4.25."),
        dict(net="tiny_hand_2x2", name="tiny_hand_y1_ge_y0", boxes=box, expect="unsat",
             disjuncts=[[(">=", 1, ("Y", 0))]], timeout=30, seed=12, method="hand",
             comment="Y_1 >= Y_0 somewhere on [-1,1]^2? No: Y_0 - Y_1 = 2 relu(x0-x1) + 0.75.",
             proof="hand proof: Y_0 - Y_1 = (relu(a)+relu(b)+0.25) - (relu(a)-relu(b)-0.5) "
                   "= 2 relu(b) + 0.75 >= 0.75 (margin 0.75); separate interval bounds on the "
                   "outputs cannot show it (Y_1 <= 1.5, Y_0 >= 0.25), folding Y_1 - Y_0 into "
                   "the last layer can."),
        dict(net="tiny_hand_2x2", name="tiny_hand_y0_ge_2", boxes=box, expect="sat",
             disjuncts=[[(">=", 0, 2.0), ("<=", 1, 0.0)]], timeout=30, seed=13,
             comment="Y_0 >= 2 and Y_1 <= 0 somewhere on [-1,1]^2? Yes, e.g. x = (1, 0)."),
        dict(net="tiny_hand_2x2", name="tiny_hand_or", boxes=box, expect="sat",
             disjuncts=[[("<=", 0, 0.2)], [(">=", 1, 1.4)]], timeout=30, seed=14,
             comment="Y_0 <= 0.2 or Y_1 >= 1.4 somewhere on [-1,1]^2? Yes: Y_1 = 1.5 at (1, 1)\n"
                     "(Y_0 >= 0.25 everywhere, so only the second disjunct can hold)."),
    ]

    # --- local robustness of the digits networks (L-infinity ball, clipped to [0, 1]) ---------
    robust = [  # (network, test image index, epsilon, expected verdict)
        ("digits_16x16", 2, 0.08, "unsat"), ("digits_16x16", 5, 0.05, "unsat"),
        ("digits_16x16", 3, 0.08, "sat"),
        ("digits_32x32", 1, 0.03, "unsat"), ("digits_32x32", 4, 0.05, "sat"),
        ("digits_24x24x24", 3, 0.03, "unsat"), ("digits_24x24x24", 5, 0.08, "sat"),
        ("digits_norm_16x16", 2, 0.05, "unsat"), ("digits_norm_16x16", 3, 0.1, "sat"),
        ("digits_conv4", 1, 0.1, "unsat"), ("digits_conv4", 4, 0.1, "sat"),
    ]
    for k, (name, img, eps, expect) in enumerate(robust):
        net = nets[name]
        x = Xte[img]
        label = int(yte[img])
        pred = int(net.forward(x[None])[0].argmax())
        assert pred == label, f"{name} misclassifies test image {img}"
        props.append(dict(
            net=name, name=f"{name}_img{img}_eps{eps}", boxes=[linf_box(x, eps)],
            disjuncts=robustness_disjuncts(label), expect=expect, timeout=60, seed=100 + k,
            comment=f"Local robustness of {name}: test image {img} of the digits split "
                    f"(label {label}), L-inf eps {eps} clipped to [0,1].\n"
                    f"Violation: some other class scores at least as high as class {label}."))

    # --- output properties of the low-dimensional network ------------------------------------
    b1 = (np.array([0.3, -0.1, -0.1, -0.1, -0.1]), np.array([0.5, 0.1, 0.1, 0.1, 0.1]))
    b2 = (np.array([-0.5, -0.5, -0.2, 0.3, 0.3]), np.array([-0.3, -0.3, 0.0, 0.5, 0.5]))
    y0_min = [[("<=", 0, ("Y", j)) for j in range(1, 5)]]
    ld = "lowdim_5x12x12x12x5"
    props += [
        dict(net=ld, name="lowdim_b1_y0_ge_1.2", boxes=[b1], disjuncts=[[(">=", 0, 1.2)]],
             expect="unsat", timeout=60, seed=201,
             comment="Output bound (ACAS Xu property 1 style) on box B1 = x0 in [0.3,0.5], "
                     "x1..x4 in [-0.1,0.1]:\nviolation Y_0 >= 1.2 (the true maximum is about "
                     "1.154)."),
        dict(net=ld, name="lowdim_b1_y0_ge_1.1", boxes=[b1], disjuncts=[[(">=", 0, 1.1)]],
             expect="sat", timeout=60, seed=202,
             comment="Output bound on box B1: violation Y_0 >= 1.1 (the true maximum is about "
                     "1.154)."),
        dict(net=ld, name="lowdim_b1_y0_minimal", boxes=[b1], disjuncts=y0_min,
             expect="unsat", timeout=60, seed=203,
             comment="ACAS Xu property 3 style on box B1: violation Y_0 is minimal "
                     "(Y_0 <= Y_1, ..., Y_0 <= Y_4)."),
        dict(net=ld, name="lowdim_b2_y0_minimal", boxes=[b2], disjuncts=y0_min,
             expect="sat", timeout=60, seed=204,
             comment="ACAS Xu property 3 style on box B2 = x0,x1 in [-0.5,-0.3], x2 in "
                     "[-0.2,0], x3,x4 in [0.3,0.5]:\nviolation Y_0 is minimal (Y_0 <= Y_1, ..., "
                     "Y_0 <= Y_4); true on a small corner only."),
        dict(net=ld, name="lowdim_b1_or_b2_y2_ge_0.6", boxes=[b1, b2],
             disjuncts=[[(">=", 2, 0.6)]], expect="unsat", timeout=60, seed=205,
             comment="Input disjunction (ACAS Xu property 6 style): x in B1 or x in B2; "
                     "violation Y_2 >= 0.6\n(maxima about 0.534 on B1 and -0.035 on B2)."),
    ]
    return props


if __name__ == "__main__":
    main()
