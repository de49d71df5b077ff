# shellcheck shell=bash
# kernel/lib/series.sh: which patches go on the base, and their identity.
#
# A series file is quilt-style: one patch per line, relative to the file's
# directory (one subdirectory level allowed, e.g. all-netns/0001-x.patch),
# optionally followed by -pN; '#' starts a comment. A line "dir/" includes
# the series of that subdirectory. Names are restricted so that they go into
# JSON and environment variables as they are.
#
# read_series FILE sets patch_paths, patch_names, patch_strips, patch_shas,
# patch_lines (the cache-key material), patchset_sha and patchset_id.
# FILE may be empty: no patches (patchset_id "none").
#
# cache_key RECIPE FRAGMENT... sets key (the kernel's cache directory name)
# and obj_key (its object directory's) from what decides the build.

# read_series_lines FILE [PREFIX]: append FILE's patches, named PREFIX/name.
read_series_lines() {
	local series=$1 prefix=${2:+$2/} dir lineno=0 line name strip fields
	[[ -f $series ]] || die "series file $series does not exist"
	dir=$(cd "$(dirname "$series")" && pwd)
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
		if [[ $name =~ ^([a-z0-9][a-z0-9-]*)/$ && ${#fields[@]} == 1 ]]; then
			# "dir/": every patch of that series, in its order
			[[ -f $dir/$name/series ]] || die "$series:$lineno: $name has no series file"
			read_series_lines "$dir/$name/series" "${name%/}"
			continue
		fi
		[[ $name =~ ^([A-Za-z0-9][A-Za-z0-9._+-]*/)?[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] ||
			die "$series:$lineno: patch name '$name' must match [dir/]name with [A-Za-z0-9._+-] characters"
		[[ -f $dir/$name ]] || die "$series:$lineno: patch $name not found in $dir"
		patch_paths+=("$dir/$name")
		patch_names+=("$prefix$name")
		patch_strips+=("$strip")
		patch_shas+=("$(sha256_file "$dir/$name")")
	done <"$series"
}

read_series() {
	patch_paths=() patch_names=() patch_strips=() patch_shas=()
	[[ -z $1 ]] || read_series_lines "$1"
	local i
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
		patchset_sha="" patchset_id=none
	fi
}

# series_file_for NAME PATCH_ROOT: the series file of a --series value.
#   all (default)  PATCH_ROOT/series (every series sockbench carries)
#   none           no patches: the pinned base as Debian ships it
#   <name>         PATCH_ROOT/<name>/series, e.g. all-netns or sockmap
series_file_for() {
	local name=$1 root=$2 n avail=()
	case $name in
	none) printf '\n' ;;
	all) printf '%s\n' "$root/series" ;;
	*)
		if [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ && -f $root/$name/series ]]; then
			printf '%s\n' "$root/$name/series"
		else
			for n in "$root"/*/series; do [[ -f $n ]] && avail+=("$(basename "$(dirname "$n")")"); done
			die "--series $name: no such series (choose all, none${avail[*]:+, ${avail[*]}})"
		fi
		;;
	esac
}

# cache_key RECIPE FRAGMENT...: key = sha256 of the recipe version, the
# source identity (src_pkg, src_version), the debug flag ($debug), every
# fragment's name and contents, and the series (patch_lines). obj_key leaves
# the patches out on purpose: a patch change then rebuilds, in the same
# object directory, only what the changed files affect.
cache_key() {
	local recipe=$1 f frag_lines="" cfg_material
	shift
	for f in "$@"; do
		[[ -f $f ]] || die "config fragment $f is missing"
		frag_lines+="fragment $(basename "$f") $(sha256_file "$f")"$'\n'
	done
	cfg_material="sockbench-kernel recipe=$recipe"$'\n'"source=$src_pkg $src_version"$'\n'"debug=$debug"$'\n'"$frag_lines"
	key=$(sha256_str "$cfg_material$patch_lines")
	obj_key=$(sha256_str "$cfg_material")
}
