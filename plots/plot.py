#!/usr/bin/python3
"""Plot sockbench results: destruction time vs sockets and vs namespaces.

Reads one or more result JSON files (Google Benchmark format written by
`sockbench run`, either schema version: sockbench_results.py), and draws, per approach, the median destruction time of each
scenario with min-max whiskers on log-log axes. Results of a single scenario
(the default workload) become a bar chart per scenario instead. Files from different kernels
(host vs patched VM) are drawn side by side in one figure, one panel each, so
timings are only ever compared within one kernel and VM mode.

Run with Debian's interpreter (python3-matplotlib): /usr/bin/python3 plots/plot.py
"""
import argparse
import collections
import math
import os
import re
import sys
import textwrap

import sockbench_results

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

APPROACH_STYLE = {
    "sock_diag": ("tab:gray", "s"),
    "iter_per_netns": ("tab:blue", "o"),
    "iter_all_netns": ("tab:green", "^"),
    "sockhash_bucket": ("tab:red", "D"),
    "sk_storage_iter": ("tab:purple", "v"),
    "sleepable_kfunc": ("tab:orange", "P"),
    "sleepable_kfunc_rbtree": ("tab:brown", "X"),
}
SCENARIO_RE = re.compile(r"^netns:(?P<netns>\d+)/sockets:(?P<sockets>\d+)/targets:(?P<per>\d+)x(?P<tns>\d+)$")


def load(path):
    """-> (context, {(approach, netns, sockets, targets): [times in ms]},
    errors {approach: (status, reason)}: the approaches not timed)"""
    ctx, timed, not_timed = sockbench_results.load(path)
    series = collections.defaultdict(list)
    for (approach, scenario), times in timed.items():
        m = SCENARIO_RE.match(scenario)
        series[(approach, int(m["netns"]), int(m["sockets"]), int(m["per"]) * int(m["tns"]))] = times
    errors = {e["approach"]: (e["status"], e["reason"]) for e in not_timed}
    return ctx, series, errors


def not_timed_label(errors):
    """"unsupported here: a, b; failed here: c": what the panel does not draw."""
    parts = []
    for status in ("unsupported", "failed"):
        names = sorted(a for a, (st, _why) in errors.items() if st == status)
        if names:
            parts.append(f"{status} here: " + ", ".join(names))
    return "; ".join(parts)


def panel_title(ctx):
    vm = ctx.get("vm", "none")
    mode = "host" if vm == "none" else f"VM ({vm}{', emulated' if vm == 'tcg' else ''})"
    patch = ctx.get("patchset", "none")
    return f"{ctx.get('kernel_release', '?')} — {mode}\npatchset: {patch if len(patch) < 40 else patch[:37] + '...'}"


def _fits(fig, text_artist, width):
    renderer = fig.canvas.get_renderer()
    return text_artist.get_window_extent(renderer).width <= width


def fit_suptitle(fig, title, fontsize=12):
    """The figure's title, on as many lines as it takes to fit the figure
    (a single-panel figure is narrower than the title): whole, else broken
    after its ': ', else wrapped at word boundaries."""
    width = fig.get_figwidth() * fig.dpi * 0.96
    head, sep, tail = title.partition(": ")
    candidates = [title] + ([f"{head}:\n{tail}"] if sep else [])
    candidates += ["\n".join(textwrap.wrap(title, w)) for w in range(len(title) - 1, 10, -4)]
    for text in candidates:
        t = fig.suptitle(text, fontsize=fontsize)
        if _fits(fig, t, width):
            break
    return t


def fit_xlabel(ax, text, fontsize=8):
    """An x-axis label wrapped to the axes' width (a long 'unsupported here'
    list would run past the panel, into its neighbour)."""
    fig = ax.figure
    # tight_layout narrows the axes a little afterwards: keep a margin.
    width = ax.get_window_extent(fig.canvas.get_renderer()).width * 0.9
    for w in range(len(text), 10, -4):
        label = ax.set_xlabel("\n".join(textwrap.wrap(text, w)), fontsize=fontsize)
        if _fits(fig, label, width):
            break
    return ax.xaxis.label


