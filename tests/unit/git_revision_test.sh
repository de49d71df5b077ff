#!/usr/bin/env bash
# cmake/GitRevision.cmake, the build-time stamp every result carries, on a
# scratch repository: a clean tree is not dirty and has no diff hash; a
# changed tracked file makes it dirty with the sha256 of
# `git diff --no-ext-diff --no-color --binary HEAD`; an untracked file does
# not; no checkout at all is "unknown" and dirty.
# Usage: git_revision_test.sh SOURCE_DIR
set -uo pipefail
src=$1
script=$src/cmake/GitRevision.cmake
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# $tmp/plain must not be taken for part of a repository above it.
export GIT_CEILING_DIRECTORIES=$tmp
fail=0
check() {  # check <what> <command...>
	local what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
stamp() {  # stamp <dir>: writes $tmp/h from <dir>
	rm -f "$tmp/h"
	cmake -DSRC="$1" -DOUT="$tmp/h" -P "$script" || { echo "FAIL: cmake -P $script"; fail=1; }
}
has() { grep -qxF -- "$1" "$tmp/h"; }

repo=$tmp/repo
mkdir -p "$repo"
git -C "$repo" init -q
git -C "$repo" -c user.name=t -c user.email=t@example.org commit -q --allow-empty -m base
printf 'one\n' >"$repo/a.txt"
printf '\x00\x01binary\n' >"$repo/b.bin"
git -C "$repo" add a.txt b.bin
git -C "$repo" -c user.name=t -c user.email=t@example.org commit -q -m files
rev=$(git -C "$repo" rev-parse --short=12 HEAD)

stamp "$repo"
check "clean tree: revision $rev" has "#define SOCKBENCH_GIT_REVISION \"$rev\""
check "clean tree: not dirty" has "#define SOCKBENCH_GIT_DIRTY 0"
check "clean tree: no diff hash" has '#define SOCKBENCH_GIT_DIFF_SHA256 ""'

printf 'untracked\n' >"$repo/new.txt"
stamp "$repo"
check "an untracked file leaves it clean" has "#define SOCKBENCH_GIT_DIRTY 0"

printf 'two\n' >>"$repo/a.txt"
printf '\x00\x02changed\n' >"$repo/b.bin"
want=$(git -C "$repo" diff --no-ext-diff --no-color --binary HEAD | sha256sum | cut -d' ' -f1)
stamp "$repo"
check "changed tracked files: revision $rev-dirty" has "#define SOCKBENCH_GIT_REVISION \"$rev-dirty\""
check "changed tracked files: dirty" has "#define SOCKBENCH_GIT_DIRTY 1"
check "changed tracked files: sha256 of git diff HEAD ($want)" has "#define SOCKBENCH_GIT_DIFF_SHA256 \"$want\""
# A binary file changed two ways: plain `git diff` says "Binary files
# differ" both times; the stamp must tell the two trees apart.
git -C "$repo" checkout -q -- a.txt
printf '\x00\x03one way\n' >"$repo/b.bin"
stamp "$repo"
first=$(grep SOCKBENCH_GIT_DIFF_SHA256 "$tmp/h")
printf '\x00\x03other way\n' >"$repo/b.bin"
stamp "$repo"
check "two contents of a binary file, two hashes" test "$first" != "$(grep SOCKBENCH_GIT_DIFF_SHA256 "$tmp/h")"

printf 'three\n' >>"$repo/a.txt"
stamp "$repo"
check "another change, another hash" bash -c "! grep -qF '$want' '$tmp/h'"
check "no leftover diff file" test ! -e "$tmp/h.diff"

git -C "$repo" add a.txt
stamp "$repo"
check "a staged change is dirty too" has "#define SOCKBENCH_GIT_DIRTY 1"

mkdir -p "$tmp/plain"
stamp "$tmp/plain"
check "no checkout: revision unknown" has '#define SOCKBENCH_GIT_REVISION "unknown"'
check "no checkout: dirty (nothing says it was clean)" has "#define SOCKBENCH_GIT_DIRTY 1"

exit $fail
