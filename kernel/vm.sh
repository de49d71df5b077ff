#!/usr/bin/env bash
# kernel/vm.sh: run one command inside a throw-away qemu VM booted with the
# sockbench kernel, with the host's / shared read-only.
#
# Usage: kernel/vm.sh [--kernel PATH | --build] [--debug] [--series NAME | --tree DIR] [--cpus N]
#                     [--memory SIZE] [--timeout SECONDS] [--boot-timeout SECONDS]
#                     [--rw DIR]... [--ro DIR]...
#                     [--env NAME[=VALUE]]... [--console] [--keep]
#                     -- COMMAND [ARGS...]
#   --kernel PATH   boot this kernel image (bzImage or vmlinux)
#   --build         build/fetch the kernel with kernel/build.sh (default)
#   --debug         with --build: the debug kernel (lockdep, KASAN, ...)
#   --series NAME   with --build: kernel/build.sh --series NAME (all, none, all-netns, ...)
#   --tree DIR      with --build: build your own kernel checkout DIR (kernel/build.sh --tree)
#   --cpus N        vCPUs (default 2)          --memory SIZE  RAM (default 4G)
#   --timeout S     kill the guest after S seconds (each boot; default 1800)
#   --boot-timeout S  a kernel that has not started init after S seconds
#                   is described (vCPUs, backtraces) and booted once more
#                   (default 600)
#   --rw DIR        also make DIR writable in the guest (repeatable)
#   --ro DIR        also show DIR read-only where the guest would hide it
#                   (under /tmp or /run; repeatable)
#   --env N[=V]     pass N (host value, or V) to the command (repeatable)
#   --console       copy the kernel console to stderr while running
#   --keep          keep the run directory (console log, dmesg) afterwards
#
# The command runs as root in the caller's working directory, with stdout and
# stderr connected to this script's. Arguments "--out PATH" / "--out=PATH"
# make PATH's directory writable in the guest (created on the host if
# missing), so the file lands at the same PATH on the host.
# The command sees SOCKBENCH_VM=tcg|kvm, SOCKBENCH_PATCHSET,
# SOCKBENCH_KERNEL_CONFIG_SHA256, SOCKBENCH_KERNEL_RELEASE, PATH, HOME, TERM.
#
# Exit status: the command's, except
#     3  the kernel logged a splat (WARNING, BUG, lockdep, KASAN, RCU stall,
#        sleeping in atomic, ...); the offending lines are printed
#   124  the guest did not finish within --timeout and was killed, or
#        did not start init within --boot-timeout, twice
#   125  vm.sh itself failed (bad usage, missing kernel, qemu failed, guest
#        died without reporting the command's status)
#   129/130/143  interrupted by SIGHUP/SIGINT/SIGTERM (the guest is stopped)
#
# Environment: SOCKBENCH_ACCEL=kvm|tcg forces the accelerator (otherwise KVM
# is used only if a test boot with it succeeds; the answer is cached per
# kernel and host in $SOCKBENCH_CACHE/vm/). SOCKBENCH_CACHE as for build.sh.
# SOCKBENCH_VM_SPLAT_ALLOW: extra regex of kernel lines not to count as splats.
# SOCKBENCH_VM_FREEZE_BOOTS=N (for tests/vm/test_boot_stall.sh): the vCPUs
# of the first N boots never start, so the boot watchdog must catch them.
set -euo pipefail

readonly EXIT_SPLAT=3 EXIT_TIMEOUT=124 EXIT_RUNNER=125
# Boots tried before a guest that never starts init is a failure.
readonly BOOT_ATTEMPTS=2
readonly QEMU=qemu-system-x86_64
# 9p payload size: large reads/writes in few round trips (what vm-notes used).
readonly MSIZE=512000

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=vm.sh
DIE_STATUS=$EXIT_RUNNER # every die() of vm.sh and its pieces is a runner failure

# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/accel.sh
source "$here/lib/accel.sh"
# shellcheck source=lib/shares.sh
source "$here/lib/shares.sh"
# shellcheck source=lib/boot_watch.sh
source "$here/lib/boot_watch.sh"
# shellcheck source=lib/splat.sh
source "$here/lib/splat.sh"

