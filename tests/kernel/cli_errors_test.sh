#!/usr/bin/env bash
# Bad input gets one clear error naming the field or flag, exit 2, and
# nothing is created: no namespace, no cgroup, no result file.
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
netns_before=$(lsns -t net -n -o NS | sort)
cg_before=$(ls -d /sys/fs/cgroup/unified/sockbench-* 2>/dev/null | sort)

expect_error() {  # expect_error <substring> <args...>
  local want=$1; shift
  local out status
  out=$("$bin" "$@" 2>&1 >/dev/null); status=$?
  if [[ $status -ne 2 || $out != *"$want"* ]]; then
    echo "FAIL: sockbench $* -> status $status, stderr: $out (want '$want')"; fail=1
  elif [[ $(printf '%s\n' "$out" | wc -l) -ne 1 ]]; then
    echo "FAIL: sockbench $* printed more than one line: $out"; fail=1
  else
    echo "ok: $* -> $out"
  fi
}

echo '{"name":"x","namespaces":4,"sockets":100,"targets":{"per_netns":2},"colour":1}' >"$tmp/unknown.json"
echo '{"name":"x","namespaces":4,"sockets":100,"targets":{"per_netns":200}}' >"$tmp/toomany.json"
# The workload maximum: more memory or open files than this machine has.
echo '{"name":"x","namespaces":8192,"sockets":4000000,"targets":{"per_netns":1}}' >"$tmp/toobig.json"
echo '{"name":"x","namespaces":4,"sockets":100,"targets":{"per_netns":1}}' >"$tmp/good.json"
printf '{"name":"x",\n "namespaces":4,\n "sockets" 100}\n' >"$tmp/syntax.json"

expect_error "'colour'" run --workload "$tmp/unknown.json" --out "$tmp/r.json"
expect_error "'targets.per_netns'" run --workload "$tmp/toomany.json" --out "$tmp/r.json"
expect_error "the fleet needs" run --workload "$tmp/toobig.json" --out "$tmp/r.json"
expect_error "not valid JSON at line 3, column 14" run --workload "$tmp/syntax.json" --out "$tmp/r.json"
expect_error "missing.json: cannot open file: No such file or directory" run --workload "$tmp/missing.json" --out "$tmp/r.json"
expect_error "--workload FILE is required" run
expect_error "unknown approach 'bogus'" run --workload "$tmp/good.json" --approach sock_diag,bogus --out "$tmp/r.json"
expect_error "--repetitions" run --workload "$tmp/good.json" --repetitions -3 --out "$tmp/r.json"
expect_error "--sockets must be at least 5" price --sockets 0 --out "$tmp/r.json"
expect_error "--sockets must be at least 5" price --sockets -3 --out "$tmp/r.json"
expect_error "--approach: unknown approach 'bogus'" price --approach sockhash_bucket,bogus --out "$tmp/r.json"
expect_error "--approach: sock_diag records nothing at connect time" price --approach sock_diag --out "$tmp/r.json"
expect_error "unknown command 'frobnicate'" frobnicate

[[ ! -e $tmp/r.json ]] || { echo "FAIL: a result file was written"; fail=1; }
[[ "$(lsns -t net -n -o NS | sort)" == "$netns_before" ]] || { echo "FAIL: namespaces changed"; fail=1; }
[[ "$(ls -d /sys/fs/cgroup/unified/sockbench-* 2>/dev/null | sort)" == "$cg_before" ]] || { echo "FAIL: cgroups changed"; fail=1; }
exit $fail
