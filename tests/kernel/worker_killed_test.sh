#!/usr/bin/env bash
# A worker killed in the middle of a run fails its scenario, for every
# approach, with what happened to the worker; sockbench itself goes on, writes
# its result (nothing timed for that scenario), exits 1 and leaves nothing
# behind. Held at the first timed repetition (harness/hold_point.h): the
# worker dies just before Destroy(), then the run is let go with SIGUSR1.
set -euo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
# shellcheck source=run_held.sh
source "$(dirname "$0")/run_held.sh"
trap end_held_run EXIT
start_run_held timed

fail=0
victim=$(echo "$workers" | awk '{print $1}')
[[ -n $victim ]] || { echo "FAIL: no worker to kill"; exit 1; }
# Not waited for here: sockbench is held and reaps it only when it goes on.
kill -KILL "$victim"
kill -USR1 "$pid"
status=0
wait "$pid" || status=$?
wait "$drain" || true
exec 3<&-
[[ $status -eq 1 ]] || { echo "FAIL: exit status $status, want 1 (a failed scenario)"; fail=1; }
for a in iter_per_netns cilium_term; do
  if grep -E "^destroy/$a/.*worker 0 \\(pid $victim\\) was killed by signal 9" "$tmp/run.out" >/dev/null; then
    echo "ok: $a reported failed with the worker's fate"
  else
    echo "FAIL: no failed row naming the dead worker for $a"; fail=1
  fi
done
[[ -s $tmp/r.json ]] || { echo "FAIL: no result file"; fail=1; }
if [[ -s $tmp/r.json ]]; then
  timed=$(/usr/bin/python3 -c 'import json, sys
print(sum(1 for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("run_type") == "iteration"))' "$tmp/r.json")
  [[ $timed -eq 0 ]] || { echo "FAIL: $timed timed entries from a broken fleet"; fail=1; }
fi
# shellcheck disable=SC2086 # one word per pid
wait_gone $workers || fail=1
check_nothing_left || fail=1
((fail)) && { echo "--- sockbench output"; tail -15 "$tmp/run.out"; cat "$tmp/err"; }
echo "checked: worker $victim killed at the first timed repetition, exit $status"
exit $fail
