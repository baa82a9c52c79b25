#!/usr/bin/env python3
"""Markdown table for bench/stability_ratio.sh from out/stability_ratio/NAME.MODE.json.

usage: bench/stability_ratio.py DIR NET.onnx...

Time is the detector's own total (`seconds.total`, without loading the network); "agree" compares
the classes of the neurons both modes decided (a disagreement there means a soundness bug in one
of them), and the undecided (unknown) neurons are counted per mode. A mode that left neurons
undecided ran into its time limit, so the ratio is then a lower bound (≥) or not defined.
"""
import json, os, sys


def load(directory, name, mode):
    path = os.path.join(directory, f"{name}.{mode}.json")
    if not os.path.exists(path):
        wall = os.path.join(directory, f"{name}.{mode}.wall")
        status = open(wall).read().split("\t", 1)[1].strip() if os.path.exists(wall) else "not run"
        return None, status
    return json.load(open(path)), "ok"


def main():
    directory, nets = sys.argv[1], sys.argv[2:]
    print("| network | neurons | exact (s) | baseline (s) | ratio baseline/exact | agree | undecided exact / baseline | baseline MILP + certify (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for net in nets:
        name = os.path.basename(net)[:-len(".onnx")]
        runs = {mode: load(directory, name, mode) for mode in ("exact", "baseline")}
        neurons = next((len(r["neurons"]) for r, _ in runs.values() if r), "?")
        cells, classes, undecided = {}, {}, {}
        for mode, (report, status) in runs.items():
            if report is None:
                cells[mode] = status if status != "not run" else "-"
                undecided[mode] = "-"
                continue
            cells[mode] = f"{report['seconds']['total']:.1f}"
            classes[mode] = {(n["layer"], n["index"]): n["stability"] for n in report["neurons"]}
            undecided[mode] = str(sum(1 for c in classes[mode].values() if c == "unknown"))
        if len(classes) == 2:
            e, b = runs["exact"][0]["seconds"]["total"], runs["baseline"][0]["seconds"]["total"]
            open_e, open_b = int(undecided["exact"]), int(undecided["baseline"])
            # A run that left neurons undecided stopped at its time limit: its time is a lower bound.
            if open_e == 0 and e > 0:
                ratio = f"{b / e:.1f}" if open_b == 0 else f"≥ {b / e:.1f}"
            else:
                ratio = "- (exact incomplete)" if open_b == 0 else "- (both incomplete)"
            both = [k for k in classes["exact"] if "unknown" not in (classes["exact"][k], classes["baseline"][k])]
            wrong = sum(1 for k in both if classes["exact"][k] != classes["baseline"][k])
            agree = "yes" if wrong == 0 else f"no ({wrong} differ)"
        else:
            ratio, agree = "-", "-"
        base = runs["baseline"][0]
        split = "-"
        if base:
            s = base["seconds"]
            split = f"{s.get('milp', 0):.1f} + {s.get('certify', 0):.1f}"
        print(f"| {name} | {neurons} | {cells['exact']} | {cells['baseline']} | {ratio} | {agree} | "
              f"{undecided['exact']} / {undecided['baseline']} | {split} |")


if __name__ == "__main__":
    main()
