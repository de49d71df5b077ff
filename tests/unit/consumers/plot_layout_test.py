#!/usr/bin/python3
"""plots/plot.py's figures are readable as drawn: no text clipped at the
figure's edge, no two labels on top of each other, bar labels inside their
axes (#16: the host-only default plot clipped its title on both sides and
its 'unsupported here' note ran into a bar label).

  plot_layout_test.py SOURCE_DIR

Draws every committed results/*.json that plot.py reads, alone, the pairs
docs/results.md shows side by side, and a file whose 'not timed' note is
far longer than a panel, then checks each figure's text boxes as rendered.
"""
import copy
import glob
import itertools
import json
import math
import os
import sys
import tempfile

from check import check, done

SOURCE = os.path.realpath(sys.argv[1])
sys.path.insert(0, os.path.join(SOURCE, "plots"))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import plot  # noqa: E402

TOL = 1.0  # pixels


def inside(inner, outer):
    return (inner.x0 >= outer.x0 - TOL and inner.x1 <= outer.x1 + TOL and
            inner.y0 >= outer.y0 - TOL and inner.y1 <= outer.y1 + TOL)


def overlap(a, b):
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > TOL) and (min(a.y1, b.y1) - max(a.y0, b.y0) > TOL)


def corners(t, r):
    """The text's outline in pixels: its box, or, turned about its anchor
    (rotation_mode "anchor", as plot.py turns long bar names), the turned
    box, whose bounding box would overlap its neighbours' while the
    letters do not."""
    e = t.get_window_extent(r)
    rot = t.get_rotation() % 180
    if t.get_rotation_mode() != "anchor" or rot in (0, 90):
        return [(e.x0, e.y0), (e.x1, e.y0), (e.x1, e.y1), (e.x0, e.y1)]
    ax, ay = t.get_transform().transform(t.get_position())
    angle = t.get_rotation()
    t.set_rotation(0)
    flat = t.get_window_extent(r)
    t.set_rotation(angle)
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(ax + (x - ax) * c - (y - ay) * s, ay + (x - ax) * s + (y - ay) * c)
            for x, y in ((flat.x0, flat.y0), (flat.x1, flat.y0), (flat.x1, flat.y1), (flat.x0, flat.y1))]


def quads_overlap(p, q):
    """Separating axis test of two convex quadrilaterals (TOL pixels of
    slack)."""
    for poly in (p, q):
        for i in range(4):
            (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % 4]
            nx, ny = y1 - y0, x0 - x1
            norm = math.hypot(nx, ny) or 1.0
            pa = [(x * nx + y * ny) / norm for x, y in p]
            qa = [(x * nx + y * ny) / norm for x, y in q]
            if min(max(pa), max(qa)) - max(min(pa), min(qa)) <= TOL:
                return False
    return True


def shown(t):
    return t.get_visible() and t.get_text().strip() != ""


def hidden_ticks(fig):
    """Tick labels of ticks outside the axes' view: matplotlib keeps them,
    does not draw them."""
    out = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not lo - 1e-9 * abs(hi) <= loc <= hi + 1e-9 * abs(hi):
                    out |= {id(tick.label1), id(tick.label2)}
    return out


def ticklabels(ax, hidden):
    return [t for t in ax.get_xticklabels(which="both") + ax.get_yticklabels(which="both")
            if shown(t) and id(t) not in hidden]


def problems(fig):
    """What is wrong with the figure as rendered: [description]."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    hidden = hidden_ticks(fig)
    out = []
    for t in fig.findobj(Text):
        if id(t) in hidden:
            continue
        if shown(t) and not inside(t.get_window_extent(r), fig.bbox):
            out.append(f"clipped at the figure's edge: {t.get_text()!r}")
    # The labels that must not cover one another.
    boxes = []
    if fig._suptitle is not None and shown(fig._suptitle):
        boxes.append(("figure title", corners(fig._suptitle, r)))
    for n, ax in enumerate(fig.axes):
        for what, t in (("panel title", ax.title), ("x label", ax.xaxis.label), ("y label", ax.yaxis.label)):
            if shown(t):
                boxes.append((f"{what} {n}: {t.get_text()!r}", corners(t, r)))
        for t in ticklabels(ax, hidden):
            boxes.append((f"tick label {n}: {t.get_text()!r}", corners(t, r)))
        for t in ax.texts:
            if shown(t):
                e = t.get_window_extent(r)
                boxes.append((f"bar label {n}: {t.get_text()!r}", corners(t, r)))
                if not inside(e, ax.get_window_extent(r)):
                    out.append(f"bar label {t.get_text()!r} crosses the frame of panel {n}")
                # Over its own bar's column only, never over a neighbour's bar.
                bars = [p.get_window_extent(r) for p in ax.patches if p.get_height() > 0]
                if bars:
                    cx = (e.x0 + e.x1) / 2
                    own = min(bars, key=lambda b: abs((b.x0 + b.x1) / 2 - cx))
                    for b in bars:
                        if b is not own and overlap(e, b):
                            out.append(f"bar label {t.get_text()!r} runs into a neighbouring bar in panel {n}")
        if ax.get_legend() is not None:
            e = ax.get_legend().get_window_extent(r)
            boxes.append((f"legend {n}", [(e.x0, e.y0), (e.x1, e.y0), (e.x1, e.y1), (e.x0, e.y1)]))
    for (na, a), (nb, b) in itertools.combinations(boxes, 2):
        if quads_overlap(a, b):
            out.append(f"{na} overlaps {nb}")
    return out


def held(label, paths, title=""):
    figs = plot.figures(paths, title)
    check(figs, f"{label}: plot.py draws it")
    for name, fig in figs:
        bad = problems(fig)
        check(not bad, f"{label}: {name}: nothing clipped or overlapping" + (f": {bad}" if bad else ""))
        plt.close(fig)


def main():
    results = os.path.join(SOURCE, "results")
    for path in sorted(glob.glob(os.path.join(results, "*.json"))):
        with open(path) as f:
            doc = json.load(f)
        if "benchmarks" not in doc:
            continue  # leak and price files: not plot.py's
        held(os.path.basename(path), [path])
    r = lambda name: os.path.join(results, name)  # noqa: E731
    # As docs/results.md shows them (docs/img/).
    held("default, host 6.18 beside VM 6.12", [r("default-host-6.18.json"), r("default-vm-6.12-tcg.json")],
         "host 6.18 (stock) vs patched 6.12 in qemu TCG")
    held("rfc-sweep, host 6.18 beside VM 6.12", [r("rfc-sweep-host-6.18.json"), r("rfc-sweep-vm-6.12-tcg.json")],
         "host 6.18 vs patched 6.12 in qemu TCG")
    for w in ("default", "netns-sweep", "rfc-sweep"):
        held(f"{w}, 7.3 with a title", [r(f"{w}-vm-7.3.4-tcg.json")], "7.3.4 + 3 series, TCG")

    # A note far longer than a panel: wrapped, not clipped, not over a label.
    with open(r("default-host-6.18.json")) as f:
        doc = json.load(f)
    long_doc = copy.deepcopy(doc)
    for b in long_doc["benchmarks"]:
        if b.get("error_occurred"):
            b["run_name"] = b["run_name"].replace("destroy/", "destroy/an_approach_with_a_long_name_")
            b["name"] = b["run_name"]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(long_doc, f)
        f.flush()
        held("a not-timed note longer than the panel", [f.name])
        held("the same beside another panel", [f.name, r("default-vm-6.12-tcg.json")])
    done()


if __name__ == "__main__":
    main()