usage() {
	sed -n '5,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-$EXIT_RUNNER}"
}

# --- run directory and cleanup -------------------------------------------------
# $run holds the job for the guest (shared as 9p tag "sbctl"), the console log
# and the FIFOs that carry the guest command's stdout/stderr.
run="" vm_pid="" watch_pid="" probe_pid="" build_pid="" reader_pids=() exit_code=$EXIT_RUNNER keep=0 keep_run=0

# shellcheck disable=SC2317 # used by the traps
stop_pid() { # stop a process we started (it escalates to KILL itself) and reap it
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	local pid
	[[ -n $build_pid ]] && stop_pid "$build_pid"
	[[ -n $probe_pid ]] && stop_pid "$probe_pid"
	[[ -n $vm_pid ]] && stop_pid "$vm_pid"
	[[ -n $watch_pid ]] && stop_pid "$watch_pid"
	# Readers block in open() if qemu never opened its end of a FIFO.
	for pid in "${reader_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	[[ -n $run ]] || return 0
	if ((keep || keep_run)); then
		log "run directory kept: $run"
	else
		rm -rf -- "$run"
	fi
}
# shellcheck disable=SC2317 # invoked via trap
on_signal() {
	local sig=$1 code=$2
	trap - HUP INT TERM
	log "caught SIG$sig, stopping the guest"
	exit_code=$code
	exit "$code"
}

# --- kernel ------------------------------------------------------------------
# Sets kernel (an absolute path). build.sh prints the image path as its last
# stdout line. It runs in the background so that SIGTERM/SIGINT reach our
# traps during a long build (which then stop build.sh, and build.sh its make).
find_kernel() {
	if [[ -z $kernel ]]; then
		local build_args=()
		((debug)) && build_args+=(--debug)
		[[ -n $series ]] && build_args+=(--series "$series")
		[[ -n $tree ]] && build_args+=(--tree "$tree")
		"$here/build.sh" "${build_args[@]}" >"$run/build.out" &
		build_pid=$!
		wait "$build_pid" || die "kernel build failed"
		build_pid=""
		kernel=$(tail -n 1 "$run/build.out")
	fi
	[[ -e $kernel ]] || die "kernel image '$kernel' does not exist"
	[[ -f $kernel && -r $kernel ]] || die "kernel image '$kernel' is not a readable file"
	kernel=$(realpath -- "$kernel")
}

