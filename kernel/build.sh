#!/usr/bin/env bash
# kernel/build.sh: build the sockbench guest kernel, or return it from cache.
#
# Usage: kernel/build.sh [--debug] [--series NAME | --tree DIR] [--print-dir | --print-src]
#   --debug        also apply kernel/config/debug.config (lockdep, KASAN, ...)
#   --series NAME  patches on the pinned Debian base: all (default), none, or
#                  one series directory of kernel/patches (all-netns, sockmap)
#   --tree DIR     build the kernel checkout DIR as it is (your own patches,
#                  bpf-next, ...), out of tree with sockbench's config
#   --print-dir    print the cache directory for these inputs and exit (it
#                  exists only if that kernel was built)
#   --print-src    extract the pristine Debian tree if needed (no build), print
#                  its path (scripts/checkpatch.pl, the pristine git record)
#
# The base is Debian's linux-source-7.3 at the pinned upload (lib/source.sh),
# fetched with apt through a private sources list under the cache; the
# machine's apt sources are never changed. If Debian has dropped the pinned
# upload, the newest 7.3.x offered is used when the series applies to it, and
# the build says so; otherwise it fails naming the wanted and offered versions.
#
# stdout: exactly one line, the path of the kernel image (bzImage); everything
# else goes to stderr. Next to the image: vmlinux (with DWARF, for decoding
# stack traces), config, System.map, build-info.json and guest.env.
#
# Environment:
#   SOCKBENCH_CACHE      cache root (default /var/cache/sockbench)
#   SOCKBENCH_PATCH_DIR  directory holding the series files (default
#                        kernel/patches; the tests point it elsewhere)
#   SOCKBENCH_JOBS       make -j value (default: nproc)
#
# Cache: $SOCKBENCH_CACHE/kernel/<key>/, <key> = sha256 of the recipe
# version, the source identity (Debian version, or tree revision + diff
# hash), the debug flag, the config fragments and the series (patch names,
# strip levels, contents). An unchanged call returns at once, offline.
#   src/<version>/  extracted Debian tree + a private git repository that
#                   records the pristine tree (proves the tree holds exactly
#                   pristine + series; rewrites only changed files)
#   obj/<cfgkey>/   make O= directories, one per (source, fragments, debug),
#                   reused across patch changes for incremental builds
set -euo pipefail

readonly RECIPE=2 # bump when a build step changes what comes out of the same inputs
readonly ARCH_MAKE=x86_64
prog=build.sh

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/source.sh
source "$here/lib/source.sh"
# shellcheck source=lib/series.sh
source "$here/lib/series.sh"
# shellcheck source=lib/config.sh
source "$here/lib/config.sh"
# shellcheck source=lib/tree.sh
source "$here/lib/tree.sh"
# shellcheck source=lib/publish.sh
source "$here/lib/publish.sh"

usage() {
	sed -n '5,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

# Packages needed to build the kernel (and, for vm.sh, to boot it).
need_pkgs=(build-essential bc bison flex libelf-dev libssl-dev dwarves python3 cpio
	xz-utils git qemu-system-x86 iproute2 bpftool)

tmp_paths=()
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	local p
	stop_killable
	for p in "${tmp_paths[@]}"; do rm -rf -- "$p"; done
}

kmake() {
	# LOCALVERSION= (set, empty): no "+" suffix from setlocalversion.
	# KCONFIG_CONFIG unset: a caller's value would redirect .config.
	killable env -u KCONFIG_CONFIG make -C "$tree" O="$objdir" ARCH="$ARCH_MAKE" LOCALVERSION= "$@" >&2
}

is_built() { [[ -f $out/build-info.json && -f $out/bzImage ]]; }

