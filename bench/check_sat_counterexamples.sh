#!/usr/bin/env bash
# Verifies every instance of a family with `nnverify verify --result-file`, and re-checks every
# `sat` answer's counterexample independently with scripts/check_counterexample.py (onnxruntime).
#
# usage: bench/check_sat_counterexamples.sh FAMILY_DIR [INSTANCES.csv] [TIMEOUT]
#   FAMILY_DIR     folder the instance paths are relative to (e.g. benchmarks/vnnlib,
#                  ../shared/benchmarks/test)
#   INSTANCES.csv  onnx,vnnlib,timeout lines (default FAMILY_DIR/instances.csv)
#   TIMEOUT        cap on each instance's timeout in seconds (default: the instance's own)
# environment:
#   NNVERIFY_BIN   the nnverify binary (default .build/release/nnverify)
#   OUT_DIR        where result files go (default out/sat-check/<family folder name>)
#   NNVERIFY_ARGS  extra arguments for `nnverify verify` (e.g. "--threads 2 --seed 1")
#   TOL            tolerance for the check (default 1e-4)
#
# Prints one line per instance and the summary "N instances, N sat, N valid, N invalid"
# (plus disagreements with FAMILY_DIR/results.csv when it exists). Exit status 1 when any
# counterexample is invalid, any verdict contradicts results.csv, or nnverify fails; 2 on usage
# errors.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: $0 FAMILY_DIR [INSTANCES.csv] [TIMEOUT]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage
dir=$1
instances=${2:-$dir/instances.csv}
cap=${3:-}
[ -d "$dir" ] || { echo "$0: $dir is not a folder" >&2; exit 2; }
[ -f "$instances" ] || { echo "$0: $instances not found" >&2; exit 2; }
if [ -n "$cap" ] && ! [[ $cap =~ ^[0-9]+([.][0-9]+)?$ ]]; then echo "$0: TIMEOUT must be a number of seconds" >&2; exit 2; fi
bin=${NNVERIFY_BIN:-$repo/.build/release/nnverify}
[ -x "$bin" ] || { echo "$0: $bin not found; build it with 'swift build -c release --product nnverify' or set NNVERIFY_BIN" >&2; exit 2; }
checker=$repo/scripts/check_counterexample.py
out=${OUT_DIR:-$repo/out/sat-check/$(basename "$(cd "$dir" && pwd)")}
mkdir -p "$out"
tol=${TOL:-1e-4}
truth=$dir/results.csv
read -r -a extra <<< "${NNVERIFY_ARGS:-}"

n=0; nsat=0; nvalid=0; ninvalid=0; nwrong=0; nerror=0
declare -A counts=()
while IFS=, read -r onnx vnnlib timeout _rest || [ -n "${onnx:-}" ]; do
    onnx=${onnx//$'\r'/}; vnnlib=${vnnlib//$'\r'/}; timeout=${timeout//$'\r'/}
    onnx=${onnx// /}; vnnlib=${vnnlib// /}; timeout=${timeout// /}
    [ -n "$onnx" ] || continue
    [ "$onnx" = onnx ] && continue  # a header line
    n=$((n + 1))
    t=${timeout:-60}
    if [ -n "$cap" ]; then t=$(awk -v a="$t" -v b="$cap" 'BEGIN { print (a + 0 < b + 0) ? a : b }'); fi
    name=$(basename "${onnx%.onnx}")__$(basename "${vnnlib%.vnnlib}")
    result=$out/$name.result
    rm -f "$result"
    start=$(date +%s.%N)
    "$bin" verify "$dir/$onnx" "$dir/$vnnlib" --timeout "$t" --result-file "$result" "${extra[@]}" \
        > "$out/$name.stdout" 2> "$out/$name.stderr"
    status=$?
    seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
    if [ $status -ne 0 ]; then
        nerror=$((nerror + 1))
        echo "[$n] $onnx $vnnlib: nnverify failed (exit $status): $(head -c 300 "$out/$name.stderr")"
        continue
    fi
    verdict=$(head -n 1 "$out/$name.stdout")
    counts[$verdict]=$(( ${counts[$verdict]:-0} + 1 ))
    line="[$n] $onnx $vnnlib: $verdict (${seconds} s)"
    if [ -f "$truth" ]; then
        published=$(awk -F, -v o="$onnx" -v v="$vnnlib" '{ gsub(/\r/, "") } $1 == o && $2 == v { print $4; exit }' "$truth")
        if { [ "$verdict" = sat ] || [ "$verdict" = unsat ]; } && { [ "$published" = sat ] || [ "$published" = unsat ]; } && [ "$verdict" != "$published" ]; then
            nwrong=$((nwrong + 1))
            line="$line  WRONG VERDICT (published $published)"
        fi
    fi
    if [ "$verdict" = sat ]; then
        nsat=$((nsat + 1))
        if ! cmp -s "$result" "$out/$name.stdout"; then
            ninvalid=$((ninvalid + 1))
            echo "$line  INVALID: --result-file differs from stdout"
            continue
        fi
        if message=$(python3 "$checker" "$dir/$onnx" "$dir/$vnnlib" "$result" --tol "$tol" 2>&1); then
            nvalid=$((nvalid + 1))
            line="$line  counterexample valid (${message#*: valid: })"
        else
            ninvalid=$((ninvalid + 1))
            line="$line  INVALID: $message"
        fi
    fi
    echo "$line"
done < "$instances"

verdicts=""
for v in sat unsat unknown timeout; do verdicts="$verdicts, $v ${counts[$v]:-0}"; done
echo "verdicts: $n instances$verdicts, errors $nerror"
[ -f "$truth" ] && echo "ground truth ($truth): $nwrong wrong"
echo "summary: $n instances, $nsat sat, $nvalid valid, $ninvalid invalid"
[ $ninvalid -eq 0 ] && [ $nwrong -eq 0 ] && [ $nerror -eq 0 ]
