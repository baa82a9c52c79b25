#!/usr/bin/env bash
# Runs one VNN-COMP family from ../shared/benchmarks (or benchmarks/vnnlib for "bundled") with the
# release build and compares with the published verdicts. Results: out/bench/FAMILY.csv.
# usage: bench/run_family.sh FAMILY [--every N] [nnverify suite options, e.g. --max-timeout 30]
#   --every N runs every N-th instance only (a deterministic sample), for quick looks.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib_family.sh
parse_family_args "$@"
shift "$family_args"
family_instance_list out/bench
${NNVERIFY_BIN:-.build/release/nnverify} suite "$list" --root "$dir" --out "out/bench/$family.csv" \
    --ground-truth "$dir/results.csv" "$@" > "out/bench/$family.log"
tail -3 "out/bench/$family.log"
python3 ../shared/tools/groundtruth.py "out/bench/$family.csv" "$dir" --quiet 2>/dev/null || true
