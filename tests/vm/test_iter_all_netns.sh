#!/usr/bin/env bash
# tests/vm/test_iter_all_netns.sh: check the tcp_all_netns / udp_all_netns
# iterator targets (kernel/patches/all-netns/, docs/iter_all_netns.md)
# in the sockbench VM, without sockbench itself: bpftool, clang, python3.
#
# Usage: tests/vm/test_iter_all_netns.sh [--debug] [--kernel PATH] [--gtest PATH]
#   --debug        use the debug kernel (lockdep, KASAN, ...): kernel/build.sh --debug
#   --kernel PATH  boot this image instead of building/fetching one
#   --gtest PATH   also run this GoogleTest binary (tests/kernel/
#                  iter_all_netns_test.cc) in the same guest
#
# On the host: compiles two iterator programs (SEC("iter/tcp_all_netns"),
# SEC("iter/udp_all_netns"), printing "proto socket-cookie netns-cookie
# family state port" per socket) against the guest kernel's BTF, and shows
# what the host kernel says about them (a kernel without the targets refuses
# them at load: libbpf finds no bpf_iter_tcp_all_netns in its BTF).
# In the guest:
#   - `bpftool iter pin` both, create namespaces: two sharing the global hash
#     tables, one with private tables (tcp_child_ehash_entries /
#     udp_child_hash_entries set in the parent while creating it), sockets in
#     each and in init_net (TCP listener/client/accepted, UDP bound/connected)
#   - one `cat` of each pin lists every one of those sockets exactly once,
#     with the netns cookie (SO_NETNS_COOKIE) of its namespace
#   - reading a pin from a child network namespace gives the same pass over
#     every namespace; without CAP_NET_ADMIN (setpriv --bounding-set
#     -net_admin) it fails with EPERM
# vm.sh fails the run (exit 3) on any kernel splat. Exit 0 if all pass.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
debug=0 kernel="" gtest=""
while (($#)); do
	case $1 in
	--debug) debug=1 ;;
	--kernel) kernel=$2; shift ;;
	--gtest) gtest=$(realpath -- "$2"); shift ;;
	-h | --help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
if [[ -z $kernel ]]; then
	build_args=()
	((debug)) && build_args+=(--debug)
	kernel=$("$repo/kernel/build.sh" "${build_args[@]}" | tail -n 1)
fi
kdir=$(dirname -- "$(realpath -- "$kernel")")
[[ -f $kdir/vmlinux ]] || { echo "no vmlinux next to $kernel (needed for its BTF)" >&2; exit 2; }

# Under /var/tmp: the guest sees the host's / (read-only) but has its own /tmp.
work=$(mktemp -d /var/tmp/sockbench-iter-all-netns.XXXXXX)
trap 'rm -rf -- "$work"' EXIT

cat >"$work/dump.bpf.c" <<'EOF'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

static __always_inline void dump(struct seq_file *seq, const char *proto,
				 struct sock_common *skc)
{
	__u64 cookie = bpf_get_socket_cookie(skc);
	/* The netns of the socket: readable from the program. */
	__u64 netns = skc->skc_net.net->net_cookie;

	BPF_SEQ_PRINTF(seq, "%s %llu %llu %u", proto, cookie, netns,
		       skc->skc_family);
	BPF_SEQ_PRINTF(seq, " %u %u\n", skc->skc_state, skc->skc_num);
}

#ifdef SB_TCP
SEC("iter/tcp_all_netns")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (skc)
		dump(ctx->meta->seq, "tcp", skc);
	return 0;
}
#else
SEC("iter/udp_all_netns")
int dump_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp_sk = ctx->udp_sk;

	if (udp_sk)
		dump(ctx->meta->seq, "udp", &udp_sk->inet.sk.__sk_common);
	return 0;
}
#endif
EOF
echo "== compiling the iterator programs against $kdir/vmlinux"
bpftool btf dump file "$kdir/vmlinux" format c >"$work/vmlinux.h"
for p in tcp udp; do
	def=()
	[[ $p == tcp ]] && def=(-DSB_TCP)
	clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_x86 "${def[@]}" -I"$work" \
		-c "$work/dump.bpf.c" -o "$work/$p.bpf.o"
done

echo "== host kernel $(uname -r):"
if bpftool iter pin "$work/tcp.bpf.o" "/sys/fs/bpf/sb_host_probe_$$" 2>"$work/host.err"; then
	rm -f "/sys/fs/bpf/sb_host_probe_$$"
	echo "   has tcp_all_netns"
else
	echo "   refuses the program at load: $(grep -m1 'find kernel BTF' "$work/host.err" || head -n1 "$work/host.err")"
fi

cat >"$work/check.py" <<'EOF'
import ctypes, os, socket, subprocess, sys

SO_COOKIE, SO_NETNS_COOKIE, CLONE_NEWNET = 57, 71, 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
failures = 0

def ok(cond, what):
    global failures
    print(("PASS: " if cond else "FAIL: ") + what, flush=True)
    failures += not cond

def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)

def u64(s, opt):
    return int.from_bytes(s.getsockopt(socket.SOL_SOCKET, opt, 8), "little")

def sysctl(name, value=None):
    path = "/proc/sys/net/ipv4/" + name
    if value is None:
        with open(path) as f:
            return f.read().strip()
    with open(path, "w") as f:
        f.write(str(value))

def run(*cmd):
    subprocess.run(cmd, check=True)

