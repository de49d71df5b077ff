#!/usr/bin/env bash
# tests/vm/test_boot.sh: build (or fetch from cache) the sockbench kernel,
# boot it with kernel/vm.sh and check that the guest is usable:
#   - a second build.sh call returns the same image at once (cache hit)
#   - uname -r is 7.3.x, 2 vCPUs, /proc/config.gz exists and its sha256 is
#     SOCKBENCH_KERNEL_CONFIG_SHA256 (= build-info.json's config_sha256)
#   - SOCKBENCH_VM / SOCKBENCH_PATCHSET are exported to the command
#   - bpffs (writable) on /sys/fs/bpf, cgroup2 on /sys/fs/cgroup/unified,
#     lo up, host root read-only
#   - bpf_sock_destroy, the iter/tcp and iter/udp targets are in the kernel,
#     and the program/map types sockbench needs load (bpftool feature probe;
#     "tracing" is the iterators' program type)
#   - --out files (relative to a cwd under /tmp, and absolute elsewhere) land
#     on the host; the command's stdout and stderr come back separately
#   - the command's exit status (7) is vm.sh's exit status
#   - a trivial command boots, runs and powers off (timing is printed)
# The first run may build the kernel (~12 min on 2 cores). Exit 0 if all pass.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$repo/kernel/build.sh
vm=$repo/kernel/vm.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/sockbench-test-boot.XXXXXX")
# A writable directory that is NOT hidden by the guest's own /tmp tmpfs.
abs_dir=$(mktemp -d /var/tmp/sockbench-test-boot.XXXXXX)
# shellcheck disable=SC2317 # invoked via trap
cleanup() { rm -rf -- "$work" "$abs_dir"; }
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
expect() { # $1 description, $2 wanted regex, $3 value
	if [[ $3 =~ $2 ]]; then pass "$1: '$3'"; else fail "$1: got '$3', wanted /$2/"; fi
}

echo "== kernel/build.sh"
kernel=$("$build" | tail -n 1)
t0=$(date +%s%N)
kernel2=$("$build" | tail -n 1)
cached_ms=$((($(date +%s%N) - t0) / 1000000))
expect "image path" '/bzImage$' "$kernel"
expect "second build.sh call, same image" "^${kernel}\$" "$kernel2"
if ((cached_ms < 5000)); then pass "cached build.sh call took ${cached_ms} ms"; else fail "cached build.sh call took ${cached_ms} ms"; fi
info=${kernel%/*}/build-info.json
want_sha=$(sed -n 's/.*"config_sha256": "\([0-9a-f]*\)".*/\1/p' "$info")
expect "build-info.json config_sha256" '^[0-9a-f]{64}$' "$want_sha"

# The check script runs inside the guest; it prints key=value lines.
# shellcheck disable=SC2016 # expanded in the guest
guest_script='
set -u
rel_out=$2 abs_out=$4
echo "uname=$(uname -r)"
echo "nproc=$(nproc)"
[[ -e /proc/config.gz ]] && echo "config_gz=yes"
echo "config_sha_proc=$(zcat /proc/config.gz | sha256sum | cut -d" " -f1)"
echo "config_sha_env=${SOCKBENCH_KERNEL_CONFIG_SHA256:-}"
echo "vm=${SOCKBENCH_VM:-}"
echo "patchset=${SOCKBENCH_PATCHSET:-}"
echo "bpffs=$(awk "\$2 == \"/sys/fs/bpf\" { print \$3 }" /proc/mounts)"
mkdir /sys/fs/bpf/sockbench-test && rmdir /sys/fs/bpf/sockbench-test && echo "bpffs_writable=yes"
echo "cgroup2=$(awk "\$2 == \"/sys/fs/cgroup/unified\" { print \$3 }" /proc/mounts)"
echo "root=$(awk "\$2 == \"/\" { print \$3, \$4 }" /proc/mounts | cut -d, -f1)"
touch /usr/sockbench-test-rofs 2>/dev/null || echo "root_readonly=yes"
echo "lo_flags=$(cat /sys/class/net/lo/flags)"
for s in bpf_sock_destroy bpf_iter_tcp bpf_iter_udp; do
	grep -qa "$s" /sys/kernel/btf/vmlinux && echo "btf_$s=yes"
