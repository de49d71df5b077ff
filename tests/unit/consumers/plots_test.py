#!/usr/bin/python3
"""plots/plot.py and plots/results_table.py read result files of both schema
versions and still name what was not timed, with the reason.

  plots_test.py OLD.json NEW.json

OLD is a committed version 1 file (unsupported approaches as error_occurred
runs, repeats:N in names), NEW a version 2 one (sockbench_not_timed). Both
read into the same timed approaches and not-timed ones; the table lists the
unsupported ones with their reason and a failed one as failed; plot.py draws
NEW and labels what it could not draw.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

from check import SOURCE, check, done, load, sockbench_results

PLOTS = os.path.join(SOURCE, "plots")
sys.path.insert(0, PLOTS)
import plot  # noqa: E402


def table(doc, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(doc, f)
        f.flush()
        run = subprocess.run(["/usr/bin/python3", os.path.join(PLOTS, "results_table.py"), *args, f.name],
                             capture_output=True, text=True)
    check(run.returncode == 0, f"results_table.py {' '.join(args)} exits 0 ({run.stderr.strip()[-300:]})")
    return run.stdout


def main():
    old_path, new_path = sys.argv[1:3]
    old, new = load(old_path), load(new_path)
    _c, old_timed, old_not = sockbench_results.parse(old)
    _c, new_timed, new_not = sockbench_results.parse(new)
    check(all(len(ts) > 1 for ts in old_timed.values()) and all(len(ts) > 1 for ts in new_timed.values()),
          "every timed benchmark has its repetitions, no error among them")
    check({a for a, _s in old_timed} >= {a for a, _s in new_timed} == {"sock_diag", "iter_per_netns"},
          f"timed in both: {sorted({a for a, _ in new_timed})}")
    check(old_not and all(e["status"] == "unsupported" and e["reason"].startswith("unsupported: ") for e in old_not),
          f"version 1: {len(old_not)} unsupported, with reasons")
    check([e["approach"] for e in new_not] == ["iter_all_netns"] and new_not[0]["status"] == "unsupported",
          "version 2: iter_all_netns unsupported")

    for path, doc, nots in ((old_path, old, old_not), (new_path, new, new_not)):
        out = table(doc)
        check(all(f"- `{e['approach']}`: {e['reason']}" in out for e in nots),
              f"{path}: the table lists each unsupported approach with its reason")
        check("sock_diag" in out.splitlines()[2] and "iter_per_netns" in out.splitlines()[2],
              f"{path}: the table has a column per timed approach")
        cover = table(doc, "--cover")
        check(all(e["approach"] not in cover for e in nots), f"{path}: --cover leaves unsupported ones out")

    # A failed approach, in either version, is "failed" in the table and
    # none of its repetitions is used.
    name = "destroy/iter_per_netns/netns:4/sockets:512/targets:4x2/iterations:1/manual_time"
    v2 = copy.deepcopy(new)
    v2["benchmarks"] = [b for b in v2["benchmarks"] if b["run_name"] != name]
    v2["sockbench_not_timed"].append({"name": name, "approach": "iter_per_netns",
                                      "scenario": "netns:4/sockets:512/targets:4x2", "status": "failed",
                                      "reason": "verification failed: 7 of 8 targets destroyed"})
    v1 = copy.deepcopy(new)
    del v1["context"]["sockbench_json_schema_version"], v1["sockbench_not_timed"]
    for b in v1["benchmarks"]:
        if b["run_name"] == name and b.get("repetition_index") == 1:
            b.update(error_occurred=True, error_message="verification failed: 7 of 8 targets destroyed")
    for label, doc in (("version 2", v2), ("version 1", v1)):
        out = table(doc, "--cover")
        row = [ln for ln in out.splitlines() if ln.strip().lstrip("| ").startswith("iter_per_netns")]
        check(len(row) == 1 and "failed" in row[0], f"{label}: --cover shows iter_per_netns failed: {row}")
        out = table(doc)
        check("- `iter_per_netns` failed in `netns:4/sockets:512/targets:4x2`: verification failed" in out,
              f"{label}: the table names the failure")

    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(["/usr/bin/python3", os.path.join(PLOTS, "plot.py"), "--out-dir", tmp, new_path],
                             capture_output=True, text=True)
        check(run.returncode == 0 and os.path.exists(os.path.join(tmp, "smoke-by-approach.png")),
              f"plot.py draws {new_path} ({run.stdout.strip()} {run.stderr.strip()[-300:]})")
    for path in (old_path, new_path):
        _ctx, series, errors = plot.load(path)
        check({k[0] for k in series} >= {"sock_diag", "iter_per_netns"} and "iter_all_netns" in errors,
              f"{path}: plot.load has the timed series and the not-timed approaches")
        check("unsupported here: " in plot.not_timed_label(errors) and "iter_all_netns" in plot.not_timed_label(errors),
              f"{path}: plot labels them: {plot.not_timed_label(errors)}")
    done()


if __name__ == "__main__":
    main()
