#!/usr/bin/env bash
# VNN-COMP: prepare_instance.sh v1 CATEGORY ONNX VNNLIB — checks that both files load, so an
# unsupported network is reported before the timed run. Exit 0 when the instance can be run.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: prepare_instance.sh v1 CATEGORY ONNX VNNLIB" >&2; exit 1; }
version=$1 category=$2 onnx=$3 vnnlib=$4
[ "$version" = v1 ] || { echo "prepare_instance.sh: expected version v1, got $version" >&2; exit 1; }
bin="$(dirname "$0")/../.build/release/nnverify"
pkill -f "nnverify verify" 2>/dev/null || true
"$bin" inspect "$onnx" "$vnnlib" > /dev/null
echo "prepared $category instance: $onnx $vnnlib" >&2
