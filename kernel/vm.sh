#!/usr/bin/env bash
# kernel/vm.sh: run one command inside a throw-away qemu VM booted with the
# sockbench kernel, with the host's / shared read-only.
#
# Usage: kernel/vm.sh [--kernel PATH | --build] [--debug] [--series NAME | --tree DIR] [--cpus N]
#                     [--memory SIZE] [--timeout SECONDS] [--rw DIR]... [--ro DIR]...
#                     [--env NAME[=VALUE]]... [--console] [--keep]
#                     -- COMMAND [ARGS...]
#   --kernel PATH   boot this kernel image (bzImage or vmlinux)
#   --build         build/fetch the kernel with kernel/build.sh (default)
#   --debug         with --build: the debug kernel (lockdep, KASAN, ...)
#   --series NAME   with --build: kernel/build.sh --series NAME (all, none, all-netns, ...)
#   --tree DIR      with --build: build your own kernel checkout DIR (kernel/build.sh --tree)
#   --cpus N        vCPUs (default 2)          --memory SIZE  RAM (default 4G)
#   --timeout S     kill the guest after S seconds (default 1800)
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
#   124  the guest did not finish within --timeout and was killed
#   125  vm.sh itself failed (bad usage, missing kernel, qemu failed, guest
#        died without reporting the command's status)
#   130/143  interrupted by SIGINT/SIGTERM (the guest is stopped)
#
# Environment: SOCKBENCH_ACCEL=kvm|tcg forces the accelerator (otherwise KVM
# is used only if a test boot with it succeeds; the answer is cached per
# kernel and host in $SOCKBENCH_CACHE/vm/). SOCKBENCH_CACHE as for build.sh.
# SOCKBENCH_VM_SPLAT_ALLOW: extra regex of kernel lines not to count as splats.
set -euo pipefail

readonly EXIT_SPLAT=3 EXIT_TIMEOUT=124 EXIT_RUNNER=125
readonly QEMU=qemu-system-x86_64
# 9p payload size: large reads/writes in few round trips (what vm-notes used).
readonly MSIZE=512000

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=vm.sh

log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit "$EXIT_RUNNER"
}
usage() {
	sed -n '5,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-$EXIT_RUNNER}"
}

