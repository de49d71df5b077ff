#!/usr/bin/env bash
# tests/vm/test_errors.sh: failure paths of kernel/build.sh and kernel/vm.sh.
#   a) a series with a patch that does not apply: build.sh fails fast (before
#      any compile), names the patch, and leaves the source tree untouched
#   b) vm.sh --kernel /nonexistent: one clear error line, exit 125
#   c) a guest that never finishes (--timeout 20 -- sleep 100000): killed,
#      "TIMEOUT" message, exit 124, no qemu left behind
#   d) SIGTERM to vm.sh while the guest runs: guest stopped, exit 143, no
#      qemu left behind
#   e) a kernel panic in the guest (sysrq crash): reported as a kernel splat,
#      exit 3
# Cases c-e boot the cached kernel (kernel/build.sh builds it if needed,
# ~12 min cold). Exit 0 if all pass.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$repo/kernel/build.sh
vm=$repo/kernel/vm.sh

# Every vm.sh started here puts its run directory under $work, so the qemu
# command lines contain this unique path: `pgrep -f "$work"` finds exactly the
# qemu processes this test started.
work=$(mktemp -d "${TMPDIR:-/tmp}/sockbench-test-errors.XXXXXX")
bg_pid=""
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	[[ -n $bg_pid ]] && kill "$bg_pid" 2>/dev/null
	rm -rf -- "$work"
}
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
check_no_qemu() { # $1: case name
	local left
	if left=$(pgrep -a -f -- "$work"); then
		fail "$1: qemu still running after vm.sh returned: $left"
		# Ours (the marker is unique to this test run): end them by pid.
		local pid
		for pid in $(pgrep -f -- "$work"); do kill -KILL "$pid" 2>/dev/null || true; done
	else
		pass "$1: no qemu process left behind"
	fi
}
expect_rc() { # $1 case, $2 wanted, $3 got
	if [[ $3 == "$2" ]]; then pass "$1: exit status $3"; else fail "$1: exit status $3, wanted $2"; fi
}
expect_grep() { # $1 case, $2 regex, $3 file
	if grep -Eq -- "$2" "$3"; then
		pass "$1: output matches /$2/"
	else
		fail "$1: output does not match /$2/; got:"
		sed 's/^/    /' "$3"
	fi
}

# --- a) broken series ---------------------------------------------------------
pdir=$work/patches
mkdir -p "$pdir"
# 0001 applies to any tree (it only adds a file); 0002 cannot apply: its
# context does not exist in the kernel's Makefile.
cat >"$pdir/0001-sockbench-test-good.patch" <<'EOF'
--- /dev/null
+++ b/sockbench-test-good.txt
@@ -0,0 +1 @@
+added by tests/vm/test_errors.sh
EOF
cat >"$pdir/0002-sockbench-test-broken.patch" <<'EOF'
--- a/Makefile
+++ b/Makefile
@@ -1,3 +1,3 @@
 this context line is not in the kernel Makefile
-neither is this one
+so the patch cannot apply
 nor this one
EOF
printf '# test series\n0001-sockbench-test-good.patch\n0002-sockbench-test-broken.patch -p1\n' >"$pdir/series"
echo "a) build.sh with a series whose 2nd patch does not apply"
t0=$SECONDS
rc=0
SOCKBENCH_PATCH_DIR=$pdir "$build" >"$work/a.out" 2>"$work/a.err" || rc=$?
elapsed=$((SECONDS - t0))
if ((rc != 0)); then pass "a: build.sh failed (exit $rc) after ${elapsed}s"; else fail "a: build.sh succeeded with a broken patch"; fi
expect_grep a "patch 0002-sockbench-test-broken\.patch .*does not apply" "$work/a.err"
if grep -q "0001-sockbench-test-good.patch.*does not apply" "$work/a.err"; then
	fail "a: blamed the good patch"
fi
if grep -Eq '^ +(CC|LD|AR) ' "$work/a.err"; then
	fail "a: compiled something before failing"
else
	pass "a: nothing compiled before the failure"
