#!/usr/bin/python3
"""plots/results_table.py --cover: the table a patch cover letter
(kernel/export-series.sh) or a slide needs, from chosen result files (#16).

  cover_table_test.py OLD.json NEW.json

OLD is a committed version 1 file, NEW a version 2 fixture. Holds --cover
to: a markdown table whose columns line up (readable as plain text), one
row per file, scenario and chosen approach in the chosen order; the median
of the timed repetitions with its 95% bootstrap interval around it, the cv
and the run count as sockbench_results.py reads the file; a chosen
approach that was not timed says why ("unsupported"), never a number; under
the table, one context line per file (kernel, VM mode, patch set, config
hash, machine, workload, repetitions, sockbench revision and whether its
tree was clean, the path); the same output twice; an approach in none of
the files refused with exit 2 and its name.
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

from check import SOURCE, check, done, load, median, sockbench_results

TABLE = os.path.join(SOURCE, "plots", "results_table.py")
UNIT_MS = {"s": 1000.0, "ms": 1.0, "us": 0.001}


def run(*args):
    return subprocess.run(["/usr/bin/python3", TABLE, "--cover", *args], capture_output=True, text=True)


def ms(text):
    """"8.51 s" -> 8510.0"""
    value, unit = text.split()
    return float(value) * UNIT_MS[unit]


def interval(text):
    """"8.31-9.00 s" -> (8310.0, 9000.0)"""
    span, unit = text.split()
    lo, hi = span.split("-")
    return float(lo) * UNIT_MS[unit], float(hi) * UNIT_MS[unit]


def table_rows(out):
    """The markdown table's lines, split into cells, and what follows it."""
    lines = out.splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    after = lines[lines.index(table[-1]) + 1:] if table else lines
    return table, [[c.strip() for c in ln.strip("|").split("|")] for ln in table], after


def fmt(ms_value):
    return f"{ms_value / 1000:.2f} s" if ms_value >= 1000 else (
        f"{ms_value:.2f} ms" if ms_value >= 1 else f"{ms_value * 1000:.0f} us")


