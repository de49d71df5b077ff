#!/usr/bin/env bash
# `sockbench export`: bad input gets one clear error naming the flag or the
# field, exit 2, and no output file; good input exports without root.
# Usage: export_cli_test.sh SOCKBENCH SOURCE_DIR
set -uo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

expect_error() {  # expect_error <substring> <args...>
	local want=$1; shift
	local out status
	out=$("$bin" export "$@" 2>&1 >/dev/null); status=$?
	if [[ $status -ne 2 || $out != *"$want"* ]]; then
		echo "FAIL: sockbench export $* -> status $status, stderr: $out (want '$want')"; fail=1
	elif [[ $(printf '%s\n' "$out" | wc -l) -ne 1 ]]; then
		echo "FAIL: sockbench export $* printed more than one line: $out"; fail=1
	else
		echo "ok: $* -> $out"
	fi
}

old=$src/results/smoke-host-6.18.json
echo '{"context": {}, "benchmarks": [' >"$tmp/cut.json"
echo '{"context": {}, "benchmarks": [{"name": "destroy/sock_diag/netns:4/sockets:512/targets:4x2/iterations:1/manual_time", "run_type": "iteration", "real_time": "fast", "time_unit": "ms"}]}' >"$tmp/field.json"

expect_error "--format is required" --in "$old" --out "$tmp/o.json"
expect_error "--format must be bmf" --format csv --in "$old" --out "$tmp/o.json"
expect_error "--in FILE is required" --format bmf --out "$tmp/o.json"
expect_error "--in $tmp/missing.json: cannot open file" --format bmf --in "$tmp/missing.json" --out "$tmp/o.json"
expect_error "--in $tmp/cut.json: not valid JSON" --format gab --in "$tmp/cut.json" --out "$tmp/o.json"
expect_error "benchmarks[0].real_time must be a number" --format bmf --in "$tmp/field.json" --out "$tmp/o.json"
expect_error "benchmarks is missing" --format bmf --in "$src/results/leak-6.18.json" --out "$tmp/o.json"
[[ ! -e $tmp/o.json ]] || { echo "FAIL: an output file was written"; fail=1; }

# Good input: a file, or standard output; as an unprivileged user too.
if "$bin" export --format bmf --in "$old" --out "$tmp/o.json" 2>/dev/null && [[ -s $tmp/o.json ]]; then
	echo "ok: --out writes the file"
else
	echo "FAIL: export --format bmf --in $old --out $tmp/o.json"; fail=1
fi
if [[ $("$bin" export --format gab --in "$old" 2>/dev/null | head -c1) == "[" ]]; then
	echo "ok: without --out, standard output"
else
	echo "FAIL: export --format gab --in $old wrote no JSON array to standard output"; fail=1
fi
if [[ $EUID -eq 0 ]] && setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$bin" -a -r "$old" 2>/dev/null; then
	if setpriv --reuid=nobody --regid=nogroup --clear-groups "$bin" export --format bmf --in "$old" >/dev/null 2>&1; then
		echo "ok: export runs as nobody"
	else
		echo "FAIL: export as nobody"; fail=1
	fi
fi
exit $fail
