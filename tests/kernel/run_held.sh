# shellcheck shell=bash disable=SC2034,SC2154 # sets and reads the sourcing test's variables
# Sourced by the signal tests: start_run starts `sockbench run` on the small
# sigint workload and returns once a line of its stdout matches a pattern
# (sockbench's own lines, never a sleep); start_run_held holds it at a phase
# (--hold_at, harness/hold_point.h) with iter_per_netns and cilium_term, whose
# cgroup programs are attached at prepare. Needs $bin, $src and $tmp; sets
#   pid      sockbench's pid
#   drain    the pid of the reader that keeps draining its stdout
#   workers  its worker processes (none before the fleet phase)
#   cgroups  the cgroups it made
#   netns    the namespaces it holds (inode numbers, not the initial one)
#   progs    the ids of the BPF programs and links its descriptors hold
# and leaves fd 3 open on its stdout (close with `exec 3<&-`).
# The EXIT trap of the sourcing test: a test that fails half-way must not
# leave the run it started holding.
end_held_run() {
  [[ -n ${pid:-} ]] && kill -TERM "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}

# start_run READY APPROACHES [RUN FLAGS...]: READY is a glob for the line.
start_run() {
  local ready=$1 approaches=$2
  shift 2
  mkfifo "$tmp/out"
  "$bin" run --workload "$src/tests/kernel/sigint.json" --approach "$approaches" \
    "$@" --out "$tmp/r.json" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  exec 3<"$tmp/out"
  local line seen=0
  while IFS= read -r line <&3; do
    echo "$line" >>"$tmp/run.out"
    # shellcheck disable=SC2053 # $ready is a pattern
    [[ $line == $ready ]] && { seen=1; break; }
  done
  ((seen)) || { echo "FAIL: sockbench ended before printing '$ready':"; cat "$tmp/run.out" "$tmp/err"; exit 1; }
  # Keep copying so sockbench never blocks on (or dies of) a full pipe.
  cat <&3 >>"$tmp/run.out" &
  drain=$!

  workers=$(cat /proc/"$pid"/task/*/children)
  cgroups=$(ls -d /sys/fs/cgroup/unified/sockbench-"$pid"-* 2>/dev/null || true)
  [[ -n $cgroups ]] || { echo "FAIL: sockbench made no cgroup"; exit 1; }
  local self f
  self=$(readlink /proc/self/ns/net | sed 's/[^0-9]//g')
  netns=$(for f in /proc/"$pid"/fd/*; do readlink "$f"; done 2>/dev/null |
          sed -n 's/^net:\[\([0-9]*\)\]$/\1/p' | sort -u | grep -vx "$self" || true)
  progs=$(grep -h -E '^(prog|link)_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | sed 's/_id:[[:space:]]*/ /' | sort -u || true)
}

start_run_held() {
  start_run "holding at $1" iter_per_netns,cilium_term --hold_at "$1"
}

# Waits (bounded) for each pid to exit; prints a FAIL line per survivor.
# Returns the number of survivors.
wait_gone() {
  local left=0 p
  for p in "$@"; do
    timeout 10 tail --pid="$p" -s 0.1 -f /dev/null || { echo "FAIL: process $p survived"; left=$((left + 1)); }
  done
  return "$left"
}

# What the run held must all be gone: cgroups, namespaces (referenced by no
# process), BPF programs and links (the kernel no longer knows their ids).
check_nothing_left() {
  local fail=0 c kind id still
  for c in $cgroups; do
    [[ ! -e $c ]] || { echo "FAIL: cgroup $c left behind"; fail=1; }
  done
  still=$(for f in /proc/[0-9]*/fd/* /proc/[0-9]*/task/*/ns/net; do readlink "$f"; done 2>/dev/null |
          sed -n 's/^net:\[\([0-9]*\)\]$/\1/p' | sort -u | comm -12 - <(echo "$netns" | sort))
  [[ -z $still ]] || { echo "FAIL: namespaces still referenced: $still"; fail=1; }
  while read -r kind id; do
    [[ -n $kind ]] || continue
    # The last reference to a program goes in an RCU callback: wait for
    # the kernel to forget the id, bounded, without a fixed sleep.
    if ! timeout 10 bash -c "while bpftool $kind show id $id >/dev/null 2>&1; do :; done"; then
      echo "FAIL: BPF $kind $id still exists"; fail=1
    fi
  done <<<"$progs"
  return "$fail"
}
