#!/usr/bin/env bash
# tests/vm/test_selftests.sh: the kernel's own BPF selftests (test_progs, built
# from the same 7.3 tree) on the unpatched and on the patched kernel.
#
# Usage: tests/vm/test_selftests.sh [--debug] [--table FILE] [--out DIR]
#   --debug       also run them on the patched debug kernel (lockdep, KASAN,
#                 DEBUG_ATOMIC_SLEEP, PROVE_RCU)
#   --table FILE  write the results table (markdown) to FILE
#   --out DIR     keep each run's directory under DIR (default: a temporary one)
#
# kernel/selftests.sh builds test_progs once per tree (cached), with the tests
# of kernel/selftests/base.list and, for the patched tree, each series' own
# (kernel/patches/<series>/selftests), and runs it in kernel/vm.sh. Passes if
# (tests/vm/selftests_report.py): no run logged a kernel splat or timed out;
# nothing failed on the unpatched kernel that kernel/selftests/known-failures.txt
# does not list; every test and subtest that passed unpatched passes patched
# (and debug); the series' own selftests pass there, none skipped.
# Cold: builds the unpatched kernel too (~10 min on 2 idle cores) and
# test_progs twice (~2 min each); cached: ~1.5 min, the debug run ~5 min more.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
debug=0 table="" keep=""
while (($#)); do
	case $1 in
	--debug) debug=1 ;;
	--table) table=$2; shift ;;
	--out) keep=$2; shift ;;
	*) echo "usage: $0 [--debug] [--table FILE] [--out DIR]" >&2; exit 2 ;;
	esac
	shift
done

# Run directories under /var/tmp: the guest's /tmp is its own tmpfs.
if [[ -n $keep ]]; then
	work=$(mkdir -p "$keep" && realpath -- "$keep")
else
	work=$(mktemp -d /var/tmp/sockbench-selftests.XXXXXX)
	# shellcheck disable=SC2317 # invoked via trap
	cleanup() { rm -rf -- "$work"; }
	trap cleanup EXIT
fi

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

runs=()
run() { # label, selftests.sh run arguments...
	local label=$1 t0 rc=0
	shift
	t0=$(date +%s)
	"$repo/kernel/selftests.sh" run "$@" --out "$work/$label" || rc=$?
	echo "$label: kernel/selftests.sh run $* took $(($(date +%s) - t0)) s (vm.sh exit $rc)"
	runs+=("$label=$work/$label")
}
run unpatched --series none
run patched --series all
((debug)) && run debug --series all --debug

report_args=(--known "$repo/kernel/selftests/known-failures.txt" --base "$repo/kernel/selftests/base.list")
[[ -n $table ]] && report_args+=(--table "$table")
if /usr/bin/python3 "$repo/tests/vm/selftests_report.py" "${report_args[@]}" "${runs[@]}"; then
	pass "every test that passes unpatched passes patched$( ((debug)) && echo ' and debug'); the series' selftests pass; no kernel splat"
else
	fail "selftests (see PROBLEM lines above; logs in $work/<run>/test_progs.log)"
	for r in "${runs[@]}"; do
		grep -E ':FAIL' "${r#*=}/test_progs.log" 2>/dev/null | sort -u | sed "s/^/    ${r%%=*}: /" | head -20
	done
fi
finish test_selftests
