#!/usr/bin/env bash
# The main job: set up, build in release mode, and verify the bundled suite in benchmarks/vnnlib,
# comparing every answer with the verdicts established independently in its results.csv.
# Extra arguments go to `nnverify suite` (e.g. --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product nnverify
mkdir -p out
.build/release/nnverify suite benchmarks/vnnlib/instances.csv \
    --out out/bundled-results.csv \
    --ground-truth benchmarks/vnnlib/results.csv "$@"
