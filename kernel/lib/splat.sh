# shellcheck shell=bash
# kernel/lib/splat.sh: the verdict on a guest kernel's log: did it splat?
#
# splat_lines FILE...: print the kernel log lines of the files (console log
# or dmesg; CR stripped) that report a kernel problem, each once. Only lines
# with a printk timestamp count, so a command's own output or init chatter
# cannot trigger it. SOCKBENCH_VM_SPLAT_ALLOW: an extra regex of lines to
# ignore. Missing files are skipped. Used by kernel/vm.sh (exit 3) and by
# tests that look at a kept console log.

splat_re='WARNING:|BUG:|Oops|Kernel panic|kernel BUG at|general protection fault|Unable to handle'
splat_re+='|KASAN:|UBSAN:|possible circular locking|inconsistent lock state|possible recursive locking'
splat_re+='|INFO: |DEBUG_LOCKS_WARN_ON|sleeping function called from invalid context|scheduling while atomic'
splat_re+='|detected stall|self-detected stall|refcount_t:|list_(add|del) corruption|blocked for more than'
# Known harmless: CONFIG_MODULES is off, so BTF has no 'struct module'.
splat_allow_re="'struct module' btf id not found"

splat_lines() {
	local allow=$splat_allow_re f
	[[ -n ${SOCKBENCH_VM_SPLAT_ALLOW:-} ]] && allow+="|$SOCKBENCH_VM_SPLAT_ALLOW"
	for f in "$@"; do
		[[ -f $f ]] && tr -d '\r' <"$f" | grep -E '^\[ *[0-9]+\.[0-9]+\]'
	done | grep -E -- "$splat_re" | grep -Ev -- "$allow" | awk '!seen[$0]++' || true
}
