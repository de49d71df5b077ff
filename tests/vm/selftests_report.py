#!/usr/bin/env python3
"""Compare test_progs runs of kernel/selftests.sh and write the results table.

Usage: selftests_report.py [--known FILE] [--base FILE] [--table FILE.md]
                           LABEL=RUN_DIR [LABEL=RUN_DIR ...]

The first run is the baseline (the unpatched kernel). Each RUN_DIR holds
test_progs.log, test_progs.rc, vm.rc (vm.sh's exit status: 3 = kernel
splat, 124 = timeout) and names (the prog_tests built for it).

Pass criterion (exit 0, else 1 with the reasons):
  - every run: vm.sh exit 0 (no kernel splat, no timeout), test_progs ran;
  - the baseline: nothing fails that known-failures.txt does not list;
  - every other run: every test and subtest that passed in the baseline
    passes; the tests it has beyond base.list (the series' own selftests)
    all pass, none skipped; nothing fails that is not listed.
"""
import argparse
import os
import re
import sys

LINE = re.compile(r"^#(\d+)(?:/(\d+))?\s+(.+?):(OK|FAIL|SKIP)\s*$")


def list_file(path):
    out = []
    if path and os.path.exists(path):
        for line in open(path):
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def read(path, default=""):
    try:
        return open(path).read().strip()
    except OSError:
        return default


def parse_log(path):
    """name or name/subtest -> OK|FAIL|SKIP, in the order first seen."""
    res = {}
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return res
    for line in lines:
        m = LINE.match(line)
        if m and m.group(3) not in res:
            res[m.group(3)] = m.group(4)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--known")
    ap.add_argument("--base")
    ap.add_argument("--table")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()

    known = {}
    for line in list_file(a.known):
        name, _, reason = line.partition(" ")
        known[name] = reason.strip()
    base = set(list_file(a.base))
    runs = []
    for spec in a.runs:
        label, _, d = spec.partition("=")
        runs.append({
            "label": label, "dir": d, "res": parse_log(os.path.join(d, "test_progs.log")),
            "vm_rc": read(os.path.join(d, "vm.rc"), "missing"),
            "tp_rc": read(os.path.join(d, "test_progs.rc"), "missing"),
            "names": list_file(os.path.join(d, "names")),
        })
    problems = []

    def is_known(name):
        return name in known or name.split("/", 1)[0] in known

    for r in runs:
        if r["vm_rc"] != "0":
            problems.append(f"{r['label']}: vm.sh exit {r['vm_rc']} (3: kernel splat, 124: timeout)")
        if not r["res"]:
            problems.append(f"{r['label']}: no test_progs result lines (test_progs exit {r['tp_rc']})")
        for name, st in r["res"].items():
            if st == "FAIL" and not is_known(name):
                problems.append(f"{r['label']}: {name} FAIL (not in known-failures.txt)")
    baseline = runs[0]
    for r in runs[1:]:
        for name, st in baseline["res"].items():
            if st == "OK" and r["res"].get(name) != "OK":
                problems.append(f"{r['label']}: {name} passed on {baseline['label']}, "
                                f"here {r['res'].get(name, 'missing')}")
        for t in r["names"]:
            if t in base:
                continue
            entries = {n: s for n, s in r["res"].items() if n == t or n.startswith(t + "/")}
            if t not in entries:
                problems.append(f"{r['label']}: new selftest {t} did not run")
            for n, s in entries.items():
                if s != "OK":
                    problems.append(f"{r['label']}: new selftest {n} {s}")

    if a.table:
        labels = [r["label"] for r in runs]
        tests = []
        for r in runs:
            for n in r["res"]:
                t = n.split("/", 1)[0]
                if t not in tests:
                    tests.append(t)
        out = ["| test | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]

        def cell(r, t, sub=None):
            if sub is not None:
                return r["res"].get(sub, "not run")
            if t not in r["res"]:
                return "not run"
            subs = [s for n, s in r["res"].items() if n.startswith(t + "/")]
            top = r["res"].get(t, "missing")
            if not subs:
                return top
            ok = sum(s == "OK" for s in subs)
            skip = sum(s == "SKIP" for s in subs)
            fail = sum(s == "FAIL" for s in subs)
            c = f"{top}: {ok}/{len(subs)} OK"
            if skip:
                c += f", {skip} SKIP"
            if fail:
                c += f", {fail} FAIL"
            return c

        for t in tests:
            out.append(f"| `{t}` | " + " | ".join(cell(r, t) for r in runs) + " |")
            # The series' own selftests and anything not OK somewhere: by subtest.
            subs = []
            for r in runs:
                for n, s in r["res"].items():
                    if n.startswith(t + "/") and n not in subs and (t not in base or s != "OK" or any(
                            x["res"].get(n) != "OK" for x in runs if t in x["res"])):
                        subs.append(n)
            for n in subs:
                out.append(f"| &nbsp;&nbsp;`{n}` | " + " | ".join(cell(r, t, n) for r in runs) + " |")
        out.append("| kernel splat (vm.sh exit 3) | " + " | ".join(
            "none" if r["vm_rc"] == "0" else f"vm.sh exit {r['vm_rc']}" for r in runs) + " |")
        with open(a.table, "w") as f:
            f.write("\n".join(out) + "\n")

    for r in runs:
        vals = list(r["res"].values())
        print(f"{r['label']}: {sum(v == 'OK' for v in vals)} OK, {sum(v == 'SKIP' for v in vals)} SKIP, "
              f"{sum(v == 'FAIL' for v in vals)} FAIL (tests and subtests); test_progs exit {r['tp_rc']}, "
              f"vm.sh exit {r['vm_rc']}")
    for p in problems:
        print("PROBLEM: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
