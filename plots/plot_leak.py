#!/usr/bin/python3
"""Plots of the reverse-NAT leak study (docs/leak.md), PNG and SVG.

  /usr/bin/python3 plots/plot_leak.py results/leak-churn-<kernel>.json [--out PREFIX]
      churn: reverse-map occupancy, evicted live entries and live sockets that
      see the backend instead of the VIP, per cycle, per strategy.
  /usr/bin/python3 plots/plot_leak.py results/leak-<kernel>.json [--out PREFIX]
      matrix: leak rate of every cell, per strategy.

PREFIX defaults to the input path without ".json"; PREFIX.png and
PREFIX.svg are written. Needs Debian's python3-matplotlib.
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"addr_keyed": "#d62728", "sk_storage": "#2ca02c", "cookie_index": "#1f77b4"}


def machine_line(ctx):
    return "kernel {} on {} ({} CPUs), sockbench {}".format(
        ctx.get("kernel_release", "?"), ctx.get("cpu_model", "?"), ctx.get("num_cpus", "?"),
        ctx.get("sockbench_git_revision", "?"))


def plot_churn(doc, prefix):
    series = [s for s in doc["churn"] if "points" in s]
    if not series:
        sys.exit("plot_leak: no churn series without error in the input")
    fig, (occ, live) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    lru = None
    for s in series:
        name = s["strategy"]
        colour = COLOURS.get(name)
        cycles = [p["cycle"] for p in s["points"]]
        occ.plot(cycles, [p["occupancy"] for p in s["points"]], label=name, color=colour, lw=2)
        if name != "sk_storage":
            lru = s["lru_size"]
            evicted = [p["live_evicted"] for p in s["points"]]
            live.plot(cycles, evicted, color=colour, lw=1.5, ls="--",
                      label="{}: live entries evicted".format(name))
        live.plot(cycles, [p["live_wrong_known"] for p in s["points"]], color=colour, lw=2,
                  label="{}: live sockets seeing the backend".format(name))
    if lru:
        occ.axhline(lru, color="grey", ls=":", lw=1)
        occ.text(0, lru, " LRU size {}".format(lru), va="bottom", color="grey", fontsize=8)
    s0 = series[0]
    occ.set_ylabel("reverse-NAT entries in the kernel")
    occ.set_title("Backend dies every cycle: {} connected UDP sockets aborted ({}),\n"
                  "{} long-lived sockets, each checked once every {} cycles".format(
                      s0["churn_sockets"], s0["approach"], s0["live_sockets"], s0["check_every"]),
                  fontsize=10)
    occ.legend(fontsize=8)
    occ.grid(alpha=0.3)
    live.set_ylabel("live sockets")
    live.set_xlabel("cycle")
    live.set_ylim(-1, s0["live_sockets"] * 1.1 + 1)
    live.legend(fontsize=7, loc="center right")
    live.grid(alpha=0.3)
    fig.text(0.01, 0.005, machine_line(doc.get("context", {})), fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


def plot_matrix(doc, prefix):
    cells = [c for c in doc["cells"] if "leak_rate" in c]
    strategies = []
    for c in cells:
        if c["strategy"] not in strategies:
            strategies.append(c["strategy"])
    def label_of(c):
        label = "{} {} {}".format(c["protocol"], c["family"],
                                  "close" if c["type"] == "close" else "abort/" + c["approach"])
        # Unconnected UDP has no destination: the abort matches nothing.
        return label if c.get("applicable", True) else label + " (n/a, closed)"

    labels = []
    for c in cells:
        if label_of(c) not in labels:
            labels.append(label_of(c))
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(labels) + 1.5))
    height = 0.8 / max(len(strategies), 1)
    for i, strat in enumerate(strategies):
        rate = {label_of(c): 100.0 * c["leak_rate"] for c in cells if c["strategy"] == strat}
        ys = [j + i * height for j in range(len(labels))]
        values = [rate.get(label) for label in labels]
        ax.barh(ys, [v or 0 for v in values], height=height, label=strat, color=COLOURS.get(strat))
        for y, v in zip(ys, values):
            if v is not None:
                ax.text((v or 0) + 0.5, y, "{:.0f}%".format(v), va="center", fontsize=5,
                        color=COLOURS.get(strat))
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(labels))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("reverse-NAT entries left after every socket is gone (% of inserted)")
    ax.set_xlim(0, 110)
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Leak matrix ({} sockets per cell)".format(
        doc.get("context", {}).get("sockets_per_cell", "?")), fontsize=10)
    fig.text(0.01, 0.005, machine_line(doc.get("context", {})), fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return fig


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="JSON written by sockbench leak")
    ap.add_argument("--out", help="output prefix (default: the input without .json)")
    args = ap.parse_args()
    with open(args.result) as f:
        doc = json.load(f)
    prefix = args.out or (args.result[:-5] if args.result.endswith(".json") else args.result)
    if "churn" in doc:
        fig = plot_churn(doc, prefix)
    elif "cells" in doc:
        fig = plot_matrix(doc, prefix)
    else:
        sys.exit("plot_leak: {} has neither 'churn' nor 'cells'".format(args.result))
    for ext in ("png", "svg"):
        fig.savefig("{}.{}".format(prefix, ext), dpi=120)
        print("{}.{}".format(prefix, ext))


if __name__ == "__main__":
    main()
