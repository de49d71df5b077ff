#!/usr/bin/env bash
# tests/vm/test_checkpatch.sh: every series under kernel/patches/ exports
# (kernel/export-series.sh, with a test identity) to patches that
# `scripts/checkpatch.pl --strict` passes (the kernel's own checker, from the
# tree kernel/build.sh extracted); each series file names every patch of its
# directory and only files that exist; no stored patch carries an identity.
# FILE_PATH_CHANGES ("added, moved or deleted file(s), does MAINTAINERS need
# updating?") is ignored: checkpatch says it for every new file, and the
# selftests patches add files under tools/testing/selftests/bpf/, which
# MAINTAINERS already covers (BPF [SELFTESTS]).
#
# kernel/build.sh --print-src extracts the tree if needed (no kernel build).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
patches=$repo/kernel/patches
src=$("$repo/kernel/build.sh" --print-src)
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

# subject_of PATCH: its Subject header, folded lines joined.
subject_of() {
	awk '/^Subject: / { s = substr($0, 10); on = 1; next }
	     on && /^[ \t]/ { sub(/^[ \t]+/, " "); s = s $0; next }
	     on { print s; exit }' "$1"
}

for series in "$patches"/*/series; do
	dir=$(dirname "$series")
	name=$(basename "$dir")
	mapfile -t listed < <(sed -e 's/#.*//' -e 's/[[:space:]]\+-p[0-9]\+//' -e 's/[[:space:]]*$//' "$series" | grep -v '^$')
	for f in "$dir"/*.patch; do
		b=$(basename "$f")
		printf '%s\n' "${listed[@]}" | grep -qxF "$b" || fail "$name/$b is not in $name/series"
		if grep -qE '^(From:|Date:|Signed-off-by:) ' "$f"; then fail "$name/$b carries an identity"; fi
	done
	for b in "${listed[@]}"; do [[ -f $dir/$b ]] || fail "$name/series names $b, which does not exist"; done
	if ! SOCKBENCH_EXPORT_TEST=1 GIT_AUTHOR_NAME="sockbench test" GIT_AUTHOR_EMAIL=test@sockbench.invalid \
		"$repo/kernel/export-series.sh" --series "$name" --out "$work/$name" 2>"$work/$name.err"; then
		fail "$name: export failed: $(cat "$work/$name.err")"
		continue
	fi
	# The posting keeps each stored subject, and its body apart from it.
	exported=$(for f in "$work/$name"/*.patch; do
		[[ $f == *0000-cover-letter.patch ]] || subject_of "$f" | sed 's/^\[PATCH[^]]*\] //'
	done)
	stored=$(for b in "${listed[@]}"; do subject_of "$dir/$b"; done)
	if [[ $exported == "$stored" ]]; then
		pass "$name: the posting's subjects are the stored ones"
	else
		fail "$name: the posting's subjects differ from the stored ones:"
		diff <(printf '%s\n' "$stored") <(printf '%s\n' "$exported") | sed 's/^/    /'
	fi
	for f in "$work/$name"/*.patch; do
		[[ $f == *0000-cover-letter.patch ]] && continue
		# -q prints nothing for a clean patch; any output is a finding.
		out=$(cd "$src" && perl scripts/checkpatch.pl --strict --no-tree -q --ignore FILE_PATH_CHANGES "$f" 2>&1) || true
		if [[ -n $out ]]; then
			fail "$name/$(basename "$f"):"
			printf '%s\n' "$out" | sed 's/^/    /'
		else
			pass "$name/$(basename "$f")"
		fi
	done
done
finish test_checkpatch
