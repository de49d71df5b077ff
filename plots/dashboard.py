#!/usr/bin/python3
"""A static HTML dashboard of sockbench's result files: open it as a file.

  /usr/bin/python3 plots/dashboard.py [--out build/dashboard] [--no-plots] [--no-history] [FILE ...]

Reads results/*.json (or the files given; either schema version of
`sockbench run`, and the leak and price files) and writes OUT/index.html
with, per workload, a table of approach (and scenario) by result file (one
kernel, VM mode and patch set each): the median of the verified
repetitions, its cv, the speed-up over iter_per_netns (today's way) with a
95% bootstrap interval where a cv is high, every number a link to its
result file with the file's context (kernel release, config hash, patch
set, VM mode, machine, sockbench revision, clean or not) in its title and
behind the (i) link; approaches a kernel lacks as "unsupported" with the
kernel's reason, never a number. Then the workload's plots (plot.py, one
per file, and docs/img's), and its history: every committed version of its
files (git log of results/), oldest run first. The other result files
(leak study, price measurements) follow, each with its context; then every
file's provenance (results/KNOWN_UNBACKED.txt).

No server, no network: CSS and JS are inline, images and older versions of
result files are written under OUT, links to the result files are
relative. The page's script checks that every approach of every file has
its cell and sets #dashboard-status data-state="ready" (or "error", with
the errors in #js-errors); tests/unit/dashboard_test.py renders it in
headless Chromium.
"""
import argparse
import collections
import glob
import hashlib
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import results_table  # noqa: E402
import sockbench_results  # noqa: E402

ALLOW_LIST = os.path.join("results", "KNOWN_UNBACKED.txt")
BASELINE = "iter_per_netns"  # today's way (Cilium): the speed-ups are over it
HIGH_CV = 0.10  # from here on a ratio gets its interval
APPROACH_ORDER = ["sock_diag", "iter_per_netns", "iter_all_netns", "sockhash_bucket", "sk_storage_iter",
                  "sleepable_kfunc", "sleepable_kfunc_rbtree"]
WORKLOAD_ORDER = ["default", "netns-sweep", "rfc-sweep", "smoke"]
SCENARIO_RE = re.compile(r"^netns:(\d+)/sockets:(\d+)/targets:(\d+)x(\d+)$")
CONTEXT_FIELDS = ["kernel_release", "kernel_source", "preempt_model", "kernel_config_sha256", "patchset", "vm",
                  "machine", "cpu_model", "host_name", "date", "workload", "workload_file", "repetitions",
                  "sockbench_git_revision", "sockbench_git_dirty", "sockbench_git_diff_sha256",
                  "sockbench_json_schema_version"]

e = html.escape


def git(*args):
    try:
        r = subprocess.run(["git", "-C", SOURCE, *args], capture_output=True, text=True)
    except OSError:
        return None
    return r.stdout if r.returncode == 0 else None


def approach_key(a):
    return (APPROACH_ORDER.index(a), a) if a in APPROACH_ORDER else (len(APPROACH_ORDER), a)


def scenario_key(sc):
    m = SCENARIO_RE.match(sc)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0, 0)


def scenario_label(sc):
    m = SCENARIO_RE.match(sc)
    if not m:
        return sc
    netns, sockets, per, tns = (int(x) for x in m.groups())
    return f"{netns:,} netns, {sockets:,} sockets, {per}x{tns} targets"


def version_key(release):
    return tuple(int(x) for x in re.findall(r"\d+", release.split("-")[0]))


def anchor(name, prefix="file"):
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def read_allow_list():
    listed = {}
    path = os.path.join(SOURCE, ALLOW_LIST)
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and ":" in line:
                    name, _, why = line.partition(":")
                    listed[name.strip()] = why.strip()
    return listed


