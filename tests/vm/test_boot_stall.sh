#!/usr/bin/env bash
# tests/vm/test_boot_stall.sh: kernel/vm.sh's boot watchdog (lib/boot_watch.sh)
# catches a guest that never starts init, says what its vCPUs were doing,
# and boots once more without running the command twice.
#
# SOCKBENCH_VM_FREEZE_BOOTS=N starts the first N boots with qemu -S: their
# vCPUs never run, a stall as complete as the one seen in CI.
#   1. one frozen boot, --boot-timeout 90: stderr has the stall, each vCPU's
#      instruction pointer, "booting once more"; the command ran exactly once; exit 0
#   2. two frozen boots, --boot-timeout 5: exit 124 with "in 2 boots"; the
#      command never ran
#   3. nothing is left: no process naming this test's directory, no run
#      directory
# Exit 0 if all pass.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
# Run directories (TMPDIR) live under $work.
make_work_dir boot-stall
kernel=$("$repo/kernel/build.sh" | tail -n 1)
mkdir "$work/tmp" "$work/out"

# $1: frozen boots, $2: --boot-timeout; sets rc; stderr in $work/err.
boot() {
	rc=0
	# shellcheck disable=SC2016 # expanded by the guest's bash
	TMPDIR=$work/tmp SOCKBENCH_VM_FREEZE_BOOTS=$1 "$repo/kernel/vm.sh" --kernel "$kernel" \
		--boot-timeout "$2" --timeout 600 --rw "$work/out" -- \
		bash -c 'echo ran >>"$1"' _ "$work/out/runs" 2>"$work/err" || rc=$?
}
has() { grep -qE -- "$1" "$work/err"; }
runs() { [[ -f $work/out/runs ]] && wc -l <"$work/out/runs" || echo 0; }
show_err() { sed 's/^/    /' "$work/err" | tail -n 30; }

echo "== one frozen boot"
boot 1 90
if ((rc == 0)); then pass "exit 0 after the second boot"; else fail "exit $rc, wanted 0:"; show_err; fi
if has 'BOOT STALL: the kernel did not start init within 90s'; then pass "the stall is reported"; else fail "no stall report:"; show_err; fi
# Frozen at the reset vector: real mode, so EIP (a stalled kernel shows RIP).
if has 'vCPU 0: [ER]IP [0-9a-f]+' && has 'vCPU 1: [ER]IP [0-9a-f]+'; then pass "both vCPUs' instruction pointers are reported"; else fail "no instruction pointer per vCPU:"; show_err; fi
if has 'booting once more'; then pass "vm.sh boots once more"; else fail "no second boot announced"; fi
n=$(runs)
if ((n == 1)); then pass "the command ran once"; else fail "the command ran $n times"; fi

echo "== two frozen boots"
rm -f "$work/out/runs"
boot 2 5
if ((rc == 124)); then pass "exit 124"; else fail "exit $rc, wanted 124:"; show_err; fi
if has 'did not start init within 5s in 2 boots'; then pass "both stalls are counted"; else fail "no final stall verdict:"; show_err; fi
n=$(runs)
if ((n == 0)); then pass "the command never ran"; else fail "the command ran $n times"; fi

echo "== nothing left"
left=$(pgrep -af -- "$work" || true)
if [[ -z $left ]]; then pass "no process of this test is left"; else fail "left behind: $left"; fi
# The failed run keeps its run directory (vm.sh says where); remove it, and
# check that the successful one removed its own.
kept=$(sed -n 's/^vm.sh: run directory kept: //p' "$work/err")
[[ -n $kept ]] && rm -rf -- "$kept"
dirs=$(find "$work/tmp" -mindepth 1 -maxdepth 1)
if [[ -z $dirs ]]; then pass "no run directory is left"; else fail "run directories left: $dirs"; fi
finish test_boot_stall
