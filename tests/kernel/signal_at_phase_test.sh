#!/usr/bin/env bash
# A stop signal at a given phase of a run (see harness/hold_point.h) leaves no
# worker, namespace, cgroup, BPF program or link, and no result file behind,
# and sockbench ends with the signal's status. Synchronises on sockbench's
# "holding at PHASE" line, never on a sleep.
# Usage: signal_at_phase_test.sh SOCKBENCH SOURCE_DIR SIGNAL PHASE
set -euo pipefail
bin=$1 src=$2 sig=$3 phase=$4
tmp=$(mktemp -d)
# shellcheck source=run_held.sh
source "$(dirname "$0")/run_held.sh"
trap end_held_run EXIT
start_run_held "$phase"

fail=0
case $phase in
  namespaces|prepare) [[ -z $workers ]] || { echo "FAIL: workers before the fleet phase: $workers"; fail=1; } ;;
  *) [[ -n $workers ]] || { echo "FAIL: no workers at $phase"; fail=1; } ;;
esac
(( $(echo "$netns" | wc -w) >= 8 )) || { echo "FAIL: only $(echo "$netns" | wc -w) namespaces held at $phase"; fail=1; }
case $phase in
  namespaces) ;;
  *) [[ -n $progs ]] || { echo "FAIL: no BPF program held at $phase"; fail=1; } ;;
esac

kill -"$sig" "$pid"
status=0
wait "$pid" || status=$?
wait "$drain" || true
exec 3<&-
want=$((128 + $(kill -l "$sig")))
[[ $status -eq $want ]] || { echo "FAIL: exit status $status, want $want (SIG$sig)"; cat "$tmp/err"; fail=1; }
# shellcheck disable=SC2086 # one word per pid
wait_gone $workers || fail=1
check_nothing_left || fail=1
[[ ! -e $tmp/r.json ]] || { echo "FAIL: an interrupted run wrote a result"; fail=1; }
echo "checked SIG$sig at $phase: exit $status, $(echo "$workers" | wc -w) workers, $(echo "$cgroups" | wc -w) cgroup(s)," \
  "$(echo "$netns" | wc -w) namespaces, $(echo "$progs" | grep -c . || true) BPF programs/links$( ((fail)) || echo ", all gone")"
exit $fail
