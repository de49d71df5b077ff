#!/usr/bin/python3
"""Markdown tables from sockbench result files, for docs/results.md.

  results_table.py results/x.json            per-scenario medians, one column per approach
  results_table.py --rfc results/rfc.json    the same beside the RFC's published per-netns column
  results_table.py --ratio iter_per_netns:iter_all_netns results/x.json
                                             median(first) / median(second) per scenario, with a
                                             95% bootstrap interval (10,000 resamples of the
                                             repetitions, fixed seed)
  results_table.py --cover results/x.json    plain-text table for a patch cover letter
                                             (kernel/export-series.sh): approach, sockets,
                                             namespaces, median time, VM mode
"""
import argparse
import collections
import json
import re
import sys

NAME_RE = re.compile(r"^destroy/(?P<approach>[^/]+)/(?P<scenario>netns:\d+/sockets:(?P<sockets>\d+)/targets:\d+x\d+)")
# RFC "bpf: Efficient socket destruction" (2025-09-09): 100 netns, per-netns
# iterators, AMD Ryzen 9 9900X, milliseconds by total UDP sockets.
RFC_PER_NETNS_MS = {100: 6.35, 1000: 4.03, 10000: 20.0, 100000: 103.0, 1000000: 9380.0}
RFC_SOCKHASH_MS = (0.040, 0.054)


def samples(doc):
    """Timed repetitions in ms by (scenario, approach); errors left out."""
    unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    runs = collections.defaultdict(list)
    for b in doc["benchmarks"]:
        m = NAME_RE.match(b["name"])
        if m and b.get("run_type") == "iteration" and not b.get("error_occurred"):
            runs[(m["scenario"], m["approach"])].append(b["real_time"] * unit[b.get("time_unit", "ms")])
    return runs


def median(ts):
    ts = sorted(ts)
    mid = len(ts) // 2
    return ts[mid] if len(ts) % 2 else (ts[mid - 1] + ts[mid]) / 2


def ratio_table(doc, num, den):
    import random
    rng = random.Random(1)
    runs = samples(doc)
    print(f"| scenario | {num} / {den} | 95% bootstrap interval | runs |")
    print("|---|---:|---:|---:|")
    for scenario in dict.fromkeys(k[0] for k in runs):
        a, b = runs.get((scenario, num)), runs.get((scenario, den))
        if not a or not b:
            continue
        boot = sorted(median(rng.choices(a, k=len(a))) / median(rng.choices(b, k=len(b))) for _ in range(10000))
        lo, hi = boot[249], boot[9749]
        print(f"| `{scenario}` | {median(a) / median(b):,.1f}x | {lo:,.1f}-{hi:,.1f}x | {len(a)}/{len(b)} |")
    return 0


def medians(doc):
    """(median, cv, runs) by (scenario, approach), and the error messages."""
    errors = {}
    for b in doc["benchmarks"]:
        m = NAME_RE.match(b["name"])
        if m and b.get("run_type") == "iteration" and b.get("error_occurred"):
            errors[(m["scenario"], m["approach"])] = b.get("error_message", "")
    out = {}
    for key, ts in samples(doc).items():
        cv = 0.0
        if len(ts) > 1:
            mean = sum(ts) / len(ts)
            cv = (sum((t - mean) ** 2 for t in ts) / (len(ts) - 1)) ** 0.5 / mean
        out[key] = (median(ts), cv, len(ts))  # median as Google Benchmark takes it
    return out, errors


def fmt(ms):
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.2f} ms" if ms >= 1 else f"{ms * 1000:.0f} us"


def cover(doc, path, approaches=None):
    """Plain text, as a cover letter wants it: one row per approach and
    scenario, scenarios in (namespaces, sockets) order, approaches in the
    given order (default: as the file has them)."""
    ctx = doc["context"]
    med, errors = medians(doc)
    cells = {k: (fmt(m), f"{cv * 100:.0f}%", str(n)) for k, (m, cv, n) in med.items()}
    cells.update({k: ("failed", "-", "-") for k, why in errors.items() if not why.startswith("unsupported")})
    order = approaches or list(dict.fromkeys(k[1] for k in cells))
    num = lambda sc, f: int(re.search(f + r":(\d+)", sc).group(1))
    scenarios = sorted({k[0] for k in cells}, key=lambda sc: (num(sc, "netns"), num(sc, "sockets")))
    rows = [("approach", "sockets", "netns", "median", "cv", "runs")]
    for sc in scenarios:
        for a in order:
            if (sc, a) in cells:
                rows.append((a, str(num(sc, "sockets")), str(num(sc, "netns")), *cells[(sc, a)]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    vm = ctx["vm"]
    print(f"Kernel {ctx['kernel_release']}, {'qemu ' + vm.upper() + (' (emulated: compare rows, not machines)' if vm == 'tcg' else '') if vm != 'none' else 'bare metal'},")
    print(f"{ctx.get('machine', '')}; workload {ctx.get('workload', '')}, sockbench {ctx.get('sockbench_git_revision', '?')}")
    print(f"({path}):\n")
    for r in rows:
        print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--rfc", action="store_true", help="add the RFC's per-netns column and ratios")
    ap.add_argument("--cover", action="store_true", help="plain-text table for a patch cover letter")
    ap.add_argument("--approaches", help="with --cover: these approaches, in this order (comma-separated)")
    ap.add_argument("--ratio", metavar="NUM:DEN", help="ratio of two approaches' medians, with a bootstrap interval")
    args = ap.parse_args()
    doc = json.load(open(args.result))
    if args.ratio:
        num, _, den = args.ratio.partition(":")
        return ratio_table(doc, num, den)
    if args.cover:
        return cover(doc, args.result, args.approaches.split(",") if args.approaches else None)
    ctx = doc["context"]
    med, errors = medians(doc)
    scenarios = list(dict.fromkeys(k[0] for k in list(med) + list(errors)))
    approaches = list(dict.fromkeys(k[1] for k in med))
    print(f"Kernel `{ctx['kernel_release']}`, patchset `{ctx['patchset']}`, vm `{ctx['vm']}`, "
          f"{ctx.get('machine', '')}; {ctx['repetitions']} repetitions, median (cv).\n")
    head = ["scenario"] + approaches
    if args.rfc:
        head += ["RFC per-netns", "ours / RFC (iter_per_netns)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for s in scenarios:
        row = [f"`{s}`"]
        for a in approaches:
            if (s, a) in med:
                m, cv, n = med[(s, a)]
                row.append(f"{fmt(m)} ({cv * 100:.0f}%)")
            else:
                row.append("failed" if (s, a) in errors else "-")
        if args.rfc:
            socks = int(re.search(r"sockets:(\d+)", s).group(1))
            rfc = RFC_PER_NETNS_MS.get(socks)
            ours = med.get((s, "iter_per_netns"))
            row.append(fmt(rfc) if rfc else "-")
            row.append(f"{ours[0] / rfc:.1f}x" if rfc and ours else "-")
        print("| " + " | ".join(row) + " |")
    unsupported = sorted({k[1]: v for k, v in errors.items() if v.startswith("unsupported")}.items())
    if unsupported:
        print()
        for a, why in unsupported:
            print(f"- `{a}`: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
