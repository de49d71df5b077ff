#!/usr/bin/python3
"""Plot sockbench results: destruction time vs sockets and vs namespaces.

Reads one or more result JSON files (Google Benchmark format written by
`sockbench run`), and draws, per approach, the median destruction time of each
scenario with min-max whiskers on log-log axes. Results of a single scenario
(the default workload) become a bar chart per scenario instead. Files from different kernels
(host vs patched VM) are drawn side by side in one figure, one panel each, so
timings are only ever compared within one kernel and VM mode.

Run with Debian's interpreter (python3-matplotlib): /usr/bin/python3 plots/plot.py
"""
import argparse
import collections
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

APPROACH_STYLE = {
    "sock_diag": ("tab:gray", "s"),
    "iter_per_netns": ("tab:blue", "o"),
    "iter_all_netns": ("tab:green", "^"),
    "sockhash_bucket": ("tab:red", "D"),
    "sk_storage_iter": ("tab:purple", "v"),
    "sleepable_kfunc": ("tab:orange", "P"),
}
NAME_RE = re.compile(r"^destroy/(?P<approach>[^/]+)/netns:(?P<netns>\d+)/sockets:(?P<sockets>\d+)/targets:(?P<per>\d+)x(?P<tns>\d+)")


def load(path):
    """-> (context, {(approach, netns, sockets, targets): [times in ms]}, errors)"""
    with open(path) as f:
        doc = json.load(f)
    series = collections.defaultdict(list)
    errors = {}
    for b in doc.get("benchmarks", []):
        m = NAME_RE.match(b.get("name", ""))
        if not m or b.get("run_type") != "iteration":
            continue
        key = (m["approach"], int(m["netns"]), int(m["sockets"]), int(m["per"]) * int(m["tns"]))
        if b.get("error_occurred"):
            errors[m["approach"]] = b.get("error_message", "")
            continue
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ms")]
        series[key].append(b["real_time"] * scale)
    return doc.get("context", {}), series, errors


def panel_title(ctx):
    vm = ctx.get("vm", "none")
    mode = "host" if vm == "none" else f"VM ({vm}{', emulated' if vm == 'tcg' else ''})"
    patch = ctx.get("patchset", "none")
    return f"{ctx.get('kernel_release', '?')} — {mode}\npatchset: {patch if len(patch) < 40 else patch[:37] + '...'}"


def draw(ax, series, xaxis, fixed_label):
    """One line per approach; x = sockets or netns, other scenario fields fixed."""
    by_approach = collections.defaultdict(list)
    for (approach, netns, sockets, targets), times in series.items():
        x = sockets if xaxis == "sockets" else netns
        times = sorted(times)
        mid = len(times) // 2
        median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
        by_approach[approach].append((x, median, times[0], times[-1]))
    drawn = 0
    for approach, pts in sorted(by_approach.items()):
        xs = sorted({p[0] for p in pts})
        if len(xs) < 2:
            continue
        pts.sort()
        color, marker = APPROACH_STYLE.get(approach, ("black", "x"))
        x = [p[0] for p in pts]
        y = [p[1] for p in pts]
        yerr = [[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]]
        ax.errorbar(x, y, yerr=yerr, label=approach, color=color, marker=marker, capsize=3)
        drawn += 1
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sockets in the fleet" if xaxis == "sockets" else "network namespaces")
    ax.set_ylabel("destruction time, median (ms)")
    ax.grid(True, which="both", alpha=0.3)
    if fixed_label:
        # A legend entry without a marker: never drawn over a line or the legend.
        ax.plot([], [], " ", label=fixed_label)
    return drawn


