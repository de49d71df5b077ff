# shellcheck shell=bash
# kernel/lib/boot_watch.sh: catch a guest that never starts init.
#
# Seen once in CI: the debug kernel under TCG printed its late initcalls
# ("sched_clock: Marking stable" at 130 s) and then nothing more; only
# --timeout ended the run, 38 minutes later, with no clue to what the vCPUs
# were doing. The same kernel booted in the next test. So vm.sh watches the
# console for the kernel's "Run ... as init process" line. If it has not
# appeared after --boot-timeout seconds, boot_stalled() reports the vCPUs'
# registers (qemu monitor) and the kernel's own backtraces (sysrq 'l' and
# 'w', typed on the guest's keyboard; the kernel runs with
# sysrq_always_enabled), then quits that qemu. vm.sh boots once more: the
# command had not started, so nothing runs twice.
#
# Needs: $run (the run directory: console.log, monitor.sock, argv), $kernel,
# log().
# shellcheck disable=SC2154 # run and kernel are vm.sh's

readonly INIT_LINE_RE='Run .* as init process'

# monitor CMD...: send HMP commands to this guest's qemu, print the replies
# (terminal escapes and the prompt removed). Fails if qemu does not answer.
monitor() {
	/usr/bin/python3 - "$run/monitor.sock" "$@" <<'EOF'
import re, socket, sys

sock = socket.socket(socket.AF_UNIX)
sock.settimeout(10)
sock.connect(sys.argv[1])


def reply():
    data = b""
    while not data.endswith(b"(qemu) "):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    text = data.decode(errors="replace")
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\(qemu\) ", "", text)


reply()  # the banner
for command in sys.argv[2:]:
    sock.sendall(command.encode() + b"\n")
    out = reply().splitlines()
    # The monitor echoes the command first.
    sys.stdout.write("\n".join(line for line in out[1:] if line.strip()) + "\n")
EOF
}

# The System.map symbol at or below a kernel address (hex, no 0x), as
# symbol+0xoffset, or "". System.map is sorted and its addresses have 16
# hex digits, so the address padded to 16 compares as a string (mawk has no
# strtonum); bash does the offset (64-bit wrap-around is harmless).
kernel_symbol() {
	local map=${kernel%/*}/System.map want found addr name
	[[ -r $map && ${#1} -le 16 ]] || return 0
	want=$(printf '%016s' "$1" | tr ' ' 0)
	found=$(awk -v want="$want" '$2 ~ /^[tTwW]$/ && $1 <= want { last = $1 " " $3 } END { print last }' "$map")
	[[ -n $found ]] || return 0
	read -r addr name <<<"$found"
	printf '%s+0x%x' "$name" $((16#$want - 16#$addr))
}

# A summary of each vCPU: its instruction pointer (with the kernel symbol)
# and whether it halted.
describe_vcpus() {
	local regs line cpu="" reg rip sym
	regs=$(monitor "info registers -a") || {
		log "  (the qemu monitor did not answer)"
		return 0
	}
	while IFS= read -r line; do
		if [[ $line =~ ^CPU#([0-9]+) ]]; then
			cpu=${BASH_REMATCH[1]}
		elif [[ $line =~ ([ER]IP)=([0-9a-f]+) ]]; then
			# RIP in long mode; EIP (real or protected mode) before it.
			reg=${BASH_REMATCH[1]} rip=${BASH_REMATCH[2]}
			sym=$(kernel_symbol "$rip")
			log "  vCPU $cpu: $reg $rip ${sym:-?}$([[ $line =~ HLT=1 ]] && echo ', halted')"
		fi
	done <<<"$regs"
}

# watch_boot QEMU_PID BOOT_TIMEOUT: return once the console shows init
# starting or qemu has gone; after BOOT_TIMEOUT seconds without either, mark
# the run stalled ($run/boot-stalled), describe it and quit qemu. Polls once
# a second: this is a deadline, not a synchronisation. The guest is stopped
# first and its job's argv moved away (guest-init then refuses to run
# anything), so a kernel that was only slow cannot start the command while
# it is being described: the next boot runs it, once.
watch_boot() {
	set +e # a failing diagnostic must not end the watch
	local qemu_pid=$1 limit=$2 size last_size=-1 quiet=0
	local deadline=$((SECONDS + limit))
	while ((SECONDS < deadline)); do
		grep -qE -- "$INIT_LINE_RE" "$run/console.log" 2>/dev/null && return 0
		kill -0 "$qemu_pid" 2>/dev/null || return 0
		sleep 1
	done
	if ! monitor stop >/dev/null 2>&1; then
		log "BOOT STALL: the qemu monitor does not answer; stopping qemu"
		: >"$run/boot-stalled"
		kill -TERM "$qemu_pid" 2>/dev/null
		return 0
	fi
	# Init may have started just before the stop.
	if grep -qE -- "$INIT_LINE_RE" "$run/console.log" 2>/dev/null; then
		monitor cont >/dev/null 2>&1
		return 0
	fi
	mv -- "$run/argv" "$run/argv.held"
	: >"$run/boot-stalled"
	log "BOOT STALL: the kernel did not start init within ${limit}s; the vCPUs:"
	describe_vcpus
	monitor cont "sendkey alt-sysrq-l" "sendkey alt-sysrq-w" >/dev/null 2>&1 ||
		log "  (could not type sysrq on the guest's keyboard)"
	# Let the kernel print the backtraces: wait until the console has been
	# quiet for 5 s, at most 60 s (TCG prints slowly).
	deadline=$((SECONDS + 60))
	while ((SECONDS < deadline && quiet < 5)); do
		size=$(stat -c %s "$run/console.log" 2>/dev/null || echo 0)
		if ((size == last_size)); then quiet=$((quiet + 1)); else quiet=0 last_size=$size; fi
		sleep 1
	done
	log "BOOT STALL: the console of the stalled boot (last 60 lines):"
	tail -n 60 "$run/console.log" | tr -d '\r' >&2
	monitor quit >/dev/null 2>&1 || kill -TERM "$qemu_pid" 2>/dev/null
	mv -- "$run/argv.held" "$run/argv"
}
