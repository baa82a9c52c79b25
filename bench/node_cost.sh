#!/usr/bin/env bash
# The cost of one ReLU-search node's bounds on mnistfc 256x4 and 256x6 and on oval21 cifar_base_kw,
# outside the search (whose schedule depends on the clock): `NodeCostBenchmarkTests` replays 150
# nodes (60 on oval21) of random dives (phases of first- and second-layer neurons) five times and
# prints the fastest run's time per
# node for the intermediate bounds and for the output objective (adaptive back-substitution, then
# six steps of slopes and split multipliers). Needs ../shared and the release test build:
#   swift build -c release -Xswiftc -enable-testing --build-tests
# usage: bench/node_cost.sh [TEST_BINARY]   (default .build/release/NNVerifyPackageTests.xctest)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/NNVerifyPackageTests.xctest}
[ -x "$binary" ] || { echo "node_cost.sh: build the tests first (see the header)" >&2; exit 1; }
NNVERIFY_BENCH_NODES=1 "$binary" LPAbstractionTests.NodeCostBenchmarkTests 2>&1 |
  grep '^node cost' || { echo "node_cost.sh: no timing printed (is ../shared there?)" >&2; exit 1; }
