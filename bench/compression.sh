#!/usr/bin/env bash
# Exact compression of each network over [0,1]^n: classification time, neurons and parameters
# before/after, and the onnxruntime/numpy equivalence and accuracy check. Prints a Markdown table.
# usage: bench/compression.sh [TIMEOUT_S] NET.onnx...   (default: every network in benchmarks/compression)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NNVERIFY_BIN:-.build/release/nnverify}
timeout=${1:-600}; shift || true
nets=("$@")
[ ${#nets[@]} -gt 0 ] || nets=(benchmarks/compression/*.onnx)
mkdir -p out/compression
printf '| network | ReLUs before → after | params before → after | undecided | classify (s) | total (s) | max rel diff (f64) | accuracy before → after |\n|---|---|---|---|---|---|---|---|\n'
for net in "${nets[@]}"; do
  name=$(basename "$net" .onnx)
  out=out/compression/$name.compressed.onnx
  json=out/compression/$name.report.json
  start=$(date +%s.%N)
  "$bin" compress "$net" --box 0,1 -o "$out" --timeout "$timeout" --report-json "$json" > "out/compression/$name.log" 2>&1 || { echo "| $name | failed: $(tail -1 out/compression/$name.log) |"; continue; }
  total=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  npz=""
  case "$name" in digits_*) npz="--test-npz benchmarks/compression/digits_test.npz" ;; esac
  check=$(python3 scripts/check_compressed.py "$net" "$out" --samples 10000 $npz 2>&1 || true)
  rel=$(echo "$check" | sed -n 's/^float64.*max rel diff \([^ ]*\).*/\1/p')
  acc=$(echo "$check" | sed -n 's/^accuracy.*(float64): *original \([^,]*\), compressed \([^,]*\),.*/\1 → \2/p')
  python3 - "$json" "$name" "$total" "${rel:-?}" "${acc:--}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); name, total, rel, acc = sys.argv[2:]
before = sum(l["neuronsBefore"] for l in r["layers"]); after = sum(l["neuronsAfter"] for l in r["layers"])
print(f"| {name} | {before} → {after} | {r['parametersBefore']} → {r['parametersAfter']} | {r['undecided']} | "
      f"{r['seconds'].get('classify', 0):.1f} | {total} | {rel} | {acc} |")
PY
done
