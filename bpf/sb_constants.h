/* Constants the BPF objects (sb_* and leak_*) and userspace share. Macros of
 * the uapi and libc headers are not in BTF, so vmlinux.h has none of them;
 * each is written here once. harness/endpoint.cc checks them against the
 * system headers.
 */
#ifndef SB_CONSTANTS_H
#define SB_CONSTANTS_H

#define SB_AF_INET 2
#define SB_AF_INET6 10
#define SB_SOCK_DGRAM 2
#define SB_IPPROTO_TCP 6
#define SB_IPPROTO_UDP 17
/* bpf_map_update_elem() flags and the error of a key already present. */
#define SB_NOEXIST 1
#define SB_EEXIST 17
/* include/net/tcp_states.h */
#define SB_TCP_TIME_WAIT 6
#define SB_TCP_CLOSE 7
#define SB_TCP_NEW_SYN_RECV 12

/* getsockopt(SOL_SOCKET) of a socket's namespace: Debian 12's libc headers
 * predate it.
 */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#endif
