#!/usr/bin/python3
"""`sockbench export` writes what Bencher and github-action-benchmark read.

  export_test.py SOCKBENCH RESULT.json...

For each result file (either schema version):
  bmf  validates against Bencher's documented BMF JSON schema
       (bmf.schema.json, with Debian's python3-jsonschema), has one
       benchmark per approach x scenario timed, each with the one measure
       "latency": the median of the repetitions in ns, lower_value the
       min, upper_value the max; nothing not timed
  gab  is github-action-benchmark's customSmallerIsBetter input: a list of
       {name, unit, value, range, extra} (strings but value, a number), one
       per approach x scenario timed, value the median in ms; nothing not
       timed
The timings are taken from the file by plots/sockbench_results.py, not by
sockbench's own reader, so the two readers are held to each other.
"""
import json
import math
import os
import subprocess
import sys

from check import check, done, median, timed_names

try:
    import jsonschema
except ImportError:
    sys.exit("FAIL: no jsonschema for /usr/bin/python3: install Debian's python3-jsonschema (scripts/install-deps.sh)")

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bmf.schema.json")


def export(sockbench, fmt, path):
    run = subprocess.run([sockbench, "export", "--format", fmt, "--in", path], capture_output=True, text=True)
    check(run.returncode == 0, f"export --format {fmt} --in {path} exits 0 ({run.stderr.strip()})")
    return json.loads(run.stdout)


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def main():
    sockbench, results = sys.argv[1], sys.argv[2:]
    with open(SCHEMA) as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema)
    jsonschema.Draft7Validator.check_schema(schema)
    # The validator rejects what the format does not allow.
    check(not validator.is_valid({"b": {"latency": {"lower_value": 1.0}}}), "schema: a metric without value is rejected")
    check(not validator.is_valid({"b": {"latency": {"value": "1"}}}), "schema: a value that is a string is rejected")

    for path in results:
        timed, not_timed = timed_names(path)
        check(timed, f"{path}: something timed")

        bmf = export(sockbench, "bmf", path)
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(bmf)]
        check(not errors, f"{path}: bmf validates against Bencher's BMF schema {errors[:3]}")
        check(set(bmf) == set(timed), f"{path}: bmf has one benchmark per approach x scenario timed ({len(bmf)})")
        check(not set(bmf) & not_timed, f"{path}: bmf leaves out {sorted(not_timed)}")
        wrong = []
        for name, ms in timed.items():
            m = bmf.get(name, {})
            if set(m) != {"latency"} or set(m["latency"]) != {"value", "lower_value", "upper_value"}:
                wrong.append(f"{name}: {m}")
                continue
            got = m["latency"]
            if not all(isinstance(v, (int, float)) for v in got.values()):
                wrong.append(f"{name}: {got}")
            elif not (close(got["value"], median(ms) * 1e6) and close(got["lower_value"], min(ms) * 1e6)
                    and close(got["upper_value"], max(ms) * 1e6)):
                wrong.append(f"{name}: {got} for {ms} ms")
        check(not wrong, f"{path}: bmf latency is median, min, max in ns ({wrong[:2]})")

        gab = export(sockbench, "gab", path)
        check(isinstance(gab, list), f"{path}: gab is a list")
        shape = [e for e in gab if not (isinstance(e, dict) and set(e) == {"name", "unit", "value", "range", "extra"}
                                        and all(isinstance(e[k], str) for k in ("name", "unit", "range", "extra"))
                                        and isinstance(e["value"], (int, float)) and not isinstance(e["value"], bool))]
        check(not shape, f"{path}: every gab entry is {{name, unit, value, range, extra}} with their types ({shape[:2]})")
        names = [e.get("name") for e in gab if isinstance(e, dict)]
        check(sorted(names) == sorted(timed), f"{path}: gab has one entry per approach x scenario timed, none twice")
        check(not set(names) & not_timed, f"{path}: gab leaves out {sorted(not_timed)}")
        check(all(e["unit"] == "ms" and close(e["value"], median(timed[e["name"]])) and e["range"].startswith("± ")
                  for e in gab if not shape and e["name"] in timed),
              f"{path}: gab value is the median in ms, range '± <stddev>'")
    done()


if __name__ == "__main__":
    main()
