#!/usr/bin/env bash
# A sockbench killed with SIGKILL cannot clean up: its workers must still die
# (PR_SET_PDEATHSIG), its namespaces with them, and the cgroup it leaves is
# removed by the next sockbench run. Synchronises on the "built" line.
set -euo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=run_until_built.sh
source "$(dirname "$0")/run_until_built.sh"
start_run_until_built

kill -KILL "$pid"
wait "$pid" || true
wait "$drain" || true
exec 3<&-

fail=0
# The kernel sends each worker its death signal as the parent exits; wait for
# each one's exit (tail --pid), failing after 10 s.
for w in $workers; do
  timeout 10 tail --pid="$w" -s 0.1 -f /dev/null ||
    { echo "FAIL: worker $w survived SIGKILL of its parent"; fail=1; }
done
left=0
for c in $cgroups; do [[ -e $c ]] && left=$((left + 1)); done
((left > 0)) || { echo "FAIL: expected the killed run's cgroup to remain until the next run"; fail=1; }

# The next run removes it.
"$bin" run --workload "$src/workloads/smoke.json" --approach sock_diag --repetitions 1 \
  --out "$tmp/next.json" >"$tmp/next.out" 2>&1 || { echo "FAIL: next run failed"; cat "$tmp/next.out"; fail=1; }
for c in $cgroups; do
  [[ ! -e $c ]] || { echo "FAIL: stale cgroup $c not removed by the next run"; fail=1; }
done
echo "checked: workers [$workers] died with their parent, $left stale cgroup(s) removed by the next run"
exit $fail
