# shellcheck shell=bash
# kernel/lib/source.sh: where the kernel source comes from.
#
# Debian's linux-source package of the pinned upload, fetched with apt through
# a private sources list and state directory under the cache (the machine's
# own apt sources are never touched), or a kernel checkout given with --tree.
#
# Sets: src_kind (debian|tree), src_pkg, src_version (what the cache key and
# every result name), src_note (how the version was chosen), src_tarball or
# src_tree_dir.

# The pinned base. Changing it changes every cache key.
# SOCKBENCH_PIN_VERSION and SOCKBENCH_PIN_SERIES_PREFIX exist for the tests
# of the fallback (tests/vm/test_errors.sh), not for users.
readonly PIN_PKG=linux-source-7.3
readonly PIN_VERSION=${SOCKBENCH_PIN_VERSION:-7.3.4-1~bpo13+1}
readonly PIN_SUITE=trixie-backports
readonly PIN_MIRROR=http://deb.debian.org/debian
readonly PIN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# A fallback upload must be of the same kernel series: "7.3." followed by
# anything (7.3.5-1~bpo13+1 is fine, 7.4 is not).
readonly PIN_SERIES_PREFIX=${SOCKBENCH_PIN_SERIES_PREFIX:-7.3.}

apt_private_opts() { # $1: the private apt directory
	local d=$1
	printf '%s\n' -o "Dir::Etc::sourcelist=$d/sources.list" -o Dir::Etc::sourceparts=/dev/null \
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache::Archives=$d/archives" \
		-o Dir::State::status=/var/lib/dpkg/status -o APT::Sandbox::User=root
}

# Versions of $PIN_PKG the private sources offer, newest first.
apt_offered_versions() { # $1: private apt dir
	local opts
	mapfile -t opts < <(apt_private_opts "$1")
	apt-cache "${opts[@]}" madison "$PIN_PKG" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		sort -u | sort -r -V
}

# The downloaded .deb of $PIN_PKG version $2 under $1/debs, or nothing.
# apt names it <package>_<version>_all.deb ('~' kept, an epoch's ':' as %3a).
find_deb() { # $1: private apt dir, $2: version
	local v=${2//:/%3a}
	find "$1/debs" -maxdepth 1 -name "${PIN_PKG}_${v//\~/?}_all.deb" -print -quit 2>/dev/null || true
}

# Download $PIN_PKG=$2 into $1/debs (unless it is there) and print its path.
apt_download() { # $1: private apt dir, $2: version
	local d=$1 v=$2 opts deb
	mkdir -p "$d/debs"
	deb=$(find_deb "$d" "$v")
	if [[ -z $deb ]]; then
		mapfile -t opts < <(apt_private_opts "$d")
		log "downloading $PIN_PKG $v from $PIN_SUITE (private apt state in $d)"
		(cd "$d/debs" && apt-get "${opts[@]}" -q download "$PIN_PKG=$v" >&2) ||
			die "apt-get download $PIN_PKG=$v failed"
		deb=$(find_deb "$d" "$v")
	fi
	[[ -f $deb ]] || die "no .deb of $PIN_PKG $v under $d/debs after download"
	printf '%s\n' "$deb"
}

# resolve_debian_source CACHE_ROOT: choose the upload. The pinned one when it
# is already extracted or offered; else the newest offered 7.3.x (the caller
# checks that the series applies to it, and fails naming both versions if
# not).
resolve_debian_source() {
	local cache=$1 d offered v
	src_kind=debian src_pkg=$PIN_PKG
	d=$cache/apt
	if [[ -f $cache/kernel/src/$(safe_name "$PIN_VERSION")/.complete ]]; then
		src_version=$PIN_VERSION src_note="pinned (extracted earlier)" src_tarball=""
		return 0
	fi
	mkdir -p "$d/lists/partial" "$d/archives/partial"
	printf 'deb [signed-by=%s] %s %s main\n' "$PIN_KEYRING" "$PIN_MIRROR" "$PIN_SUITE" >"$d/sources.list"
	ensure_packages debian-archive-keyring
	local opts
	mapfile -t opts < <(apt_private_opts "$d")
	apt-get "${opts[@]}" -q update >&2 || die "apt-get update of the private $PIN_SUITE list failed"
	mapfile -t offered < <(apt_offered_versions "$d")
	src_offered=${offered[*]:-none}
	for v in "${offered[@]}"; do
		if [[ $v == "$PIN_VERSION" ]]; then
			src_version=$v src_note=pinned
			src_tarball=$(apt_download "$d" "$v")
			return 0
		fi
	done
	for v in "${offered[@]}"; do
		if [[ $v == "$PIN_SERIES_PREFIX"* ]]; then
			log "pinned $PIN_PKG $PIN_VERSION is no longer offered by $PIN_SUITE (offered: $src_offered); using $v"
			src_version=$v src_note="fallback: pinned $PIN_VERSION not offered, newest ${PIN_SERIES_PREFIX}x is $v"
			src_tarball=$(apt_download "$d" "$v")
			return 0
		fi
	done
	die "$PIN_PKG: wanted $PIN_VERSION (or another ${PIN_SERIES_PREFIX}x), $PIN_SUITE offers: $src_offered"
}

# Extract the tarball inside the .deb $1 into directory $2.
extract_debian_source() {
	local deb=$1 dest=$2 inner
	inner=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -m1 -E '^\./usr/src/linux-source-[^/]*\.tar\.xz$') ||
		die "$deb holds no usr/src/linux-source-*.tar.xz"
	killable bash -c 'set -o pipefail; dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | tar -xJ -C "$3" --strip-components=1' \
		_ "$deb" "$inner" "$dest" || die "extracting $inner from $deb failed"
}

# resolve_tree_source DIR: a kernel checkout built as it is, out of tree.
# Its identity is its git revision plus, when it has uncommitted changes, the
# hash of their diff.
resolve_tree_source() {
	local dir=$1 rev dirty=""
	[[ -d $dir ]] || die "--tree $dir: no such directory"
	[[ -f $dir/Makefile && -f $dir/Kconfig && -d $dir/net/ipv4 ]] || die "--tree $dir: not a kernel source tree (no Makefile, Kconfig, net/ipv4)"
	[[ ! -f $dir/.config ]] || die "--tree $dir: has a .config; out-of-tree builds need a clean tree (make mrproper)"
	src_kind=tree src_pkg=tree src_tree_dir=$(cd "$dir" && pwd)
	if rev=$(git -C "$dir" rev-parse HEAD 2>/dev/null); then
		if ! git -C "$dir" diff --quiet HEAD 2>/dev/null; then
			dirty=-dirty-$(git -C "$dir" diff HEAD | sha256sum | cut -c1-12)
		fi
		src_version=git-${rev:0:12}$dirty
		src_note="tree $src_tree_dir at $rev${dirty:+ with uncommitted changes}"
	else
		# Not a git checkout: hash the file list and contents of the tree.
		src_version=files-$(cd "$dir" && find . -type f -not -path './.git/*' -print0 | sort -z |
			xargs -0 sha256sum | sha256sum | cut -c1-16)
		src_note="tree $src_tree_dir (no git; identified by its files' hash)"
	fi
}

safe_name() { printf '%s\n' "${1//[^A-Za-z0-9._+-]/_}"; }
