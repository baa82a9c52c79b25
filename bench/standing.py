#!/usr/bin/env python3
"""Where NNVerify stands among the tools of the published results, per family: how many instances
each published tool solved with the published verdict (its `agreeing_tools` column), against the
instances our committed full-limit chunks (bench/results/FAMILY/**.csv, any thread count) solved
within the instance's limit with a verdict that agrees. Prints Markdown for BENCHMARKS.md.

usage: bench/standing.py FAMILY...

The published tools ran on other machines (VNN-COMP 2021: AWS CPU or GPU instances; the VeriStable
paper's runs: its own GPU machine, 1,000 s limits on mnistfc and mnist_gdvb), so a count says how
many instances a tool answered, not how fast; ours ran on the 2-core VM at the instance's limit.
"""
import csv, glob, os, sys
from collections import Counter

def published(family):
    with open(f"../shared/benchmarks/{family}/results.csv", newline="") as f:
        return {(os.path.basename(r["onnx"]), os.path.basename(r["vnnlib"])): r for r in csv.DictReader(f)}

def ours(family):
    """Per instance, the verdict of a committed chunk that answered it within the limit (any
    chunk, with one or two threads); instances no chunk answered map to the last row's verdict."""
    result = {}
    for chunk in sorted(glob.glob(f"bench/results/{family}/*.csv") + glob.glob(f"bench/results/{family}/*/*.csv")):
        for r in csv.DictReader(open(chunk, newline="")):
            key = (os.path.basename(r["onnx"]), os.path.basename(r["vnnlib"]))
            answered = r["verdict"] in ("sat", "unsat") and float(r["time_s"]) <= float(r["timeout"])
            if answered or key not in result or result[key] not in ("sat", "unsat"):
                result[key] = r["verdict"] if answered else "timeout"
    return result

def main():
    print("| family | instances | NNVerify solved (wrong) | rank | tools ahead (solved) | tied | next below |")
    print("|---|---|---|---|---|---|---|")
    missed_lines = []
    for family in sys.argv[1:]:
        truth = published(family)
        mine = ours(family)
        counts = Counter()
        for r in truth.values():
            for tool in filter(None, r["agreeing_tools"].split(";")):
                counts[tool] += 1
        solved = sum(1 for k, v in mine.items() if v in ("sat", "unsat") and truth[k]["verdict"] == v)
        wrong = sum(1 for k, v in mine.items() if v in ("sat", "unsat") and truth[k]["verdict"] in ("sat", "unsat")
                    and truth[k]["verdict"] != v)
        others = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ahead = [f"{t} {n}" for t, n in others if n > solved]
        tied = [t for t, n in others if n == solved]
        below = next((f"{t} {n}" for t, n in others if n < solved), "-")
        print(f"| {family} | {len(truth)} ({len(mine)} run) | {solved} ({wrong}) | {len(ahead) + 1} of {len(others) + 1} | "
              f"{', '.join(ahead) or '-'} | {', '.join(tied) or '-'} | {below} |")
        missed = [(k, truth[k]) for k, v in mine.items()
                  if v not in ("sat", "unsat") and truth[k]["verdict"] in ("sat", "unsat")]
        if missed:
            missed_lines.append(f"- {family}, {len(missed)}: " + "; ".join(
                f"{k[0].removesuffix('.onnx').removesuffix('_simplified')} {k[1].removesuffix('.vnnlib')} "
                f"({r['verdict']}, {r['best_tool']} {r['best_time_s']} s)" for k, r in sorted(missed)))
    if missed_lines:
        print()
        print("Solved by some published tool, not by us (verdict, fastest tool and its time):")
        print()
        print("\n".join(missed_lines))

if __name__ == "__main__":
    main()
