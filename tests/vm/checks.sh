# shellcheck shell=bash
# Sourced by the VM tests: one PASS/FAIL line per check, and a verdict that
# fails the test if any check failed.
failures=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	failures=$((failures + 1))
}
finish() { # $1: the test's name
	if ((failures)); then
		echo "$1: $failures check(s) FAILED"
		exit 1
	fi
	echo "$1: all checks passed"
}
# A directory under /var/tmp for a test whose run directories (TMPDIR) and
# outputs live in it, so that `pgrep -f "$work"` finds exactly what the test
# started: on exit those processes are killed and the directory removed.
# $1: the test's name; sets work.
make_work_dir() {
	work=$(mktemp -d "/var/tmp/sockbench-test-$1.XXXXXX")
	trap remove_work_dir EXIT
}
# shellcheck disable=SC2317 # invoked via trap
remove_work_dir() {
	local p
	[[ -n ${on_exit:-} ]] && { "$on_exit" || true; }
	for p in $(pgrep -f -- "$work" || true); do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf -- "$work"
}
