#!/usr/bin/env bash
# kernel/save-series.sh: store a developer's kernel commits as one of
# sockbench's series, without anyone's identity in them.
#
# Usage: kernel/save-series.sh --series NAME --repo GITDIR REVRANGE
#   e.g. kernel/save-series.sh --series all-netns --repo ~/linux pristine..all-netns
#
# Writes kernel/patches/NAME/NNNN-<subject>.patch (format-patch style) and
# kernel/patches/NAME/series, replacing the series' old patches. The stored
# patches carry subject, message and diff only: no From:, Date: or
# Signed-off-by: lines (they would be a placeholder, which fails DCO).
# kernel/export-series.sh adds the poster's own identity when posting.
# The cover letter (kernel/patches/NAME/cover-letter.txt) is kept as it is.
set -euo pipefail
prog=save-series.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"

name="" repo="" range=""
while (($#)); do
	case $1 in
	--series) name=$2; shift ;;
	--repo) repo=$2; shift ;;
	-h | --help) sed -n '5,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) [[ -z $range ]] || die "one revision range only, got '$range' and '$1'"; range=$1 ;;
	esac
	shift
done
[[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "--series NAME: lower-case letters, digits and '-' (got '$name')"
[[ -n $repo && -n $range ]] || die "usage: $prog --series NAME --repo GITDIR REVRANGE"
git -C "$repo" rev-parse --verify -q "${range##*..}" >/dev/null || die "$range: not a revision range of $repo"

dest=$here/patches/$name
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
git -C "$repo" format-patch -q --no-signature --zero-commit --no-numbered -o "$tmp" "$range"
n=$(find "$tmp" -name '*.patch' | wc -l)
((n)) || die "$range holds no commits"

mkdir -p "$dest"
find "$dest" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' -delete
for f in "$tmp"/*.patch; do
	# Drop the mbox envelope, author and date, and every sign-off; keep
	# Subject, the message, the diffstat and the diff.
	awk '
		hdr && /^$/ { hdr = 0; print; next }
		hdr && /^[ \t]/ { if (keep) print; next }	# folded header line
		hdr { keep = sub(/^Subject: (\[PATCH\] )?/, "Subject: "); if (keep) print; next }
		/^Signed-off-by: / { next }
		{ print }
	' hdr=1 "$f" >"$dest/$(basename "$f")"
done
{
	echo "# $name: applied in order by kernel/build.sh (--series $name, or all)."
	echo "# Written by kernel/save-series.sh; one patch per line."
	(cd "$dest" && ls [0-9][0-9][0-9][0-9]-*.patch)
} >"$dest/series"
log "saved $n patches to $dest"
