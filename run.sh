#!/usr/bin/env bash
# The main job: install dependencies, build, run the default workload on this
# kernel, write results and plots, print the summary.
#   sudo ./run.sh                 host kernel, workloads/default.json
#   sudo ./run.sh --workload F    another workload
set -euo pipefail
cd "$(dirname "$0")"
if [[ $EUID -ne 0 ]]; then echo "run.sh: run as root (sudo ./run.sh)" >&2; exit 2; fi
workload=workloads/default.json
extra=()
while (($#)); do
  case $1 in
    --workload) workload=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
bash scripts/install-deps.sh
bash scripts/ensure-bpffs.sh
bash scripts/build.sh
out="results/$(uname -r)-$(date -u +%Y%m%dT%H%M%SZ)-$(basename "$workload" .json).json"
./build/sockbench probe
status=0
./build/sockbench run --workload "$workload" --out "$out" "${extra[@]}" || status=$?
if [[ -f $out ]]; then
  /usr/bin/python3 plots/plot.py --out-dir "plots/out/$(basename "$out" .json)" "$out"
fi
exit $status
