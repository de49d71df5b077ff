#!/usr/bin/env bash
# kernel/selftests.sh: the kernel's own BPF selftests (test_progs) for
# sockbench's kernels: built from the same 7.3 tree as the kernel, run in it.
#
# Usage: kernel/selftests.sh build [--series NAME]
#        kernel/selftests.sh run [--series NAME] [--debug] --out DIR [--timeout S]
#        kernel/selftests.sh names [--series NAME]
#   build    build (or fetch from cache) test_progs for the tree of --series
#            (all, the default; none; or one series directory); prints its
#            directory as the last stdout line
#   run      boot that series' kernel (--debug: the lockdep/KASAN one) with
#            kernel/vm.sh and run test_progs there; DIR gets test_progs.log,
#            test_progs.rc (its exit status), vm.rc (vm.sh's: 3 = kernel
#            splat, 124 = timeout), names (the selected tests) and kernel
#            (the image's path); exits with vm.sh's status
#   names    print the selected prog_tests names
#
# Selection (data, not code): kernel/selftests/base.list on every kernel,
# plus kernel/patches/<series>/selftests of every applied series. test_progs
# is built with only those prog_tests and the programs they use (a full
# build compiles ~1000 programs), with bookworm's clang-16, and cached in
# $SOCKBENCH_CACHE/selftests/<key>/, key = sha256 of the recipe, the source
# version, the series (as in the kernel's key), the selected names and the
# compiler; the debug kernel of a series runs the same build. vmlinux.h comes
# from the non-debug kernel of that series (built if needed).
set -euo pipefail

readonly RECIPE=1
prog=selftests.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/source.sh
source "$here/lib/source.sh"
# shellcheck source=lib/series.sh
source "$here/lib/series.sh"
# shellcheck source=lib/tree.sh
source "$here/lib/tree.sh"
# shellcheck source=lib/selftests.sh
source "$here/lib/selftests.sh"

usage() {
	sed -n '5,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

need_pkgs=(clang-16 llvm-16 lld-16 libelf-dev zlib1g-dev libcap-dev libzstd-dev rsync openssl pkg-config make)

tmp_paths=()
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	local p
	stop_killable
	for p in "${tmp_paths[@]}"; do rm -rf -- "$p"; done
}

