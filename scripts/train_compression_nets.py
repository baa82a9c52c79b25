#!/usr/bin/env python3
"""Train the compression benchmark networks (issue 5) and write their stability facts.

Fully-connected ReLU classifiers in the style of Serra, Yu, Kumar, Ramalingam, "Scaling Up Exact
Neural Network Compression by ReLU Stability" (NeurIPS 2021), trained on scikit-learn's digits
data set (shipped with scikit-learn; nothing is downloaded):

  * inputs: the 8x8 images flattened row-major (index = row*8 + col), scaled to [0,1] by /16;
  * split: sklearn.model_selection.train_test_split(test_size=360, random_state=0, stratify=y)
    -> 1437 training / 360 test images;
  * hidden layers 2x100, 3x100, 5x100, 2x800, L1 in {0, 5e-5, 1e-4, 2e-4};
  * loss per minibatch = mean cross-entropy over the batch + l1 * sum_k sum_ij |W_k[i,j]|,
    the sum running over the weight matrices of ALL Linear layers (hidden and output), biases not
    included;
  * Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), minibatch 64,
    He-uniform initialisation, trained in float64 with numpy, exported as float32 (a network that
    collapses to a constant function is retried with the seed of "<name>#1", recorded in the ONNX
    metadata; none did with the settings below).

Everything is seeded: each network's seed depends only on its name, so any subset can be
regenerated alone (--only) and gives the same bytes.  Bit-identical output is expected for the same
numpy/BLAS build and machine; a different BLAS may round differently.

Outputs (default directory benchmarks/compression/):
  digits_fc_<arch>_l1_<l1>.onnx       opset 13, IR 8, Gemm(transB=1)+Relu chain, input `input`
                                      float32 [1,64], output `output` float32 [1,10] logits
  digits_fc_<arch>_l1_<l1>.facts.json per hidden layer: interval-certified stable neurons over the
                                      box [0,1]^64, neurons witnessed unstable by sampling/attack
  digits_fc_<arch>_l1_<l1>.witnesses.npz  the witness inputs for those unstable neurons
  digits_test.npz                     the 360 test images (float32 in [0,1]) and labels
  networks.csv, README.md

Usage:  python3 scripts/train_compression_nets.py [--out DIR] [--only NAME ...] [--tables-only]
"""

import argparse
import csv
import hashlib
import json
import os
import sys
import time

# one BLAS thread: faster for these small matrices on a shared machine, and the rounding does not
# depend on the core count (set before numpy is imported)
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

ARCHS = {"2x100": [100, 100], "3x100": [100, 100, 100], "5x100": [100] * 5, "2x800": [800, 800]}
L1S = [("0", 0.0), ("5e-5", 5e-5), ("1e-4", 1e-4), ("2e-4", 2e-4)]
EPOCHS = {"2x100": 150, "3x100": 150, "5x100": 150, "2x800": 40}
BATCH = 64
LR = 1e-3
N_INPUT, N_CLASSES = 64, 10
BOX = (0.0, 1.0)

# sampling budget for the stability facts
N_UNIFORM = 5000
N_VERTICES = 2000
ATTACK_STARTS = 3
ATTACK_ITERS = 40


def seed_of(name):
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def net_name(arch, l1_tag):
    return f"digits_fc_{arch}_l1_{l1_tag}"


# --------------------------------------------------------------------------- data


def load_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)  # exact in float32 (k/16)
    y = d.target.astype(np.int64)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=360, random_state=0, stratify=y)
    return Xtr, ytr, Xte, yte


# --------------------------------------------------------------------------- training


def init_params(sizes, rng):
    """He-uniform weights U(-sqrt(6/fan_in), sqrt(6/fan_in)) and biases U(-1/sqrt(fan_in), ..).
    (PyTorch's default, U(-1/sqrt(fan_in), ..) for the weights too, shrinks the signal through
    5 layers; with L1 = 2e-4 the 5x100 network then collapsed to a constant function.)"""
    Ws, bs = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6.0 / fan_in)
        Ws.append(rng.uniform(-bound, bound, size=(fan_out, fan_in)))
        bs.append(rng.uniform(-1.0 / np.sqrt(fan_in), 1.0 / np.sqrt(fan_in), size=fan_out))
    return Ws, bs


