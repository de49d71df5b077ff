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

# --- the Debian tree: pristine record, series check, update ------------------
g() { git --git-dir="$gitdir" --work-tree="$tree" -C "$tree" "$@"; }

# Apply the whole series, in order, to a scratch index made from the pristine
# tree: no file of the tree is touched, so a patch that does not apply fails
# here, naming the patch, before anything is modified or compiled. Sets
# want_tree to the git tree id of pristine+series.
check_series() {
	local scratch_idx i name err
	scratch_idx=$(mktemp "$srcdir/index.XXXXXX")
	tmp_paths+=("$scratch_idx")
	GIT_INDEX_FILE=$scratch_idx g read-tree refs/sockbench/pristine
	for i in "${!patch_names[@]}"; do
		name=${patch_names[i]}
		if ! err=$(GIT_INDEX_FILE=$scratch_idx g apply --cached -p"${patch_strips[i]}" \
			-- "${patch_paths[i]}" 2>&1); then
			printf '%s\n' "$err" >&2
			local also=""
			[[ $src_note == fallback* ]] && also=" (pinned $PIN_VERSION is not offered any more; offered: ${src_offered:-?})"
			die "patch $name (series entry $((i + 1)) of ${#patch_names[@]}) does not apply to $src_pkg $src_version$also; source tree left unchanged"
		fi
	done
	((${#patch_names[@]})) && log "all ${#patch_names[@]} patches apply to $src_pkg $src_version"
	want_tree=$(GIT_INDEX_FILE=$scratch_idx g write-tree)
}

# 1. Pristine tree, extracted once per source version. `.complete` is written
#    last, so an interrupted extraction is redone from scratch.
extract_pristine() {
	[[ -f $srcdir/.complete ]] && return 0
	[[ -n $src_tarball ]] || die "internal: no .deb for $src_pkg $src_version"
	log "extracting $src_pkg $src_version"
	rm -rf -- "$srcdir"
	mkdir -p "$tree"
	extract_debian_source "$src_tarball" "$tree"
	log "recording the pristine tree in git (lets later runs verify/reset it)"
	git init -q --bare "$gitdir"
	git --git-dir="$gitdir" config core.autocrlf false
	git --git-dir="$gitdir" config gc.auto 0
	# Loose objects compressed lightly: a local record, speed beats disk.
	git --git-dir="$gitdir" config core.looseCompression 1
	git --git-dir="$gitdir" config core.bare false
	# -f: the tarball contains files that the kernel's .gitignore excludes.
	killable git --git-dir="$gitdir" --work-tree="$tree" -C "$tree" add -A -f .
	g -c user.name=sockbench -c user.email=sockbench@localhost \
		commit -q --no-verify -m "pristine $src_pkg $src_version"
	g update-ref refs/sockbench/pristine HEAD
	touch "$srcdir/.complete"
}

# 2. Bring the working tree to exactly pristine + series. What it holds now
#    is recorded (untracked files too, so files created by an earlier patch
#    are seen), compared, and only differing files are rewritten: they get a
#    new mtime, so make rebuilds exactly what depends on them, and a patch
#    dropped from the series can never stay compiled in.
update_tree() {
	local have_tree
	g add -A -f .
	have_tree=$(g write-tree)
	if [[ $have_tree != "$want_tree" ]]; then
		log "updating source tree to patchset $patchset_id"
		g read-tree -u --reset "$want_tree"
		g add -A -f .
		have_tree=$(g write-tree)
		[[ $have_tree == "$want_tree" ]] ||
			die "source tree $tree does not match pristine+series after update (have $have_tree, want $want_tree)"
	else
		log "source tree already holds patchset $patchset_id"
	fi
}

kmake() {
	# LOCALVERSION= (set, empty): no "+" suffix from setlocalversion.
	# KCONFIG_CONFIG unset: a caller's value would redirect .config.
	killable env -u KCONFIG_CONFIG make -C "$tree" O="$objdir" ARCH="$ARCH_MAKE" LOCALVERSION= "$@" >&2
}

# 5. Publish: fill a temporary directory, then rename it into place, so a
#    reader either sees a complete kernel directory or none.
publish() {
	local stage config_sha release build_seconds patchset_json patch_json="" n debug_json=false
	stage=$(mktemp -d "$kroot/.stage.XXXXXX")
	tmp_paths+=("$stage")
	cp "$objdir/arch/x86/boot/bzImage" "$stage/bzImage"
	cp "$objdir/vmlinux" "$stage/vmlinux"
	cp "$objdir/System.map" "$stage/System.map"
	cp "$objdir/.config" "$stage/config"
	config_sha=$(sha256_file "$stage/config")
	release=$(cat "$objdir/include/config/kernel.release")
	build_seconds=$(($(date +%s) - started))
	if [[ -n $patchset_sha ]]; then
		for n in "${patch_names[@]}"; do patch_json+="${patch_json:+, }\"$n\""; done
		patchset_json="{\"sha256\": \"$patchset_sha\", \"patches\": [$patch_json]}"
	else
		patchset_json='"none"'
	fi
	((debug)) && debug_json=true
	cat >"$stage/build-info.json" <<JSON
{
  "source_package": "$src_pkg",
  "source_version": "$src_version",
  "source_note": "$src_note",
  "kernel_release": "$release",
  "config_sha256": "$config_sha",
  "preempt_model": "$(preempt_model "$stage/config")",
  "patchset": $patchset_json,
  "patchset_id": "$patchset_id",
  "series": "$series_name",
  "debug": $debug_json,
  "gcc": "$(gcc -dumpfullversion 2>/dev/null || echo unknown)",
  "pahole": "$(pahole --version 2>/dev/null || echo unknown)",
  "build_seconds": $build_seconds,
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cache_key": "$key"
}
JSON
	# KEY=VALUE lines for vm.sh to export inside the guest (parsed, not sourced).
	cat >"$stage/guest.env" <<ENV
SOCKBENCH_PATCHSET=$patchset_id
SOCKBENCH_KERNEL_CONFIG_SHA256=$config_sha
SOCKBENCH_KERNEL_RELEASE=$release
SOCKBENCH_KERNEL_DEBUG=$debug
SOCKBENCH_KERNEL_SOURCE=$src_pkg $src_version
SOCKBENCH_KERNEL_PREEMPT=$(preempt_model "$stage/config")
ENV
	chmod 755 "$stage"
	if ! mv -T "$stage" "$out" 2>/dev/null; then
		is_built || die "could not move $stage to $out"
	fi
	log "built $release ($src_pkg $src_version, patchset $patchset_id, debug=$debug) in ${build_seconds}s"
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

	# --- cache key -----------------------------------------------------------
	local frag_lines="" f cfg_material obj_key
	for f in "${fragments[@]}"; do
		[[ -f $f ]] || die "config fragment $f is missing"
		frag_lines+="fragment $(basename "$f") $(sha256_file "$f")"$'\n'
	done
	cfg_material="sockbench-kernel recipe=$RECIPE"$'\n'"source=$src_pkg $src_version"$'\n'"debug=$debug"$'\n'"$frag_lines"
	key=$(sha256_str "$cfg_material$patch_lines")
	# The object directory ignores the patches on purpose: a patch change then
	# rebuilds only what the changed files affect.
	obj_key=$(sha256_str "$cfg_material")
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