main() {
	debug=0 print_dir=0 print_src=0 series_name=all tree_arg=""
	local series_set=0
	while (($#)); do
		case $1 in
		--debug) debug=1 ;;
		--series)
			(($# >= 2)) || die "--series needs a name (all, none, or a series directory)"
			series_name=$2 series_set=1
			shift
			;;
		--series=*) series_name=${1#*=} series_set=1 ;;
		--tree)
			(($# >= 2)) || die "--tree needs a directory"
			tree_arg=$2
			shift
			;;
		--tree=*) tree_arg=${1#*=} ;;
		--print-dir) print_dir=1 ;;
		--print-src) print_src=1 ;;
		-h | --help) usage 0 ;;
		*)
			log "unknown argument: $1"
			usage 2
			;;
		esac
		shift
	done

	cache_root=${SOCKBENCH_CACHE:-/var/cache/sockbench}
	kroot=$cache_root/kernel
	local patch_root=${SOCKBENCH_PATCH_DIR:-$here/patches} config_dir=$here/config
	jobs=${SOCKBENCH_JOBS:-$(nproc)}
	fragments=("$config_dir/sockbench.config")
	((debug)) && fragments+=("$config_dir/debug.config")
	[[ -d $patch_root ]] || die "patch directory $patch_root does not exist"

	if [[ -n $tree_arg ]]; then
		((series_set)) && [[ $series_name != none ]] &&
			die "--tree builds the tree as it is: put your patches in the tree (--series must be none or absent)"
		series_name=none
		resolve_tree_source "$tree_arg"
		read_series ""
	else
		local series_file # a die in $(...) only ends the subshell: check
		series_file=$(series_file_for "$series_name" "$patch_root") || exit 1
		read_series "$series_file"
		resolve_debian_source "$cache_root"
	fi

	cache_key "$RECIPE" "${fragments[@]}" # sets key, obj_key
	out=$kroot/$key

	if ((print_dir)); then
		printf '%s\n' "$out"
		exit 0
	fi
	if ((print_src)) && [[ $src_kind == tree ]]; then
		printf '%s\n' "$src_tree_dir"
		exit 0
	fi
	if ((!print_src)) && is_built; then
		printf '%s\n' "$out/bzImage"
		exit 0
	fi

	# --- slow path: build --------------------------------------------------
	mkdir -p "$kroot"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	want_tree=""
	if [[ $src_kind == debian ]]; then
		srcdir=$kroot/src/$(safe_name "$src_version")
		tree=$srcdir/linux
		gitdir=$srcdir/git
		# Fails at once on a broken series, even while another build runs.
		[[ -f $srcdir/.complete ]] && check_series
	else
		tree=$src_tree_dir
	fi

	# One build at a time per cache: builds share source trees.
	exec {lock_fd}>"$kroot/.lock"
	if ! flock -n "$lock_fd"; then
		log "another build holds $kroot/.lock; waiting"
		# The lock belongs to the open file description, which the waiting
		# child shares with us: it stays held after the child exits.
		killable flock "$lock_fd"
	fi
	if ((!print_src)) && is_built; then # built by whoever held the lock
		printf '%s\n' "$out/bzImage"
		exit 0
	fi
	# build_seconds in build-info.json: the build itself, not the wait above.
	started=$(date +%s)
	ensure_packages "${need_pkgs[@]}"

	if [[ $src_kind == debian ]]; then
		extract_pristine
		if ((print_src)); then
			# The tree holds whatever series was built last; its scripts/
			# (checkpatch) and the pristine record are what callers use.
			printf '%s\n' "$tree"
			exit 0
		fi
		[[ -n $want_tree ]] || check_series
		update_tree
	fi

	objdir=$kroot/obj/${obj_key:0:24}
	mkdir -p "$objdir"
	configure_kernel "$tree" "${fragments[@]}"

	# bzImage depends on vmlinux, so this builds both.
	log "building with -j$jobs (cold: ~9 min on 2 cores; patch-only change: ~30 s to a few min)"
	kmake -j"$jobs" bzImage
	publish
	printf '%s\n' "$out/bzImage"
}

main "$@"