def draw_bars(ax, series, errors):
    """One bar per approach (median, min-max whisker); unsupported ones named."""
    names, medians, lo, hi, colors = [], [], [], [], []
    for (approach, _netns, _sockets, _targets), times in sorted(series.items()):
        times = sorted(times)
        mid = len(times) // 2
        median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
        names.append(approach)
        medians.append(median)
        lo.append(median - times[0])
        hi.append(times[-1] - median)
        colors.append(APPROACH_STYLE.get(approach, ("black", "x"))[0])
    if not names:
        return 0
    # Fastest first: the order a reader compares them in.
    order = sorted(range(len(names)), key=lambda i: medians[i])
    xs = list(range(len(order)))
    ax.bar(xs, [medians[i] for i in order], color=[colors[i] for i in order],
           yerr=[[lo[i] for i in order], [hi[i] for i in order]], capsize=4)
    ax.set_xticks(xs, [names[i] for i in order], rotation=15, fontsize=8)
    for x, i in zip(xs, order):
        m = medians[i]
        label = f"{m / 1e3:.2f} s" if m >= 1e3 else f"{m:.3g} ms"
        ax.text(x + 0.08, m, label, ha="left", va="bottom", fontsize=8)
    ax.set_yscale("log")
    # Bars grow from well below the fastest one, so heights stay comparable.
    ax.set_ylim(bottom=min(medians) / 10)
    ax.set_ylabel("destruction time, median (ms)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    if errors:
        # Under the axis, where no bar or bar label goes.
        ax.set_xlabel("unsupported here: " + ", ".join(sorted(errors)), fontsize=8)
    return len(names)


def plot_single_scenario(loaded, args):
    """Bar chart per file, for results that hold one scenario each."""
    fig, axes = plt.subplots(1, len(loaded), figsize=(6.4 * len(loaded), 4.8), squeeze=False)
    total = 0
    for ax, (path, ctx, series, errors) in zip(axes[0], loaded):
        total += draw_bars(ax, series, errors)
        ax.set_title(panel_title(ctx), fontsize=9)
    if total == 0:
        plt.close(fig)
        return []
    workload = loaded[0][1].get("workload", "")
    scenario = sorted(loaded[0][2])[0] if loaded[0][2] else None
    what = (f" ({scenario[1]} netns, {scenario[2]} sockets, {scenario[3]} targets)"
            if scenario else "")
    prefix = f"{args.title}, " if args.title else ""
    fig.suptitle(f"{prefix}{workload}{what}: time to destroy the dying backend's sockets")
    fig.tight_layout()
    written = []
    for ext in ("png", "svg"):
        out = os.path.join(args.out_dir, f"{workload}-by-approach.{ext}")
        fig.savefig(out, dpi=130)
        written.append(out)
    plt.close(fig)
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="sockbench result JSON files")
    ap.add_argument("--out-dir", default="plots/out", help="where PNG and SVG files go")
    ap.add_argument("--title", default="", help="figure title prefix")
    args = ap.parse_args()

    loaded = [(p, *load(p)) for p in args.results]
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for xaxis in ("sockets", "netns"):
        fig, axes = plt.subplots(1, len(loaded), figsize=(6.4 * len(loaded), 4.8), squeeze=False)
        total = 0
        for ax, (path, ctx, series, errors) in zip(axes[0], loaded):
            fixed = ""
            if errors:
                fixed = "unsupported here: " + ", ".join(sorted(errors))
            total += draw(ax, series, xaxis, fixed)
            ax.set_title(panel_title(ctx), fontsize=9)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8, loc="best")
        if total == 0:
            plt.close(fig)
            continue  # this sweep does not vary along this axis
        workload = loaded[0][1].get("workload", "")
        prefix = f"{args.title}, " if args.title else ""
        fig.suptitle(f"{prefix}{workload}: time to destroy the dying backend's sockets vs {xaxis}")
        fig.tight_layout()
        for ext in ("png", "svg"):
            out = os.path.join(args.out_dir, f"{workload}-vs-{xaxis}.{ext}")
            fig.savefig(out, dpi=130)
            written.append(out)
        plt.close(fig)
    if not written:
        written = plot_single_scenario(loaded, args)
    if not written:
        print("plot.py: nothing to plot (no timed, verified entries)")
    for w in written:
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
