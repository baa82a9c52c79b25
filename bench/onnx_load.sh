#!/usr/bin/env bash
# Load time and peak memory of `nnverify inspect` (ONNX import + IR build) on the largest ONNX
# files in ../shared, with the release build; median of 5 runs each.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NNVERIFY_BIN:-.build/release/nnverify}
command -v /usr/bin/time >/dev/null || { echo "onnx_load.sh needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
files=$(ls -S ../shared/benchmarks/*/onnx/*.onnx ../shared/compression/*.onnx benchmarks/compression/*.onnx 2>/dev/null | head -4)
printf '| file | size (MB) | median wall (s) | peak RSS (MB) |\n|---|---|---|---|\n'
for f in $files; do
  times=(); rss=0
  for _ in 1 2 3 4 5; do
    out=$( { /usr/bin/time -f '%e %M' "$bin" inspect "$f" > /dev/null; } 2>&1 | tail -1)
    times+=("${out% *}"); r=${out#* }; if (( r > rss )); then rss=$r; fi
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  size=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", b / 1048576 }')
  printf '| %s | %s | %s | %s |\n' "${f#../shared/}" "$size" "$median" "$((rss / 1024))"
done
