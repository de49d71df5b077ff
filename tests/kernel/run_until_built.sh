# shellcheck shell=bash disable=SC2034,SC2154 # sets and reads the sourcing test's variables
# Sourced by the signal tests: starts `sockbench run` on the small sigint
# workload and returns once its fleet is built, synchronising on sockbench's
# own "built" line, never on a sleep. Needs $bin, $src and $tmp; sets
#   pid      sockbench's pid
#   drain    the pid of the reader that keeps draining its stdout
#   workers  its worker processes
#   cgroups  the cgroups it made
# and leaves fd 3 open on its stdout (close with `exec 3<&-`).
start_run_until_built() {
  mkfifo "$tmp/out"
  "$bin" run --workload "$src/tests/kernel/sigint.json" --approach iter_per_netns \
    --out "$tmp/r.json" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  exec 3<"$tmp/out"
  local line
  while IFS= read -r line <&3; do
    [[ $line == scenario*built* ]] && break
  done
  # Keep draining so sockbench never blocks on (or dies of) a full pipe.
  cat <&3 >/dev/null &
  drain=$!

  workers=$(cat /proc/"$pid"/task/*/children)
  [[ -n $workers ]] || { echo "FAIL: no worker processes found under $pid"; exit 1; }
  cgroups=$(ls -d /sys/fs/cgroup/unified/sockbench-"$pid"-* 2>/dev/null || true)
  [[ -n $cgroups ]] || { echo "FAIL: sockbench made no cgroup"; exit 1; }
}
