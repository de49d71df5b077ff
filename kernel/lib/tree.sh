# shellcheck shell=bash
# kernel/lib/tree.sh: the Debian source tree: extracted once, recorded in a
# private git repository, checked against the series and brought to exactly
# pristine + series.
#
# Uses the caller's globals: srcdir (per source version), tree (its linux/),
# gitdir, src_pkg, src_version, src_note, src_offered, src_tarball, and the
# series arrays of lib/series.sh. check_series sets want_tree. Temporary
# files go to the caller's tmp_paths (removed by its EXIT trap).

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