# Sets names, key, out (the cache directory) for $series_name. The
# packages first: the key names the compiler's version (a dpkg query when
# they are there, so a warm call stays offline).
select_build() {
	local series_file
	ensure_packages "${need_pkgs[@]}"
	mapfile -t names < <(selftest_names "$series_name" "$patch_root" | awk '!seen[$0]++')
	((${#names[@]})) || die "no selftests selected"
	series_file=$(series_file_for "$series_name" "$patch_root") || exit 1
	read_series "$series_file"
	resolve_debian_source "$cache_root"
	local material
	material="sockbench-selftests recipe=$RECIPE"$'\n'"source=$src_pkg $src_version"$'\n'
	material+="$patch_lines"$'\n'"names=${names[*]}"$'\n'
	material+="clang=$(clang-16 --version 2>/dev/null | head -n 1)"$'\n'"make=$(selftests_make_args | tr '\n' ' ')"
	key=$(sha256_str "$material")
	out=$cache_root/selftests/$key
}

build_selftests() {
	local kernel vmlinux stage started
	select_build
	if [[ -x $out/test_progs ]]; then
		printf '%s\n' "$out"
		return 0
	fi
	# vmlinux.h from the series' non-debug kernel: the same tree's BTF.
	kernel=$("$here/build.sh" --series "$series_name" | tail -n 1) || die "kernel build failed"
	vmlinux=${kernel%/*}/vmlinux
	[[ -f $vmlinux ]] || die "no vmlinux next to $kernel"

	mkdir -p "$cache_root/selftests"
	exec {lock_fd}>"$cache_root/selftests/.lock"
	if ! flock -n "$lock_fd"; then
		log "another selftests build holds $cache_root/selftests/.lock; waiting"
		killable flock "$lock_fd"
	fi
	if [[ -x $out/test_progs ]]; then
		printf '%s\n' "$out"
		return 0
	fi
	started=$(date +%s)
	# The tree: pristine + series, exported from the kernel's pristine
	# record (lib/tree.sh), never the shared source tree, which holds
	# whatever series was built last.
	srcdir=$cache_root/kernel/src/$(safe_name "$src_version")
	tree=$srcdir/linux gitdir=$srcdir/git
	[[ -f $srcdir/.complete ]] || die "no extracted source in $srcdir (kernel/build.sh extracts it)"
	check_series # sets want_tree
	stage=$(mktemp -d "$cache_root/selftests/.stage.XXXXXX")
	tmp_paths+=("$stage")
	mkdir -p "$stage/src" "$stage/out"
	# tools/ and the few files its symlinks point to outside it.
	git --git-dir="$gitdir" archive "$want_tree" tools scripts kernel/bpf/disasm.c kernel/bpf/disasm.h \
		include/linux/pci_ids.h | tar -x -C "$stage/src" || die "exporting the selftests tree failed"
	prune_selftests "$stage/src/tools/testing/selftests/bpf" "${names[@]}"
	log "building test_progs with ${names[*]} (~1-2 min)"
	make_test_progs "$stage/src/tools/testing/selftests/bpf" "$stage/out" "$vmlinux"
	printf '%s\n' "${names[@]}" >"$stage/out/names"
	cat >"$stage/out/build-info.json" <<JSON
{
  "source": "$src_pkg $src_version",
  "patchset_id": "$patchset_id",
  "series": "$series_name",
  "names": "${names[*]}",
  "vmlinux": "$vmlinux",
  "clang": "$(clang-16 --version | head -n 1)",
  "build_seconds": $(($(date +%s) - started)),
  "cache_key": "$key"
}
JSON
	rm -rf -- "$stage/src"
	chmod 755 "$stage/out"
	mv -T "$stage/out" "$out" 2>/dev/null || [[ -x $out/test_progs ]] || die "could not move the build to $out"
	log "test_progs for ${series_name} in $(($(date +%s) - started))s: $out"
	printf '%s\n' "$out"
}

run_selftests() {
	local dir kernel rc=0 debug_arg=()
	[[ -n $run_out ]] || die "run needs --out DIR"
	mkdir -p "$run_out"
	run_out=$(realpath -- "$run_out")
	dir=$(build_selftests | tail -n 1) || exit 1
	((debug)) && debug_arg=(--debug)
	kernel=$("$here/build.sh" --series "$series_name" "${debug_arg[@]}" | tail -n 1) || die "kernel build failed"
	printf '%s\n' "$kernel" >"$run_out/kernel"
	cp "$dir/names" "$run_out/names"
	rm -f -- "$run_out/test_progs.rc" "$run_out/test_progs.log"
	# test_progs finds its .bpf.o files in its working directory (read-only
	# in the guest). Its watchdog kills a test after -w seconds: the debug
	# kernel under TCG runs ~8x slower than the normal one.
	# shellcheck disable=SC2016 # expanded by the guest's bash
	"$here/vm.sh" --kernel "$kernel" --timeout "$timeout" --rw "$run_out" -- bash -c \
		'cd "$1" && ./test_progs -w "$2" >"$3/test_progs.log" 2>&1; echo $? >"$3/test_progs.rc"' \
		_ "$dir" "$((debug ? 900 : 300))" "$run_out" || rc=$?
	echo "$rc" >"$run_out/vm.rc"
	log "test_progs exit $(cat "$run_out/test_progs.rc" 2>/dev/null || echo missing), vm.sh exit $rc; log: $run_out/test_progs.log"
	return "$rc"
}

main() {
	local cmd=${1:-}
	(($#)) && shift
	series_name=all debug=0 run_out="" timeout=3000
	while (($#)); do
		case $1 in
		--series) (($# >= 2)) || die "--series needs a name"; series_name=$2; shift ;;
		--series=*) series_name=${1#*=} ;;
		--debug) debug=1 ;;
		--out) (($# >= 2)) || die "--out needs a directory"; run_out=$2; shift ;;
		--out=*) run_out=${1#*=} ;;
		--timeout) (($# >= 2)) || die "--timeout needs seconds"; timeout=$2; shift ;;
		-h | --help) usage 0 ;;
		*) log "unknown argument: $1"; usage 2 ;;
		esac
		shift
	done
	cache_root=${SOCKBENCH_CACHE:-/var/cache/sockbench}
	patch_root=${SOCKBENCH_PATCH_DIR:-$here/patches}
	jobs=${SOCKBENCH_JOBS:-$(nproc)}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	case $cmd in
	build) build_selftests ;;
	run) run_selftests ;;
	names) selftest_names "$series_name" "$patch_root" | awk '!seen[$0]++' ;;
	-h | --help) usage 0 ;;
	*) usage 2 ;;
	esac
}

main "$@"
