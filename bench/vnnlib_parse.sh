#!/usr/bin/env bash
# Parse-time and peak-memory benchmark for the VNNLIB parser.
#
# Generates a ~100 MB property with 900,000 inputs (bench/gen_large_vnnlib.py), builds the
# tests in release mode and runs VNNLibTests.LargeFileBenchmark on it, which prints wall time,
# CPU time and the peak resident set size of the parse (VmHWM, reset just before parsing).
#
# Usage: bench/vnnlib_parse.sh [asserts|and|or-and] [inputs]
#   NNVERIFY_BENCH_DIR  where generated files are kept (default: /tmp/nnverify-bench)
#   SCRATCH             SwiftPM scratch path (default: .build-vnnlib)
set -euo pipefail

style="${1:-asserts}"
inputs="${2:-900000}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${NNVERIFY_BENCH_DIR:-/tmp/nnverify-bench}"
scratch="${SCRATCH:-.build-vnnlib}"
file="$dir/large_${style}_${inputs}.vnnlib"

mkdir -p "$dir"
if [[ ! -s "$file" ]]; then
    echo "generating $file"
    python3 "$repo/bench/gen_large_vnnlib.py" "$file" --inputs "$inputs" --style "$style"
fi
ls -l "$file"

cd "$repo"
# `swift test -c release` builds with testability enabled, which the @testable import needs.
NNVERIFY_LARGE_VNNLIB="$file" swift test -c release --scratch-path "$scratch" \
    --filter 'VNNLibTests.LargeFileBenchmark' 2>&1 | grep -E 'vnnlib-bench|error:|passed|failed|skipped'