init = "/proc/self/ns/net"
home = os.open(init, os.O_RDONLY)
def go_home():
    if libc.setns(home, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns home")

for ns in ("sbA", "sbB"):
    run("ip", "netns", "add", ns)
old = (sysctl("tcp_child_ehash_entries"), sysctl("udp_child_hash_entries"))
sysctl("tcp_child_ehash_entries", 16)
sysctl("udp_child_hash_entries", 128)
run("ip", "netns", "add", "sbP")
sysctl("tcp_child_ehash_entries", old[0])
sysctl("udp_child_hash_entries", old[1])
for ns in ("sbA", "sbB", "sbP"):
    run("ip", "-n", ns, "link", "set", "lo", "up")

keep, want = [], {}  # want: socket cookie -> (netns cookie, description)
for ns in ("init_net", "sbA", "sbB", "sbP"):
    if ns != "init_net":
        setns("/run/netns/" + ns)
    if ns == "sbP":
        ok(int(sysctl("tcp_ehash_entries")) == 16, "sbP has a private ehash (tcp_ehash_entries=%s)" % sysctl("tcp_ehash_entries"))
        ok(int(sysctl("udp_hash_entries")) == 128, "sbP has a private udp_table (udp_hash_entries=%s)" % sysctl("udp_hash_entries"))
    elif ns != "init_net":
        ok(int(sysctl("tcp_ehash_entries")) < 0, "%s shares the global ehash" % ns)
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        l = socket.socket(fam, socket.SOCK_STREAM); l.bind((addr, 0)); l.listen(8)
        c = socket.socket(fam, socket.SOCK_STREAM); c.connect(l.getsockname()[:2])
        a, _ = l.accept()
        ub = socket.socket(fam, socket.SOCK_DGRAM); ub.bind((addr, 0))
        uc = socket.socket(fam, socket.SOCK_DGRAM); uc.connect(ub.getsockname()[:2])
        for s, what in ((l, "tcp listener"), (c, "tcp client"), (a, "tcp accepted"), (ub, "udp bound"), (uc, "udp connected")):
            keep.append(s)
            want[u64(s, SO_COOKIE)] = (u64(s, SO_NETNS_COOKIE), "%s %s %s" % (ns, what, "v4" if fam == socket.AF_INET else "v6"))
    go_home()

def read_pin(path):
    seen = {}
    with open(path) as f:
        for line in f:
            proto, cookie, netns, fam, state, port = line.split()
            seen.setdefault(int(cookie), []).append((proto, int(netns)))
    return seen

for proto in ("tcp", "udp"):
    pin = "/sys/fs/bpf/sb_%s_all" % proto
    seen = read_pin(pin)
    nns = len({n for v in seen.values() for _, n in v})
    print("   %s: one pass saw %d sockets in %d namespaces" % (pin, sum(map(len, seen.values())), nns))
    good = True
    for cookie, (netns, what) in want.items():
        if not what.split()[1] == proto:
            continue
        got = seen.get(cookie, [])
        if len(got) != 1 or got[0][1] != netns:
            good = False
            print("      %s: seen %r, want once in netns %d" % (what, got, netns))
    ok(good, "%s_all_netns: every socket of init_net, sbA, sbB, sbP (private tables) once, with its netns cookie" % proto)

    # The pass starts at init_net's tables whatever namespace reads the pin.
    setns("/run/netns/sbA")
    try:
        from_child = open(pin).read()
    except OSError as e:
        from_child = ""
        print("      reading from sbA: %s" % e)
    go_home()
    child_cookies = {int(l.split()[1]) for l in from_child.splitlines() if l.split()[:1] == [proto]}
    ok(all(c in child_cookies for c, (_, what) in want.items() if what.split()[1] == proto),
       "reading %s from a child netns: the same pass over every namespace" % pin)
    r = subprocess.run(["setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin", "cat", pin],
                       capture_output=True, text=True)
    ok(r.returncode != 0 and "Operation not permitted" in r.stderr,
       "reading %s without CAP_NET_ADMIN: EPERM (%s)" % (pin, r.stderr.strip()))

for ns in ("sbA", "sbB", "sbP"):
    run("ip", "netns", "del", ns)
sys.exit(1 if failures else 0)
EOF

cat >"$work/guest.sh" <<'EOF'
set -u
work=$1 gtest=${2:-}
rc=0
for p in tcp udp; do
	bpftool iter pin "$work/$p.bpf.o" "/sys/fs/bpf/sb_${p}_all" || { echo "FAIL: bpftool iter pin $p"; exit 1; }
done
echo "PASS: bpftool iter pin of SEC(\"iter/tcp_all_netns\") and SEC(\"iter/udp_all_netns\")"
/usr/bin/python3 "$work/check.py" || rc=1
rm -f /sys/fs/bpf/sb_tcp_all /sys/fs/bpf/sb_udp_all
if [[ -n $gtest ]]; then
	echo "== $gtest"
	"$gtest" || rc=1
fi
exit $rc
EOF

vm_args=(--kernel "$kernel" --timeout 1200)
echo "== guest ($kernel)"
rc=0
"$repo/kernel/vm.sh" "${vm_args[@]}" -- /bin/bash "$work/guest.sh" "$work" "$gtest" || rc=$?
case $rc in
0) echo "ALL PASSED" ;;
3) echo "FAILED: kernel splat (see above)" ;;
*) echo "FAILED (exit $rc)" ;;
esac
exit "$rc"
