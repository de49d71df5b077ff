#!/usr/bin/env bash
# tests/vm/test_vm_signals.sh: a signal to `sockbench vm` while the guest's
# sockbench holds its fleet leaves nothing behind on the host.
#
# Usage: tests/vm/test_vm_signals.sh BUILD_DIR
#
# For SIGINT, SIGTERM and SIGHUP: `sockbench vm -- run --workload
# tests/kernel/sigint.json --hold_at fleet` boots the patched kernel; when
# the guest's sockbench prints "holding at fleet" (its own stdout line,
# forwarded by vm.sh: no sleep), the signal goes to the host process. Then:
#   - exit status 128+signal, and vm.sh says it caught the signal
#   - no process whose command line names this test's directory (qemu, the
#     FIFO readers, timeout) is left
#   - vm.sh's run directory is gone, and no result file was written
# Exit 0 if all pass.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
(($# == 1)) || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
bin=$(realpath -- "$1")/sockbench
[[ -x $bin ]] || { echo "FAIL: $bin not built" >&2; exit 1; }
# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
# The run directories (TMPDIR) and the result path live under $work.
pid=""
# shellcheck disable=SC2317 # invoked via trap
stop_sockbench() { [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; }
on_exit=stop_sockbench
make_work_dir vm-signals
kernel=$("$repo/kernel/build.sh" | tail -n 1)

for sig in INT TERM HUP; do
	echo "== SIG$sig while the guest holds its fleet"
	mkfifo "$work/$sig.fifo"
	TMPDIR=$work "$bin" vm --kernel "$kernel" --timeout 600 --rw "$work" -- \
		run --workload "$repo/tests/kernel/sigint.json" --approach iter_per_netns \
		--hold_at fleet --out "$work/$sig.json" >"$work/$sig.fifo" 2>"$work/$sig.err" &
	pid=$!
	exec 3<"$work/$sig.fifo"
	held=0
	# Bounded: an emulated boot and fleet take well under the 300 s.
	while IFS= read -r -t 300 line <&3; do
		echo "$line" >>"$work/$sig.out"
		[[ $line == "holding at fleet" ]] && { held=1; break; }
	done
	if ((held)); then pass "SIG$sig: the guest's sockbench holds its fleet"; else
		fail "SIG$sig: no 'holding at fleet' from the guest:"
		sed 's/^/    /' "$work/$sig.out" "$work/$sig.err" 2>/dev/null | tail -20
	fi
	cat <&3 >>"$work/$sig.out" &
	kill -"$sig" "$pid"
	# Bounded: vm.sh stops its guest in seconds; one that never acts on the
	# signal (a bash that started with it ignored) would wait out --timeout.
	for _ in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1 # polling for an exit with a deadline, not a guess at timing
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "SIG$sig: sockbench vm still running 60 s after the signal"
		kill -KILL "$pid"
	fi
	rc=0
	wait "$pid" || rc=$?
	pid=""
	exec 3<&-
	want=$((128 + $(kill -l "$sig")))
	if ((rc == want)); then pass "SIG$sig: exit status $rc"; else fail "SIG$sig: exit status $rc, wanted $want"; fi
	if grep -q "caught SIG$sig, stopping the guest" "$work/$sig.err"; then pass "SIG$sig: vm.sh stopped the guest"; else
		fail "SIG$sig: vm.sh did not say it caught the signal:"; sed 's/^/    /' "$work/$sig.err" | tail -10
	fi
	# vm.sh has returned; what it started ends with it (setpriv
	# --pdeathsig), so give the descendants a bounded moment to go.
	left=""
	for _ in $(seq 50); do
		left=$(pgrep -a -f -- "$work" || true)
		[[ -z $left ]] && break
		sleep 0.1 # polling for exits with a deadline, not a guess at timing
	done
	if [[ -z $left ]]; then pass "SIG$sig: no process of the run left"; else fail "SIG$sig: left behind: $left"; fi
	runs=$(find "$work" -maxdepth 1 -name 'sockbench-vm.*' | wc -l)
	if ((runs == 0)); then pass "SIG$sig: vm.sh's run directory removed"; else fail "SIG$sig: $runs run directories left"; fi
	if [[ ! -e $work/$sig.json ]]; then pass "SIG$sig: no result file"; else fail "SIG$sig: a result file was written"; fi
done
finish test_vm_signals
