#!/usr/bin/env bash
# Runs a VNN-COMP family at its full per-instance limits (the instances file's timeouts) in
# chunks that add up across sessions: each chunk's suite output is committed as
# bench/results/FAMILY/LABEL.csv, and instances that some earlier chunk already ran are skipped.
# `bench/summarize.py --results FAMILY` merges the chunks into the family's row of BENCHMARKS.md.
#
# usage: bench/full_limits.sh FAMILY LABEL [--only LIST] [--limit N] [--set NAME] [nnverify suite options]
#   LABEL      names the chunk (e.g. s16, the session), so a table can say which binary ran what
#   --only F   runs only the instances of F (lines as in the family's instances.csv), in F's order
#   --limit N  runs at most N instances (the first not run yet)
#   --set NAME keeps the chunk apart, in bench/results/FAMILY/NAME/, for runs under other
#              conditions (e.g. `--set threads2 --threads 2`); `summarize.py --results FAMILY/NAME`
#   --threads defaults to 1: two chunks can then run side by side on the 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib_family.sh
parse_family_args "$1"
label=$2
shift 2
only=""
limit=0
set_name=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --set) set_name=$2; shift 2 ;;
    *) break ;;
  esac
done
threads=(--threads 1)
for a in "$@"; do [ "$a" = --threads ] && threads=(); done

results=bench/results/$family${set_name:+/$set_name}
mkdir -p "$results" out/bench
out=$results/$label.csv
[ -e "$out" ] && { echo "full_limits.sh: $out exists; pick another label" >&2; exit 1; }
# Per-chunk files under out/bench share one stem (the instance list and the suite's log).
stem=out/bench/$family${set_name:+.$set_name}.$label
list=$stem.instances.csv
# Instances already in some chunk (matched by onnx and vnnlib path) are not run again.
python3 - "$dir/instances.csv" "${only:-$dir/instances.csv}" "$results" "$limit" > "$list" <<'PY'
import csv, glob, os, sys
family_list, wanted, results, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
done = set()
for f in glob.glob(os.path.join(results, "*.csv")):
    done |= {(r["onnx"], r["vnnlib"]) for r in csv.DictReader(open(f, newline=""))}
known = {tuple(l[:2]) for l in csv.reader(open(family_list, newline="")) if l}
rows = [l for l in csv.reader(open(wanted, newline="")) if l and tuple(l[:2]) not in done]
for l in rows:
    if tuple(l[:2]) not in known:
        sys.exit(f"full_limits.sh: {l[0]} {l[1]} is not an instance of {family_list}")
for l in rows[:limit or None]:
    print(",".join(l[:3]))
PY
count=$(wc -l < "$list")
[ "$count" -gt 0 ] || { echo "full_limits.sh: every instance asked for has run already" >&2; exit 0; }
echo "full_limits.sh: $count instances of $family into $out" >&2
${NNVERIFY_BIN:-.build/release/nnverify} suite "$list" --root "$dir" --out "$out" \
    --ground-truth "$dir/results.csv" "${threads[@]}" "$@" > "$stem.log" && status=0 || status=$?
tail -3 "$stem.log"
exit $status
