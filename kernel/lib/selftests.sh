# shellcheck shell=bash
# kernel/lib/selftests.sh: which of the kernel's BPF selftests to build for
# a tree, and building test_progs with only those.
#
# selftest_names SERIES PATCH_ROOT: the prog_tests names, one a line:
#   kernel/selftests/base.list, plus kernel/patches/<dir>/selftests of every
#   series that SERIES applies (all: every "dir/" line of PATCH_ROOT/series;
#   none: no series; NAME: that one). A new series adds its selftests by
#   listing them in its own directory.
# prune_selftests DIR NAME...: in the selftests directory DIR, delete every
#   prog_tests/*.c not named and every progs/*.c that none of the named
#   tests uses (its skeleton header or its .bpf.o is named in the test, or a
#   kept program #includes it), so that test_progs builds only those.
# make_test_progs DIR OUT VMLINUX: build DIR's test_progs into OUT.

# Lines of a list file without comments and blanks.
list_lines() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"; }

selftest_names() {
	local series=$1 root=$2 base=$here/selftests/base.list d dirs=()
	[[ -f $base ]] || die "$base is missing"
	list_lines "$base"
	case $series in
	none) ;;
	all) mapfile -t dirs < <(list_lines "$root/series" | sed -n 's|^\([a-z0-9][a-z0-9-]*\)/$|\1|p') ;;
	*) dirs=("$series") ;;
	esac
	for d in "${dirs[@]}"; do
		[[ -f $root/$d/selftests ]] && list_lines "$root/$d/selftests"
	done
	return 0
}

prune_selftests() {
	local dir=$1 f b n keep=" " need changed
	shift
	for n in "$@"; do
		[[ -f $dir/prog_tests/$n.c ]] || die "selftest $n: no prog_tests/$n.c in the tree (is its series applied?)"
		keep+="$n "
	done
	for f in "$dir"/prog_tests/*.c; do
		b=${f##*/}
		[[ $keep == *" ${b%.c} "* ]] || rm -f -- "$f"
	done
	# Programs named by the kept tests, then those the kept programs include.
	need=$(cd "$dir/prog_tests" && cat -- "${@/%/.c}" |
		grep -ohE '"[A-Za-z0-9_]+\.((l|sub)?skel\.h|bpf\.o)"' | sed -E 's/^"([A-Za-z0-9_]+)\..*/\1/' | sort -u)
	changed=1
	while ((changed)); do
		changed=0
		for n in $need; do
			[[ -f $dir/progs/$n.c ]] || continue
			for b in $(grep -ohE '^#include "[A-Za-z0-9_]+\.c"' "$dir/progs/$n.c" | sed -E 's/.*"(.*)\.c"/\1/'); do
				grep -qxF "$b" <<<"$need" && continue
				need+=$'\n'"$b"
				changed=1
			done
		done
	done
	for f in "$dir"/progs/*.c; do
		b=${f##*/}
		grep -qxF "${b%.c}" <<<"$need" || rm -f -- "$f"
	done
}

# The selftests Makefile with bookworm's clang-16, and without what this
# config or toolchain cannot give (see docs/kernel-selftests.md):
#   BPF_STRICT_BUILD=0   a program clang-16 cannot compile is skipped, not fatal
#   SKIP_LLVM=1          no llvm-16-dev: no JIT disassembly in test_progs
#   TEST_KMODS=          CONFIG_MODULES is off: no bpf_testmod.ko
#   LIBARENA_SKEL=       libarena needs BPF arena address spaces (clang >= 18)
#   LSKELS*= LINKED_SKELS=  fixed lists of light/linked skeletons of programs
#                        that the pruned tree no longer has
selftests_make_args() {
	printf '%s\n' CLANG=clang-16 LLC=llc-16 LLVM_CONFIG=llvm-config-16 LLVM_STRIP=llvm-strip-16 \
		BPF_STRICT_BUILD=0 SKIP_LLVM=1 SKIP_DOCS=1 TEST_KMODS= LIBARENA_SKEL= \
		LSKELS= LSKELS_SIGNED= LSKELS_EXTRA= LINKED_SKELS=
}

make_test_progs() {
	local dir=$1 out=$2 vmlinux=$3 args
	mapfile -t args < <(selftests_make_args)
	killable make -C "$dir" -j"$jobs" OUTPUT="$out" VMLINUX_BTF="$vmlinux" "${args[@]}" test_progs >&2 ||
		die "building test_progs failed (see above)"
	[[ -x $out/test_progs ]] || die "no test_progs in $out after make"
}
