# shellcheck shell=bash
# kernel/lib/accel.sh: KVM or TCG for the guest.
#
# choose_accel KERNEL VM_SH sets accel (kvm|tcg), accel_why and accel_args.
# SOCKBENCH_ACCEL=kvm|tcg forces it. Otherwise KVM only if /dev/kvm is usable
# and a test boot of KERNEL with it (VM_SH --kernel ... -- /bin/true) works:
# /dev/kvm may exist without working (nested software virtualization fails
# with "KVM internal error. Suberror: 1"). The answer is cached per kernel
# path and host name in $cache_root/vm/. The probe runs in the background
# with its pid in probe_pid, so the caller's traps can stop it; its log goes
# to $run/kvm-probe.log.

probe_kvm() { # $1: kernel, $2: vm.sh
	local rc=0
	log "probing KVM with a test boot (once per kernel and host)"
	SOCKBENCH_ACCEL=kvm "$2" --kernel "$1" --cpus 1 --memory 512M \
		--timeout 60 -- /bin/true >"$run/kvm-probe.log" 2>&1 &
	probe_pid=$!
	wait "$probe_pid" || rc=$?
	probe_pid=""
	return "$rc"
}

choose_accel() { # $1: kernel, $2: vm.sh
	local accel_cache
	accel=${SOCKBENCH_ACCEL:-}
	accel_why="forced by SOCKBENCH_ACCEL"
	if [[ -z $accel ]]; then
		if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
			accel=tcg accel_why="no usable /dev/kvm"
		else
			accel_cache=$cache_root/vm/accel-$(printf '%s\n%s\n' "$1" "$(uname -n)" | sha256sum | cut -c1-32)
			if [[ -f $accel_cache ]]; then
				read -r accel <"$accel_cache"
				accel_why="cached in $accel_cache"
			else
				if probe_kvm "$1" "$2"; then accel=kvm; else accel=tcg; fi
				accel_why="test boot with KVM $([[ $accel == kvm ]] && echo worked || echo failed)"
				mkdir -p "${accel_cache%/*}"
				echo "$accel" >"$accel_cache"
			fi
		fi
	fi
	case $accel in
	kvm) accel_args=(-accel kvm -cpu host) ;;
	# thread=multi: one host thread per vCPU (MTTCG), so --cpus 2 runs in parallel.
	tcg) accel_args=(-accel "tcg,thread=multi" -cpu max) ;;
	*) die "SOCKBENCH_ACCEL must be kvm or tcg, got '$accel'" ;;
	esac
}
