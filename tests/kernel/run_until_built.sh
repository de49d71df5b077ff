# shellcheck shell=bash disable=SC2034,SC2154 # sets and reads the sourcing test's variables
# Sourced by the signal tests that stop a run going at full speed: starts
# `sockbench run` (iter_per_netns) on the small sigint workload and returns
# once its fleet is built, on sockbench's own "built" line. Sets what
# run_held.sh's start_run sets.
# shellcheck source=run_held.sh
source "$(dirname "${BASH_SOURCE[0]}")/run_held.sh"

start_run_until_built() {
  start_run 'scenario*built*' iter_per_netns
  [[ -n $workers ]] || { echo "FAIL: no worker processes found under $pid"; exit 1; }
}
