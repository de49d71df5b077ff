#!/usr/bin/env bash
# The consumer checks of tests/unit/consumers/ on two fresh runs of this
# build (the unit tests hold committed fixtures): smoke workload, 2 and 3
# repetitions, sock_diag, iter_per_netns and, when this kernel lacks one, an
# unsupported approach. Also: sockbench's own summary still shows the
# unsupported approach with its reason. Needs root (a real run).
# Usage: consumers_fresh_run_test.sh SOCKBENCH SOURCE_DIR GB_REFERENCE_BENCH COMPARE_PY
set -uo pipefail
bin=$1 src=$2 gbref=$3 compare=$4
tmp=$(mktemp -d /var/tmp/sockbench-consumers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

"$bin" probe --json >"$tmp/probe.json" || { echo "FAIL: sockbench probe"; exit 1; }
unsupported=$(/usr/bin/python3 -c 'import json, sys
print(next((a["name"] for a in json.load(open(sys.argv[1]))["approaches"] if not a["supported"]), ""))' "$tmp/probe.json")
approaches=sock_diag,iter_per_netns${unsupported:+,$unsupported}
echo "approaches: $approaches"
for n in 2 3; do
	if ! "$bin" run --workload "$src/workloads/smoke.json" --approach "$approaches" --repetitions "$n" \
		--out "$tmp/r$n.json" >"$tmp/r$n.out" 2>&1; then
		echo "FAIL: sockbench run --repetitions $n:"; tail -20 "$tmp/r$n.out"; exit 1
	fi
	if [[ -n $unsupported ]]; then
		if grep -qE "^destroy/$unsupported/.* -  unsupported: " "$tmp/r$n.out"; then
			echo "ok: the summary shows $unsupported unsupported, with the reason"
		else
			echo "FAIL: no unsupported row for $unsupported in the summary:"; tail -6 "$tmp/r$n.out"; fail=1
		fi
	fi
done
here=$src/tests/unit/consumers
/usr/bin/python3 "$here/gb_shape_test.py" "$gbref" "$tmp/r2.json" "$tmp/r3.json" || fail=1
/usr/bin/python3 "$here/compare_test.py" "$compare" "$tmp/r2.json" "$tmp/r3.json" || fail=1
/usr/bin/python3 "$here/export_test.py" "$bin" "$tmp/r2.json" "$tmp/r3.json" || fail=1
exit $fail
