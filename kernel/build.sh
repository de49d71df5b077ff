#!/usr/bin/env bash
# kernel/build.sh: build the sockbench guest kernel (Debian's linux-source-6.12
# + kernel/patches/series + kernel/config/*.config), or return it from cache.
#
# Usage: kernel/build.sh [--debug] [--print-dir | --print-src]
#   --debug       also apply kernel/config/debug.config (lockdep, KASAN, ...)
#   --print-dir   print the cache directory for the current inputs and exit
#                 without building (it exists only if that kernel was built)
#   --print-src   print the extracted source tree (for scripts/checkpatch.pl)
#                 and exit; fails if no build has extracted it yet
#
# stdout: exactly one line, the path of the kernel image (bzImage); everything
# else goes to stderr. Next to the image: vmlinux (with DWARF, for decoding
# stack traces), config, System.map, build-info.json and guest.env.
#
# Environment:
#   SOCKBENCH_CACHE        cache root (default /var/cache/sockbench); the
#                          kernel lands in $SOCKBENCH_CACHE/kernel/<key>/
#   SOCKBENCH_PATCH_DIR    directory holding `series` and the patches
#                          (default kernel/patches)
#   SOCKBENCH_KERNEL_TARBALL  source tarball (default: the one installed by
#                          the linux-source-6.12 package)
#   SOCKBENCH_JOBS         make -j value (default: nproc)
#
# <key> = sha256 of: recipe version, source version, debug flag, config
# fragments and the series (patch names, strip levels, contents), so any
# change to those gives a new kernel and an unchanged call returns at once.
#
# Layout under $SOCKBENCH_CACHE/kernel/:
#   <key>/            finished kernels (created by an atomic rename)
#   src/<version>/    extracted source tree + a private git repository that
#                     records the pristine tree (lets us prove the tree holds
#                     exactly pristine+series and rewrite only changed files)
#   obj/<cfgkey>/     make O= directories, one per (source, fragments, debug);
#                     reused across patch changes for incremental builds
set -euo pipefail