def fit_xticklabels(ax, names, fontsize=8):
    """Bar names under their bars: level when they fit side by side, else
    turned just enough that neighbours stay apart (six approaches with long
    names do not fit level in one panel). Turned labels are parallel
    strips, one line high, their anchors one bar apart: they stay clear of
    each other when that distance times sin(angle) exceeds the line."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    labels = ax.set_xticks(range(len(names)), names, fontsize=fontsize)
    if len(names) < 2:
        return labels
    # Tick labels are laid out at draw time: measure the names themselves.
    font = FontProperties(size=fontsize)
    sizes = [renderer.get_text_width_height_descent(n, font, ismath=False) for n in names]
    widest = max(w for w, _h, _d in sizes)
    line = max(h for _w, h, _d in sizes)
    # tight_layout narrows the axes a little afterwards: keep a margin.
    x0, x1 = ax.get_xlim()  # (autoscaled to the bars on asking)
    step = 0.85 * ax.get_window_extent(renderer).width / (x1 - x0)
    if widest < 0.9 * step:
        return labels
    for rotation in (20, 30, 45, 60, 90):
        if step * math.sin(math.radians(rotation)) > 1.5 * line:
            break
    return ax.set_xticks(range(len(names)), names, fontsize=fontsize, rotation=rotation,
                         ha="right", rotation_mode="anchor")


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
    fit_xticklabels(ax, [names[i] for i in order])
    for x, i in zip(xs, order):
        m = medians[i]
        label = f"{m / 1e3:.2f} s" if m >= 1e3 else f"{m:.3g} ms"
        # Centred over the whisker's top: within its own bar's width, clear
        # of the whisker and of the neighbours' labels.
        ax.annotate(label, (x, m + hi[i]), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    # Bars grow from well below the fastest one, so heights stay comparable;
    # room above the slowest whisker for its label.
    top = max(medians[i] + hi[i] for i in order)
    ax.set_ylim(bottom=min(medians) / 10, top=top * 2.5)
    ax.set_ylabel("destruction time, median (ms)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    if errors:
        # Under the axis, where no bar or bar label goes, wrapped to the panel.
        fit_xlabel(ax, not_timed_label(errors))
    return len(names)


def single_scenario_figure(loaded, title=""):
    """Bar chart per file, for results that hold one scenario each:
    (name, figure), or None when nothing was timed."""
    fig, axes = plt.subplots(1, len(loaded), figsize=(6.4 * len(loaded), 4.8), squeeze=False)
    total = 0
    for ax, (path, ctx, series, errors) in zip(axes[0], loaded):
        total += draw_bars(ax, series, errors)
        ax.set_title(panel_title(ctx), fontsize=9)
    if total == 0:
        plt.close(fig)
        return None
    workload = loaded[0][1].get("workload", "")
    scenario = sorted(loaded[0][2])[0] if loaded[0][2] else None
    what = (f" ({scenario[1]} netns, {scenario[2]} sockets, {scenario[3]} targets)"
            if scenario else "")
    prefix = f"{title}, " if title else ""
    fit_suptitle(fig, f"{prefix}{workload}{what}: time to destroy the dying backend's sockets")
    fig.tight_layout()
    return f"{workload}-by-approach", fig


def sweep_figure(loaded, xaxis, title=""):
    """Lines over `xaxis` ("sockets" or "netns"), one panel per file:
    (name, figure), or None when no scenario varies along it."""
    fig, axes = plt.subplots(1, len(loaded), figsize=(6.4 * len(loaded), 4.8), squeeze=False)
    total = 0
    for ax, (path, ctx, series, errors) in zip(axes[0], loaded):
        # A legend entry: wrapped, so the legend stays narrow.
        fixed = "\n".join(textwrap.wrap(not_timed_label(errors), 40))
        total += draw(ax, series, xaxis, fixed)
        ax.set_title(panel_title(ctx), fontsize=9)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            # The approaches first, the note on what is not drawn last.
            pairs = sorted(zip(handles, labels), key=lambda hl: hl[1] == fixed)
            ax.legend([h for h, _l in pairs], [l for _h, l in pairs], fontsize=8, loc="best")
    if total == 0:
        plt.close(fig)
        return None
    workload = loaded[0][1].get("workload", "")
    prefix = f"{title}, " if title else ""
    fit_suptitle(fig, f"{prefix}{workload}: time to destroy the dying backend's sockets vs {xaxis}")
    fig.tight_layout()
    return f"{workload}-vs-{xaxis}", fig


def figures(paths, title=""):
    """Every figure plot.py draws of these result files: [(name, figure)]:
    a sweep along sockets and/or namespaces, else one bar chart."""
    loaded = [(p, *load(p)) for p in paths]
    out = [f for f in (sweep_figure(loaded, x, title) for x in ("sockets", "netns")) if f]
    if not out:
        single = single_scenario_figure(loaded, title)
        out = [single] if single else []
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="sockbench result JSON files")
    ap.add_argument("--out-dir", default="plots/out", help="where PNG and SVG files go")
    ap.add_argument("--title", default="", help="figure title prefix")
    args = ap.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for name, fig in figures(args.results, args.title):
        for ext in ("png", "svg"):
            out = os.path.join(args.out_dir, f"{name}.{ext}")
            fig.savefig(out, dpi=130)
            written.append(out)
        plt.close(fig)
    if not written:
        print("plot.py: nothing to plot (no timed, verified entries)")
    for w in written:
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
