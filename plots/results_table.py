#!/usr/bin/python3
"""Markdown tables from sockbench result files (either schema version:
sockbench_results.py), for docs/results.md, cover letters and slides.

  results_table.py results/x.json            per-scenario medians, one column per approach
  results_table.py --rfc results/rfc.json    the same beside the RFC's published per-netns column
  results_table.py --ratio iter_per_netns:iter_all_netns results/x.json
                                             median(first) / median(second) per scenario, with a
                                             95% bootstrap interval (10,000 resamples of the
                                             repetitions, fixed seed)
  results_table.py --cover [--approaches a,b,c] [--plain] results/x.json [results/y.json ...]
                                             the table a patch cover letter (kernel/export-series.sh)
                                             or a slide needs: one row per file, scenario and
                                             chosen approach: median, its 95% bootstrap interval,
                                             cv, runs; under it, each file's context (kernel,
                                             config, patch set, VM mode, machine, sockbench
                                             revision and whether its tree was clean). A
                                             markdown table whose columns line up as plain text;
                                             --plain: the same columns without the pipes
"""
import argparse
import json
import random
import re
import sys

import sockbench_results

# RFC "bpf: Efficient socket destruction" (2025-09-09): 100 netns, per-netns
# iterators, AMD Ryzen 9 9900X, milliseconds by total UDP sockets.
RFC_PER_NETNS_MS = {100: 6.35, 1000: 4.03, 10000: 20.0, 100000: 103.0, 1000000: 9380.0}
RFC_SOCKHASH_MS = (0.040, 0.054)


def samples(doc):
    """Timed repetitions in ms by (scenario, approach); those not timed left out."""
    _ctx, timed, _not_timed = sockbench_results.parse(doc)
    return {(scenario, approach): ts for (approach, scenario), ts in timed.items()}


median = sockbench_results.median


def ratio_table(doc, num, den):
    rng = random.Random(1)
    runs = samples(doc)
    print(f"| scenario | {num} / {den} | 95% bootstrap interval | runs |")
    print("|---|---:|---:|---:|")
    for scenario in dict.fromkeys(k[0] for k in runs):
        a, b = runs.get((scenario, num)), runs.get((scenario, den))
        if not a or not b:
            continue
        lo, hi = sockbench_results.bootstrap_ratio(a, b, rng)
        print(f"| `{scenario}` | {median(a) / median(b):,.1f}x | {lo:,.1f}-{hi:,.1f}x | {len(a)}/{len(b)} |")
    return 0


def medians(doc):
    """(median, cv, runs) by (scenario, approach), and the benchmarks not
    timed: (status, reason) by (scenario, approach)."""
    _ctx, _timed, not_timed = sockbench_results.parse(doc)
    errors = {(e["scenario"], e["approach"]): (e["status"], e["reason"]) for e in not_timed}
    out = {key: (median(ts), sockbench_results.cv(ts), len(ts)) for key, ts in samples(doc).items()}
    return out, errors


def fmt(ms):
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.2f} ms" if ms >= 1 else f"{ms * 1000:.0f} us"


def fmt_range(lo, hi):
    """A 95% interval in the unit of its upper end: "8.19-8.93 s"."""
    if hi >= 1000:
        return f"{lo / 1000:.2f}-{hi / 1000:.2f} s"
    if hi >= 1:
        return f"{lo:.2f}-{hi:.2f} ms"
    return f"{lo * 1000:.0f}-{hi * 1000:.0f} us"


def patchset_label(patchset):
    """"adbae62389ad (all-netns, sockmap, sleepable: 9 patches)" from the
    context's "<sha12>:<series>/<patch>,..." ("none" stays "none")."""
    if not patchset or patchset == "none":
        return "none"
    sha, _, names = patchset.partition(":")
    patches = [n for n in names.split(",") if n]
    series = list(dict.fromkeys(n.split("/")[0] for n in patches if "/" in n))
    count = f"{len(patches)} patch{'es' if len(patches) != 1 else ''}"
    return f"{sha} ({', '.join(series)}: {count})" if series else f"{sha} ({count})"


def revision_label(ctx):
    """The sockbench revision and whether its tree was clean."""
    rev = ctx.get("sockbench_git_revision", "?")
    dirty = ctx.get("sockbench_git_dirty", rev.endswith("-dirty") or rev in ("?", "unknown"))
    if not dirty:
        return f"sockbench {rev} (clean tree)"
    sha = ctx.get("sockbench_git_diff_sha256", "")
    return f"sockbench {rev} (uncommitted changes{', diff sha256 ' + sha[:12] if sha else ', diff not recorded'})"


def context_line(ctx, path):
    """One line: what produced the numbers of one file."""
    vm = ctx.get("vm", "none")
    mode = ("on the host (no sockbench VM)" if vm == "none" else
            f"qemu {vm.upper()}" + (" (emulated: compare rows, not machines)" if vm == "tcg" else ""))
    kernel = ctx.get("kernel_release", "?")
    extra = [x for x in (ctx.get("kernel_source"), ctx.get("preempt_model")) if x and x not in ("running kernel", "unknown")]
    config = ctx.get("kernel_config_sha256", "")
    return (f"Kernel {kernel}{' (' + ', '.join(extra) + ')' if extra else ''}, {mode}; "
            f"patchset {patchset_label(ctx.get('patchset', 'none'))}; "
            f"config sha256 {config[:12] if config and config != 'unavailable' else 'unavailable'}; "
            f"{ctx.get('machine', '?')}; workload {ctx.get('workload', '?')}, "
            f"{ctx.get('repetitions', '?')} repetitions; {revision_label(ctx)}; {path}")


