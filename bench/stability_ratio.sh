#!/usr/bin/env bash
# Exact mode (one harvesting MILP for the whole network) against the earlier method (baseline: two
# big-M MILPs per neuron, layer by layer), side by side on the same networks over [0,1]^n.
# Prints a Markdown table: time per mode, the ratio baseline / exact, whether the classes agree,
# and the neurons each mode left undecided. Per-run JSON and logs go to out/stability_ratio/.
#
# usage: bench/stability_ratio.sh [-t TIMEOUT_S] [-m "exact baseline"] [NET.onnx...]
#   -t  the --timeout of every run (default 600); a run is killed 60 s after it
#   -m  the modes to run (default both; "exact" alone gives exact times only)
#   NET default: benchmarks/compression/*.onnx and ../shared/compression/*.onnx
# NNVERIFY_BIN picks the binary (default .build/release/nnverify).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NNVERIFY_BIN:-.build/release/nnverify}
timeout=600
modes="exact baseline"
while getopts "t:m:" opt; do
  case $opt in
    t) timeout=$OPTARG ;;
    m) modes=$OPTARG ;;
    *) echo "usage: $0 [-t TIMEOUT_S] [-m MODES] [NET.onnx...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
nets=("$@")
if [ ${#nets[@]} -eq 0 ]; then
  nets=(benchmarks/compression/*.onnx)
  [ -d ../shared/compression ] && nets+=(../shared/compression/*.onnx)
fi
dir=out/stability_ratio
mkdir -p "$dir"
for net in "${nets[@]}"; do
  name=$(basename "$net" .onnx)
  for mode in $modes; do
    json=$dir/$name.$mode.json
    rm -f "$json"
    start=$(date +%s.%N)
    status=ok
    timeout -k 10 $((${timeout%.*} + 60)) "$bin" stability "$net" --box 0,1 --mode "$mode" --timeout "$timeout" \
      --json "$json" > "$dir/$name.$mode.log" 2>&1 || status="failed (exit $?)"
    awk -v s="$start" -v e="$(date +%s.%N)" -v st="$status" 'BEGIN { printf "%.2f\t%s\n", e - s, st }' > "$dir/$name.$mode.wall"
    echo "$name $mode: $(cut -f1 "$dir/$name.$mode.wall") s wall, $status" >&2
  done
done
python3 bench/stability_ratio.py "$dir" "${nets[@]}"
