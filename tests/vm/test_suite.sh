#!/usr/bin/env bash
# tests/vm/test_suite.sh: sockbench inside the patched kernel, in one boot.
#
# Usage: tests/vm/test_suite.sh BUILD_DIR [--debug]
#   BUILD_DIR  the CMake build directory (sockbench and the test binaries)
#   --debug    boot the debug kernel (lockdep, KASAN, ...) instead
#
# Builds (or fetches from cache) the kernel of kernel/patches/series, boots it
# with kernel/vm.sh and, in the guest:
#   1. `sockbench probe --json`
#   2. `sockbench run --workload workloads/smoke.json` with every approach
#   3. the selftest-style GoogleTest binaries: kernel_tests (every approach x
#      protocol x family destroys exactly its target), iter_all_netns_tests,
#      iter_all_netns_churn_tests, sockhash_bucket_tests, sockmap_review_tests,
#      sleepable_kfunc_tests, leak_tests
# On the host it then checks the results:
#   - probe: the approaches the series implements (iter_all_netns,
#     sockhash_bucket) and the stock ones are supported; the others are
#     unsupported with a reason
#   - smoke result: context names a 7.3 kernel, the vm mode (kvm|tcg) and
#     the series' patchset; every supported approach has timings and no error
#     (a miss or an extra would be error_occurred), every other approach is
#     one "unsupported: ..." entry
#   - every GoogleTest binary passed, and no test skipped unless it is listed
#     in tests/vm/expected-skips.txt with its reason (in the patched kernel a
#     skip is a failure otherwise)
# vm.sh fails the run (exit 3) on any kernel splat (WARNING, lockdep, KASAN,
# ...). The first run builds the kernel (~12 min on 2 idle cores; ~16 min
# for --debug). Exit 0 if all pass.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
(($# >= 1)) || { echo "usage: $0 BUILD_DIR [--debug]" >&2; exit 2; }
build_dir=$(realpath -- "$1")
shift
debug_flag=()
[[ ${1:-} == --debug ]] && debug_flag=(--debug)

binaries=(kernel_tests iter_all_netns_tests iter_all_netns_churn_tests sockhash_bucket_tests sockmap_review_tests sleepable_kfunc_tests leak_tests)
for f in sockbench "${binaries[@]/#/tests/}"; do
	[[ -x $build_dir/$f ]] || { echo "FAIL: $build_dir/$f not built" >&2; exit 1; }
done

# Results go to a directory under /var/tmp: the guest's /tmp is its own tmpfs.
work=$(mktemp -d /var/tmp/sockbench-test-suite.XXXXXX)
# shellcheck disable=SC2317 # invoked via trap
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT

kernel=$("$repo/kernel/build.sh" "${debug_flag[@]}")
echo "kernel: $kernel"

# The guest script: each step's exit status goes to a file, so one failing
# step does not hide the others. The guest has no pyenv python; nothing here
# needs one.
cat >"$work/guest.sh" <<EOF
set -u
cd "$repo"
step() { # name, command...
	local name=\$1; shift
	echo "=== guest: \$name"
	local t0=\$(date +%s%N)
	"\$@" >"$work/\$name.out" 2>&1
	local rc=\$?
	echo "\$rc" >"$work/\$name.rc"
	echo "=== guest: \$name exit \$rc in \$(( (\$(date +%s%N) - t0) / 1000000 )) ms"
}
step probe "$build_dir/sockbench" probe --json
step smoke "$build_dir/sockbench" run --workload "$repo/workloads/smoke.json" --out "$work/smoke.json"
for b in ${binaries[*]}; do step \$b "$build_dir/tests/\$b"; done
exit 0
EOF

vm_rc=0
"$repo/kernel/vm.sh" --kernel "$kernel" --timeout 2400 --rw "$work" --ro "$build_dir" -- bash "$work/guest.sh" || vm_rc=$?

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

if ((vm_rc == 0)); then pass "guest ran and powered off, no kernel splat"; else fail "vm.sh exit $vm_rc (3: kernel splat, 124: timeout)"; fi

for name in probe smoke "${binaries[@]}"; do
	rc=$(cat "$work/$name.rc" 2>/dev/null || echo missing)
	if [[ $rc == 0 ]]; then
		pass "$name exit 0"
	else
		fail "$name exit $rc; its output:"
		sed 's/^/    /' "$work/$name.out" 2>/dev/null | tail -60
	fi
done

# A skipped test proves nothing: in the patched kernel every test must run,
# except those listed in expected-skips.txt ("binary Suite.Test  reason").
expected=$(dirname "${BASH_SOURCE[0]}")/expected-skips.txt
for name in "${binaries[@]}"; do
	passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$work/$name.out" 2>/dev/null || true)
	if [[ -n $passed && $passed -gt 0 ]]; then
		pass "$name: ${passed} passed"
	else
		fail "$name: no test passed"
	fi
	while read -r t; do
		if grep -qE "^$name[[:space:]]+${t//./\\.}[[:space:]]+[^[:space:]]" "$expected" 2>/dev/null; then
			pass "$name: $t skipped, as listed: $(grep -E "^$name[[:space:]]+${t//./\\.}[[:space:]]" "$expected" | sed -E 's/^[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+//')"
		else
			fail "$name: $t skipped in the patched kernel (not in tests/vm/expected-skips.txt)"
		fi
	done < <(sed -n 's/^\[  SKIPPED \] \([^ ,]*\).*/\1/p' "$work/$name.out" 2>/dev/null | grep -v '^[0-9]' | sort -u)
done

# Result checks, with the system python (any python3 with json will do).
if /usr/bin/python3 - "$work/probe.out" "$work/smoke.json" <<'EOF'; then pass "probe and smoke results"; else fail "probe and smoke results"; fi
import json, sys
ok = True
def check(cond, what):
    global ok
    print(("  ok: " if cond else "  BAD: ") + what)
    ok &= bool(cond)

probe = json.load(open(sys.argv[1]))
support = {a["name"]: a for a in probe["approaches"]}
for name in ("sock_diag", "iter_per_netns", "iter_all_netns", "sockhash_bucket",
             "sleepable_kfunc", "sleepable_kfunc_rbtree"):
    check(support[name]["supported"], f"probe: {name} supported ({support[name]['reason']})")
for name in ("sk_storage_iter",):
    check(not support[name]["supported"] and support[name]["reason"],
          f"probe: {name} unsupported with a reason: {support[name]['reason']!r}")

res = json.load(open(sys.argv[2]))
ctx = res["context"]
check(ctx["kernel_release"].startswith("7.3."), f"kernel_release {ctx['kernel_release']}")
check(ctx["vm"] in ("kvm", "tcg"), f"vm mode {ctx['vm']}")
check(all(f"{s}/" in ctx["patchset"] for s in ("all-netns", "sockmap", "sleepable")),
      f"patchset {ctx['patchset'][:60]}...")
by_approach = {}
for b in res["benchmarks"]:
    by_approach.setdefault(b["name"].split("/")[1], []).append(b)
for name, entry in support.items():
    runs = by_approach.get(name, [])
    if entry["supported"]:
        errors = [b.get("error_message") for b in runs if b.get("error_occurred")]
        timed = [b for b in runs if b.get("run_type") == "iteration" and not b.get("error_occurred")]
        check(timed and not errors, f"{name}: {len(timed)} verified repetitions, errors {errors}")
        check(all(b["destroyed"] == b["targets"] and b["missed"] == 0 and b["extra"] == 0 for b in timed),
              f"{name}: destroyed == targets, no miss, no extra")
    else:
        check(len(runs) == 1 and runs[0].get("error_occurred")
              and runs[0]["error_message"].startswith("unsupported"),
              f"{name}: one unsupported entry")
sys.exit(0 if ok else 1)
EOF

finish test_suite
