#!/usr/bin/env python3
"""Re-check a VNN-COMP `sat` result file independently of NNVerify.

usage: check_counterexample.py ONNX VNNLIB RESULT_FILE [--tol 1e-4]

The result file is `sat` followed by the counterexample, one `(X_i v)` / `(Y_j v)` atom each,
inside an outer pair of parentheses (either `((X_0 v)` ... `(Y_0 v))` or with the outer
parentheses on their own lines). The check:

1. every X_i and Y_j of the property has exactly one value in the file;
2. X lies inside one of the property's input boxes, within `tol` (absolute);
3. onnxruntime, run on X (float32, reshaped to the model's input shape), gives outputs within
   `tol` of the printed Y (absolute, or relative to |Y| when |Y| > 1);
4. those onnxruntime outputs satisfy the output condition that goes with that box, every atom
   within `tol` (VNN-COMP accepts violations up to 1e-4).

The VNNLIB parser here is written from scratch (it shares nothing with NNVerify's Swift parser):
an S-expression reader, then `declare-const` and `assert` with `<= >= < > =`, `and`, `or`,
numbers, variables and linear terms (`+`, `-`, `*` by a constant). The conjunction of all asserts
is put into disjunctive normal form; each conjunct splits into its X-only atoms (the box) and
the rest (the output condition).

Exit status: 0 when the counterexample is valid, 1 (with the reason on stderr) when it is not
(or the file does not say sat), 2 on usage errors and unreadable or unparseable files.
"""

import argparse
import math
import re
import sys

MAX_DNF_TERMS = 100000


class UsageError(Exception):
    """Bad arguments, unreadable or unparseable input files: exit status 2."""


class Invalid(Exception):
    """The counterexample does not hold: exit status 1."""


# ---------------------------------------------------------------------------------------------
# VNNLIB: S-expressions


def tokenize(text, path):
    """Yield (token, line, column) for `(`, `)` and atoms, skipping `;` comments."""
    line, col, i, n = 1, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line, col, i = line + 1, 1, i + 1
            continue
        if c.isspace():
            i, col = i + 1, col + 1
            continue
        if c == ";":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "()":
            yield c, line, col
            i, col = i + 1, col + 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in "();":
            i += 1
        yield text[start:i], line, col
        col += i - start


def read_sexprs(text, path):
    """Parse the whole file into a list of nested lists of atom strings."""
    stack = [[]]
    opened = []
    for token, line, col in tokenize(text, path):
        if token == "(":
            stack.append([])
            opened.append((line, col))
        elif token == ")":
            if len(stack) == 1:
                raise UsageError(f"{path}:{line}:{col}: unexpected ')'")
            done = stack.pop()
            opened.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    if len(stack) != 1:
        line, col = opened[-1]
        raise UsageError(f"{path}: '(' at {line}:{col} is never closed")
    return stack[0]


# ---------------------------------------------------------------------------------------------
# VNNLIB: formulas

VAR_RE = re.compile(r"^([XY])_(\d+)$")


def parse_number(token):
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def linear(expr, declared, path):
    """An affine term as ({variable: coefficient}, constant)."""
    if isinstance(expr, str):
        value = parse_number(expr)
        if value is not None:
            return {}, value
        if expr in declared:
            return {expr: 1.0}, 0.0
        raise UsageError(f"{path}: '{expr}' is neither a number nor a declared variable")
    if not expr:
        raise UsageError(f"{path}: empty term '()'")
    head, args = expr[0], [linear(a, declared, path) for a in expr[1:]]
    if head == "+":
        coefs, const = {}, 0.0
        for c, k in args:
            for v, a in c.items():
                coefs[v] = coefs.get(v, 0.0) + a
            const += k
        return coefs, const
    if head == "-" and len(args) == 1:
        c, k = args[0]
        return {v: -a for v, a in c.items()}, -k
    if head == "-" and len(args) >= 2:
        coefs, const = dict(args[0][0]), args[0][1]
        for c, k in args[1:]:
            for v, a in c.items():
                coefs[v] = coefs.get(v, 0.0) - a
            const -= k
        return coefs, const
    if head == "*":
        coefs, const = {}, 1.0
        for c, k in args:
            if c and coefs:
                raise UsageError(f"{path}: non-linear product {expr}")
            if c:
                coefs = {v: a * const for v, a in c.items()}
                const = k * const
            else:
                coefs = {v: a * k for v, a in coefs.items()}
                const *= k
        return coefs, const
    raise UsageError(f"{path}: unsupported term {expr}")


