"""What the consumer tests share: ok/FAIL lines, and sockbench's own reading
of a result file (plots/sockbench_results.py) to hold the consumers to."""
import json
import os
import sys

SOURCE = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "plots"))
import sockbench_results  # noqa: E402

failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures += 1
    return cond


def load(path):
    with open(path) as f:
        return json.load(f)


def median(ts):
    ts = sorted(ts)
    mid = len(ts) // 2
    return ts[mid] if len(ts) % 2 else (ts[mid - 1] + ts[mid]) / 2


def timed_names(path):
    """{stable run_name: [ms, ...]} of the benchmarks that timed, and the set
    of the names not timed."""
    doc = load(path)
    _ctx, timed, not_timed = sockbench_results.parse(doc)
    names = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") == "iteration" and not b.get("error_occurred"):
            name = sockbench_results.stable_name(b["run_name"])
            m = sockbench_results.NAME_RE.match(name)
            if (m["approach"], m["scenario"]) in timed:
                names.setdefault(name, []).append(b["real_time"] * sockbench_results.MS_PER[b["time_unit"]])
    return names, {e["name"] for e in not_timed}


def done():
    print(f"{failures} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)
