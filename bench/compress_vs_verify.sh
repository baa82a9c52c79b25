#!/usr/bin/env bash
# Runs one VNN-COMP family twice with the release build, `nnverify suite` without and with
# `--compress`, and prints per instance both verdicts, both times and whether they agree, then
# totals (Markdown). A sat/unsat contradiction between the two runs is a soundness bug: the script
# says so and exits with status 2. Results: out/bench/compress_vs_verify/FAMILY.{verify,compress}.csv.
# usage: bench/compress_vs_verify.sh FAMILY [--every N] [nnverify suite options, e.g. --max-timeout 30 --threads 2]
#   FAMILY: "bundled" (benchmarks/vnnlib) or a folder of ../shared/benchmarks (e.g. acasxu);
#   --every N runs every N-th instance only (a deterministic sample, as bench/run_family.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib_family.sh
parse_family_args "$@"
shift "$family_args"
bin=${NNVERIFY_BIN:-.build/release/nnverify}
out=out/bench/compress_vs_verify
family_instance_list "$out"
truth=()
[ -f "$dir/results.csv" ] && truth=(--ground-truth "$dir/results.csv")
for mode in verify compress; do
  flag=()
  [ "$mode" = compress ] && flag=(--compress)
  "$bin" suite "$list" --root "$dir" --out "$out/$family.$mode.csv" "${truth[@]}" "${flag[@]}" "$@" \
      > "$out/$family.$mode.log" 2>&1 || { echo "compress_vs_verify.sh: the $mode run failed; see $out/$family.$mode.log" >&2; exit 1; }
done
python3 - "$out/$family.verify.csv" "$out/$family.compress.csv" "$dir/results.csv" <<'PY'
import csv, os, sys

def rows(path):
    with open(path) as f:
        return {(r["onnx"], r["vnnlib"]): r for r in csv.DictReader(f)}

plain, compressed = rows(sys.argv[1]), rows(sys.argv[2])
published = {}
if os.path.exists(sys.argv[3]):
    with open(sys.argv[3]) as f:
        for r in csv.DictReader(f):
            published[(r["onnx"], r["vnnlib"])] = r.get("verdict", "")
decided = {"sat", "unsat"}
print("| instance | published | verify | time (s) | verify --compress | time (s) | agree |")
print("|---|---|---|---|---|---|---|")
agree = contradictions = 0
both_time = [0.0, 0.0]
faster = slower = 0
wrong = {"verify": 0, "compress": 0}
for key, a in plain.items():
    b = compressed.get(key)
    if b is None:
        continue
    va, vb = a["verdict"], b["verdict"]
    ta, tb = float(a["time_s"]), float(b["time_s"])
    same = va == vb
    clash = {va, vb} == decided
    agree += same
    contradictions += clash
    if va in decided and vb in decided:
        both_time[0] += ta; both_time[1] += tb
        faster += tb < ta; slower += tb > ta
    truth = published.get(key, "")
    for name, v in (("verify", va), ("compress", vb)):
        if truth in decided and v in decided and v != truth:
            wrong[name] += 1
    name = os.path.basename(key[0]).removesuffix(".onnx") + " / " + os.path.basename(key[1]).removesuffix(".vnnlib")
    mark = "yes" if same else ("**CONTRADICTION**" if clash else "no")
    print(f"| {name} | {truth or '-'} | {va} | {ta:.2f} | {vb} | {tb:.2f} | {mark} |")

def counts(table):
    v = [r["verdict"] for r in table.values()]
    return ", ".join(f"{k} {v.count(k)}" for k in ("sat", "unsat", "timeout", "unknown", "error") if v.count(k))

n = len(plain)
print()
print(f"instances: {n}; same verdict: {agree}; sat/unsat contradictions: {contradictions}")
print(f"verify: {counts(plain)}; total {sum(float(r['time_s']) for r in plain.values()):.1f} s; wrong vs published: {wrong['verify']}")
print(f"verify --compress: {counts(compressed)}; total {sum(float(r['time_s']) for r in compressed.values()):.1f} s; wrong vs published: {wrong['compress']}")
print(f"solved by both: {both_time[0]:.1f} s without, {both_time[1]:.1f} s with --compress; --compress faster on {faster}, slower on {slower}")
sys.exit(2 if contradictions else 0)
PY
