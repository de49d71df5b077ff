# shellcheck shell=bash
# kernel/lib/config.sh: tinyconfig + sockbench's fragments, and the proof that
# every option of the fragments came out as written.
#
# configure_kernel runs make through the caller's kmake (which knows the
# source tree and object directory) and checks $objdir/.config.

verify_fragment() {
	local frag=$1 cfg=$2 line sym actual name
	name=$(basename "$frag")
	while IFS= read -r line || [[ -n $line ]]; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=.*$ ]]; then
			sym=${BASH_REMATCH[1]}
			if ! grep -qxF -- "$line" "$cfg"; then
				actual=$(grep -E "^(# )?${sym}[= ]" "$cfg" || echo "absent (unmet dependency?)")
				die "$sym: fragment $name wants '$line', final .config has '$actual'"
			fi
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if actual=$(grep -E "^$sym=" "$cfg"); then
				die "$sym: fragment $name wants it unset, final .config has '$actual'"
			fi
		fi
	done <"$frag"
}

configure_kernel() { # $1: source tree, then the fragments
	local tree=$1 f
	shift
	log "configuring in $objdir"
	kmake -s tinyconfig
	env -u KCONFIG_CONFIG "$tree/scripts/kconfig/merge_config.sh" -m -O "$objdir" \
		"$objdir/.config" "$@" >"$objdir/merge_config.log" 2>&1 ||
		die "merge_config.sh failed, see $objdir/merge_config.log"
	kmake -s olddefconfig
	for f in "$@"; do verify_fragment "$f" "$objdir/.config"; done
	log "all options of ${*##*/} verified in .config"
}

# The preemption model a result ran under (the config decides it; 7.x x86
# defaults to PREEMPT_LAZY).
preempt_model() { # $1: .config
	local m
	for m in PREEMPT_RT PREEMPT_LAZY PREEMPT PREEMPT_VOLUNTARY PREEMPT_NONE; do
		if grep -qx "CONFIG_$m=y" "$1"; then
			printf '%s\n' "${m,,}" | tr _ -
			return 0
		fi
	done
	printf 'unknown\n'
}
