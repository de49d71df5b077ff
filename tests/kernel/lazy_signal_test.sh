#!/usr/bin/env bash
# A signal in the middle of `sockbench lazy` (while rto_timeout's sock_ops
# link is attached and the clients run) leaves no process, namespace,
# cgroup or BPF link behind, and no result file. Waits on events (the
# first row's line, the link appearing), each with a bounded deadline;
# never on a sleep as synchronisation.
#   lazy_signal_test.sh SOCKBENCH SOURCE_DIR INT|TERM
set -euo pipefail
bin=$1 src=$2 sig=${3:-INT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
links() { bpftool link list 2>/dev/null | grep -c 'attach_type cgroup_sock_ops' || true; }
progs() { bpftool prog list 2>/dev/null | grep -c 'name lazy_rto' || true; }
netns_before=$(lsns -t net -n -o NS | sort)
links_before=$(links)

"$bin" lazy --workload "$src/workloads/lazy-smoke.json" --approach none,rto_timeout \
  --out "$tmp/r.json" >"$tmp/out" 2>&1 &
pid=$!
deadline=$((SECONDS + 60))
until grep -q 'none .* rep 0:' "$tmp/out" && (($(links) > links_before)); do
  if ((SECONDS > deadline)) || ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: rto_timeout's link never appeared"; cat "$tmp/out"; kill -KILL "$pid" 2>/dev/null || true; exit 1
  fi
  read -r -t 0.05 <> <(:) || true   # a bounded poll, not a synchronisation sleep
done
children=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
cgroups=$(ls -d /sys/fs/cgroup/unified/sockbench-"$pid"-* 2>/dev/null || true)
kill -"$sig" "$pid"
status=0
wait "$pid" || status=$?

fail=0
want=$((128 + $(kill -l "$sig")))
[[ $status -eq $want ]] || { echo "FAIL: exit status $status, want $want (SIG$sig)"; fail=1; }
[[ -n $children ]] || { echo "FAIL: no backend or client process seen during the run"; fail=1; }
for c in $children; do
  if kill -0 "$c" 2>/dev/null; then echo "FAIL: process $c survived"; fail=1; fi
done
[[ -n $cgroups ]] || { echo "FAIL: no cgroup of the run seen"; fail=1; }
for c in $cgroups; do [[ ! -e $c ]] || { echo "FAIL: cgroup $c left behind"; fail=1; }; done
# The link goes with the last descriptor; the kernel frees it after an RCU
# grace period: wait for it, bounded.
deadline=$((SECONDS + 10))
while (($(links) > links_before)) && ((SECONDS <= deadline)); do read -r -t 0.05 <> <(:) || true; done
(($(links) == links_before)) || { echo "FAIL: a sock_ops link is left"; fail=1; }
deadline=$((SECONDS + 10))
while (($(progs) > 0)) && ((SECONDS <= deadline)); do read -r -t 0.05 <> <(:) || true; done
(($(progs) == 0)) || { echo "FAIL: a lazy_rto program is left"; fail=1; }
deadline=$((SECONDS + 10))
while [[ "$(lsns -t net -n -o NS | sort)" != "$netns_before" ]] && ((SECONDS <= deadline)); do
  read -r -t 0.05 <> <(:) || true
done
[[ "$(lsns -t net -n -o NS | sort)" == "$netns_before" ]] || { echo "FAIL: network namespaces differ"; fail=1; }
[[ ! -e $tmp/r.json ]] || { echo "FAIL: an interrupted run wrote a result"; fail=1; }
echo "checked SIG$sig: exit $status, processes [$children] gone, cgroups [$cgroups] gone, no link, namespaces as before"
exit $fail