def atom(op, lhs, rhs):
    """A constraint `sum(coefs * vars) + const  (<= or ==)  0` from `lhs op rhs`."""
    if op in ("<=", "<"):
        a, b = lhs, rhs
    elif op in (">=", ">"):
        a, b = rhs, lhs
    else:
        a, b = lhs, rhs
    coefs = dict(a[0])
    for v, c in b[0].items():
        coefs[v] = coefs.get(v, 0.0) - c
    return ("==" if op == "=" else "<=", coefs, a[1] - b[1])


def formula(expr, declared, path):
    """DNF of a formula: a list of conjunctions (lists of atoms)."""
    if not isinstance(expr, list) or not expr or not isinstance(expr[0], str):
        raise UsageError(f"{path}: expected a formula, got {expr!r}")
    head = expr[0]
    if head in ("<=", ">=", "<", ">", "="):
        if len(expr) < 3:
            raise UsageError(f"{path}: '{head}' needs two operands: {expr}")
        terms = [linear(e, declared, path) for e in expr[1:]]
        # Chained comparisons (<= a b c) mean a <= b and b <= c.
        return [[atom(head, terms[i], terms[i + 1]) for i in range(len(terms) - 1)]]
    if head == "and":
        return conjoin([formula(e, declared, path) for e in expr[1:]], path)
    if head == "or":
        out = []
        for e in expr[1:]:
            out.extend(formula(e, declared, path))
        return out
    raise UsageError(f"{path}: unsupported formula head '{head}'")


def conjoin(dnfs, path):
    """The DNF of a conjunction of DNFs (the cross product of their terms)."""
    result = [[]]
    for dnf in dnfs:
        if len(result) * len(dnf) > MAX_DNF_TERMS:
            raise UsageError(f"{path}: the disjunctive normal form has more than {MAX_DNF_TERMS} terms")
        result = [a + b for a in result for b in dnf]
    return result


def parse_vnnlib(path):
    """Returns (n_inputs, n_outputs, cases): cases are (box_atoms, output_atoms) pairs."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read: {e}")
    declared = set()
    asserts = []
    for s in read_sexprs(text, path):
        if not isinstance(s, list) or not s:
            raise UsageError(f"{path}: unexpected top-level {s!r}")
        if s[0] == "declare-const":
            if len(s) != 3 or not isinstance(s[1], str):
                raise UsageError(f"{path}: malformed declare-const {s}")
            declared.add(s[1])
        elif s[0] == "assert":
            if len(s) != 2:
                raise UsageError(f"{path}: assert takes one formula: {s}")
            asserts.append(s[1])
        else:
            raise UsageError(f"{path}: unsupported command '{s[0]}'")
    xs = sorted(int(VAR_RE.match(v).group(2)) for v in declared if VAR_RE.match(v) and v[0] == "X")
    ys = sorted(int(VAR_RE.match(v).group(2)) for v in declared if VAR_RE.match(v) and v[0] == "Y")
    if xs != list(range(len(xs))) or ys != list(range(len(ys))):
        raise UsageError(f"{path}: X_i / Y_j must be declared as 0..n-1")
    dnf = conjoin([formula(a, declared, path) for a in asserts], path)
    cases = []
    for term in dnf:
        box = [a for a in term if all(v[0] == "X" for v in a[1])]
        rest = [a for a in term if not all(v[0] == "X" for v in a[1])]
        cases.append((box, rest))
    return len(xs), len(ys), cases


def violation(a, values):
    """How far atom `a` is violated at `values` (<= 0 when it holds)."""
    kind, coefs, const = a
    s = const + sum(c * values[v] for v, c in coefs.items())
    return abs(s) if kind == "==" else s


def show(a):
    kind, coefs, const = a
    lhs = " + ".join(f"{c:g}*{v}" for v, c in sorted(coefs.items())) or "0"
    return f"{lhs} + {const:g} {kind} 0"


# ---------------------------------------------------------------------------------------------
# Result file


ATOM_RE = re.compile(r"\(\s*([XY])_(\d+)\s+([^\s()]+)\s*\)")


def parse_result(path):
    """(verdict, {name: value}) from a VNN-COMP result file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read: {e}")
    lines = text.strip().splitlines()
    verdict = lines[0].strip() if lines else ""
    values = {}
    body = "\n".join(lines[1:])
    for m in ATOM_RE.finditer(body):
        name = f"{m.group(1)}_{m.group(2)}"
        value = parse_number(m.group(3))
        if value is None:
            raise Invalid(f"{name} has the value '{m.group(3)}', not a finite number")
        if name in values:
            raise Invalid(f"{name} appears twice")
        values[name] = value
    # Anything left after removing the atoms must be parentheses and whitespace.
    leftover = ATOM_RE.sub("", body).replace("(", "").replace(")", "").split()
    if leftover:
        raise Invalid(f"unexpected text in the counterexample: {' '.join(leftover[:5])}")
    return verdict, values