# build-info of a kernel built by build.sh: KEY=VALUE lines, parsed (never
# sourced) and limited to SOCKBENCH_* names. Sets guest_env, patchset,
# config_sha, release.
read_guest_env() {
	local k v
	guest_env=() patchset=unknown config_sha="" release=""
	[[ -f ${kernel%/*}/guest.env ]] || return 0
	while IFS='=' read -r k v; do
		[[ $k =~ ^SOCKBENCH_[A-Z0-9_]+$ ]] || continue
		case $k in
		SOCKBENCH_PATCHSET) patchset=$v ;;
		SOCKBENCH_KERNEL_CONFIG_SHA256) config_sha=$v ;;
		SOCKBENCH_KERNEL_RELEASE) release=$v ;;
		*) guest_env+=("$k=$v") ;;
		esac
	done <"${kernel%/*}/guest.env"
}

# --- the job -----------------------------------------------------------------------
write_job() {
	local v e name
	printf '%s\0' "${cmd[@]}" >"$run/argv"
	printf '%s\0' "$PWD" >"$run/cwd"
	{
		printf '%s\0' "PATH=$PATH" "HOME=${HOME:-/root}" "TERM=dumb" \
			"SOCKBENCH_VM=$accel" "SOCKBENCH_PATCHSET=$patchset" \
			"SOCKBENCH_GUEST_NOFILE=$(ulimit -Hn)"
		[[ -n $config_sha ]] && printf '%s\0' "SOCKBENCH_KERNEL_CONFIG_SHA256=$config_sha"
		[[ -n $release ]] && printf '%s\0' "SOCKBENCH_KERNEL_RELEASE=$release"
		for v in LANG LC_ALL; do [[ -n ${!v:-} ]] && printf '%s\0' "$v=${!v}"; done
		((${#guest_env[@]})) && printf '%s\0' "${guest_env[@]}"
		for e in "${env_args[@]}"; do
			name=${e%%=*}
			[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--env: bad variable name in '$e'"
			if [[ $e == *=* ]]; then
				printf '%s\0' "$e"
			elif [[ -n ${!name+set} ]]; then
				printf '%s\0' "$name=${!name}"
			fi
		done
	} >"$run/env"
}

# --- qemu --------------------------------------------------------------------------
# Sets qemu_rc and timed_out; all output of the guest command is copied out
# when it returns. $1: extra qemu arguments for this boot (may be empty).
run_qemu() {
	local extra_args=("$@") console_args append qemu_cmd fifo fifo_fd pid
	rm -f -- "$run/stdout" "$run/stderr" "$run/console" "$run/console.log" "$run/boot-stalled" \
		"$run/status" "$run/timing" "$run/dmesg"
	# Command stdout/stderr: virtio-serial ports -> FIFOs -> cat -> our stdout /
	# stderr. The FIFO indirection works whatever our stdout is (tty, pipe, file,
	# socket) and `wait` on the readers drains everything before we exit.
	mkfifo "$run/stdout" "$run/stderr"
	cat "$run/stdout" &
	reader_pids+=($!)
	cat "$run/stderr" >&2 &
	reader_pids+=($!)
	console_args=(-chardev "file,id=con,path=$run/console.log")
	if ((console)); then
		mkfifo "$run/console"
		cat "$run/console" >&2 &
		reader_pids+=($!)
		console_args=(-chardev "file,id=con,path=$run/console,logfile=$run/console.log")
	fi

	append="console=ttyS0 root=root rootfstype=9p"
	append+=" rootflags=trans=virtio,version=9p2000.L,msize=$MSIZE,cache=loose ro"
	append+=" init=$here/guest-init.sh panic=-1"
	# The boot watchdog types sysrq 'l' and 'w' on a stalled guest's keyboard.
	append+=" sysrq_always_enabled"

	qemu_cmd=(
		"$QEMU" "${accel_args[@]}" -m "$memory" -smp "$cpus"
		# The run directory in the command line identifies this guest (pgrep -f).
		-name "sockbench-vm:${run##*/}"
		-nodefaults -no-user-config -display none -no-reboot
		# No network device at all: nothing can leave the machine.
		-nic none
		-kernel "$kernel" -append "$append"
		"${console_args[@]}" -serial chardev:con
		# The boot watchdog's way in (lib/boot_watch.sh).
		-monitor "unix:${run//,/,,}/monitor.sock,server=on,wait=off"
		-device virtio-serial-pci
		-chardev "file,id=sbout,path=$run/stdout" -device "virtserialport,chardev=sbout,name=sockbench.stdout"
		-chardev "file,id=sberr,path=$run/stderr" -device "virtserialport,chardev=sberr,name=sockbench.stderr"
		# Host root, read-only. multidevs=remap: without it inode numbers of the
		# host's different mounts collide in the guest (its /proc vanished).
		-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=${run//,/,,},mount_tag=sbctl,security_model=none,multidevs=remap"
		"${virtfs_args[@]}"
		"${extra_args[@]}"
	)

	# timeout(1) enforces --timeout: TERM to qemu when it expires, KILL 10 s later
	# if qemu is still there; it also forwards our TERM (cleanup) to qemu, with
	# the same escalation. setpriv --pdeathsig: should this script be SIGKILLed
	# (no trap runs), the kernel kills timeout, and then qemu, in turn, so no
	# guest outlives its runner.
	setpriv --pdeathsig KILL -- timeout --kill-after=10 "$timeout" \
		setpriv --pdeathsig KILL -- "${qemu_cmd[@]}" </dev/null &
	vm_pid=$!
	watch_boot "$vm_pid" "$boot_timeout" &
	watch_pid=$!
	qemu_rc=0
	wait "$vm_pid" || qemu_rc=$?
	vm_pid=""
	wait "$watch_pid" || true
	watch_pid=""
	timed_out=0
	if ((qemu_rc == 124)); then
		timed_out=1
		log "TIMEOUT: the guest did not finish within ${timeout}s; qemu was killed"
	fi
	# qemu has closed the FIFOs: the readers see EOF once all output is copied.
	# If qemu died before opening a FIFO, its reader is still blocked in open():
	# a read-write open of the FIFO never blocks and releases it; closing it again
	# then gives that reader EOF. (Harmless for readers that already finished.)
	for fifo in "$run/stdout" "$run/stderr" "$run/console"; do
		[[ -p $fifo ]] || continue
		exec {fifo_fd}<>"$fifo"
		exec {fifo_fd}>&-
	done
	for pid in "${reader_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	reader_pids=()
}

# --- verdict ---------------------------------------------------------------------------
# Sets exit_code (and keep_run on failure) from the guest's status, the
# kernel log (lib/splat.sh) and the timeout; $1: wall milliseconds.
verdict() {
	local wall=$1 status="" splats boot_info="" cmd_start cmd_end
	if [[ -f $run/status ]]; then
		read -r status <"$run/status" || true
	elif [[ -f $run/console.log ]]; then
		# Fallback: the marker line guest-init.sh prints on the console.
		status=$(sed -n 's/^SOCKBENCH_GUEST_EXIT_STATUS=\([0-9]*\)\r\{0,1\}$/\1/p' "$run/console.log" | tail -n 1)
	fi
	splats=$(splat_lines "$run/console.log" "$run/dmesg")

	if [[ -f $run/timing ]]; then
		cmd_start=$(sed -n 's/^command_start_uptime=//p' "$run/timing")
		cmd_end=$(sed -n 's/^command_end_uptime=//p' "$run/timing")
		boot_info="boot-to-command ${cmd_start}s, command $(awk -v a="$cmd_start" -v b="$cmd_end" 'BEGIN { printf "%.2f", b - a }')s (guest clock), "
	fi
	log "accel=$accel: ${boot_info}total ${wall} ms wall"

	if ((boot_stalls >= BOOT_ATTEMPTS)); then
		keep_run=1
		log "BOOT STALL: the kernel did not start init within ${boot_timeout}s in $boot_stalls boots (exit $EXIT_TIMEOUT)"
		exit_code=$EXIT_TIMEOUT
	elif ((timed_out)); then
		keep_run=1
		[[ -n $splats ]] && { log "kernel splats before the timeout:"; printf '%s\n' "$splats" >&2; }
		log "last console lines:"
		tail -n 15 "$run/console.log" >&2 || true
		log "TIMEOUT after ${timeout}s (exit $EXIT_TIMEOUT)"
		exit_code=$EXIT_TIMEOUT
	elif [[ -n $splats ]]; then
		keep_run=1
		log "KERNEL SPLAT: the guest kernel logged problems (command exit status: ${status:-unknown}):"
		printf '%s\n' "$splats" | head -n 40 >&2
		log "full console log: $run/console.log"
		exit_code=$EXIT_SPLAT
	elif [[ ! $status =~ ^[0-9]+$ && ! -s $run/console.log ]]; then
		log "qemu failed before the guest printed anything (qemu exit: $qemu_rc; its messages are above)"
		exit_code=$EXIT_RUNNER
	elif [[ ! $status =~ ^[0-9]+$ ]]; then
		keep_run=1
		log "the guest stopped without reporting the command's exit status (qemu exit: $qemu_rc); last console lines:"
		tail -n 25 "$run/console.log" >&2 2>/dev/null || true
		exit_code=$EXIT_RUNNER
	else
		exit_code=$status
	fi
}

need_arg() { (($# >= 2)) || die "$1 needs an argument (see --help)"; }

main() {
	kernel="" build=0 debug=0 series="" tree="" cpus=2 memory=4G timeout=1800 console=0 keep=0
	boot_timeout=600
	rw_dirs=() ro_dirs=() env_args=()
	local d start_ns
	while (($#)); do
		case $1 in
		--kernel) need_arg "$@"; kernel=$2; shift ;;
		--kernel=*) kernel=${1#*=} ;;
		--build) build=1 ;;
		--debug) debug=1 ;;
		--series) need_arg "$@"; series=$2; shift ;;
		--series=*) series=${1#*=} ;;
		--tree) need_arg "$@"; tree=$2; shift ;;
		--tree=*) tree=${1#*=} ;;
		--cpus) need_arg "$@"; cpus=$2; shift ;;
		--cpus=*) cpus=${1#*=} ;;
		--memory) need_arg "$@"; memory=$2; shift ;;
		--memory=*) memory=${1#*=} ;;
		--timeout) need_arg "$@"; timeout=$2; shift ;;
		--timeout=*) timeout=${1#*=} ;;
		--boot-timeout) need_arg "$@"; boot_timeout=$2; shift ;;
		--boot-timeout=*) boot_timeout=${1#*=} ;;
		--rw) need_arg "$@"; rw_dirs+=("$2"); shift ;;
		--rw=*) rw_dirs+=("${1#*=}") ;;
		--ro) need_arg "$@"; ro_dirs+=("$2"); shift ;;
		--ro=*) ro_dirs+=("${1#*=}") ;;
		--env) need_arg "$@"; env_args+=("$2"); shift ;;
		--env=*) env_args+=("${1#*=}") ;;
		--console) console=1 ;;
		--keep) keep=1 ;;
		-h | --help) usage 0 ;;
		--) shift; break ;;
		*) die "unknown option '$1' (the command goes after --; see --help)" ;;
		esac
		shift
	done
	(($#)) || die "no command given: kernel/vm.sh [options] -- COMMAND [ARGS...] (see --help)"
	cmd=("$@")

	[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus must be a positive integer, got '$cpus'"
	[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number of seconds, got '$timeout'"
	[[ $boot_timeout =~ ^[1-9][0-9]*$ ]] || die "--boot-timeout must be a positive number of seconds, got '$boot_timeout'"
	[[ $memory =~ ^[1-9][0-9]*[MGmg]?$ ]] || die "--memory must look like 4G or 2048M, got '$memory'"
	[[ -n $kernel ]] && ((build)) && die "use either --kernel or --build, not both"
	[[ -n $kernel ]] && ((debug)) && die "--debug selects the kernel to build; it cannot be combined with --kernel"
	[[ -n $kernel && -n $series$tree ]] && die "--series and --tree select the kernel to build; they cannot be combined with --kernel"
	command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install qemu-system-x86, or run kernel/build.sh once)"

	cache_root=${SOCKBENCH_CACHE:-/var/cache/sockbench}
	run=$(mktemp -d "${TMPDIR:-/tmp}/sockbench-vm.XXXXXX")
	trap cleanup EXIT
	trap 'on_signal HUP 129' HUP
	trap 'on_signal INT 130' INT
	trap 'on_signal TERM 143' TERM

	find_kernel
	read_guest_env
	choose_accel "$kernel" "${BASH_SOURCE[0]}"
	log "accel=$accel ($accel_why), kernel=$kernel, cpus=$cpus, memory=$memory"

	for d in "${rw_dirs[@]}"; do add_rw_dir "$d"; done
	add_out_dirs "${cmd[@]}"
	# The working directory, sockbench's own checkout (its binaries and
	# workloads) and --ro directories, when they sit where the guest mounts
	# its own tmpfs (a CI clone under /tmp, say).
	add_hidden_ro "$PWD"
	add_hidden_ro "$here/.."
	for d in "${ro_dirs[@]}"; do add_hidden_ro "$d"; done
	write_shares "$run/fstab"

	write_job
	start_ns=$(date +%s%N)
	boot_stalls=0
	freeze_boots=${SOCKBENCH_VM_FREEZE_BOOTS:-0}
	[[ $freeze_boots =~ ^[0-9]+$ ]] || die "SOCKBENCH_VM_FREEZE_BOOTS must be a number, got '$freeze_boots'"
	while :; do
		freeze=()
		((boot_stalls < freeze_boots)) && freeze=(-S)
		run_qemu "${freeze[@]}"
		[[ -e $run/boot-stalled ]] || break
		boot_stalls=$((boot_stalls + 1))
		mv -- "$run/console.log" "$run/console-stall$boot_stalls.log"
		((boot_stalls < BOOT_ATTEMPTS)) || break
		log "BOOT STALL: booting once more (the command had not started)"
	done
	verdict $((($(date +%s%N) - start_ns) / 1000000))
	exit "$exit_code"
}

main "$@"
