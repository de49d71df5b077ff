#!/usr/bin/python3
"""plots/dashboard.py's page, rendered in headless Chromium (#16).

  dashboard_test.py SOURCE_DIR

Generates the page from the committed results/*.json into a scratch
directory, loads it with `chromium --headless --dump-dom` (scripts run) and
checks the DOM as the browser built it:

  - the page's own script ran to its end without an error: #dashboard-status
    says data-state="ready", #js-errors is empty, and Chromium's console log
    (--enable-logging=stderr) has no "Uncaught" and no console error;
  - every committed result file is there, with each approach it names: for
    a `sockbench run` file, a cell per approach and scenario; a timed one
    shows the median of its repetitions as sockbench_results.py reads them,
    linked to the file (relative), the file's context in its title; one not
    timed says "unsupported" or "failed" with the reason and no number; the
    leak files' approaches and the price files are there;
  - every file has its context block (kernel release, config hash, patch
    set, VM mode, machine, sockbench revision), unbacked files
    (results/KNOWN_UNBACKED.txt) are marked;
  - the history: each older committed version of a file is on the page,
    its copy written for the link;
  - every image the page shows exists next to it; nothing is loaded from
    the network;
  - negative controls, so none of this passes vacuously: the same page
    with a script error, and with one cell removed, must read as broken.

Also renders a screenshot (--screenshot) and checks that it was drawn.
"""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SOURCE = os.path.realpath(sys.argv[1])
sys.path.insert(0, os.path.join(SOURCE, "plots"))
import results_table  # noqa: E402
import sockbench_results  # noqa: E402
sys.path.insert(0, os.path.join(SOURCE, "tests", "unit", "consumers"))
from check import check, done  # noqa: E402  (the consumer tests' ok/FAIL lines)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Dom(html.parser.HTMLParser):
    """Elements with their attributes and text (Chromium's serialized DOM)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": [], "children": []}
        if self.stack:
            self.stack[-1]["children"].append(el)
        self.elements.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_endtag(self, tag):
        while self.stack:
            el = self.stack.pop()
            if el["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self.stack:
            el["text"].append(data)


def text(el):
    return re.sub(r"\s+", " ", "".join(el["text"])).strip()


def links(el):
    out = [el] if el["tag"] == "a" else []
    for c in el["children"]:
        out += links(c)
    return out


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def render(page, profile):
    """-> (DOM text, Chromium's stderr)"""
    r = subprocess.run([chromium(), "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}",
                        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
                        "file://" + page], capture_output=True, text=True, timeout=120)
    return r.stdout, r.stderr


def console_errors(stderr):
    """Chromium's console lines ("...:INFO:CONSOLE:247] "Uncaught TypeError: ...", source: ...") that are errors."""
    return [ln for ln in stderr.splitlines() if "Uncaught" in ln or
            (":CONSOLE" in ln and re.search(r"\b(error|Error)\b", ln))]


def parse(dom_text):
    d = Dom()
    d.feed(dom_text)
    return d.elements


def status(elements):
    st = [el for el in elements if el["attrs"].get("id") == "dashboard-status"]
    errs = [el for el in elements if el["attrs"].get("id") == "js-errors"]
    return (st[0]["attrs"].get("data-state") if st else None, text(st[0]) if st else "",
            text(errs[0]) if errs else None)


def main():
    if not chromium():
        check(False, "chromium is installed (Debian package chromium: scripts/install-deps.sh)")
        done()
    tmp = tempfile.mkdtemp(prefix="dashboard-test.")
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    out = os.path.join(tmp, "dash")
    gen = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "plots", "dashboard.py"), "--out", out,
                          "--screenshot", os.path.join(tmp, "shot.png")], capture_output=True, text=True)
    check(gen.returncode == 0, f"dashboard.py writes the page and its screenshot ({gen.stderr.strip()[-400:]})")
    page = os.path.join(out, "index.html")
    if not os.path.exists(page):
        done()
    shot = os.path.join(tmp, "shot.png")
    check(os.path.exists(shot) and os.path.getsize(shot) > 20000,
          f"the screenshot was drawn ({os.path.getsize(shot) if os.path.exists(shot) else 0} bytes)")
    with open(page) as f:
        source_html = f.read()

    dom_text, stderr = render(page, os.path.join(tmp, "profile"))
    elements = parse(dom_text)
    state, status_text, errors = status(elements)
    check(state == "ready", f"the page's script ran to its end: #dashboard-status {state}: {status_text}")
    check(errors == "", f"no script error on the page ({errors})")
    bad = console_errors(stderr)
    check(not bad, f"Chromium's console log has no error ({bad[:3]})")

    cells = {}
    for el in elements:
        a = el["attrs"]
        if "data-file" in a and "data-approach" in a:
            cells.setdefault((a["data-file"], a["data-approach"], a.get("data-scenario")), []).append(el)
    names = sorted(os.path.basename(p) for p in
                   subprocess.run(["git", "-C", SOURCE, "ls-files", "--", "results/*.json"],
                                  capture_output=True, text=True).stdout.split())
    if not names:  # no git: what is on disk
        names = sorted(n for n in os.listdir(os.path.join(SOURCE, "results")) if n.endswith(".json"))
    check(len(names) > 0, f"{len(names)} committed result files to find on the page")
    for name in names:
        path = os.path.join(SOURCE, "results", name)
        with open(path) as f:
            doc = json.load(f)
        rel = os.path.relpath(path, out)
        present = [el for el in elements if el["attrs"].get("data-file") == name]
        check(present, f"{name}: on the page")
        if "benchmarks" in doc:
            ctx, timed, not_timed = sockbench_results.parse(doc)
            wrong = []
            for (a, sc), ts in timed.items():
                el = cells.get((name, a, sc), [None])[0]
                if el is None or el["attrs"].get("data-status") != "timed":
                    wrong.append(f"{a} {sc}: no timed cell")
                    continue
                first = links(el)[0] if links(el) else None
                want = results_table.fmt(sockbench_results.median(ts))
                if not first or text(first) != want or first["attrs"].get("href") != rel:
                    wrong.append(f"{a} {sc}: {text(first) if first else None} -> "
                                 f"{first['attrs'].get('href') if first else None}, want {want} -> {rel}")
                    continue
                title = first["attrs"].get("title", "")
                for what in (ctx.get("kernel_release", "?"), ctx.get("machine", "?"),
                             ctx.get("sockbench_git_revision", "?")):
                    if what not in title:
                        wrong.append(f"{a} {sc}: title lacks {what!r}")
            for n in not_timed:
                el = cells.get((name, n["approach"], n["scenario"]), [None])[0]
                why = n["reason"][len("unsupported: "):] if n["reason"].startswith("unsupported: ") else n["reason"]
                t = text(el) if el else ""
                if (el is None or el["attrs"].get("data-status") != n["status"] or not t.startswith(n["status"])
                        or why not in t or re.search(r"\d (s|ms|us)\b", t.replace(why, ""))):
                    wrong.append(f"{n['approach']} {n['scenario']}: not '{n['status']}' with its reason: {t[:120]}")
            approaches = sorted({a for a, _s in timed} | {n["approach"] for n in not_timed})
            check(not wrong, f"{name}: {len(timed)} timed cells with their medians, linked, context in the title; "
                             f"{len(not_timed)} not timed with the reason, no number ({approaches})"
                  + (f": {wrong[:4]}" if wrong else ""))
        elif name.startswith("leak"):
            ctx = doc.get("context", {})
            want = set(ctx.get("approaches", [])) | {u["approach"] for u in ctx.get("unsupported", [])}
            have = {k[1] for k in cells if k[0] == name}
            check(want <= have, f"{name}: its approaches {sorted(want)} are on the page ({sorted(want - have)} missing)")
        # The context block.
        ctx = doc.get("context", doc)
        block_id = "file-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        block = next((el for el in elements if el["tag"] == "details" and el["attrs"].get("id") == block_id), None)
        t = text(block) if block else ""
        missing = [k for k in ("kernel_release", "kernel_config_sha256", "patchset", "vm", "machine",
                               "sockbench_git_revision") if k in ctx and str(ctx[k]).split(",")[0] not in t]
        check(block is not None and not missing, f"{name}: context block with {missing or 'every field'} present")

    # Unbacked files are marked.
    listed = {}
    allow = os.path.join(SOURCE, "results", "KNOWN_UNBACKED.txt")
    if os.path.exists(allow):
        for line in open(allow):
            if line.strip() and not line.startswith("#") and ":" in line:
                listed[line.split(":", 1)[0].strip()] = True
    marked = {el["attrs"].get("data-file") for el in elements if el["tag"] == "details" and "unbacked" in text(el)}
    check(set(listed) & set(names) <= marked, f"the {len(listed)} files of KNOWN_UNBACKED.txt are marked unbacked")

    # History: each older committed version (one that differs from the
    # file now), its copy written and linked.
    older = 0
    for name in names:
        with open(os.path.join(SOURCE, "results", name), "rb") as f:
            now = f.read()
        log = subprocess.run(["git", "-C", SOURCE, "log", "--format=%H", "--", f"results/{name}"],
                             capture_output=True, text=True).stdout.split()
        for commit in log:
            blob = subprocess.run(["git", "-C", SOURCE, "show", f"{commit}:results/{name}"], capture_output=True)
            if blob.returncode != 0 or blob.stdout == now:
                continue
            older += 1
            copy = os.path.join(out, "history", commit[:12], name)
            href = os.path.relpath(copy, out)
            check(os.path.exists(copy) and any(el["tag"] == "a" and el["attrs"].get("href") == href for el in elements),
                  f"{name} as committed in {commit[:12]}: in the history, its copy linked ({href})")
    check(older > 0, f"{older} older committed versions in the history")

    # Images exist; nothing from the network.
    imgs = [el["attrs"].get("src", "") for el in elements if el["tag"] == "img"]
    check(imgs and all(os.path.exists(os.path.join(out, s)) for s in imgs),
          f"{len(imgs)} images, each next to the page ({[s for s in imgs if not os.path.exists(os.path.join(out, s))][:3]})")
    remote = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", source_html)
    check(not remote, f"nothing loaded from the network ({remote[:3]})")

    # Negative controls: a script error, a missing cell.
    first_cell = re.search(r'<td class="num" data-file="[^"]+" data-approach="[^"]+" data-scenario="[^"]+"', source_html)
    broken = {"a script error": source_html.replace('<script type="application/json"',
                                                    '<script>window.noSuchFunction();</script><script type="application/json"', 1),
              "a cell removed": source_html.replace(first_cell.group(0), '<td class="num"', 1) if first_cell else ""}
    for what, variant in broken.items():
        bpage = os.path.join(out, "broken.html")
        with open(bpage, "w") as f:
            f.write(variant)
        bdom, berr = render(bpage, os.path.join(tmp, "profile"))
        bstate, btext, berrors = status(parse(bdom))
        check(bstate == "error", f"negative control, {what}: the page reads as broken ({bstate}: {btext[:120]})")
        if what == "a script error":
            check("noSuchFunction" in (berrors or "") and console_errors(berr),
                  "negative control, a script error: in #js-errors and in Chromium's console log")
    os.remove(os.path.join(out, "broken.html"))
    done()


if __name__ == "__main__":
    main()