class Result:
    """One result file (or one committed version of one)."""

    def __init__(self, path, doc, href, name=None, commit=None, commit_date=None):
        self.path, self.doc, self.href = path, doc, href
        self.name = name or os.path.basename(path)
        self.commit, self.commit_date = commit, commit_date
        self.kind = ("run" if isinstance(doc, dict) and "benchmarks" in doc else
                     "leak" if isinstance(doc, dict) and ("cells" in doc or "churn" in doc) else
                     "price" if isinstance(doc, dict) and "connect" in doc else "other")
        ctx = doc.get("context", {}) if isinstance(doc, dict) else {}
        if self.kind == "price":  # vm and patchset at the top; a context since they are stamped
            ctx = dict({k: doc[k] for k in ("vm", "patchset") if k in doc}, **ctx)
        self.ctx = ctx
        self.timed, self.not_timed = {}, []
        if self.kind == "run":
            self.ctx, self.timed, self.not_timed = sockbench_results.parse(doc)
        self.id = anchor(self.name if not commit else f"{commit[:12]}-{self.name}")
        self.last_commit = None  # of a current file: "<sha12> <date>", from git

    @property
    def workload(self):
        return self.ctx.get("workload", "")

    def approaches(self):
        names = {a for a, _s in self.timed} | {n["approach"] for n in self.not_timed}
        if self.kind == "leak":
            names |= set(self.ctx.get("approaches", []))
            names |= {u["approach"] for u in self.ctx.get("unsupported", []) if isinstance(u, dict)}
        return sorted(names, key=approach_key)

    def scenarios(self):
        return sorted({s for _a, s in self.timed} | {n["scenario"] for n in self.not_timed}, key=scenario_key)

    def skipped(self):
        return {s.get("scenario", ""): s.get("reason", "") for s in self.ctx.get("skipped_scenarios", []) or []}

    def dirty(self):
        rev = self.ctx.get("sockbench_git_revision")
        if not rev:
            return None  # no stamp
        return bool(self.ctx.get("sockbench_git_dirty", rev.endswith("-dirty") or rev == "unknown"))

    def mode(self):
        vm = self.ctx.get("vm", "none")
        return "host" if vm == "none" else f"VM, {vm.upper()}" + (" (emulated)" if vm == "tcg" else "")

    def short(self):
        """One line: the file and what produced it (a cell's tooltip)."""
        c = self.ctx
        rev = c.get("sockbench_git_revision", "no revision stamp")
        return (f"{self.name}{' at ' + self.commit[:12] if self.commit else ''}: kernel {c.get('kernel_release', '?')}, "
                f"{self.mode()}, patchset {results_table.patchset_label(c.get('patchset', 'none'))}, "
                f"config {str(c.get('kernel_config_sha256', '?'))[:12]}, {c.get('machine', '?')}, sockbench {rev}"
                f"{'' if self.dirty() is False else ' (not a clean tree)' if self.dirty() else ''}")


def badge(r, listed):
    d = r.dirty()
    if d is None:
        out = '<span class="badge bad" title="the file carries no sockbench revision">no stamp</span>'
    elif d:
        sha = r.ctx.get("sockbench_git_diff_sha256", "")
        out = (f'<span class="badge bad" title="built from a tree with uncommitted changes'
               f'{"; diff sha256 " + e(sha) if sha else "; diff not recorded"}">dirty</span>')
    else:
        out = '<span class="badge ok" title="built from a clean tree">clean</span>'
    if r.commit is None and r.name in listed:
        out += f' <span class="badge warn" title="{e(listed[r.name])}">unbacked</span>'
    return out