def cover(paths, approaches=None, plain=False):
    """The table a cover letter or a slide shows: one row per file,
    scenario (in namespaces, sockets order) and approach (in the given
    order, default as the files have them), then each file's context.
    Without --approaches, approaches not timed in a file are left out of its
    rows; a chosen one says "unsupported" or "failed" there."""
    loaded = []
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        med, errors = medians(doc)
        loaded.append((path, doc["context"], med, errors, samples(doc)))
    known = list(dict.fromkeys(k[1] for _p, _c, med, errors, _s in loaded for k in list(med) + list(errors)))
    if approaches:
        missing = [a for a in approaches if a not in known]
        if missing:
            print(f"results_table.py: --approaches: {', '.join(missing)} in none of the files "
                  f"(they have {', '.join(known)})", file=sys.stderr)
            return 2
    num = lambda sc, f: int(re.search(f + r":(\d+)", sc).group(1))  # noqa: E731
    several = len(loaded) > 1
    head = (["run"] if several else []) + ["approach", "sockets", "netns", "median", "95% CI", "cv", "runs"]
    rows = []
    for n, (path, ctx, med, errors, runs) in enumerate(loaded, 1):
        failed = [k for k, (status, _why) in errors.items() if status == "failed"]
        order = approaches or list(dict.fromkeys(k[1] for k in list(med) + failed))
        scenarios = sorted({k[0] for k in list(med) + list(errors)}, key=lambda sc: (num(sc, "netns"), num(sc, "sockets")))
        for sc in scenarios:
            for a in order:
                ref = [f"[{n}]"] if several else []
                where = [a, f"{num(sc, 'sockets'):,}", f"{num(sc, 'netns'):,}"]
                if (sc, a) in med:
                    m, c, k = med[(sc, a)]
                    rng = random.Random(f"{path}|{sc}|{a}")  # the same interval whatever else is shown
                    lo, hi = sockbench_results.bootstrap_median(runs[(sc, a)], rng)
                    rows.append(ref + where + [fmt(m), fmt_range(lo, hi), f"{c * 100:.0f}%", str(k)])
                elif (sc, a) in errors:
                    status = errors[(sc, a)][0]
                    if status == "failed" or approaches:
                        rows.append(ref + where + [status, "-", "-", "-"])
    right = {"sockets", "netns", "median", "95% CI", "cv", "runs"}
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    cell = lambda c, i: c.rjust(widths[i]) if head[i] in right else c.ljust(widths[i])  # noqa: E731
    if plain:
        for r in [head] + rows:
            print("  " + "  ".join(cell(c, i) for i, c in enumerate(r)).rstrip())
    else:
        print("| " + " | ".join(cell(c, i) for i, c in enumerate(head)) + " |")
        print("|" + "|".join(("-" * (w + 1) + ":") if head[i] in right else ("-" * (w + 2))
                             for i, w in enumerate(widths)) + "|")
        for r in rows:
            print("| " + " | ".join(cell(c, i) for i, c in enumerate(r)) + " |")
    print()
    print("Median of the timed repetitions, each verified (targets destroyed, nothing else); 95% CI:")
    print("bootstrap interval of the median (10,000 resamples); cv: sample standard deviation / mean.")
    for n, (path, ctx, _m, _e, _s) in enumerate(loaded, 1):
        print(("[" + str(n) + "] " if several else "") + context_line(ctx, path))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result", nargs="+", help="result file (--cover: one or more)")
    ap.add_argument("--rfc", action="store_true", help="add the RFC's per-netns column and ratios")
    ap.add_argument("--cover", action="store_true",
                    help="the table for a patch cover letter or a slide, the files' context under it")
    ap.add_argument("--approaches", help="with --cover: these approaches, in this order (comma-separated)")
    ap.add_argument("--plain", action="store_true", help="with --cover: aligned columns without markdown pipes")
    ap.add_argument("--ratio", metavar="NUM:DEN", help="ratio of two approaches' medians, with a bootstrap interval")
    args = ap.parse_args()
    if args.cover:
        return cover(args.result, [a for a in args.approaches.split(",") if a] if args.approaches else None,
                     args.plain)
    if len(args.result) > 1:
        ap.error("one result file, except with --cover")
    doc = json.load(open(args.result[0]))
    if args.ratio:
        num, _, den = args.ratio.partition(":")
        return ratio_table(doc, num, den)
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
                row.append(errors[(s, a)][0] if (s, a) in errors else "-")
        if args.rfc:
            socks = int(re.search(r"sockets:(\d+)", s).group(1))
            rfc = RFC_PER_NETNS_MS.get(socks)
            ours = med.get((s, "iter_per_netns"))
            row.append(fmt(rfc) if rfc else "-")
            row.append(f"{ours[0] / rfc:.1f}x" if rfc and ours else "-")
        print("| " + " | ".join(row) + " |")
    unsupported = sorted({k[1]: why for k, (status, why) in errors.items() if status == "unsupported"}.items())
    failed = [(k, why) for k, (status, why) in errors.items() if status == "failed"]
    if unsupported or failed:
        print()
        for a, why in unsupported:
            print(f"- `{a}`: {why}")
        for (s, a), why in failed:
            print(f"- `{a}` failed in `{s}`: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
