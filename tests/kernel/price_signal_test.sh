#!/usr/bin/env bash
# SIGINT or SIGTERM while `sockbench price` measures leaves no measuring
# process, namespace or cgroup behind, and no result file. Synchronises on
# the command's own "measuring ... in process N" line, never on a sleep.
# Usage: price_signal_test.sh SOCKBENCH INT|TERM
set -uo pipefail
bin=$1 sig=${2:-INT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

mkfifo "$tmp/out"
# The baseline alone, TCP rows large enough to be caught mid-measurement.
"$bin" price --approach none --sockets 8000 --out "$tmp/r.json" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3<"$tmp/out"
worker=
while IFS= read -r line <&3; do
  if [[ $line =~ ^measuring\ none\ tcp/ipv4\ in\ process\ ([0-9]+)$ ]]; then
    worker=${BASH_REMATCH[1]}
    break
  fi
done
cat <&3 >/dev/null &
drain=$!
[[ -n $worker ]] || { echo "FAIL: price never started its tcp/ipv4 row: $(cat "$tmp/err")"; exit 1; }
cgroups=$(ls -d /sys/fs/cgroup/unified/sockbench-"$pid"-* 2>/dev/null || true)
ours=$(readlink "/proc/$worker/ns/net" 2>/dev/null | sed 's/[^0-9]//g')
[[ $ours == "$(readlink /proc/self/ns/net | sed 's/[^0-9]//g')" ]] && ours=  # not unshared yet
alive=no
kill -0 "$worker" 2>/dev/null && alive=yes

kill -"$sig" "$pid"
status=0
wait "$pid" || status=$?
wait "$drain" || true
exec 3<&-

want=$((128 + $(kill -l "$sig")))
[[ $status -eq $want ]] || { echo "FAIL: exit status $status, want $want (SIG$sig)"; fail=1; }
[[ -n $cgroups ]] || { echo "FAIL: price made no cgroup"; fail=1; }
for c in $cgroups; do
  [[ ! -e $c ]] || { echo "FAIL: cgroup $c left behind"; fail=1; }
done
if [[ -e /proc/$worker ]] && grep -q "sockbench-$pid-" "/proc/$worker/cgroup" 2>/dev/null; then
  echo "FAIL: measuring process $worker survived"; fail=1
fi
if [[ -n $ours ]]; then
  still=$(for f in /proc/[0-9]*/fd/* /proc/[0-9]*/task/*/ns/net; do readlink "$f"; done 2>/dev/null |
          sed -n 's/^net:\[\([0-9]*\)\]$/\1/p' | grep -x "$ours" || true)
  [[ -z $still ]] || { echo "FAIL: the measuring process's namespace $ours is still referenced"; fail=1; }
fi
[[ ! -e $tmp/r.json ]] || { echo "FAIL: an interrupted price wrote a result"; fail=1; }
if ((fail == 0)); then
  echo "checked: SIG$sig, exit $status, measuring process $worker (alive at the signal: $alive) gone," \
    "$(echo "$cgroups" | wc -w) cgroup(s) gone, its namespace ${ours:-(not yet its own)} unreferenced, no result file"
fi
exit $fail