def context_block(r, listed, open_=False):
    rows = []
    for k in CONTEXT_FIELDS:
        if k in r.ctx:
            v = r.ctx[k]
            if k == "patchset" and isinstance(v, str) and "," in v:
                v = v.replace(",", ",\n")
            rows.append(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>")
    if r.skipped():
        rows.append("<tr><th>skipped_scenarios</th><td>" +
                    "<br>".join(e(f"{s}: {why}") for s, why in r.skipped().items()) + "</td></tr>")
    if r.kind == "run":
        rows.append(f"<tr><th>schema version</th><td>{e(str(r.ctx.get(sockbench_results.SCHEMA_VERSION_KEY, 1)))}"
                    f"</td></tr>")
    if r.commit:
        rows.append(f"<tr><th>committed in</th><td>{e(r.commit[:12])} ({e(r.commit_date or '')}); "
                    f"an older version of results/{e(r.name)}</td></tr>")
    elif r.last_commit:
        rows.append(f"<tr><th>last committed in</th><td>{e(r.last_commit)}</td></tr>")
    if not r.commit and r.name in listed:
        rows.append(f"<tr><th>provenance</th><td>listed in {e(ALLOW_LIST)}: {e(listed[r.name])}</td></tr>")
    return (f'<details class="ctx" id="{r.id}" data-file="{e(r.name)}"{" open" if open_ else ""}>'
            f'<summary><a href="{e(r.href)}">{e(r.name)}</a>{" @ " + e(r.commit[:12]) if r.commit else ""} '
            f'{badge(r, listed)} <span class="dim">{e(", ".join(x for x in (r.ctx.get("kernel_release", ""), r.mode()) if x))}'
            f'</span></summary>'
            f'<table class="kv">{"".join(rows)}</table></details>')


def column_head(r, listed):
    c = r.ctx
    return (f'<th class="file" data-file="{e(r.name)}"><a href="{e(r.href)}" title="{e(r.short())}">{e(r.name)}</a>'
            f'<div>{e(c.get("kernel_release", "?"))}</div><div>{e(r.mode())}</div>'
            f'<div class="dim">patchset {e(results_table.patchset_label(c.get("patchset", "none")))}</div>'
            f'<div class="dim">sockbench {e(c.get("sockbench_git_revision", "?"))} {badge(r, listed)}</div>'
            f'<div class="dim">{e(str(c.get("repetitions", "?")))} repetitions · <a href="#{r.id}" class="ctxlink">context</a></div></th>')


def ratio_html(r, approach, scenario):
    """The speed-up over the baseline in the same file and scenario."""
    base = r.timed.get((BASELINE, scenario))
    ts = r.timed.get((approach, scenario))
    if not base or not ts:
        return ""
    if approach == BASELINE:
        return '<div class="ratio dim">baseline of the speed-ups</div>'
    m = sockbench_results.median(base) / sockbench_results.median(ts)
    faster = m >= 1
    x = lambda v: f"{v:,.1f}" if v < 100 else f"{v:,.0f}"  # noqa: E731
    text = f"{x(m if faster else 1 / m)}x {'faster' if faster else 'slower'}"
    title = f"median({BASELINE}) / median({approach}) = {m:,.3g}"
    if max(sockbench_results.cv(base), sockbench_results.cv(ts)) >= HIGH_CV:
        rng = random.Random(f"{r.name}|{scenario}|{approach}")
        lo, hi = sockbench_results.bootstrap_ratio(base, ts, rng)
        if not faster:
            lo, hi = 1 / hi, 1 / lo
        text += f' <span class="ci">({x(lo)}-{x(hi)}x)</span>'
        title += "; 95% bootstrap interval (10,000 resamples), shown as a cv is 10% or more"
    return (f'<div class="ratio{"" if faster else " slower"}" title="{e(title)}">{text} '
            f'than {BASELINE}</div>')


def cell(r, approach, scenario):
    attrs = f'data-file="{e(r.name)}" data-approach="{e(approach)}" data-scenario="{e(scenario)}"'
    ts = r.timed.get((approach, scenario))
    info = f'<a class="i" href="#{r.id}" title="context of {e(r.name)}">ctx</a>'
    if ts:
        m, c = sockbench_results.median(ts), sockbench_results.cv(ts)
        return (f'<td class="num" {attrs} data-status="timed"><a href="{e(r.href)}" '
                f'title="{e(r.short())}; median of {len(ts)} repetitions, cv {c * 100:.0f}%">'
                f'{e(results_table.fmt(m))}</a> <span class="cv{" high" if c >= HIGH_CV else ""}">'
                f'{c * 100:.0f}%</span> {info}{ratio_html(r, approach, scenario)}</td>')
    nt = [n for n in r.not_timed if n["approach"] == approach and n["scenario"] == scenario]
    if nt:
        status, why = nt[0]["status"], nt[0]["reason"]
        why = why[len("unsupported: "):] if why.startswith("unsupported: ") else why
        return (f'<td class="nt {e(status)}" {attrs} data-status="{e(status)}"><a href="{e(r.href)}" '
                f'title="{e(r.short())}">{e(status)}</a> {info}<div class="reason">{e(why)}</div></td>')
    skipped = r.skipped().get(scenario)
    if skipped is not None:
        return f'<td class="nt skipped" {attrs} data-status="skipped">skipped<div class="reason">{e(skipped)}</div></td>'
    return f'<td class="nt none" {attrs} data-status="not-run" title="not run in {e(r.name)}">&mdash;</td>'


def workload_table(files, listed):
    approaches = sorted({a for r in files for a in r.approaches()}, key=approach_key)
    scenarios = sorted({s for r in files for s in r.scenarios()} |
                       {s for r in files for s in r.skipped()}, key=scenario_key)
    out = ['<div class="scroll"><table class="results"><thead><tr><th>scenario</th><th>approach</th>']
    out += [column_head(r, listed) for r in files]
    out.append("</tr></thead><tbody>")
    for sc in scenarios:
        first = True
        rows = [a for a in approaches if any((a, sc) in r.timed or any(n["approach"] == a and n["scenario"] == sc
                                                                       for n in r.not_timed) for r in files)]
        if not rows:
            rows = approaches[:1]
        for a in rows:
            out.append(f'<tr data-approach="{e(a)}">')
            if first:
                out.append(f'<th class="sc" rowspan="{len(rows)}">{e(scenario_label(sc))}</th>')
                first = False
            out.append(f'<th class="ap">{e(a)}</th>' + "".join(cell(r, a, sc) for r in files) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def history_table(versions, listed):
    """Every version of the workload's files, oldest run first: one row per
    version and scenario, one column per approach."""
    approaches = sorted({a for r in versions for a in r.approaches()}, key=approach_key)
    versions = sorted(versions, key=lambda r: (r.ctx.get("date", ""), r.name, r.commit or "~"))
    out = ['<div class="scroll"><table class="results history"><thead><tr><th>run</th><th>file</th>'
           '<th>kernel</th><th>sockbench</th><th>scenario</th>']
    out += [f"<th>{e(a)}</th>" for a in approaches]
    out.append("</tr></thead><tbody>")
    for r in versions:
        scs = r.scenarios()
        for i, sc in enumerate(scs):
            out.append(f'<tr data-file="{e(r.name)}">')
            if i == 0:
                span = f' rowspan="{len(scs)}"'
                where = (f'<a href="{e(r.href)}">{e(r.name)}</a>'
                         + (f'<div class="dim">as committed in {e(r.commit[:12])} ({e(r.commit_date or "")})</div>'
                            if r.commit else '<div class="dim">current</div>'))
                out.append(f'<td{span}>{e(r.ctx.get("date", "?")[:16].replace("T", " "))}</td><td{span}>{where}</td>'
                           f'<td{span}>{e(r.ctx.get("kernel_release", "?"))}<div class="dim">{e(r.mode())}; '
                           f'{e(results_table.patchset_label(r.ctx.get("patchset", "none")))}</div></td>'
                           f'<td{span}>{e(r.ctx.get("sockbench_git_revision", "?"))} {badge(r, listed)}</td>')
            out.append(f'<td class="sc">{e(scenario_label(sc))}</td>')
            for a in approaches:
                ts = r.timed.get((a, sc))
                if ts:
                    m, c = sockbench_results.median(ts), sockbench_results.cv(ts)
                    out.append(f'<td class="num"><a href="{e(r.href)}" title="{e(r.short())}">'
                               f'{e(results_table.fmt(m))}</a> <span class="cv{" high" if c >= HIGH_CV else ""}">'
                               f'{c * 100:.0f}%</span></td>')
                else:
                    nt = [n for n in r.not_timed if n["approach"] == a and n["scenario"] == sc]
                    out.append(f'<td class="nt" title="{e(nt[0]["reason"]) if nt else ""}">'
                               f'{e(nt[0]["status"]) if nt else "&mdash;"}</td>')
            out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def other_summary(r):
    """A small table of what a leak or price file measured, each number linked to it."""
    link = lambda text: f'<a href="{e(r.href)}" title="{e(r.short())}">{e(text)}</a>'  # noqa: E731
    doc = r.doc
    rows, head = [], []
    if r.kind == "leak" and "cells" in doc:
        head = ["strategy", "approach", "cells", "sockets", "leaked"]
        agg = collections.OrderedDict()
        for c in doc["cells"]:
            k = (c.get("strategy", "?"), c.get("approach", "?"))
            a = agg.setdefault(k, [0, 0, 0])
            a[0] += 1
            a[1] += c.get("sockets", 0)
            a[2] += c.get("leaked", 0)
        rows = [(s, a, str(n), f"{socks:,}", link(f"{leaked:,}")) for (s, a), (n, socks, leaked) in agg.items()]
    elif r.kind == "leak" and "churn" in doc:
        head = ["strategy", "approach", "cycles", "final: translated", "wrong", "errors"]
        for c in doc["churn"]:
            f = c.get("final", {})
            rows.append((c.get("strategy", "?"), c.get("approach", "?"), str(c.get("cycles", "?")),
                         link(str(f.get("translated", "?"))), link(str(f.get("wrong", "?"))), str(f.get("errors", "?"))))
    elif r.kind == "price":
        head = ["mode", "connect() per block, mean (us)", "blocks"]
        for mode, v in doc.get("connect", {}).items():
            blocks = v.get("connect_us_per_block", [])
            mean = sum(blocks) / len(blocks) if blocks else 0
            rows.append((mode, link(f"{mean:.1f}"), str(len(blocks))))
    if not rows:
        return ""
    out = ['<table class="results small"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        approach = row[1] if r.kind == "leak" else ""
        out.append(f'<tr data-file="{e(r.name)}" data-approach="{e(approach)}">' +
                   "".join(f"<td>{c if str(c).startswith('<a ') else e(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    if r.kind == "leak":
        names = r.ctx.get("approaches", [])
        churn = r.ctx.get("churn_approach")
        out.append('<div class="dim">approaches run: ' + ", ".join(
            f'<span data-file="{e(r.name)}" data-approach="{e(a)}">{e(a)}</span>' for a in names)
            + (f"; the churn study's: {e(churn)}" if churn else "") + "</div>")
    unsupported = r.ctx.get("unsupported", []) if r.kind == "leak" else []
    for u in unsupported:
        if isinstance(u, dict):
            out.append(f'<div class="nt unsupported" data-file="{e(r.name)}" data-approach="{e(u.get("approach", ""))}" '
                       f'data-status="unsupported"><b>{e(u.get("approach", ""))}</b>: unsupported '
                       f'<span class="reason">{e(u.get("reason", ""))}</span></div>')
    return "".join(out)


def write_plots(results, out_dir):
    """plot.py's figures of each run file, as PNG under OUT/img: {file name: [(image, caption)]}."""
    import plot  # matplotlib: only when plots are wanted
    import matplotlib.pyplot as plt
    os.makedirs(os.path.join(out_dir, "img"), exist_ok=True)
    images = collections.defaultdict(list)
    for r in results:
        for name, fig in plot.figures([r.path]):
            rel = f"img/{os.path.splitext(r.name)[0]}--{name}.png"
            fig.savefig(os.path.join(out_dir, rel), dpi=100)
            plt.close(fig)
            images[r.name].append((rel, f"{r.name}: {name}"))
    return images


def docs_images(out_dir):
    """docs/img's PNGs, copied: {workload prefix: [(image, caption)]}."""
    found = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(SOURCE, "docs", "img", "*.png"))):
        base = os.path.basename(path)
        if base == "dashboard.png":
            continue
        os.makedirs(os.path.join(out_dir, "img", "docs"), exist_ok=True)
        shutil.copyfile(path, os.path.join(out_dir, "img", "docs", base))
        found[base].append((f"img/docs/{base}", f"docs/img/{base}"))
    return found


def history(results, out_dir):
    """Older committed versions of the run files (git log -- results/NAME):
    [Result], each written under OUT/history/<commit>/ for its links."""
    if git("rev-parse", "--git-dir") is None:
        return None
    older = []
    for r in results:
        rel = os.path.relpath(r.path, SOURCE)
        if rel.startswith(".."):
            continue
        log = git("log", "--format=%H %cs", "--", rel) or ""
        with open(r.path, "rb") as f:
            current = hashlib.sha1(f.read()).hexdigest()
        for line in log.splitlines():
            commit, date = line.split()
            blob = subprocess.run(["git", "-C", SOURCE, "show", f"{commit}:{rel}"], capture_output=True)
            if blob.returncode != 0 or hashlib.sha1(blob.stdout).hexdigest() == current:
                continue
            try:
                doc = json.loads(blob.stdout)
            except ValueError:
                continue
            dest = os.path.join(out_dir, "history", commit[:12], r.name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(blob.stdout)
            older.append(Result(dest, doc, os.path.relpath(dest, out_dir), r.name, commit, date))
    return older


CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { background: #24323f; color: #fff; padding: 14px 24px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 2px 0; color: #cfd8e0; }
main { padding: 8px 24px 40px; max-width: 1800px; }
h2 { margin: 28px 0 8px; border-bottom: 2px solid #24323f; padding-bottom: 4px; }
h3 { margin: 18px 0 6px; }
a { color: #0b5cad; text-decoration: none; } a:hover { text-decoration: underline; }
.dim { color: #667; font-size: 12px; }
.scroll { overflow-x: auto; }
table.results { border-collapse: collapse; background: #fff; margin: 6px 0 10px; }
table.results th, table.results td { border: 1px solid #d5d9de; padding: 4px 8px; vertical-align: top; }
table.results thead th { background: #eef1f4; text-align: left; font-weight: 600; min-width: 150px; }
table.results th.sc { background: #f6f7f9; font-weight: 600; min-width: 130px; }
table.results th.ap { background: #fbfbfc; font-family: ui-monospace, monospace; font-weight: 500; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.num > a { font-weight: 600; }
.cv { color: #667; font-size: 12px; } .cv.high { color: #b05a00; }
.ratio { font-size: 12px; color: #2a6b2a; } .ratio.slower { color: #8a3b12; } .ratio .ci { color: #556; }
td.nt { color: #777; font-style: italic; max-width: 260px; }
td.unsupported > a, div.unsupported b { color: #8a6d00; } td.failed > a { color: #b00020; }
div.nt { font-size: 13px; margin: 2px 0; }
.reason { font-size: 11px; font-style: normal; color: #777; word-break: break-word; }
a.i { font-size: 11px; color: #889; vertical-align: super; }
.badge { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 8px; font-style: normal; }
.badge.ok { background: #e2f3e2; color: #1f6b1f; } .badge.bad { background: #fbe3e3; color: #9b1c1c; }
.badge.warn { background: #fff1cc; color: #7a5a00; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
.plots figure { margin: 0; background: #fff; border: 1px solid #d5d9de; padding: 6px; }
.plots img { max-width: 520px; height: auto; display: block; }
.plots figcaption { font-size: 12px; color: #556; max-width: 520px; }
details.ctx { background: #fff; border: 1px solid #d5d9de; margin: 4px 0; padding: 4px 8px; }
details.ctx summary { cursor: pointer; }
table.kv th { text-align: left; padding-right: 12px; font-weight: 500; color: #445; vertical-align: top; white-space: nowrap; }
table.kv td { white-space: pre-wrap; word-break: break-all; font-family: ui-monospace, monospace; font-size: 12px; }
#controls { margin: 10px 0; } #controls input { padding: 3px 6px; width: 220px; }
#dashboard-status { font-size: 12px; color: #cfd8e0; }
#js-errors { color: #b00020; white-space: pre-wrap; }
#js-errors:empty { display: none; }
table.small td, table.small th { font-size: 12px; }
"""

# Runs first: every error after it is kept and shown (and makes the status "error").
ERROR_JS = """
window.__dashboardErrors = [];
window.addEventListener('error', function (ev) {
  var msg = String(ev.message || ev.error || 'error');
  window.__dashboardErrors.push((/^Uncaught/.test(msg) ? '' : 'Uncaught ') + msg + ' (' + (ev.filename || 'page') + ':' +
                                (ev.lineno || 0) + ')');
  var pre = document.getElementById('js-errors');
  if (pre) pre.textContent = window.__dashboardErrors.join('\\n');
});
(function () {
  var orig = console.error;
  console.error = function () {
    window.__dashboardErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return orig.apply(console, arguments);
  };
})();
"""

MAIN_JS = """
(function () {
  var manifest = JSON.parse(document.getElementById('manifest').textContent);
  var missing = [], checked = 0;
  manifest.files.forEach(function (f) {
    var card = document.querySelector('[data-file="' + CSS.escape(f.name) + '"]');
    if (!card) missing.push(f.name);
    f.approaches.forEach(function (a) {
      checked++;
      var sel = '[data-file="' + CSS.escape(f.name) + '"][data-approach="' + CSS.escape(a) + '"]';
      if (!document.querySelector(sel)) missing.push(f.name + ': ' + a);
    });
  });
  // The filter: rows of the approaches whose names contain the text.
  var input = document.getElementById('filter');
  input.addEventListener('input', function () {
    var q = input.value.trim().toLowerCase();
    document.querySelectorAll('table.results tbody tr[data-approach]').forEach(function (tr) {
      tr.style.display = (!q || tr.dataset.approach.toLowerCase().indexOf(q) >= 0) ? '' : 'none';
    });
  });
  document.getElementById('expand').addEventListener('click', function () {
    var open = this.dataset.open !== '1';
    document.querySelectorAll('details.ctx').forEach(function (d) { d.open = open; });
    this.dataset.open = open ? '1' : '0';
    this.textContent = open ? 'collapse every context' : 'expand every context';
  });
  // A link to a file's context opens it.
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === 'DETAILS') el.open = true;
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
  var status = document.getElementById('dashboard-status');
  var errors = window.__dashboardErrors;
  status.dataset.checked = String(checked);
  if (errors.length || missing.length) {
    status.dataset.state = 'error';
    status.textContent = 'page check failed: ' + errors.length + ' script error(s), ' + missing.length + ' missing: ' +
      missing.slice(0, 20).join('; ');
    document.getElementById('js-errors').textContent = errors.join('\\n');
  } else {
    status.dataset.state = 'ready';
    status.textContent = 'page checked: ' + manifest.files.length + ' result files, ' + checked +
      ' approach entries, no script error';
  }
})();
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="result files (default: results/*.json)")
    ap.add_argument("--out", default=os.path.join(SOURCE, "build", "dashboard"), help="output directory")
    ap.add_argument("--no-plots", action="store_true", help="no plot.py figures (faster)")
    ap.add_argument("--no-history", action="store_true", help="no older committed versions")
    ap.add_argument("--screenshot", metavar="PNG", help="then render the page's top in headless Chromium to PNG "
                    "(docs/img/dashboard.png)")
    ap.add_argument("--screenshot-size", default="1400,960", metavar="W,H",
                    help="the window (default 1400,960: the header and the first workload's table)")
    args = ap.parse_args()

    paths = args.files or sorted(glob.glob(os.path.join(SOURCE, "results", "*.json")))
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    listed = read_allow_list()
    results, broken = [], []
    for p in paths:
        try:
            with open(p) as f:
                doc = json.load(f)
            results.append(Result(os.path.abspath(p), doc, os.path.relpath(os.path.abspath(p), out_dir)))
        except (OSError, ValueError) as ex:
            broken.append((p, str(ex)))
    for r in results:
        rel = os.path.relpath(r.path, SOURCE)
        if not rel.startswith(".."):
            r.last_commit = (git("log", "-1", "--format=%h %cs", "--", rel) or "").strip() or None
    runs = [r for r in results if r.kind == "run"]
    others = [r for r in results if r.kind != "run"]
    older = None if args.no_history else history(runs, out_dir)
    plots = {} if args.no_plots else write_plots(runs, out_dir)
    docs_img = {} if args.no_plots else docs_images(out_dir)

    by_workload = collections.defaultdict(list)
    for r in runs:
        by_workload[r.workload or "(no workload)"].append(r)
    workloads = sorted(by_workload, key=lambda w: (WORKLOAD_ORDER.index(w) if w in WORKLOAD_ORDER else 99, w))
    head_rev = (git("describe", "--always", "--dirty", "--abbrev=12") or "").strip() or "no git checkout"
    manifest = {"files": [{"name": r.name, "approaches": r.approaches()} for r in results]}

    body = []
    body.append('<header><h1>sockbench results</h1>'
                f'<p>{len(results)} result files in {e(os.path.relpath(os.path.dirname(paths[0]) if paths else "results", SOURCE))}'
                f', read at sockbench {e(head_rev)}. Medians of the verified repetitions (every target destroyed, '
                'nothing else touched), cv beside them; speed-ups over iter_per_netns, today\'s way, with a 95% '
                'bootstrap interval where a cv is 10% or more. Compare approaches within one column: columns are '
                'different kernels, and TCG columns are emulated.</p>'
                '<p id="dashboard-status" data-state="loading">page not checked (script did not run)</p>'
                '<pre id="js-errors"></pre></header><main>')
    body.append('<div id="controls"><label>approach filter: <input id="filter" placeholder="e.g. iter_"></label> '
                '<button id="expand" type="button">expand every context</button></div>')
    body.append("<nav><b>Workloads:</b> " + " · ".join(f'<a href="#{anchor(w, "wl")}">{e(w)}</a>' for w in workloads)
                + ' · <a href="#other">other results</a> · <a href="#files">every file\'s context</a></nav>')
    for w in workloads:
        files = sorted(by_workload[w], key=lambda r: (r.ctx.get("vm", "none") != "none",
                                                      [-x for x in version_key(r.ctx.get("kernel_release", "0"))],
                                                      r.name))
        body.append(f'<section id="{anchor(w, "wl")}"><h2>{e(w)}</h2>')
        wf = sorted({r.ctx.get("workload_file", "") for r in files} - {""})
        body.append(f'<p class="dim">workload file {e(", ".join(wf))}; {len(files)} result files, one column each.</p>')
        body.append(workload_table(files, listed))
        figs = [fig for r in files for fig in plots.get(r.name, [])]
        figs += [fig for base, fs in docs_img.items() if base.startswith(w + "-") for fig in fs]
        if figs:
            body.append("<h3>Plots</h3><div class=\"plots\">" + "".join(
                f'<figure><a href="{e(src)}"><img src="{e(src)}" alt="{e(cap)}" loading="lazy"></a>'
                f'<figcaption>{e(cap)}</figcaption></figure>' for src, cap in figs) + "</div>")
        if older is not None:
            versions = files + [o for o in older if o.workload == w]
            body.append(f"<h3>History across revisions</h3><p class=\"dim\">Every committed version of these files "
                        f"({sum(1 for o in older if o.workload == w)} older), oldest run first.</p>")
            body.append(history_table(versions, listed))
        body.append("</section>")
    if older is None:
        body.append('<p class="dim">No git checkout: no history of the files.</p>')
    body.append('<section id="other"><h2>Other results</h2>')
    for r in others:
        body.append(f'<h3 data-file="{e(r.name)}"><a href="{e(r.href)}">{e(r.name)}</a> '
                    f'<span class="dim">{e({"leak": "reverse-NAT leak study (sockbench leak)", "price": "connect-time price of an index (kernel price test)"}.get(r.kind, r.kind))}</span></h3>')
        body.append(other_summary(r))
        body.append(f'<p class="dim">{badge(r, listed)} <a href="#{r.id}" class="ctxlink">context</a></p>')
    left = [fig for base, fs in docs_img.items() if not any(base.startswith(w + "-") for w in workloads) for fig in fs]
    if left:
        body.append("<div class=\"plots\">" + "".join(
            f'<figure><a href="{e(src)}"><img src="{e(src)}" alt="{e(cap)}" loading="lazy"></a>'
            f'<figcaption>{e(cap)}</figcaption></figure>' for src, cap in left) + "</div>")
    for p, why in broken:
        body.append(f'<p class="nt">{e(p)}: not read: {e(why)}</p>')
    body.append("</section>")
    body.append(f'<section id="files"><h2>Every file\'s context</h2><p class="dim">Files not backed by a clean, '
                f'committed revision are marked (<a href="{e(os.path.relpath(os.path.join(SOURCE, ALLOW_LIST), out_dir))}">'
                f'{e(ALLOW_LIST)}</a>).</p>')
    body += [context_block(r, listed) for r in results]
    if older:
        body.append("<h3>Older committed versions</h3>")
        body += [context_block(o, listed) for o in older]
    body.append("</section></main>")

    data = json.dumps(manifest).replace("</", "<\\/")  # never ends the script element
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>sockbench results</title><style>{CSS}</style><script>{ERROR_JS}</script></head><body>"
            + "".join(body)
            + f'<script type="application/json" id="manifest">{data}</script>'
            + f"<script>{MAIN_JS}</script></body></html>\n")
    index = os.path.join(out_dir, "index.html")
    with open(index, "w") as f:
        f.write(page)
    print(index)
    if args.screenshot:
        return screenshot(index, os.path.abspath(args.screenshot), args.screenshot_size)
    return 0


def screenshot(index, png, size="1400,960"):
    """The page's top as headless Chromium renders it (scripts run)."""
    import tempfile
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("dashboard.py: --screenshot needs chromium (scripts/install-deps.sh)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([chromium, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}",
                            "--hide-scrollbars", f"--window-size={size}", "--virtual-time-budget=5000",
                            f"--screenshot={png}", "file://" + index], capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(png):
        print(f"dashboard.py: chromium did not write {png}: {r.stderr[-500:]}", file=sys.stderr)
        return 1
    print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
