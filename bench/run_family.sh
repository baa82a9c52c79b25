#!/usr/bin/env bash
# Runs one VNN-COMP family from ../shared/benchmarks (or benchmarks/vnnlib for "bundled") with the
# release build and compares with the published verdicts. Results: out/bench/FAMILY.csv.
# usage: bench/run_family.sh FAMILY [--every N] [nnverify suite options, e.g. --max-timeout 30]
#   --every N runs every N-th instance only (a deterministic sample), for quick looks.
set -euo pipefail
cd "$(dirname "$0")/.."
family=$1; shift
every=1
if [ "${1:-}" = "--every" ]; then every=$2; shift 2; fi
if [ "$family" = bundled ]; then dir=benchmarks/vnnlib; else dir=../shared/benchmarks/$family; fi
[ -d "$dir" ] || { echo "run_family.sh: $dir not found" >&2; exit 1; }
mkdir -p out/bench
list=out/bench/$family.instances.csv
awk -v n="$every" 'NF && (NR - 1) % n == 0' "$dir/instances.csv" > "$list"
${NNVERIFY_BIN:-.build/release/nnverify} suite "$list" --root "$dir" --out "out/bench/$family.csv" \
    --ground-truth "$dir/results.csv" "$@" > "out/bench/$family.log"
tail -3 "out/bench/$family.log"
python3 ../shared/tools/groundtruth.py "out/bench/$family.csv" "$dir" --quiet 2>/dev/null || true
