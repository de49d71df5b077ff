"""Reads `sockbench run` result files of either schema version, for the plot
and table scripts (docs/results-format.md):

  version 1 (no context.sockbench_json_schema_version, the committed
            results/ before it): unsupported and failed approaches are
            error_occurred runs among the benchmarks, names carry repeats:N
  version 2: they are listed under sockbench_not_timed, and no run of theirs
            is among the benchmarks; names without repeats:N

Both read the same: timed repetitions by (approach, scenario) and the
benchmarks not timed, each with its status ("unsupported" or "failed") and
reason. As in sockbench's own reader (harness/result_file.cc), a benchmark
with any failed repetition is not timed at all.
"""
import collections
import json
import re

SCHEMA_VERSION_KEY = "sockbench_json_schema_version"
NOT_TIMED_KEY = "sockbench_not_timed"
KNOWN_SCHEMA_VERSION = 2
NAME_RE = re.compile(r"^destroy/(?P<approach>[^/]+)/(?P<scenario>netns:\d+/sockets:\d+/targets:\d+x\d+)")
REPEATS_RE = re.compile(r"/repeats:\d+(?=/|_|$)")
MS_PER = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def stable_name(name):
    """A benchmark name without Google Benchmark's repeats:N."""
    return REPEATS_RE.sub("", name)


def parse(doc):
    """-> (context, timed {(approach, scenario): [ms, ...]} in file order,
    not_timed [{name, approach, scenario, status, reason}])"""
    ctx = doc.get("context", {})
    version = ctx.get(SCHEMA_VERSION_KEY, 1)
    if version > KNOWN_SCHEMA_VERSION:
        raise ValueError(f"context.{SCHEMA_VERSION_KEY} is {version}: newer than this script reads "
                         f"({KNOWN_SCHEMA_VERSION})")
    order, samples, errors = [], collections.defaultdict(list), {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        name = stable_name(b.get("run_name", b.get("name", "")))
        m = NAME_RE.match(name)
        if not m:
            continue
        key = (m["approach"], m["scenario"])
        if key not in samples and key not in errors:
            order.append((key, name))
        if b.get("error_occurred"):
            errors.setdefault(key, b.get("error_message", "") or "error without a message")
            continue
        samples[key].append(b["real_time"] * MS_PER[b.get("time_unit", "ms")])
    not_timed = [dict(e) for e in doc.get(NOT_TIMED_KEY, [])]
    listed = {(e["approach"], e["scenario"]) for e in not_timed}
    timed = collections.OrderedDict()
    for key, name in dict.fromkeys(order):
        if key in listed:
            continue
        if key in errors:
            why = errors[key]
            not_timed.append({"name": name, "approach": key[0], "scenario": key[1],
                              "status": "unsupported" if why.startswith("unsupported:") else "failed",
                              "reason": why})
        elif samples.get(key):
            timed[key] = samples[key]
    return ctx, timed, not_timed


def load(path):
    with open(path) as f:
        return parse(json.load(f))


# Statistics the table and dashboard scripts share (milliseconds in, out).

def median(ts):
    """As Google Benchmark takes it: the middle one, or the mean of the two."""
    ts = sorted(ts)
    mid = len(ts) // 2
    return ts[mid] if len(ts) % 2 else (ts[mid - 1] + ts[mid]) / 2


def cv(ts):
    """Sample standard deviation over the mean (0 for fewer than two)."""
    if len(ts) < 2:
        return 0.0
    mean = sum(ts) / len(ts)
    return (sum((t - mean) ** 2 for t in ts) / (len(ts) - 1)) ** 0.5 / mean if mean else 0.0


def _interval(boot):
    boot.sort()
    n = len(boot)
    return boot[max(int(n * 0.025) - 1, 0)], boot[max(int(n * 0.975) - 1, 0)]


def bootstrap_ratio(a, b, rng, resamples=10000):
    """95% bootstrap interval of median(a) / median(b): each resample draws
    both sets of repetitions again (rng: a random.Random, for a fixed seed)."""
    return _interval([median(rng.choices(a, k=len(a))) / median(rng.choices(b, k=len(b)))
                      for _ in range(resamples)])


def bootstrap_median(ts, rng, resamples=10000):
    """95% bootstrap interval of the median of ts."""
    return _interval([median(rng.choices(ts, k=len(ts))) for _ in range(resamples)])