kernel="" build=0 debug=0 series="" tree="" cpus=2 memory=4G timeout=1800 console=0 keep=0
rw_dirs=() ro_dirs=() env_args=()
need_arg() { (($# >= 2)) || die "$1 needs an argument (see --help)"; }
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
[[ $memory =~ ^[1-9][0-9]*[MGmg]?$ ]] || die "--memory must look like 4G or 2048M, got '$memory'"
[[ -n $kernel ]] && ((build)) && die "use either --kernel or --build, not both"
[[ -n $kernel ]] && ((debug)) && die "--debug selects the kernel to build; it cannot be combined with --kernel"
[[ -n $kernel && -n $series$tree ]] && die "--series and --tree select the kernel to build; they cannot be combined with --kernel"
command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install qemu-system-x86, or run kernel/build.sh once)"

cache_root=${SOCKBENCH_CACHE:-/var/cache/sockbench}

# --- run directory and cleanup -------------------------------------------------
# Holds the job for the guest (shared as 9p tag "sbctl"), the console log and
# the FIFOs that carry the guest command's stdout/stderr.
run=$(mktemp -d "${TMPDIR:-/tmp}/sockbench-vm.XXXXXX")
vm_pid="" probe_pid="" build_pid="" reader_pids=() exit_code=$EXIT_RUNNER keep_run=0

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
	# Readers block in open() if qemu never opened its end of a FIFO.
	for pid in "${reader_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	if ((keep || keep_run)); then
		log "run directory kept: $run"
	else
		rm -rf -- "$run"
	fi
}
# shellcheck disable=SC2317 # invoked via trap
on_signal() {
	local sig=$1 code=$2
	trap - INT TERM
	log "caught SIG$sig, stopping the guest"
	exit_code=$code
	exit "$code"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# --- kernel ------------------------------------------------------------------
if [[ -z $kernel ]]; then
	build_args=()
	((debug)) && build_args+=(--debug)
	[[ -n $series ]] && build_args+=(--series "$series")
	[[ -n $tree ]] && build_args+=(--tree "$tree")
	# build.sh prints the image path as its last stdout line. It runs in the
	# background so that SIGTERM/SIGINT reach our traps during a long build
	# (which then stop build.sh, and build.sh its make).
	"$here/build.sh" "${build_args[@]}" >"$run/build.out" &
	build_pid=$!
	wait "$build_pid" || die "kernel build failed"
	build_pid=""
	kernel=$(tail -n 1 "$run/build.out")
fi
[[ -e $kernel ]] || die "kernel image '$kernel' does not exist"
[[ -f $kernel && -r $kernel ]] || die "kernel image '$kernel' is not a readable file"
kernel=$(realpath -- "$kernel")

# build-info of a kernel built by build.sh: KEY=VALUE lines, parsed (never
# sourced) and limited to SOCKBENCH_* names.
guest_env=()
patchset=unknown config_sha="" release=""
if [[ -f ${kernel%/*}/guest.env ]]; then
	while IFS='=' read -r k v; do
		[[ $k =~ ^SOCKBENCH_[A-Z0-9_]+$ ]] || continue
		case $k in
		SOCKBENCH_PATCHSET) patchset=$v ;;
		SOCKBENCH_KERNEL_CONFIG_SHA256) config_sha=$v ;;
		SOCKBENCH_KERNEL_RELEASE) release=$v ;;
		*) guest_env+=("$k=$v") ;;
		esac
	done <"${kernel%/*}/guest.env"
fi

# --- accelerator ---------------------------------------------------------------
probe_kvm() {
	# /dev/kvm may exist without working (nested software virtualization
	# fails with "KVM internal error. Suberror: 1"), so boot a trivial guest
	# with it and see whether the command's status comes back.
	local rc=0
	log "probing KVM with a test boot (once per kernel and host)"
	SOCKBENCH_ACCEL=kvm "${BASH_SOURCE[0]}" --kernel "$kernel" --cpus 1 --memory 512M \
		--timeout 60 -- /bin/true >"$run/kvm-probe.log" 2>&1 &
	probe_pid=$!
	wait "$probe_pid" || rc=$?
	probe_pid=""
	return "$rc"
}
accel=${SOCKBENCH_ACCEL:-}
accel_why="forced by SOCKBENCH_ACCEL"
if [[ -z $accel ]]; then
	if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		accel=tcg accel_why="no usable /dev/kvm"
	else
		accel_cache=$cache_root/vm/accel-$(printf '%s\n%s\n' "$kernel" "$(uname -n)" | sha256sum | cut -c1-32)
		if [[ -f $accel_cache ]]; then
			read -r accel <"$accel_cache"
			accel_why="cached in $accel_cache"
		else
			if probe_kvm; then accel=kvm; else accel=tcg; fi
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
log "accel=$accel ($accel_why), kernel=$kernel, cpus=$cpus, memory=$memory"

# --- shared directories ----------------------------------------------------------
# The guest mounts its own tmpfs on /tmp and /run, and proc/sys/dev, hiding
# the host's. Writable directories (--out dirs, --rw) and a working directory
# under those hidden paths are shared separately, mounted at the same path.
declare -A share_mode=() # absolute path -> ro|rw
add_share() {
	local path=$1 mode=$2
	if [[ $mode == rw ]]; then
		share_mode[$path]=rw
	elif [[ -z ${share_mode[$path]:-} ]]; then
		share_mode[$path]=ro
	fi
}
add_rw_dir() {
	local dir=$1
	[[ $dir == /* ]] || dir=$PWD/$dir
	mkdir -p -- "$dir" || die "cannot create $dir for the guest's output"
	add_share "$(realpath -- "$dir")" rw
}
for d in "${rw_dirs[@]}"; do add_rw_dir "$d"; done
for ((i = 0; i < ${#cmd[@]}; i++)); do
	out_path=""
	case ${cmd[i]} in
	--out) ((i + 1 < ${#cmd[@]})) && out_path=${cmd[i + 1]} ;;
	--out=*) out_path=${cmd[i]#--out=} ;;
	esac
	[[ -n $out_path ]] || continue
	[[ $out_path == /* ]] || out_path=$PWD/$out_path
	# e.g. --out /dev/stdout: the guest's own /dev, never a host share.
	case $out_path in
	/dev/* | /proc/* | /sys/*) continue ;;
	esac
	add_rw_dir "$(dirname -- "$out_path")"
done
# The working directory, sockbench's own checkout (its binaries and
# workloads) and --ro directories, when they sit where the guest mounts
# its own tmpfs (a CI clone under /tmp, say).
add_hidden_ro() {
	local dir
	dir=$(realpath -- "$1") || die "--ro: no such directory: $1"
	case $dir/ in
	/tmp/* | /run/* | /dev/* | /proc/* | /sys/*) add_share "$dir" ro ;;
	esac
}
add_hidden_ro "$PWD"
add_hidden_ro "$here/.."
for d in "${ro_dirs[@]}"; do add_hidden_ro "$d"; done

fstab_escape() { # fstab fields: octal escapes for blanks and backslash
	local s=$1
	s=${s//\\/\\134}
	s=${s// /\\040}
	s=${s//$'\t'/\\011}
	s=${s//$'\n'/\\012}
	printf '%s' "$s"
}
virtfs_args=()
: >"$run/fstab"
n=0
# Sorted, so a parent directory is mounted before a share inside it.
while IFS= read -r -d '' path; do
	[[ -n $path ]] || continue
	tag=sbfs$n
	n=$((n + 1))
	opts=trans=virtio,version=9p2000.L,msize=$MSIZE,X-mount.mkdir
	ro_opt=""
	if [[ ${share_mode[$path]} == ro ]]; then
		opts+=,ro
		ro_opt=,readonly=on
	fi
	# qemu option values escape ',' by doubling it.
	virtfs_args+=(-virtfs "local,path=${path//,/,,},mount_tag=$tag,security_model=none,multidevs=remap$ro_opt")
	printf '%s %s 9p %s 0 0\n' "$tag" "$(fstab_escape "$path")" "$opts" >>"$run/fstab"
done < <(printf '%s\0' "${!share_mode[@]}" | sort -z)
for path in "${!share_mode[@]}"; do
	log "shared ${share_mode[$path]}: $path"
done

# --- the job -----------------------------------------------------------------------
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

# --- qemu --------------------------------------------------------------------------
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

qemu_cmd=(
	"$QEMU" "${accel_args[@]}" -m "$memory" -smp "$cpus"
	# The run directory in the command line identifies this guest (pgrep -f).
	-name "sockbench-vm:${run##*/}"
	-nodefaults -no-user-config -display none -no-reboot
	# No network device at all: nothing can leave the machine.
	-nic none
	-kernel "$kernel" -append "$append"
	"${console_args[@]}" -serial chardev:con
	-device virtio-serial-pci
	-chardev "file,id=sbout,path=$run/stdout" -device "virtserialport,chardev=sbout,name=sockbench.stdout"
	-chardev "file,id=sberr,path=$run/stderr" -device "virtserialport,chardev=sberr,name=sockbench.stderr"
	# Host root, read-only. multidevs=remap: without it inode numbers of the
	# host's different mounts collide in the guest (its /proc vanished).
	-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=${run//,/,,},mount_tag=sbctl,security_model=none,multidevs=remap"
	"${virtfs_args[@]}"
)

start_ns=$(date +%s%N)
# timeout(1) enforces --timeout: TERM to qemu when it expires, KILL 10 s later
# if qemu is still there; it also forwards our TERM (cleanup) to qemu, with
# the same escalation. setpriv --pdeathsig: should this script be SIGKILLed
# (no trap runs), the kernel kills timeout, and then qemu, in turn, so no
# guest outlives its runner.
setpriv --pdeathsig KILL -- timeout --kill-after=10 "$timeout" \
	setpriv --pdeathsig KILL -- "${qemu_cmd[@]}" </dev/null &
vm_pid=$!
qemu_rc=0
wait "$vm_pid" || qemu_rc=$?
vm_pid=""
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
wall=$((($(date +%s%N) - start_ns) / 1000000))

# --- verdict ---------------------------------------------------------------------------
status=""
if [[ -f $run/status ]]; then
	read -r status <"$run/status" || true
elif [[ -f $run/console.log ]]; then
	# Fallback: the marker line guest-init.sh prints on the console.
	status=$(sed -n 's/^SOCKBENCH_GUEST_EXIT_STATUS=\([0-9]*\)\r\{0,1\}$/\1/p' "$run/console.log" | tail -n 1)
fi

# Kernel splats. Only kernel log lines are considered (console lines with a
# printk timestamp, and the guest's dmesg), so the command's own output or
# init chatter cannot trigger this.
splat_re='WARNING:|BUG:|Oops|Kernel panic|kernel BUG at|general protection fault|Unable to handle'
splat_re+='|KASAN:|UBSAN:|possible circular locking|inconsistent lock state|possible recursive locking'
splat_re+='|INFO: |DEBUG_LOCKS_WARN_ON|sleeping function called from invalid context|scheduling while atomic'
splat_re+='|detected stall|self-detected stall|refcount_t:|list_(add|del) corruption|blocked for more than'
# Known harmless: CONFIG_MODULES is off, so BTF has no 'struct module'.
allow_re="'struct module' btf id not found"
[[ -n ${SOCKBENCH_VM_SPLAT_ALLOW:-} ]] && allow_re+="|$SOCKBENCH_VM_SPLAT_ALLOW"
splats=$(
	{
		[[ -f $run/console.log ]] && tr -d '\r' <"$run/console.log" | grep -E '^\[ *[0-9]+\.[0-9]+\]'
		[[ -f $run/dmesg ]] && grep -E '^\[ *[0-9]+\.[0-9]+\]' "$run/dmesg"
	} | grep -E -- "$splat_re" | grep -Ev -- "$allow_re" | awk '!seen[$0]++' || true
)

boot_info=""
if [[ -f $run/timing ]]; then
	cmd_start=$(sed -n 's/^command_start_uptime=//p' "$run/timing")
	cmd_end=$(sed -n 's/^command_end_uptime=//p' "$run/timing")
	boot_info="boot-to-command ${cmd_start}s, command $(awk -v a="$cmd_start" -v b="$cmd_end" 'BEGIN { printf "%.2f", b - a }')s (guest clock), "
fi
log "accel=$accel: ${boot_info}total ${wall} ms wall"

if ((timed_out)); then
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
exit "$exit_code"
