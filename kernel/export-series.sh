#!/usr/bin/env bash
# kernel/export-series.sh: turn one of sockbench's stored series into patches
# ready to post, with the poster's own identity.
#
# Usage: kernel/export-series.sh --series NAME --out DIR [--results FILE]
#                                [--subject-prefix "PATCH bpf-next"] [-v N]
#   --series NAME     kernel/patches/NAME (all-netns, sockmap)
#   --out DIR         where the patches go (created; must be empty or absent)
#   --results FILE    result file whose table goes into the cover letter
#                     (plots/results_table.py --cover) where the letter says
#                     @RESULTS_TABLE@ or @RESULTS_TABLE approach,approach@;
#                     repeat it for several files (e.g. the patched VM and
#                     the stock host): one table, each file's context under
#                     it; without it the letter says that no table was
#                     generated
#   --subject-prefix  default "PATCH bpf-next"
#   -v N              series version (default 1, or as git format-patch -v)
#
# The author and the Signed-off-by are `git config user.name` and
# `user.email` of whoever runs this (GIT_AUTHOR_NAME/EMAIL override them):
# the stored patches carry no identity, so no placeholder ever reaches a
# list. Needs the pristine tree of kernel/build.sh (run it once).
set -euo pipefail
prog=export-series.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/series.sh
source "$here/lib/series.sh"

name="" out="" results=() prefix="PATCH bpf-next" version=1
while (($#)); do
	case $1 in
	--series) name=$2; shift ;;
	--out) out=$2; shift ;;
	--results) results+=("$2"); shift ;;
	--subject-prefix) prefix=$2; shift ;;
	-v) version=$2; shift ;;
	-h | --help) sed -n '5,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
	shift
done
[[ -n $name && -n $out ]] || die "usage: $prog --series NAME --out DIR [--results FILE]"
[[ $version =~ ^[1-9][0-9]*$ ]] || die "-v takes a positive integer, got '$version'"
series_dir=$here/patches/$name
[[ -f $series_dir/series ]] || die "--series $name: no $series_dir/series"
[[ -f $series_dir/cover-letter.txt ]] || die "--series $name: no $series_dir/cover-letter.txt"
for r in "${results[@]}"; do [[ -f $r ]] || die "--results $r: no such file"; done
if [[ -e $out ]] && [[ -n $(ls -A "$out" 2>/dev/null) ]]; then die "--out $out is not empty"; fi

who_name=${GIT_AUTHOR_NAME:-$(git config user.name || true)}
who_email=${GIT_AUTHOR_EMAIL:-$(git config user.email || true)}
[[ -n $who_name && -n $who_email ]] ||
	die "no identity: set git config user.name and user.email (the patches are signed off as you)"
[[ $who_email != *@localhost && $who_email != *.invalid || -n ${SOCKBENCH_EXPORT_TEST:-} ]] ||
	die "user.email $who_email is not an address a list can reply to"

src=$("$here/build.sh" --print-src) || die "no pristine tree: run kernel/build.sh once"
gitdir=$(dirname "$src")/git
read_series "$series_dir/series"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
export GIT_DIR=$tmp/repo.git GIT_INDEX_FILE=$tmp/index
git init -q --bare "$GIT_DIR"
# Share the pristine objects instead of copying 80k files.
echo "$gitdir/objects" >"$GIT_DIR/objects/info/alternates"
base=$(git --git-dir="$gitdir" rev-parse refs/sockbench/pristine)
git read-tree "$base"
export GIT_AUTHOR_NAME=$who_name GIT_AUTHOR_EMAIL=$who_email
export GIT_COMMITTER_NAME=$who_name GIT_COMMITTER_EMAIL=$who_email
head=$base
for i in "${!patch_paths[@]}"; do
	p=${patch_paths[i]}
	git apply --cached -p"${patch_strips[i]}" "$p" || die "${patch_names[i]} does not apply to the pristine tree"
	# Message: the Subject (with its folded lines) and the body up to "---".
	awk '
		/^Subject: / { sub(/^Subject: /, ""); subj = $0; insubj = 1; next }
		insubj && /^[ \t]/ { sub(/^[ \t]+/, " "); subj = subj $0; next }
		insubj { insubj = 0; print subj; print; next }
		/^---$/ { exit }
		subj != "" { print }
	' "$p" >"$tmp/msg"
	printf '\nSigned-off-by: %s <%s>\n' "$who_name" "$who_email" >>"$tmp/msg"
	head=$(git commit-tree "$(git write-tree)" -p "$head" -F "$tmp/msg")
done

mkdir -p "$out"
git format-patch -q --cover-letter -v "$version" --subject-prefix="$prefix" -o "$out" "$base..$head"

# The cover letter: subject and body from cover-letter.txt, the results
# table generated from the result file.
cover=$(find "$out" -name '*0000-cover-letter.patch' -print -quit)
# "@RESULTS_TABLE a,b,c@" in the letter names the approaches to show.
# A letter without one (rto-timeout: its numbers are the lazy runner's, not
# a destroy table) gets none.
approaches=$({ grep -o '@RESULTS_TABLE[^@]*@' "$series_dir/cover-letter.txt" || true; } | head -1 | sed -n 's/^@RESULTS_TABLE \([a-z_,]*\)@$/\1/p')
{
	if ((${#results[@]})); then
		/usr/bin/python3 "$here/../plots/results_table.py" --cover ${approaches:+--approaches "$approaches"} "${results[@]}"
	else
		echo "(no result file given to kernel/export-series.sh: no table)"
	fi
} >"$tmp/table"
/usr/bin/python3 - "$cover" "$series_dir/cover-letter.txt" "$tmp/table" <<'PY'
import re
import sys
cover, letter, table = sys.argv[1:]
text = open(cover).read()
lines = open(letter).read().split("\n")
subject, body = lines[0], "\n".join(lines[1:]).strip("\n")
body = re.sub(r"@RESULTS_TABLE[^@]*@", lambda m: open(table).read().rstrip("\n"), body)
assert "*** SUBJECT HERE ***" in text and "*** BLURB HERE ***" in text
text = text.replace("*** SUBJECT HERE ***", subject).replace("*** BLURB HERE ***", body)
open(cover, "w").write(text)
PY
log "wrote $(find "$out" -name '*.patch' | wc -l) files to $out as $who_name <$who_email>"
