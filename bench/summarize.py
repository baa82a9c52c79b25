#!/usr/bin/env python3
"""Turns out/bench/*.csv (written by bench/run_family.sh) into the Markdown table for BENCHMARKS.md.

usage: bench/summarize.py [--dir DIR] FAMILY... (reads DIR/FAMILY.csv, default out/bench, and the
family's published verdicts; --dir compares saved runs, e.g. before and after a change)
"""
import csv, os, statistics, sys

def published(family):
    d = "benchmarks/vnnlib" if family == "bundled" else f"../shared/benchmarks/{family}"
    with open(os.path.join(d, "results.csv"), newline="") as f:
        return {(os.path.basename(r["onnx"]), os.path.basename(r["vnnlib"])): r["verdict"] for r in csv.DictReader(f)}

def main():
    print("| family | instances | solved | sat | unsat | unknown | timeout | error | wrong | over limit | total time (s) | median time solved (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    args = sys.argv[1:]
    folder = "out/bench"
    if args[:1] == ["--dir"]:
        folder, args = args[1], args[2:]
    for family in args:
        truth = published(family)
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
        print(f"| {family} | {len(rows)} | {len(solved)} | {count('sat')} | {count('unsat')} | {count('unknown')} | "
              f"{count('timeout')} | {count('error')} | {wrong} | {over} | {total:.1f} | {median} |")

if __name__ == "__main__":
    main()
