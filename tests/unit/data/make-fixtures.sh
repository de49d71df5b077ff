#!/usr/bin/env bash
# Writes the result files the consumer tests (tests/unit/consumers/) read:
# two real `sockbench run`s of the smoke workload, 3 and 5 repetitions, of
# sock_diag, iter_per_netns and iter_all_netns, on a stock kernel (where
# iter_all_netns is unsupported: it needs kernel/patches/all-netns). They are
# committed because a run needs root and the unit tests do not;
# kernel.consumers.fresh_run_feeds_the_consumers runs the same checks on
# fresh runs.
# Usage: sudo tests/unit/data/make-fixtures.sh BUILD_DIR
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bin=$(realpath -- "${1:?usage: $0 BUILD_DIR}")/sockbench
cd "$repo"
for n in 3 5; do
	out=tests/unit/data/smoke-${n}reps.json
	"$bin" run --workload workloads/smoke.json --approach sock_diag,iter_per_netns,iter_all_netns \
		--repetitions "$n" --out "$out"
	/usr/bin/python3 - "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
nt = [e["approach"] for e in doc["sockbench_not_timed"]]
if nt != ["iter_all_netns"]:
    sys.exit(f"{sys.argv[1]}: want iter_all_netns, alone, not timed (a stock kernel); got {nt}")
PY
done
