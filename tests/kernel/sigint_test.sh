#!/usr/bin/env bash
# Ctrl-C in the middle of a run leaves no worker, namespace or cgroup behind.
# Synchronises on sockbench's own "built" line, never on a sleep.
set -euo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

netns_before=$(lsns -t net -n -o NS | sort)
# shellcheck source=run_until_built.sh
source "$(dirname "$0")/run_until_built.sh"
start_run_until_built
# The fleet's namespaces are anonymous: held by sockbench's descriptors (and
# the workers' sockets), not by any process living in them.
ours=$(for f in /proc/"$pid"/fd/*; do readlink "$f"; done 2>/dev/null | sed -n 's/^net:\[\([0-9]*\)\]$/\1/p' | sort -u |
      grep -vx "$(readlink /proc/self/ns/net | sed 's/[^0-9]//g')" || true)
netns_during=$(echo "$ours" | wc -w)

kill -INT "$pid"
status=0
wait "$pid" || status=$?
wait "$drain" || true
exec 3<&-

fail=0
[[ $status -eq 130 ]] || { echo "FAIL: exit status $status, want 130 (SIGINT)"; fail=1; }
for w in $workers; do
  if kill -0 "$w" 2>/dev/null; then echo "FAIL: worker $w survived"; fail=1; fi
done
for c in $cgroups; do
  [[ ! -e $c ]] || { echo "FAIL: cgroup $c left behind"; fail=1; }
done
netns_after=$(lsns -t net -n -o NS | sort)
if [[ "$netns_after" != "$netns_before" ]]; then
  echo "FAIL: network namespaces differ after the run"
  diff <(echo "$netns_before") <(echo "$netns_after") || true
  fail=1
fi
(( netns_during >= 8 )) || { echo "FAIL: only $netns_during namespaces held during the run"; fail=1; }
# None of those namespaces may still be referenced by any process.
still=$(for f in /proc/[0-9]*/fd/* /proc/[0-9]*/task/*/ns/net; do readlink "$f"; done 2>/dev/null |
        sed -n 's/^net:\[\([0-9]*\)\]$/\1/p' | sort -u | comm -12 - <(echo "$ours"))
[[ -z $still ]] || { echo "FAIL: namespaces still referenced: $still"; fail=1; }
[[ ! -e $tmp/r.json ]] || { echo "FAIL: an interrupted run wrote a result"; fail=1; }
echo "checked: exit $status, workers [$workers] gone, $(echo "$cgroups" | wc -w) cgroup(s) gone, $netns_during namespaces held during the run, none referenced after"
exit $fail
