#!/usr/bin/env bash
# tests/vm/test_patch_switch.sh: kernel/build.sh never leaves a stale patch
# compiled in, and a patch-only change rebuilds incrementally.
#   1. series = the real series + test patch A (a pr_info in inet_diag_init)
#   2. series = the real series + test patch B (same spot, other string)
#   After each build: the new string is in vmlinux and in the booted guest's
#   dmesg, the other one is in neither; build-info.json lists the patch.
# Costs two incremental builds (~0.5-6 min each on 2 cores, more under load)
# plus the cold build if the real series' kernel object directory does not
# exist yet. The test's kernels are removed from the cache afterwards.
# Exit 0 if all pass.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$repo/kernel/build.sh
vm=$repo/kernel/vm.sh
real_patches=$repo/kernel/patches

work=$(mktemp -d "${TMPDIR:-/tmp}/sockbench-test-patch.XXXXXX")
test_kernels=()
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	local d
	# Only directories this test created (content-addressed by its series).
	for d in "${test_kernels[@]}"; do rm -rf -- "$d"; done
	rm -rf -- "$work"
}
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

# The test patches are made against the pristine file recorded by build.sh
# (--print-src extracts the pinned tree if needed).
gitdir=$(dirname "$("$build" --print-src)")/git
file=net/ipv4/inet_diag.c
git --git-dir="$gitdir" show "refs/sockbench/pristine:$file" >"$work/orig.c"
anchor='^static int __init inet_diag_init(void)$'
grep -q "$anchor" "$work/orig.c" || {
	echo "FAIL: $file has no inet_diag_init() to patch"
	exit 1
}

make_series() { # $1 = A|B: real series + a patch adding a marker string
	local x=$1 dir=$work/patches-$1
	mkdir -p "$dir/a/${file%/*}" "$dir/b/${file%/*}"
	cp "$work/orig.c" "$dir/a/$file"
	# After the last declaration of inet_diag_init() ("int err = -ENOMEM;").
	awk -v x="$x" '
		{ print }
		$0 == "static int __init inet_diag_init(void)" { infn = 1 }
		infn && /^\tint err = -ENOMEM;$/ {
			print "\tpr_info(\"sockbench-stale-check-" x "\\n\");"
			infn = 0
		}
	' "$work/orig.c" >"$dir/b/$file"
	(cd "$dir" && diff -u "a/$file" "b/$file" >"9000-sockbench-stale-check-$x.patch") || true
	rm -rf "${dir:?}/a" "${dir:?}/b"
	cp -r "$real_patches"/. "$dir/"
	{
		grep -v '^[[:space:]]*#' "$real_patches/series" 2>/dev/null || true
		echo "9000-sockbench-stale-check-$x.patch"
	} >"$dir/series"
}

check_kernel() { # $1 = wanted marker, $2 = unwanted marker
	local want=$1 unwant=$2 dir=$work/patches-$1 t0 secs kernel kdir
	t0=$SECONDS
	if ! kernel=$(SOCKBENCH_PATCH_DIR=$dir "$build" 2>"$work/build-$want.log" | tail -n 1); then
		fail "build with patch $want failed; last lines:"
		tail -n 20 "$work/build-$want.log"
		return
	fi
	secs=$((SECONDS - t0))
	kdir=${kernel%/*}
	test_kernels+=("$kdir")
	echo "build with patch $want: ${secs}s ($kernel)"
	grep -q "updating source tree to patchset" "$work/build-$want.log" &&
		pass "$want: source tree was updated to the new series"
	if grep -qa "sockbench-stale-check-$want" "$kdir/vmlinux"; then pass "$want: marker $want in vmlinux"; else fail "$want: marker $want missing from vmlinux"; fi
	if grep -qa "sockbench-stale-check-$unwant" "$kdir/vmlinux"; then fail "$want: STALE marker $unwant in vmlinux"; else pass "$want: marker $unwant not in vmlinux"; fi
	if grep -q "9000-sockbench-stale-check-$want.patch" "$kdir/build-info.json"; then pass "$want: build-info.json lists the patch"; else fail "$want: build-info.json does not list the patch"; fi
	local dmesg rc=0
	dmesg=$(TMPDIR=$work "$vm" --kernel "$kernel" --timeout 600 -- dmesg 2>"$work/vm-$want.log") || rc=$?
	if ((rc != 0)); then
		fail "$want: vm.sh exit $rc"
		cat "$work/vm-$want.log"
	fi
	if grep -q "sockbench-stale-check-$want" <<<"$dmesg"; then pass "$want: booted kernel prints marker $want"; else fail "$want: booted kernel does not print marker $want"; fi
	if grep -q "sockbench-stale-check-$unwant" <<<"$dmesg"; then fail "$want: booted kernel prints STALE marker $unwant"; else pass "$want: booted kernel does not print marker $unwant"; fi
}

make_series A
make_series B
check_kernel A B
check_kernel B A

finish test_patch_switch