readonly RECIPE=1 # bump when a build step changes what comes out of the same inputs
readonly SRC_PKG=linux-source-6.12
readonly ARCH_MAKE=x86_64

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() {
	printf 'build.sh: error: %s\n' "$*" >&2
	exit 1
}
usage() {
	sed -n '5,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

debug=0
print_dir=0 print_src=0
while (($#)); do
	case $1 in
	--debug) debug=1 ;;
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
patch_dir=${SOCKBENCH_PATCH_DIR:-$here/patches}
config_dir=$here/config
tarball=${SOCKBENCH_KERNEL_TARBALL:-/usr/src/$SRC_PKG.tar.xz}
jobs=${SOCKBENCH_JOBS:-$(nproc)}
fragments=("$config_dir/sockbench.config")
((debug)) && fragments+=("$config_dir/debug.config")

sha256_file() { sha256sum -- "$1" | cut -d' ' -f1; }
sha256_str() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# Packages needed to build the kernel (and, for vm.sh, to boot it). Installing
# only what is missing keeps a warm call free of apt.
need_pkgs=("$SRC_PKG" build-essential bc bison flex libelf-dev libssl-dev
	dwarves python3 cpio xz-utils git qemu-system-x86 iproute2 bpftool)
ensure_packages() {
	local missing=() p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		[[ $status == ii* ]] || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Try without `apt-get update` first: fast when the lists are fresh.
	if ! apt-get install -y -q "${missing[@]}" >&2; then
		apt-get update -q >&2
		apt-get install -y -q "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
	fi
}

# --- source version ----------------------------------------------------------
if [[ -n ${SOCKBENCH_KERNEL_TARBALL:-} ]]; then
	[[ -f $tarball ]] || die "SOCKBENCH_KERNEL_TARBALL=$tarball does not exist"
	src_version="tarball-$(sha256_file "$tarball")"
else
	if ! src_version=$(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null) || [[ -z $src_version ]] || [[ ! -f $tarball ]]; then
		ensure_packages "$SRC_PKG"
		src_version=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
	fi
	[[ -f $tarball ]] || die "$SRC_PKG is installed but $tarball is missing"
fi

# --- series --------------------------------------------------------------------
# quilt-style: one patch per line, optional "-pN" after the name, '#' starts a
# comment. Names are restricted so they can go into JSON and env vars as is.
patch_names=()
patch_strips=()
patch_shas=()
series=$patch_dir/series
[[ -d $patch_dir ]] || die "patch directory $patch_dir does not exist"
if [[ -f $series ]]; then
	lineno=0
	while IFS= read -r line || [[ -n $line ]]; do
		lineno=$((lineno + 1))
		line=${line%%#*}
		read -r -a fields <<<"$line" || true
		((${#fields[@]})) || continue
		name=${fields[0]}
		strip=1
		if ((${#fields[@]} > 1)); then
			[[ ${fields[1]} =~ ^-p([0-9]+)$ && ${#fields[@]} == 2 ]] ||
				die "$series:$lineno: only '<patch> [-pN]' is supported, got: $line"
			strip=${BASH_REMATCH[1]}
		fi
		[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] ||
			die "$series:$lineno: patch name '$name' must match [A-Za-z0-9][A-Za-z0-9._+-]*"
		[[ -f $patch_dir/$name ]] || die "$series:$lineno: patch $name not found in $patch_dir"
		patch_names+=("$name")
		patch_strips+=("$strip")
		patch_shas+=("$(sha256_file "$patch_dir/$name")")
	done <"$series"
fi

patch_lines=""
for i in "${!patch_names[@]}"; do
	patch_lines+="patch ${patch_names[i]} -p${patch_strips[i]} ${patch_shas[i]}"$'\n'
done
if ((${#patch_names[@]})); then
	patchset_sha=$(sha256_str "$patch_lines")
	patchset_id="${patchset_sha:0:12}:$(
		IFS=,
		echo "${patch_names[*]}"
	)"
else
	patchset_sha=""
	patchset_id=none
fi

# --- cache key -------------------------------------------------------------------
frag_lines=""
for f in "${fragments[@]}"; do
	[[ -f $f ]] || die "config fragment $f is missing"
	frag_lines+="fragment $(basename "$f") $(sha256_file "$f")"$'\n'
done
cfg_material="sockbench-kernel recipe=$RECIPE"$'\n'"source=$src_version"$'\n'"debug=$debug"$'\n'"$frag_lines"
key=$(sha256_str "$cfg_material$patch_lines")
# The object directory ignores the patches on purpose: a patch change then
# rebuilds only what the changed files affect.
obj_key=$(sha256_str "$cfg_material")
out=$kroot/$key

if ((print_dir)); then
	printf '%s\n' "$out"
	exit 0
fi
if ((print_src)); then
	src_tree=$kroot/src/${src_version//[^A-Za-z0-9._+-]/_}
	[[ -f $src_tree/.complete ]] || die "no extracted source under $src_tree: run kernel/build.sh first"
	printf '%s\n' "$src_tree/linux"
	exit 0
fi

is_built() { [[ -f $out/build-info.json && -f $out/bzImage ]]; }
if is_built; then
	printf '%s\n' "$out/bzImage"
	exit 0
fi

# --- slow path: build --------------------------------------------------------
started=$(date +%s)
mkdir -p "$kroot"

tmp_paths=()
child_pid=""
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	local p
	# A long step still running (we got a signal): stop its process group.
	[[ -n $child_pid ]] && kill -TERM -- "-$child_pid" 2>/dev/null
	for p in "${tmp_paths[@]}"; do rm -rf -- "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run a long step (lock wait, extraction, make) so that a signal to this
# script is handled at once: bash defers traps while a foreground child runs,
# but `wait` returns to run them. setsid gives the step its own process group,
# which cleanup() stops as a whole (make's compilers included).
killable() {
	local rc=0
	setsid "$@" &
	child_pid=$!
	wait "$child_pid" || rc=$?
	child_pid=""
	return "$rc"
}

srcdir=$kroot/src/${src_version//[^A-Za-z0-9._+-]/_}
tree=$srcdir/linux
gitdir=$srcdir/git
g() {
	git --git-dir="$gitdir" --work-tree="$tree" -C "$tree" "$@"
}

# Apply the whole series, in order, to a scratch index made from the pristine
# tree: no file of the tree is touched, so a patch that does not apply fails
# here, naming the patch, before anything is modified or compiled. Sets
# want_tree to the git tree id of pristine+series.
want_tree=""
check_series() {
	local scratch_idx i name err
	scratch_idx=$(mktemp "$srcdir/index.XXXXXX")
	tmp_paths+=("$scratch_idx")
	GIT_INDEX_FILE=$scratch_idx g read-tree refs/sockbench/pristine
	for i in "${!patch_names[@]}"; do
		name=${patch_names[i]}
		if ! err=$(GIT_INDEX_FILE=$scratch_idx g apply --cached -p"${patch_strips[i]}" \
			-- "$patch_dir/$name" 2>&1); then
			printf '%s\n' "$err" >&2
			die "patch $name (series entry $((i + 1)) of ${#patch_names[@]}) does not apply to $SRC_PKG $src_version; source tree left unchanged"
		fi
		log "patch $name applies"
	done
	want_tree=$(GIT_INDEX_FILE=$scratch_idx g write-tree)
}
if [[ -f $srcdir/.complete ]]; then
	check_series
fi

# One build at a time per cache: builds share the source tree.
exec {lock_fd}>"$kroot/.lock"
if ! flock -n "$lock_fd"; then
	log "another build holds $kroot/.lock; waiting"
	# The lock belongs to the open file description, which the waiting child
	# shares with us: it stays held after the child exits.
	killable flock "$lock_fd"
fi
if is_built; then # built by whoever held the lock
	printf '%s\n' "$out/bzImage"
	exit 0
fi
# build_seconds in build-info.json: the build itself, not the wait above.
started=$(date +%s)

ensure_packages "${need_pkgs[@]}"

# 1. Pristine tree, extracted once per source version. `.complete` is written
#    last, so an interrupted extraction is redone from scratch.
if [[ ! -f $srcdir/.complete ]]; then
	log "extracting $tarball (source $src_version)"
	rm -rf -- "$srcdir"
	mkdir -p "$tree"
	killable tar -xf "$tarball" -C "$tree" --strip-components=1
	log "recording the pristine tree in git (lets later runs verify/reset it)"
	git init -q --bare "$gitdir"
	git --git-dir="$gitdir" config core.autocrlf false
	git --git-dir="$gitdir" config gc.auto 0
	# Loose objects compressed lightly: this repository is only a local
	# record; speed matters more than disk.
	git --git-dir="$gitdir" config core.looseCompression 1
	git --git-dir="$gitdir" config core.bare false
	# -f: the tarball contains files that the kernel's .gitignore excludes.
	killable git --git-dir="$gitdir" --work-tree="$tree" -C "$tree" add -A -f .
	g -c user.name=sockbench -c user.email=sockbench@localhost \
		commit -q --no-verify -m "pristine $SRC_PKG $src_version"
	g update-ref refs/sockbench/pristine HEAD
	touch "$srcdir/.complete"
fi

# 2. Patches: see check_series (run before taking the lock when the tree
#    already exists, so a broken series fails at once even during a build).
[[ -n $want_tree ]] || check_series

# Record what the working tree holds now (adds untracked files too, so files
# created by an earlier patch are seen), compare with pristine+series, and
# rewrite only the differing files. Rewritten files get a new mtime, so make
# rebuilds exactly what depends on them: a patch dropped from the series can
# never stay compiled in.
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

# 3. Configuration: tinyconfig + fragments + olddefconfig, then prove every
#    option of the fragments came out as written.
objdir=$kroot/obj/${obj_key:0:24}
mkdir -p "$objdir"
kmake() {
	# LOCALVERSION= (set, empty): no "+" suffix from setlocalversion.
	# KCONFIG_CONFIG unset: a caller's value would redirect .config.
	killable env -u KCONFIG_CONFIG make -C "$tree" O="$objdir" ARCH="$ARCH_MAKE" LOCALVERSION= "$@" >&2
}
log "configuring in $objdir"
kmake -s tinyconfig
env -u KCONFIG_CONFIG "$tree/scripts/kconfig/merge_config.sh" -m -O "$objdir" \
	"$objdir/.config" "${fragments[@]}" >"$objdir/merge_config.log" 2>&1 ||
	die "merge_config.sh failed, see $objdir/merge_config.log"
kmake -s olddefconfig

verify_fragment() {
	local frag=$1 cfg=$2 line sym actual name
	name=$(basename "$frag")
	while IFS= read -r line || [[ -n $line ]]; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=.*$ ]]; then
			sym=${BASH_REMATCH[1]}
			if ! grep -qxF -- "$line" "$cfg"; then
				actual=$(grep -E "^(# )?${sym}[= ]" "$cfg" || echo "absent (unmet dependency?)")
				die "$sym: fragment $name wants '$line', final .config has '$actual'"
			fi
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if actual=$(grep -E "^$sym=" "$cfg"); then
				die "$sym: fragment $name wants it unset, final .config has '$actual'"
			fi
		fi
	done <"$frag"
}
for f in "${fragments[@]}"; do verify_fragment "$f" "$objdir/.config"; done
log "all options of ${fragments[*]##*/} verified in .config"

# 4. Compile. bzImage depends on vmlinux, so this builds both.
log "building with -j$jobs (cold: ~11-12 min on 2 cores; patch-only change: ~30 s)"
kmake -j"$jobs" bzImage

# 5. Publish: fill a temporary directory, then rename it into place, so a
#    reader either sees a complete kernel directory or none.
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
	patch_json=""
	for n in "${patch_names[@]}"; do patch_json+="${patch_json:+, }\"$n\""; done
	patchset_json="{\"sha256\": \"$patchset_sha\", \"patches\": [$patch_json]}"
else
	patchset_json='"none"'
fi
debug_json=false
((debug)) && debug_json=true
cat >"$stage/build-info.json" <<EOF
{
  "source_package": "$SRC_PKG",
  "source_version": "$src_version",
  "kernel_release": "$release",
  "config_sha256": "$config_sha",
  "patchset": $patchset_json,
  "patchset_id": "$patchset_id",
  "debug": $debug_json,
  "build_seconds": $build_seconds,
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cache_key": "$key"
}
EOF
# KEY=VALUE lines for vm.sh to export inside the guest (parsed, not sourced).
cat >"$stage/guest.env" <<EOF
SOCKBENCH_PATCHSET=$patchset_id
SOCKBENCH_KERNEL_CONFIG_SHA256=$config_sha
SOCKBENCH_KERNEL_RELEASE=$release
SOCKBENCH_KERNEL_DEBUG=$debug
EOF
chmod 755 "$stage"
if ! mv -T "$stage" "$out" 2>/dev/null; then
	is_built || die "could not move $stage to $out"
fi
log "built $release (patchset $patchset_id, debug=$debug) in ${build_seconds}s"
printf '%s\n' "$out/bzImage"
