#!/usr/bin/env bash
# tests/vm/test_checkpatch.sh: every patch of kernel/patches/series is
# `scripts/checkpatch.pl --strict` clean (the kernel's own checker, from the
# source tree kernel/build.sh extracted), and the series names every patch
# file in the directory and only files that exist.
#
# Runs kernel/build.sh first (cached; the first call builds the kernel).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
patches=$repo/kernel/patches
"$repo/kernel/build.sh" >/dev/null
src=$("$repo/kernel/build.sh" --print-src)

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

mapfile -t listed < <(sed -e 's/#.*//' -e 's/[[:space:]]\+-p[0-9]\+//' -e 's/[[:space:]]*$//' \
	"$patches/series" | grep -v '^$')
for f in "$patches"/*.patch; do
	name=$(basename "$f")
	printf '%s\n' "${listed[@]}" | grep -qxF "$name" || fail "$name is not in the series"
done
((${#listed[@]})) || echo "series is empty: nothing to check"
for name in "${listed[@]}"; do
	f=$patches/$name
	[[ -f $f ]] || { fail "series names $name, which does not exist"; continue; }
	# -q prints nothing for a clean patch; any output is a finding.
	out=$(cd "$src" && perl scripts/checkpatch.pl --strict --no-tree -q "$f" 2>&1) || true
	if [[ -n $out ]]; then
		fail "$name:"
		printf '%s\n' "$out" | sed 's/^/    /'
	else
		pass "$name"
	fi
done
finish test_checkpatch
