#!/usr/bin/env bash
# VNN-COMP: install_tool.sh v1 — installs GLPK if missing and builds nnverify in release mode.
set -euo pipefail
version=${1:-v1}
[ "$version" = v1 ] || { echo "install_tool.sh: expected version v1, got $version" >&2; exit 1; }
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product nnverify
