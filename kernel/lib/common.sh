# shellcheck shell=bash
# kernel/lib/common.sh: what every kernel script needs: messages, hashes,
# packages, and running a long step so that a signal stops it at once.
# Sourced; the caller sets $prog (the name its messages carry).

log() { printf '%s: %s\n' "${prog:-kernel}" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "${prog:-kernel}" "$*" >&2
	exit "${DIE_STATUS:-1}"
}

sha256_file() { sha256sum -- "$1" | cut -d' ' -f1; }
sha256_str() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# Install the packages of "$@" that are missing. Nothing runs apt when all are
# there, so a warm call stays offline.
ensure_packages() {
	local missing=() p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		[[ $status == ii* ]] || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Try without `apt-get update` first: fast when the lists are fresh.
	if ! apt-get install -y -q "${missing[@]}" >&2; then
		apt-get update -q >&2
		apt-get install -y -q "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
	fi
}

# Run a long step (lock wait, extraction, make) so that a signal to the
# script is handled at once: bash defers traps while a foreground child runs,
# but `wait` returns to run them. setsid gives the step its own process group,
# which stop_killable() stops as a whole (make's compilers included).
killable_pid=""
killable() {
	local rc=0
	setsid "$@" &
	killable_pid=$!
	wait "$killable_pid" || rc=$?
	killable_pid=""
	return "$rc"
}
# shellcheck disable=SC2317 # called from the caller's EXIT trap
stop_killable() {
	[[ -n $killable_pid ]] && kill -TERM -- "-$killable_pid" 2>/dev/null
	killable_pid=""
	return 0
}
