#!/usr/bin/python3
"""Every entry of sockbench result files is Google Benchmark JSON as Google
Benchmark itself (the installed library, 1.7.1 on Debian 12) writes it.

  gb_shape_test.py GB_REFERENCE_BENCH RESULT.json...

Runs the reference benchmark (gb_reference_bench.cc) with 3 repetitions and
holds each result file to what it wrote: every field Google Benchmark
writes for an entry of that kind (iteration, mean, median, stddev, cv) is
there with the same JSON type (so time_unit on the cv too), the fields
beyond them are counters (numbers), no value is null, the entries of a
benchmark come in Google Benchmark's order, the context has every field of
Google Benchmark's and sockbench_json_schema_version 2, names carry no
repeats:N, and no entry is an error (those are in sockbench_not_timed).
"""
import json
import subprocess
import sys

from check import check, done, load


def kind(b):
    return b["run_type"] if b["run_type"] == "iteration" else "aggregate:" + b["aggregate_name"]


def jtype(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def nulls(v, where="$"):
    if v is None:
        return [where]
    if isinstance(v, dict):
        return [p for k, x in v.items() for p in nulls(x, f"{where}.{k}")]
    if isinstance(v, list):
        return [p for i, x in enumerate(v) for p in nulls(x, f"{where}[{i}]")]
    return []


def main():
    ref_bin, results = sys.argv[1], sys.argv[2:]
    out = subprocess.run([ref_bin, "--benchmark_repetitions=3", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    gb = json.loads(out)  # Python reads the NaN Google Benchmark may write
    ref = {}
    for b in gb["benchmarks"]:
        ref.setdefault(kind(b), b)
    gb_order = [kind(b) for b in gb["benchmarks"] if b["run_type"] == "aggregate"]
    check(set(ref) == {"iteration", "aggregate:mean", "aggregate:median", "aggregate:stddev", "aggregate:cv"},
          f"Google Benchmark wrote iterations and mean/median/stddev/cv: {sorted(ref)}")

    for path in results:
        doc = load(path)
        ctx = doc.get("context", {})
        check(ctx.get("sockbench_json_schema_version") == 2, f"{path}: context.sockbench_json_schema_version is 2")
        missing = [k for k, v in gb["context"].items() if k not in ctx or jtype(ctx[k]) != jtype(v)]
        check(not missing, f"{path}: context has Google Benchmark's fields with their types (wrong: {missing})")
        check(isinstance(doc.get("sockbench_not_timed"), list), f"{path}: sockbench_not_timed is a list")
        check(not nulls(doc), f"{path}: no null anywhere (found at {nulls(doc)[:5]})")
        bad, by_run = [], {}
        for i, b in enumerate(doc["benchmarks"]):
            k = kind(b)
            if k not in ref:
                bad.append(f"benchmarks[{i}]: kind {k} Google Benchmark does not write")
                continue
            for field, v in ref[k].items():
                if field not in b:
                    bad.append(f"benchmarks[{i}] ({k}): no {field}")
                elif jtype(b[field]) != jtype(v):
                    bad.append(f"benchmarks[{i}] ({k}): {field} is {jtype(b[field])}, Google Benchmark's {jtype(v)}")
            for field, v in b.items():
                if field not in ref[k] and jtype(v) != "number" and field not in ("error_occurred", "error_message"):
                    bad.append(f"benchmarks[{i}] ({k}): {field} is neither Google Benchmark's nor a counter")
            if b.get("error_occurred"):
                bad.append(f"benchmarks[{i}]: an error entry among the timed ones: {b.get('error_message')}")
            if "repeats:" in b["name"] or "repeats:" in b["run_name"]:
                bad.append(f"benchmarks[{i}]: repeats:N in {b['name']}")
            by_run.setdefault(b["run_name"], []).append(b)
        check(not bad, f"{path}: every entry has Google Benchmark's fields and types ({bad[:6]})")
        order_bad = []
        for run_name, entries in by_run.items():
            n = entries[0]["repetitions"]
            kinds = [kind(b) for b in entries]
            want = ["iteration"] * n + (gb_order if n > 1 else [])  # no aggregates of one
            if kinds != want:
                order_bad.append(f"{run_name}: {kinds}")
            if [b.get("repetition_index") for b in entries[:n]] != list(range(n)):
                order_bad.append(f"{run_name}: repetition_index not 0..{n - 1}")
        check(by_run and not order_bad,
              f"{path}: {len(by_run)} benchmarks, each its repetitions then {gb_order} ({order_bad[:3]})")
        families = [by_run[r][0]["family_index"] for r in by_run]
        check(families == list(range(len(by_run))), f"{path}: family_index 0..{len(by_run) - 1}, one per benchmark")
    done()


if __name__ == "__main__":
    main()