# ---------------------------------------------------------------------------------------------
# onnxruntime


def run_onnx(path, x):
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        raise UsageError(f"onnxruntime and numpy are needed: {e}")
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise UsageError(f"{path}: onnxruntime cannot load it: {e}")
    initializers = set()
    try:
        import onnx
        initializers = {t.name for t in onnx.load(path, load_external_data=False).graph.initializer}
    except Exception:
        pass
    inputs = [i for i in session.get_inputs() if i.name not in initializers]
    if len(inputs) != 1:
        raise UsageError(f"{path}: expected one network input, found {[i.name for i in inputs]}")
    info = inputs[0]
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in info.shape]
    if int(np.prod(shape)) != len(x):
        raise Invalid(f"{path}: input {info.name} has shape {info.shape} ({int(np.prod(shape))} values), the counterexample has {len(x)} X values")
    dtype = np.float64 if info.type == "tensor(double)" else np.float32
    feed = {info.name: np.asarray(x, dtype=np.float64).astype(dtype).reshape(shape)}
    y = session.run([session.get_outputs()[0].name], feed)[0]
    return [float(v) for v in np.asarray(y, dtype=np.float64).reshape(-1)]


# ---------------------------------------------------------------------------------------------


def check(onnx_path, vnnlib_path, result_path, tol):
    """Returns a one-line description of the valid counterexample, or raises Invalid."""
    n_in, n_out, cases = parse_vnnlib(vnnlib_path)
    verdict, values = parse_result(result_path)
    if verdict != "sat":
        raise Invalid(f"it says '{verdict}', not 'sat'")
    expected = {f"X_{i}" for i in range(n_in)} | {f"Y_{j}" for j in range(n_out)}
    missing = sorted(expected - values.keys(), key=lambda s: (s[0], int(s[2:])))
    extra = sorted(values.keys() - expected)
    if missing:
        raise Invalid(f"no value for {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} ({len(missing)} missing)")
    if extra:
        raise Invalid(f"values for undeclared {', '.join(extra[:5])}")
    x = [values[f"X_{i}"] for i in range(n_in)]
    printed_y = [values[f"Y_{j}"] for j in range(n_out)]

    in_boxes = [k for k, (box, _) in enumerate(cases) if all(violation(a, values) <= tol for a in box)]
    if not in_boxes:
        worst = min(max((violation(a, values), show(a)) for a in box) if box else (0.0, "") for box, _ in cases)
        raise Invalid(f"X lies in none of the {len(cases)} input boxes (DNF terms) within {tol:g}; smallest excess {worst[0]:.3g} ({worst[1]})")

    y = run_onnx(onnx_path, x)
    if len(y) != n_out:
        raise Invalid(f"{onnx_path}: onnxruntime gives {len(y)} outputs, the property declares {n_out}")
    for j, (a, b) in enumerate(zip(y, printed_y)):
        if not abs(a - b) <= tol * max(1.0, abs(a)):
            raise Invalid(f"Y_{j}: printed {b!r}, onnxruntime computes {a!r} (difference {abs(a - b):.3g} > {tol:g})")

    at = dict(values)
    at.update({f"Y_{j}": v for j, v in enumerate(y)})
    best = None
    for k in in_boxes:
        box, rest = cases[k]
        worst = max((violation(a, at) for a in rest), default=-math.inf)
        if worst <= tol:
            return f"valid: X in the box of DNF term {k}; onnxruntime outputs satisfy its violation condition with slack {-worst:.4g}"
        if best is None or worst < best[0]:
            best = (worst, max(rest, key=lambda a: violation(a, at)))
    raise Invalid(f"the onnxruntime outputs do not satisfy the violation condition: closest disjunct misses by {best[0]:.3g} ({show(best[1])})")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Re-check a VNN-COMP sat counterexample with onnxruntime.")
    parser.add_argument("onnx")
    parser.add_argument("vnnlib")
    parser.add_argument("result_file")
    parser.add_argument("--tol", type=float, default=1e-4, help="tolerance on the box, the outputs and the violation (default 1e-4)")
    args = parser.parse_args(argv)  # exits 2 on usage errors
    if not (args.tol >= 0 and math.isfinite(args.tol)):
        print("check_counterexample: --tol must be a non-negative number", file=sys.stderr)
        return 2
    try:
        message = check(args.onnx, args.vnnlib, args.result_file, args.tol)
    except UsageError as e:
        print(f"check_counterexample: error: {e}", file=sys.stderr)
        return 2
    except Invalid as e:
        print(f"check_counterexample: INVALID: {args.result_file}: {e}", file=sys.stderr)
        return 1
    print(f"{args.result_file}: {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
