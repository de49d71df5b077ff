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