done
# Program/map types the destruction approaches need, probed by loading
# them (bpftool from the host root). "tracing" covers iter/tcp and iter/udp:
# in 6.12 and 7.3 that program type exists only with CONFIG_BPF_EVENTS.
probe=$(bpftool feature probe kernel 2>/dev/null)
for t in tracing sk_msg sk_skb sock_ops cgroup_sock_addr cgroup_sock; do
	grep -q "program_type $t is available" <<<"$probe" && echo "prog_$t=yes"
done
for t in sockmap sockhash sk_storage; do
	grep -q "map_type $t is available" <<<"$probe" && echo "map_$t=yes"
done
echo "cwd=$PWD"
echo "written in the guest (relative)" > "$rel_out"
echo "written in the guest (absolute)" > "$abs_out"
echo "stderr-marker" >&2
exit 7
'
echo "== boot and check (cwd under /tmp, --out relative and absolute)"
mkdir -p "$work/cwd"
rc=0
(cd "$work/cwd" && TMPDIR=$work "$vm" --kernel "$kernel" --timeout 600 -- \
	bash -c "$guest_script" guest --out results/rel.txt --out "$abs_dir/sub/abs.txt") \
	>"$work/out" 2>"$work/err" || rc=$?
echo "-- guest stdout:"
sed 's/^/    /' "$work/out"
echo "-- vm.sh stderr:"
sed 's/^/    /' "$work/err"
get() { sed -n "s/^$1=//p" "$work/out" | head -n 1; }
expect "exit status of 'exit 7'" '^7$' "$rc"
expect "uname -r" '^7\.3\.[0-9]+' "$(get uname)"
expect "vCPUs" '^2$' "$(get nproc)"
expect "/proc/config.gz" '^yes$' "$(get config_gz)"
expect "SOCKBENCH_KERNEL_CONFIG_SHA256 = build-info" "^${want_sha}\$" "$(get config_sha_env)"
expect "sha256 of /proc/config.gz = build-info" "^${want_sha}\$" "$(get config_sha_proc)"
expect "SOCKBENCH_VM" '^(tcg|kvm)$' "$(get vm)"
expect "SOCKBENCH_PATCHSET" '^(none|[0-9a-f]{12}:.+)$' "$(get patchset)"
expect "bpffs on /sys/fs/bpf" '^bpf$' "$(get bpffs)"
expect "bpffs writable" '^yes$' "$(get bpffs_writable)"
expect "cgroup2 on /sys/fs/cgroup/unified" '^cgroup2$' "$(get cgroup2)"
expect "root filesystem" '^9p ro$' "$(get root)"
expect "root read-only" '^yes$' "$(get root_readonly)"
expect "lo flags (IFF_UP set)" '^0x[0-9a-f]*[13579bdf]$' "$(get lo_flags)"
expect "bpf_sock_destroy kfunc in BTF" '^yes$' "$(get btf_bpf_sock_destroy)"
expect "iter/tcp target in BTF" '^yes$' "$(get btf_bpf_iter_tcp)"
expect "iter/udp target in BTF" '^yes$' "$(get btf_bpf_iter_udp)"
for t in tracing sk_msg sk_skb sock_ops cgroup_sock_addr cgroup_sock; do
	expect "BPF program type $t loads" '^yes$' "$(get "prog_$t")"
done
for t in sockmap sockhash sk_storage; do
	expect "BPF map type $t" '^yes$' "$(get "map_$t")"
done
expect "working directory" "^$work/cwd\$" "$(get cwd)"
expect "relative --out file on the host" '^written in the guest \(relative\)$' \
	"$(cat "$work/cwd/results/rel.txt" 2>/dev/null || true)"
expect "absolute --out file on the host" '^written in the guest \(absolute\)$' \
	"$(cat "$abs_dir/sub/abs.txt" 2>/dev/null || true)"
expect "command stderr on vm.sh stderr" '^stderr-marker$' "$(grep -x stderr-marker "$work/err" || true)"
expect "command stderr not on stdout" '^$' "$(grep -x stderr-marker "$work/out" || true)"

echo "== trivial boot-run-poweroff (true)"
t0=$(date +%s%N)
rc=0
TMPDIR=$work "$vm" --kernel "$kernel" --timeout 600 -- true 2>"$work/err2" || rc=$?
wall_ms=$((($(date +%s%N) - t0) / 1000000))
sed 's/^/    /' "$work/err2"
expect "exit status of 'true'" '^0$' "$rc"
echo "trivial run: ${wall_ms} ms wall including vm.sh setup"
if left=$(pgrep -a -f -- "$work"); then fail "qemu left running: $left"; else pass "no qemu left running"; fi

finish test_boot