def forward(Ws, bs, X):
    """Returns logits and the list of layer inputs (post-ReLU activations, X first)."""
    acts = [X]
    h = X
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = h @ W.T + b
        if k < len(Ws) - 1:
            h = np.maximum(z, 0.0)
            acts.append(h)
        else:
            return z, acts


def train(sizes, l1, epochs, Xtr, ytr, seed, log=None):
    rng = np.random.default_rng(seed)
    Ws0, bs0 = init_params(sizes, rng)
    # all parameters in one flat vector (Ws, bs are views), so Adam is a few vector operations
    shapes = [W.shape for W in Ws0] + [b.shape for b in bs0]
    flat = np.concatenate([p.ravel() for p in Ws0 + bs0])
    gflat = np.zeros_like(flat)
    views, gviews, off = [], [], 0
    for shp in shapes:
        size = int(np.prod(shp))
        views.append(flat[off:off + size].reshape(shp))
        gviews.append(gflat[off:off + size].reshape(shp))
        off += size
    L = len(Ws0)
    Ws, bs = views[:L], views[L:]
    gWs, gbs = gviews[:L], gviews[L:]
    m = np.zeros_like(flat)
    v = np.zeros_like(flat)
    b1, b2, eps = 0.9, 0.999, 1e-8
    X = Xtr.astype(np.float64)
    n = X.shape[0]
    Y = np.eye(N_CLASSES)[ytr]
    t = 0
    for ep in range(epochs):
        perm = rng.permutation(n)
        tot = 0.0
        for s in range(0, n, BATCH):
            idx = perm[s:s + BATCH]
            xb, yb = X[idx], Y[idx]
            logits, acts = forward(Ws, bs, xb)
            logits = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            tot += -np.sum(yb * np.log(p + 1e-300))
            g = (p - yb) / len(idx)  # d mean-CE / d logits
            for k in range(L - 1, -1, -1):
                np.matmul(g.T, acts[k], out=gWs[k])
                np.sum(g, axis=0, out=gbs[k])
                if l1 > 0:
                    gWs[k] += l1 * np.sign(Ws[k])
                if k > 0:
                    g = (g @ Ws[k]) * (acts[k] > 0)
            t += 1
            c1 = 1 - b1 ** t
            c2 = 1 - b2 ** t
            m *= b1
            m += (1 - b1) * gflat
            v *= b2
            v += (1 - b2) * gflat * gflat
            flat -= (LR / c1) * m / (np.sqrt(v / c2) + eps)
        if log and (ep + 1) % max(1, epochs // 5) == 0:
            log(f"    epoch {ep + 1}/{epochs}: mean CE {tot / n:.4f}")
    return [W.copy() for W in Ws], [b.copy() for b in bs]


# --------------------------------------------------------------------------- ONNX export


def export_onnx(path, Ws32, bs32, name, meta):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    L = len(Ws32)
    nodes, inits = [], []
    cur = "input"
    for k in range(1, L + 1):
        W, b = Ws32[k - 1], bs32[k - 1]
        inits.append(numpy_helper.from_array(W, f"fc{k}.weight"))
        inits.append(numpy_helper.from_array(b, f"fc{k}.bias"))
        out = "output" if k == L else f"fc{k}"
        nodes.append(helper.make_node("Gemm", [cur, f"fc{k}.weight", f"fc{k}.bias"], [out],
                                      name=f"Gemm_{k}", alpha=1.0, beta=1.0, transB=1))
        if k < L:
            nodes.append(helper.make_node("Relu", [out], [f"relu{k}"], name=f"Relu_{k}"))
            cur = f"relu{k}"
    n_in, n_out = Ws32[0].shape[1], Ws32[-1].shape[0]
    sizes = [n_in] + [W.shape[0] for W in Ws32]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, n_in])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, n_out])],
        initializer=inits)
    graph.doc_string = (f"Fully-connected ReLU network {'-'.join(map(str, sizes))} trained on "
                        "scikit-learn digits (8x8 images, row-major, pixel/16 in [0,1]) by "
                        "scripts/train_compression_nets.py. Output: logits (no softmax).")
    model = helper.make_model(graph, producer_name="nnverify-train_compression_nets",
                              producer_version="1",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, str(v)
    onnx.checker.check_model(model, full_check=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


# --------------------------------------------------------------------------- stability facts


def interval_bounds(Ws, bs, lo, hi):
    """Pre-activation bounds of every hidden layer by interval arithmetic (float64)."""
    l = np.full(Ws[0].shape[1], lo)
    u = np.full(Ws[0].shape[1], hi)
    out = []
    for W, b in zip(Ws[:-1], bs[:-1]):
        Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
        zl = Wp @ l + Wn @ u + b
        zu = Wp @ u + Wn @ l + b
        out.append((zl, zu))
        l, u = np.maximum(zl, 0), np.maximum(zu, 0)
    return out


def pre_activations(Ws, bs, X):
    """Hidden-layer pre-activations (float64) for a batch of inputs."""
    zs = []
    h = X.astype(np.float64)
    for W, b in zip(Ws[:-1], bs[:-1]):
        z = h @ W.T + b
        zs.append(z)
        h = np.maximum(z, 0)
    return zs


def attack(Ws, bs, layer, targets, signs, starts, rng, lo, hi):
    """Projected sign-gradient search: for each (neuron targets[i], sign signs[i]) try to make
    sign*z[layer][target] > 0 starting from starts[i] (float32 rows). Returns the float32 iterates
    (all of them, for later exact re-checking)."""
    x = starts.astype(np.float64).copy()
    B = x.shape[0]
    found = []
    for it in range(ATTACK_ITERS):
        step = 0.25 * (1 - it / ATTACK_ITERS) + 0.01
        # forward
        hs, masks = [x], []
        h = x
        for k in range(layer + 1):
            z = h @ Ws[k].T + bs[k]
            if k < layer:
                masks.append(z > 0)
                h = np.maximum(z, 0)
        # backward from sign * z[layer][target]
        g = np.zeros((B, Ws[layer].shape[0]))
        g[np.arange(B), targets] = signs
        g = g @ Ws[layer]
        for k in range(layer - 1, -1, -1):
            g = (g * masks[k]) @ Ws[k]
        x = np.clip(x + step * np.sign(g) + 0.02 * rng.standard_normal(x.shape) * (it < 5), lo, hi)
        x = x.astype(np.float32).astype(np.float64)
        found.append(x.astype(np.float32))
    # a final rounding to the box vertex picked by the last gradient
    found.append(np.where(g > 0, hi, lo).astype(np.float32))
    return np.concatenate(found)


def stability_facts(Ws32, bs32, images, seed, lo=BOX[0], hi=BOX[1]):
    Ws = [W.astype(np.float64) for W in Ws32]
    bs = [b.astype(np.float64) for b in bs32]
    rng = np.random.default_rng(seed ^ 0x5EED)
    n_in = Ws[0].shape[1]
    ia = interval_bounds(Ws, bs, lo, hi)

    # candidate inputs, all float32-representable (the witnesses are exact for float32 inputs)
    cands = [images.astype(np.float32),
             rng.uniform(lo, hi, size=(N_UNIFORM, n_in)).astype(np.float32),
             np.where(rng.random((N_VERTICES, n_in)) < 0.5, lo, hi).astype(np.float32),
             np.full((1, n_in), lo, np.float32), np.full((1, n_in), hi, np.float32)]
    # layer 1 is linear in x: its max/min over the box is attained at the vertex picked by the
    # sign of each weight row, so layer 1 is decided exactly (up to exact zeros)
    W1 = Ws[0]
    cands.append(np.where(W1 > 0, hi, lo).astype(np.float32))
    cands.append(np.where(W1 < 0, hi, lo).astype(np.float32))
    X = np.concatenate(cands)

    zs = pre_activations(Ws, bs, X)
    pos = [(z > 0).any(axis=0) for z in zs]
    neg = [(z < 0).any(axis=0) for z in zs]
    # attack the neurons of deeper layers that sampling left undecided
    n_attacked = 0
    for k in range(1, len(Ws) - 1):
        zl, zu = ia[k]
        und = ~(pos[k] & neg[k]) & ~(zu <= 0) & ~(zl >= 0)
        idx = np.nonzero(und)[0]
        if len(idx) == 0:
            continue
        n_attacked += len(idx)
        targets, signs, starts = [], [], []
        for j in idx:
            s = 1.0 if not pos[k][j] else -1.0  # direction still missing
            order = np.argsort(-s * zs[k][:, j], kind="stable")[:ATTACK_STARTS]
            for r in order:
                targets.append(j)
                signs.append(s)
                starts.append(X[r])
        extra = attack(Ws, bs, k, np.array(targets), np.array(signs), np.array(starts), rng, lo, hi)
        zx = pre_activations(Ws, bs, extra)
        X = np.concatenate([X, extra])
        zs = [np.concatenate([a, b]) for a, b in zip(zs, zx)]
        pos = [p | (z > 0).any(axis=0) for p, z in zip(pos, zx)]
        neg = [n | (z < 0).any(axis=0) for n, z in zip(neg, zx)]

    # pick witness rows: first row (in candidate order) with each sign
    layers, used = [], {}
    wit_pos, wit_neg = [], []
    for k, z in enumerate(zs):
        zl, zu = ia[k]
        width = z.shape[1]
        ia_inact = zu <= 0
        ia_act = (zl >= 0) & ~ia_inact
        p_any, n_any = (z > 0).any(axis=0), (z < 0).any(axis=0)
        unstable = p_any & n_any
        assert not (unstable & (ia_inact | ia_act)).any(), "interval bounds contradict a sample"
        und = ~unstable & ~ia_inact & ~ia_act
        prow = np.where(p_any, np.argmax(z > 0, axis=0), -1)
        nrow = np.where(n_any, np.argmax(z < 0, axis=0), -1)
        wp, wn = np.full(width, -1), np.full(width, -1)
        for j in np.nonzero(unstable)[0]:
            wp[j] = used.setdefault(int(prow[j]), len(used))
            wn[j] = used.setdefault(int(nrow[j]), len(used))
        wit_pos.append(wp)
        wit_neg.append(wn)
        layers.append({
            "layer": k + 1,
            "width": int(width),
            "interval_active": int(ia_act.sum()),
            "interval_inactive": int(ia_inact.sum()),
            "witnessed_unstable": int(unstable.sum()),
            "undecided": int(und.sum()),
            "undecided_only_seen_active": int((und & p_any & ~n_any).sum()),
            "undecided_only_seen_inactive": int((und & n_any & ~p_any).sum()),
            "interval_active_neurons": np.nonzero(ia_act)[0].tolist(),
            "interval_inactive_neurons": np.nonzero(ia_inact)[0].tolist(),
            "witnessed_unstable_neurons": np.nonzero(unstable)[0].tolist(),
            "undecided_neurons": np.nonzero(und)[0].tolist(),
            "interval_lower": [float(v) for v in zl],
            "interval_upper": [float(v) for v in zu],
        })
    rows = sorted(used, key=used.get)
    witnesses = {"inputs": X[rows].astype(np.float32)}
    for k in range(len(zs)):
        witnesses[f"layer{k + 1}_pos"] = wit_pos[k].astype(np.int32)
        witnesses[f"layer{k + 1}_neg"] = wit_neg[k].astype(np.int32)
    return layers, witnesses, {"sampled_inputs": int(X.shape[0]), "attacked_neurons": n_attacked}


# --------------------------------------------------------------------------- main


def accuracy(Ws32, bs32, X, y):
    logits, _ = forward([W.astype(np.float64) for W in Ws32], [b.astype(np.float64) for b in bs32],
                        X.astype(np.float64))
    return float((logits.argmax(axis=1) == y).mean())


def ort_check(path, Ws32, bs32, X):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ref, _ = forward([W.astype(np.float64) for W in Ws32], [b.astype(np.float64) for b in bs32],
                     X.astype(np.float64))
    worst = 0.0
    for i in range(min(64, X.shape[0])):
        y = sess.run(None, {"input": X[i:i + 1]})[0][0]
        worst = max(worst, float(np.max(np.abs(y - ref[i]) / np.maximum(np.abs(ref[i]), 1))))
    assert worst < 1e-4, f"onnxruntime disagrees with numpy on {path}: {worst}"
    return worst


README_HEAD = """# Compression benchmark networks (scikit-learn digits)

Fully-connected ReLU classifiers in the style of the exact-compression paper (Serra, Yu, Kumar,
Ramalingam, *Scaling Up Exact Neural Network Compression by ReLU Stability*, NeurIPS 2021):
hidden layers 2x100, 3x100, 5x100 and 2x800, each trained with L1 regularisation
l1 in {0, 5e-5, 1e-4, 2e-4}. Everything here is generated by
`scripts/train_compression_nets.py` (do not edit by hand).

## Regenerate

    python3 scripts/train_compression_nets.py            # all 16 networks
    python3 scripts/train_compression_nets.py --tables-only   # rewrite networks.csv, README.md
    python3 scripts/train_compression_nets.py --only digits_fc_2x100_l1_1e-4   # one network

Cost: about 2 minutes of CPU in all (BLAS pinned to one thread; the four 2x800 networks take
most of it); on a busy shared 2-core machine the wall time was about 8 minutes.
Needs numpy, scikit-learn (the digits data ship with it: nothing is downloaded), onnx and
onnxruntime. Seeds depend only on the network name, so a subset regenerates to the same bytes.
Bit-identical output is expected on the same machine and numpy/BLAS build; another BLAS may round
differently (then the facts below change slightly, the method does not).

## Data, domain and training

* Data: `sklearn.datasets.load_digits()` (1797 8x8 images, 10 classes). Input = the image
  flattened row-major (index = row*8 + col), divided by 16, so every input lies in [0,1].
* Split: `train_test_split(X, y, test_size=360, random_state=0, stratify=y)` = 1437 train / 360
  test. The test split is saved as `digits_test.npz` (`inputs` float32 [360,64] in [0,1],
  `labels` int64 [360]).
* **Domain for compression: the input box [0,1]^64** (`nnverify compress NET --box 0,1`).
* Loss per minibatch: mean cross-entropy over the batch + **l1 * sum |W|**, where the sum runs over
  every entry of the weight matrices of all Linear layers (hidden and output; biases are not
  penalised). This is the paper's form (lambda times the L1 norm of the weights added to the
  loss). The nominal values are used unscaled: at initialisation, l1 = 2e-4 adds about 0.5 nats
  for 2x100 and about 7 nats for 2x800 (against a cross-entropy of ~2.3), enough to make
  5-30% of the neurons stable over the box (table below) while every network keeps >= 95.8%
  test accuracy. With l1 = 0 no neuron is interval-stable.
* Optimiser: Adam (lr 1e-3, betas 0.9/0.999), minibatch 64, He-uniform weight initialisation
  (biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))),
  150 epochs (40 for 2x800), float64 training, exported as float32.

## ONNX format

Opset 13, IR version 8, in the style of `../shared/compression/*.onnx` (next to the repository):
input `input` float32 [1,64],
output `output` float32 [1,10] (logits, no softmax), graph `Gemm(transB=1) -> Relu -> ... ->
Gemm(transB=1)`, initializers `fcK.weight` (out x in) and `fcK.bias`; hidden pre-activations are
the tensors `fc1`, `fc2`, ... Metadata props record architecture, l1, seed and accuracies.
`onnx.checker.check_model(full_check=True)` passes.

## Stability facts (`<net>.facts.json`, `<net>.witnesses.npz`)

Computed with numpy float64 from the float32 weights stored in the ONNX file, over the box [0,1]^64:

* `interval_active` / `interval_inactive`: neurons whose pre-activation is >= 0 / <= 0 on the whole
  box by interval arithmetic (exact for layer 1: min/max of w.x+b over the box; interval propagation
  through the ReLUs for deeper layers). These are **lower bounds** on the truly stable counts:
  every exact compressor must remove (inactive) or fold (active) at least these neurons.
* `witnessed_unstable`: neurons seen with pre-activation > 0 for one input and < 0 for another.
  Inputs: all 1797 digits images, 5,000 uniform random points, 2,000 random box vertices, the two
  box corners, for layer 1 the per-neuron maximising/minimising vertices (so layer 1 has no
  undecided neurons), and for deeper layers a projected sign-gradient search from the best samples
  for every neuron still undecided. Each such neuron is proved unstable by the two inputs
  `inputs[layerK_pos[j]]` and `inputs[layerK_neg[j]]` in `<net>.witnesses.npz` (float32 rows in
  [0,1]; -1 for neurons without witnesses). A compressor must never remove or fold one of these.
* `undecided`: neither certified nor witnessed; the exact (MILP) classifier decides them.
  `undecided_only_seen_active` / `..._inactive` say which phase sampling saw (a hint, not a proof).
* Lists of neuron indices (0-based within the layer) for each class, and the per-neuron interval
  bounds `interval_lower` / `interval_upper`, are in the JSON.

## Check a compressed network

    python3 scripts/check_compressed.py benchmarks/compression/NET.onnx OUT.onnx \\
        --test-npz benchmarks/compression/digits_test.npz

compares the two on 10,000 seeded random points of the box (plus vertices and the test images) in
float64 (numpy, from the initializers; the 1e-6 relative criterion) and in float32 onnxruntime, and
checks that no test prediction changes. (Float32 alone is not a usable 1e-6 criterion: merely
deleting the dead neurons of a 2x800 network moves the onnxruntime outputs by up to ~1.2e-6
relative, from the changed summation order; the float64 difference is ~2e-15.)

## Networks

"""


def write_readme(out_dir, rows, facts_all):
    lines = [README_HEAD]
    lines.append("| file | hidden | l1 | params | train acc | test acc | size (bytes) |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in rows:
        lines.append(f"| `{r['file']}` | {r['hidden_layers']} | {r['l1']} | {r['parameters']:,} | "
                     f"{100 * r['train_accuracy']:.2f}% | {100 * r['test_accuracy']:.2f}% | "
                     f"{r['file_size_bytes']:,} |")
    lines.append("")
    lines.append("Stability over [0,1]^64 per hidden layer, as "
                 "interval-active / interval-inactive / witnessed-unstable / undecided:")
    lines.append("")
    lines.append("| network | " + " | ".join(f"layer {k}" for k in range(1, 6)) + " |")
    lines.append("|---|" + "---|" * 5)
    for r in rows:
        f = facts_all[r["file"]]
        cells = [f"{L['interval_active']}/{L['interval_inactive']}/{L['witnessed_unstable']}/"
                 f"{L['undecided']}" for L in f["layers"]]
        cells += [""] * (5 - len(cells))
        lines.append(f"| `{r['file'][:-5]}` | " + " | ".join(cells) + " |")
    lines.append("")
    with open(os.path.join(out_dir, "README.md"), "w") as fh:
        fh.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                  "benchmarks", "compression"))
    ap.add_argument("--only", nargs="+", help="network names to (re)generate (default: all)")
    ap.add_argument("--tables-only", action="store_true",
                    help="train nothing; rewrite networks.csv and README.md from the files on disk")
    args = ap.parse_args()
    out_dir = os.path.normpath(args.out)
    os.makedirs(out_dir, exist_ok=True)

    Xtr, ytr, Xte, yte = load_split()
    np.savez_compressed(os.path.join(out_dir, "digits_test.npz"), inputs=Xte, labels=yte)
    images = np.concatenate([Xtr, Xte])

    t_all = time.time()
    for arch, hidden in ARCHS.items():
        for tag, l1 in L1S:
            name = net_name(arch, tag)
            if args.tables_only or (args.only and name not in args.only):
                continue
            t0 = time.time()
            sizes = [N_INPUT] + hidden + [N_CLASSES]
            for attempt in range(3):  # a collapsed (constant) network is retried with a new seed
                seed = seed_of(name if attempt == 0 else f"{name}#{attempt}")
                print(f"{name}: training (seed {seed}, {EPOCHS[arch]} epochs)", flush=True)
                Ws, bs = train(sizes, l1, EPOCHS[arch], Xtr, ytr, seed, log=print)
                Ws32 = [W.astype(np.float32) for W in Ws]
                bs32 = [b.astype(np.float32) for b in bs]
                tr_acc, te_acc = accuracy(Ws32, bs32, Xtr, ytr), accuracy(Ws32, bs32, Xte, yte)
                if tr_acc >= 0.5:
                    break
                print(f"  collapsed (train accuracy {100 * tr_acc:.1f}%), retrying", flush=True)
            n_params = int(sum(W.size + b.size for W, b in zip(Ws32, bs32)))
            path = os.path.join(out_dir, name + ".onnx")
            meta = {"dataset": "sklearn.datasets.load_digits, pixel/16, split "
                               "train_test_split(test_size=360, random_state=0, stratify=y)",
                    "layer_sizes": "-".join(map(str, sizes)), "l1": tag,
                    "l1_definition": "mean cross-entropy + l1 * sum |W| over all weight matrices",
                    "seed": seed, "epochs": EPOCHS[arch], "train_accuracy": f"{tr_acc:.6f}",
                    "test_accuracy": f"{te_acc:.6f}", "input_box": "[0,1]^64",
                    "generator": "scripts/train_compression_nets.py"}
            export_onnx(path, Ws32, bs32, name, meta)
            ort_check(path, Ws32, bs32, Xte)
            t1 = time.time()
            layers, witnesses, extra = stability_facts(Ws32, bs32, images, seed)
            facts = {"model": name + ".onnx", "layer_sizes": sizes, "input_box": list(BOX),
                     "l1": tag, "train_accuracy": tr_acc, "test_accuracy": te_acc,
                     "parameters": n_params, "arithmetic": "numpy float64 on the float32 weights",
                     **extra, "layers": layers}
            with open(os.path.join(out_dir, name + ".facts.json"), "w") as fh:
                json.dump(facts, fh, indent=1)
                fh.write("\n")
            np.savez_compressed(os.path.join(out_dir, name + ".witnesses.npz"), **witnesses)
            summ = ", ".join(f"L{L['layer']}: {L['interval_active']}a/{L['interval_inactive']}i/"
                             f"{L['witnessed_unstable']}u/{L['undecided']}?" for L in layers)
            print(f"  train {100 * tr_acc:.2f}%, test {100 * te_acc:.2f}%, {n_params} params, "
                  f"train {t1 - t0:.1f}s, facts {time.time() - t1:.1f}s; {summ}", flush=True)

    # tables from whatever is on disk (so --only keeps the other rows)
    rows, facts_all = [], {}
    for arch, hidden in ARCHS.items():
        for tag, l1 in L1S:
            name = net_name(arch, tag)
            fj = os.path.join(out_dir, name + ".facts.json")
            if not os.path.exists(fj):
                continue
            with open(fj) as fh:
                f = json.load(fh)
            facts_all[name + ".onnx"] = f
            rows.append({"file": name + ".onnx", "hidden_layers": arch, "l1": tag,
                         "train_accuracy": f["train_accuracy"], "test_accuracy": f["test_accuracy"],
                         "parameters": f["parameters"],
                         "file_size_bytes": os.path.getsize(os.path.join(out_dir, name + ".onnx"))})
    with open(os.path.join(out_dir, "networks.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["file", "hidden_layers", "l1", "train_accuracy", "test_accuracy", "parameters",
                    "file_size_bytes"])
        for r in rows:
            w.writerow([r["file"], r["hidden_layers"], r["l1"], f"{r['train_accuracy']:.6f}",
                        f"{r['test_accuracy']:.6f}", r["parameters"], r["file_size_bytes"]])
    write_readme(out_dir, rows, facts_all)
    print(f"done in {time.time() - t_all:.1f}s -> {out_dir}")


if __name__ == "__main__":
    sys.exit(main())
