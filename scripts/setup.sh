#!/usr/bin/env bash
# Installs what NNVerify needs on a fresh Debian machine with the Swift toolchain:
# GLPK (libglpk-dev), OpenBLAS (libopenblas-dev) and zlib (zlib1g-dev, for .gz networks and
# properties) always; with --python, also the Python packages the cross-check tests use.
# Safe to run again: it installs only what is missing.
set -euo pipefail

need_apt=()
[ -f /usr/include/glpk.h ] || need_apt+=(libglpk-dev)
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
# Check for the OpenBLAS library itself: libglpk-dev pulls in the reference BLAS, whose cblas.h
# alone would not satisfy `link "openblas"`.
compgen -G '/usr/lib/*/libopenblas.so' >/dev/null || [ -e /usr/lib/libopenblas.so ] || need_apt+=(libopenblas-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${1:-}" = "--python" ]; then
    if ! python3 -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then
        echo "setup: installing onnx, onnxruntime and numpy with pip (for cross-check tests)" >&2
        python3 -m pip install --quiet onnx onnxruntime numpy \
            || echo "setup: pip install failed; tests that cross-check with onnxruntime will skip" >&2
    fi
fi
