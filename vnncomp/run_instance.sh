#!/usr/bin/env bash
# VNN-COMP: run_instance.sh v1 CATEGORY ONNX VNNLIB RESULTS_FILE TIMEOUT — verifies one instance
# and writes the result file (first line sat/unsat/unknown/timeout; a counterexample after sat).
set -euo pipefail
[ $# -ge 6 ] || { echo "usage: run_instance.sh v1 CATEGORY ONNX VNNLIB RESULTS_FILE TIMEOUT" >&2; exit 1; }
version=$1 category=$2 onnx=$3 vnnlib=$4 results=$5 timeout=$6
[ "$version" = v1 ] || { echo "run_instance.sh: expected version v1, got $version" >&2; exit 1; }
bin="$(dirname "$0")/../.build/release/nnverify"
echo "running $category instance with timeout $timeout s" >&2
# Leave a little of the budget for process start and writing the file.
budget=$(awk -v t="$timeout" 'BEGIN { b = t - 1; if (b < 0.5) b = t * 0.9; print b }')
"$bin" verify "$onnx" "$vnnlib" --timeout "$budget" --result-file "$results" > /dev/null
