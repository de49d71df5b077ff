#!/usr/bin/env bash
# The main job: install dependencies, build, run a workload on this kernel,
# then build (cached) and boot sockbench's patched kernel in qemu and run the
# same workload there, and plot both side by side.
#
#   sudo ./run.sh                          host + patched-kernel VM, workloads/default.json
#   sudo ./run.sh --host-only              the quick run: this kernel only
#   sudo ./run.sh --workload F [--vm-socket-cap N] [sockbench run flags...]
#
# The first VM run builds the kernel (about 10 minutes on 2 cores; cached
# afterwards). Under qemu TCG the VM run is emulated and much slower: by
# default its workload is scaled down explicitly with --socket_cap.
set -euo pipefail
cd "$(dirname "$0")"
if [[ $EUID -ne 0 ]]; then echo "run.sh: run as root (sudo ./run.sh)" >&2; exit 2; fi
workload=workloads/default.json host_only=0 vm_cap=70000
extra=()
while (($#)); do
  case $1 in
    --workload) workload=$2; shift 2 ;;
    --host-only) host_only=1; shift ;;
    --vm-socket-cap) vm_cap=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
bash scripts/install-deps.sh
bash scripts/ensure-bpffs.sh
bash scripts/build.sh

name=$(basename "$workload" .json)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
host_out="results/$(uname -r)-$stamp-$name.json"
outs=()
status=0

echo "== host kernel $(uname -r)"
./build/sockbench probe
./build/sockbench run --workload "$workload" --out "$host_out" "${extra[@]}" || status=$?
[[ -f $host_out ]] && outs+=("$host_out")

if ((!host_only)); then
  echo "== sockbench's patched kernel in a VM (kernel/patches/series)"
  kernel=$(bash kernel/build.sh | tail -n 1)
  vm_out="results/vm-$stamp-$name.json"
  ./build/sockbench vm --kernel "$kernel" -- probe || status=$?
  ./build/sockbench vm --kernel "$kernel" -- run --workload "$workload" --out "$vm_out" \
    --socket_cap "$vm_cap" "${extra[@]}" || status=$?
  [[ -f $vm_out ]] && outs+=("$vm_out")
fi

if ((${#outs[@]})); then
  /usr/bin/python3 plots/plot.py --out-dir "plots/out/$stamp-$name" "${outs[@]}"
  for o in "${outs[@]}"; do /usr/bin/python3 plots/results_table.py "$o"; echo; done
fi
exit $status
