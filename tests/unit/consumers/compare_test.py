#!/usr/bin/python3
"""Google Benchmark's compare.py (Debian's libbenchmark-tools) pairs two
sockbench result files of different repetition counts.

  compare_test.py COMPARE_PY BASELINE.json CONTENDER.json

Runs `compare.py benchmarks BASELINE CONTENDER` as a user would and checks,
in its JSON report (--dump_to_json) and on its output, that every benchmark
timed in both files is paired, its repetitions (as many as the shorter run
has) and its mean, median, stddev and cv; that the OVERALL_GEOMEAN row is
there; and that nothing not timed (unsupported or failed) is compared.
"""
import os
import subprocess
import sys
import tempfile

from check import check, done, load, timed_names


def main():
    compare, base, cont = sys.argv[1:4]
    if not check(os.path.exists(compare), f"{compare} exists (Debian's libbenchmark-tools: scripts/install-deps.sh)"):
        done()
    reps = [load(p)["context"]["repetitions"] for p in (base, cont)]
    check(reps[0] != reps[1], f"the two files have different repetition counts: {reps}")
    base_timed, base_not = timed_names(base)
    cont_timed, cont_not = timed_names(cont)
    both = [n for n in base_timed if n in cont_timed]
    check(len(both) >= 2 and set(base_timed) == set(cont_timed),
          f"the same benchmarks timed in both: {sorted(base_timed)} / {sorted(cont_timed)}")

    with tempfile.TemporaryDirectory() as tmp:
        report_path = os.path.join(tmp, "report.json")
        run = subprocess.run(["/usr/bin/python3", compare, "--no-color", "-d", report_path, "benchmarks", base, cont],
                             capture_output=True, text=True)
        print(run.stdout)
        if not check(run.returncode == 0, f"compare.py exits 0 (stderr: {run.stderr.strip()[-500:]})"):
            done()
        report = {r["name"]: r for r in load(report_path)}
    lines = run.stdout.splitlines()
    for name in both:
        n = min(len(base_timed[name]), len(cont_timed[name]))
        row = report.get(name)
        check(row is not None and len(row["measurements"]) == n,
              f"{name}: {n} repetitions paired ({len(row['measurements']) if row else 0})")
        for agg in ("mean", "median", "stddev", "cv"):
            check(f"{name}_{agg}" in report, f"{name}: its {agg} paired")
        check(sum(1 for ln in lines if ln.startswith(name + " ")) == n,
              f"{name}: {n} repetition rows printed")
    geomean = [ln for ln in lines if ln.startswith("OVERALL_GEOMEAN")]
    check("OVERALL_GEOMEAN" in report and len(geomean) == 1, f"the OVERALL_GEOMEAN row: {geomean}")
    for name in base_not | cont_not:
        check(not any(r.startswith(name) for r in report) and name not in run.stdout,
              f"not timed, not compared: {name}")
    done()


if __name__ == "__main__":
    main()