fi
if [[ -s $work/a.out ]]; then fail "a: printed something on stdout: $(cat "$work/a.out")"; else pass "a: nothing on stdout"; fi
# The good patch was applied only to a scratch index: the cached tree must
# not contain its file.
cache_kernel=$(dirname "$("$build" --print-dir)")
shopt -s nullglob
leftovers=("$cache_kernel"/src/*/linux/sockbench-test-good.txt)
shopt -u nullglob
if ((${#leftovers[@]})); then fail "a: half-patched tree: ${leftovers[*]} exists"; else pass "a: cached source tree not modified"; fi

# --- b) missing kernel --------------------------------------------------------
echo "b) vm.sh --kernel /nonexistent"
rc=0
TMPDIR=$work "$vm" --kernel /nonexistent -- true >"$work/b.out" 2>"$work/b.err" || rc=$?
expect_rc b 125 "$rc"
expect_grep b "kernel image '/nonexistent' does not exist" "$work/b.err"
lines=$(wc -l <"$work/b.err")
if ((lines == 1)); then pass "b: one error line"; else fail "b: $lines lines of error output"; fi

# Cases c-e need a kernel.
kernel=$("$build" | tail -n 1)
echo "kernel: $kernel"

# --- c) timeout ----------------------------------------------------------------
echo "c) vm.sh --timeout 20 -- sleep 100000"
t0=$SECONDS
rc=0
TMPDIR=$work "$vm" --kernel "$kernel" --timeout 20 -- sleep 100000 >"$work/c.out" 2>"$work/c.err" || rc=$?
elapsed=$((SECONDS - t0))
expect_rc c 124 "$rc"
expect_grep c "TIMEOUT: the guest did not finish within 20s" "$work/c.err"
if ((elapsed < 60)); then pass "c: returned after ${elapsed}s"; else fail "c: took ${elapsed}s for a 20 s timeout"; fi
check_no_qemu c
rm -rf "$work"/sockbench-vm.* # kept run directories of the failed guests

# --- d) SIGTERM ------------------------------------------------------------------
echo "d) SIGTERM to vm.sh while the guest runs"
TMPDIR=$work "$vm" --kernel "$kernel" --timeout 600 -- sleep 100000 >"$work/d.out" 2>"$work/d.err" &
bg_pid=$!
# Wait (bounded) until the guest's command is running: guest-init writes the
# run directory's "timing" file only after the command ends, so look for the
# boot having reached init via the console log instead.
deadline=$((SECONDS + 120))
until grep -qs "Run .*guest-init.sh as init process" "$work"/sockbench-vm.*/console.log; do
	if ((SECONDS > deadline)) || ! kill -0 "$bg_pid" 2>/dev/null; then break; fi
	sleep 0.5 # polling a condition with a deadline, not a guess at timing
done
if grep -qs "as init process" "$work"/sockbench-vm.*/console.log; then pass "d: guest reached init"; else fail "d: guest never reached init"; fi
kill -TERM "$bg_pid"
rc=0
wait "$bg_pid" || rc=$?
bg_pid=""
expect_rc d 143 "$rc"
expect_grep d "caught SIGTERM, stopping the guest" "$work/d.err"
check_no_qemu d

# --- e) kernel panic -------------------------------------------------------------
echo "e) kernel panic inside the guest (echo c > /proc/sysrq-trigger)"
rc=0
TMPDIR=$work "$vm" --kernel "$kernel" --timeout 300 -- sh -c 'echo c > /proc/sysrq-trigger' \
	>"$work/e.out" 2>"$work/e.err" || rc=$?
expect_rc e 3 "$rc"
expect_grep e "KERNEL SPLAT" "$work/e.err"
expect_grep e "Kernel panic - not syncing: sysrq triggered crash" "$work/e.err"
check_no_qemu e

# --- f) build.sh's source and series choices ------------------------------------
echo "f) build.sh --series / --tree refusals, and the pinned upload gone"
rc=0
"$build" --series no-such-series --print-dir >"$work/f1.out" 2>"$work/f1.err" || rc=$?
if ((rc)); then pass "f1: unknown --series refused (exit $rc)"; else fail "f1: unknown --series accepted"; fi
expect_grep f1 "--series no-such-series: no such series \\(choose all, none, .*all-netns" "$work/f1.err"
rc=0
"$build" --tree "$work" --print-dir >"$work/f2.out" 2>"$work/f2.err" || rc=$?
if ((rc)); then pass "f2: --tree of a non-kernel directory refused (exit $rc)"; else fail "f2: --tree $work accepted"; fi
expect_grep f2 "--tree $work: not a kernel source tree" "$work/f2.err"
rc=0
"$build" --tree "$work" --series all-netns --print-dir >"$work/f3.out" 2>"$work/f3.err" || rc=$?
if ((rc)); then pass "f3: --tree with a series refused (exit $rc)"; else fail "f3: --tree with --series accepted"; fi
expect_grep f3 "--tree builds the tree as it is" "$work/f3.err"
# A pinned upload Debian no longer offers: the newest 7.3.x is used, and said.
rc=0
SOCKBENCH_PIN_VERSION=7.3.0-99 "$build" --print-dir >"$work/f4.out" 2>"$work/f4.err" || rc=$?
expect_rc f4 0 "$rc"
expect_grep f4 "pinned linux-source-7.3 7.3.0-99 is no longer offered by trixie-backports \\(offered: .*\\); using 7\\.3\\." "$work/f4.err"
# No 7.3.x at all (a series prefix nothing matches): fail naming both sides.
rc=0
SOCKBENCH_PIN_VERSION=7.9.0-99 SOCKBENCH_PIN_SERIES_PREFIX=7.9. "$build" --print-dir >"$work/f5.out" 2>"$work/f5.err" || rc=$?
if ((rc)); then pass "f5: no matching upload refused (exit $rc)"; else fail "f5: succeeded without a matching upload"; fi
expect_grep f5 "wanted 7\\.9\\.0-99 \\(or another 7\\.9\\.x\\), trixie-backports offers: 7\\.3\\." "$work/f5.err"

finish test_errors