def main():
    old_path, new_path = sys.argv[1:3]
    chosen = ["iter_per_netns", "sock_diag", "iter_all_netns"]
    res = run("--approaches", ",".join(chosen), old_path, new_path)
    check(res.returncode == 0, f"--cover with two files exits 0 ({res.stderr.strip()[-300:]})")
    out = res.stdout
    table, rows, after = table_rows(out)
    head = rows[0]
    check(head == ["run", "approach", "sockets", "netns", "median", "95% CI", "cv", "runs"], f"columns: {head}")
    check(set(rows[1][0]) <= set("-:") and len(rows[1]) == len(head), "the second line is markdown's alignment row")
    check(all(len(r) == len(head) for r in rows), "every row has every column")
    check(len({len(ln) for ln in table}) == 1, "the columns line up as plain text (every table line as long)")

    body = rows[2:]
    for n, path in ((1, old_path), (2, new_path)):
        ctx, timed, not_timed = sockbench_results.parse(load(path))
        mine = [r for r in body if r[0] == f"[{n}]"]
        scenarios = list(dict.fromkeys(s for _a, s in list(timed) + [(e["approach"], e["scenario"]) for e in not_timed]))
        want = [a for a in chosen if any((a, s) in timed or any(e["approach"] == a for e in not_timed)
                                          for s in scenarios)]
        check([r[1] for r in mine] == want * len(scenarios),
              f"[{n}] {path}: the chosen approaches, in the chosen order: {[r[1] for r in mine]}")
        for r in mine:
            scen = [s for s in scenarios if f"sockets:{int(r[2].replace(',', ''))}/" in s
                    and f"netns:{int(r[3].replace(',', ''))}/" in s]
            key = (r[1], scen[0]) if scen else None
            if key in timed:
                ts = timed[key]
                m = median(ts)
                lo, hi = interval(r[5])
                check(r[4] == fmt(m), f"[{n}] {r[1]}: median {r[4]} is the repetitions' ({fmt(m)})")
                # (1% for the rounding of the printed figures)
                check(lo <= hi and lo * 0.99 <= ms(r[4]) <= hi * 1.01 and min(ts) * 0.99 <= lo
                      and hi <= max(ts) * 1.01,
                      f"[{n}] {r[1]}: 95% CI {r[5]} holds the median and lies within the repetitions")
                check(r[7] == str(len(ts)) and r[6] == f"{sockbench_results.cv(ts) * 100:.0f}%",
                      f"[{n}] {r[1]}: cv {r[6]}, {r[7]} runs")
            else:
                status = [e["status"] for e in not_timed if e["approach"] == r[1]]
                check(status and r[4] == status[0] and r[5:] == ["-", "-", "-"],
                      f"[{n}] {r[1]}: not timed, shown as '{r[4]}' without a number")

    # Under the table: what produced each file.
    text = "\n".join(after)
    for n, path in ((1, old_path), (2, new_path)):
        ctx = load(path)["context"]
        line = [ln for ln in after if ln.startswith(f"[{n}] ")]
        check(len(line) == 1, f"one context line for [{n}] under the table")
        line = line[0] if line else ""
        rev = ctx["sockbench_git_revision"]
        for what in (ctx["kernel_release"], ctx["machine"], f"workload {ctx['workload']}",
                     f"{ctx['repetitions']} repetitions", ctx["kernel_config_sha256"][:12], rev, path):
            check(what in line, f"[{n}] context line names {what!r}")
        check(("TCG" in line) if ctx["vm"] == "tcg" else ("host" in line), f"[{n}] context line names the VM mode")
        check(("uncommitted changes" in line) == rev.endswith("-dirty"), f"[{n}] says whether the tree was clean")
    check("95% CI" in text and "bootstrap" in text, "the note under the table says what the interval is")

    # Stamped v2 contexts: clean, or dirty with the diff's hash.
    doc = load(new_path)
    with tempfile.TemporaryDirectory() as tmp:
        clean, dirty = copy.deepcopy(doc), copy.deepcopy(doc)
        clean["context"].update(sockbench_git_revision="0123456789ab", sockbench_git_dirty=False)
        dirty["context"].update(sockbench_git_revision="0123456789ab-dirty", sockbench_git_dirty=True,
                                sockbench_git_diff_sha256="ab" * 32)
        paths = []
        for name, d in (("clean.json", clean), ("dirty.json", dirty)):
            paths.append(os.path.join(tmp, name))
            with open(paths[-1], "w") as f:
                json.dump(d, f)
        out = run(*paths).stdout
        check("sockbench 0123456789ab (clean tree)" in out, "a clean stamp says so")
        check("uncommitted changes, diff sha256 abababababab" in out, "a dirty stamp carries its diff's hash")

    # One file: no run column, its context line without a number.
    one = run(new_path).stdout
    _t, rows1, after1 = table_rows(one)
    check(rows1[0][0] == "approach" and any(ln.startswith("Kernel ") and new_path in ln for ln in after1),
          "one file: no run column, one context line under the table")
    # Without --approaches, what was not timed is left out.
    _c, _t, nots = sockbench_results.parse(doc)
    check(all(e["approach"] not in [r[0] for r in rows1] for e in nots), "without --approaches: unsupported left out")
    # --plain: the same cells, no pipes.
    plain = run("--plain", new_path).stdout
    check("|" not in plain and all(" ".join(r) in re.sub(r" +", " ", plain) for r in rows1[2:]),
          "--plain: the same rows without pipes")
    check(run("--approaches", ",".join(chosen), old_path, new_path).stdout == res.stdout,
          "the same output twice (fixed seeds)")
    bad = run("--approaches", "sock_diag,no_such_approach", new_path)
    check(bad.returncode == 2 and "no_such_approach" in bad.stderr, f"an unknown approach: exit 2, named ({bad.stderr.strip()})")
    done()


if __name__ == "__main__":
    main()
