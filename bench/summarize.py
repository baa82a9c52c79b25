#!/usr/bin/env python3
"""Turns out/bench/*.csv (written by bench/run_family.sh) into the Markdown table for BENCHMARKS.md.

usage: bench/summarize.py [--dir DIR] FAMILY... (reads DIR/FAMILY.csv, default out/bench, and the
family's published verdicts; --dir compares saved runs, e.g. before and after a change)
       bench/summarize.py --results FAMILY... (merges the committed full-limit chunks
bench/results/FAMILY/*.csv of bench/full_limits.sh, a later chunk's row replacing an earlier one's
for the same instance, and says how many of the family's instances they cover; FAMILY/SET reads the
chunks kept apart in bench/results/FAMILY/SET, e.g. runs with two threads)
"""
import csv, glob, os, statistics, sys

def published(family):
    d = "benchmarks/vnnlib" if family == "bundled" else f"../shared/benchmarks/{family}"
    with open(os.path.join(d, "results.csv"), newline="") as f:
        return {(os.path.basename(r["onnx"]), os.path.basename(r["vnnlib"])): r["verdict"] for r in csv.DictReader(f)}

def main():
    print("| family | instances | solved | sat | unsat | unknown | timeout | error | wrong | over limit | total time (s) | median time solved (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    args = sys.argv[1:]
    folder = "out/bench"
    merged = args[:1] == ["--results"]
    if merged:
        args = args[1:]
    elif args[:1] == ["--dir"]:
        folder, args = args[1], args[2:]
    for family in args:
        truth = published(family.split("/")[0])
        label = family
        if merged:
            rows, label = merged_chunks(family, truth)
        else:
            rows = list(csv.DictReader(open(f"{folder}/{family}.csv", newline="")))
        count = lambda v: sum(1 for r in rows if r["verdict"] == v)
        wrong = sum(1 for r in rows if r["verdict"] in ("sat", "unsat")
                    and truth.get((os.path.basename(r["onnx"]), os.path.basename(r["vnnlib"]))) in ("sat", "unsat")
                    and truth[(os.path.basename(r["onnx"]), os.path.basename(r["vnnlib"]))] != r["verdict"])
        solved = [float(r["time_s"]) for r in rows if r["verdict"] in ("sat", "unsat")]
        # Answers (or timeouts) that came more than a second and 10% after the instance's limit.
        over = sum(1 for r in rows if float(r["time_s"]) > 1.1 * float(r["timeout"]) + 1)
        total = sum(float(r["time_s"]) for r in rows)
        median = f"{statistics.median(solved):.2f}" if solved else "-"
        print(f"| {label} | {len(rows)} | {len(solved)} | {count('sat')} | {count('unsat')} | {count('unknown')} | "
              f"{count('timeout')} | {count('error')} | {wrong} | {over} | {total:.1f} | {median} |")

def merged_chunks(family, truth):
    """The rows of every committed chunk of `family`, one per instance (the chunk whose name sorts
    last wins), and a label naming the chunks and the share of the family they cover."""
    chunks = sorted(glob.glob(f"bench/results/{family}/*.csv"))
    rows = {}
    for chunk in chunks:
        for r in csv.DictReader(open(chunk, newline="")):
            rows[(r["onnx"], r["vnnlib"])] = r
    names = ", ".join(os.path.splitext(os.path.basename(c))[0] for c in chunks)
    return list(rows.values()), f"{family} (full limits, {len(rows)} of {len(truth)} run; chunks {names})"

if __name__ == "__main__":
    main()
