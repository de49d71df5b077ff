#include "harness/approaches/sock_diag.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "harness/status.h"
#include "harness/unique_fd.h"

namespace sockbench {
namespace {

// Every TCP state but TIME_WAIT and NEW_SYN_RECV (no application behind them),
// the same mask Cilium's netlink path used; UDP: every state.
constexpr uint32_t kTcpStates = 0x1FBE;
constexpr uint32_t kUdpStates = 0xFFFFFFFF;

class DiagSocket {
 public:
  static absl::StatusOr<DiagSocket> Open() {
    mnl_socket* nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
    if (!nl) return ErrnoStatus("socket(NETLINK_SOCK_DIAG)");
    DiagSocket s(nl);
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return ErrnoStatus("bind netlink");
    return s;
  }
  DiagSocket(DiagSocket&& o) noexcept : nl_(o.nl_), seq_(o.seq_) { o.nl_ = nullptr; }
  ~DiagSocket() {
    if (nl_) mnl_socket_close(nl_);
  }

  // Dump sockets of (family, protocol) whose destination is `ep`.
  absl::Status Dump(int protocol, const Endpoint& ep, std::vector<inet_diag_sockid>* out) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = PutRequest(buf, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, AfOf(ep.family), protocol,
                               protocol == IPPROTO_TCP ? kTcpStates : kUdpStates)
                        .first;
    PutDestinationFilter(nlh, ep);
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return ErrnoStatus("send diag dump");

    unsigned portid = mnl_socket_get_portid(nl_);
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl_, buf, sizeof(buf));
      if (n < 0) return ErrnoStatus("recv diag dump");
      int rc = mnl_cb_run(buf, n, seq_, portid, &DiagSocket::OnMessage, out);
      if (rc == MNL_CB_STOP) return absl::OkStatus();
      if (rc < 0) return ErrnoStatus("diag dump");
    }
  }

  // SOCK_DESTROY one socket by its exact id (4-tuple + cookie).
  absl::Status Destroy(int family, int protocol, const inet_diag_sockid& id) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    auto [nlh, req] = PutRequest(buf, SOCK_DESTROY, NLM_F_ACK, family, protocol, 0xFFFFFFFF);
    req->id = id;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return ErrnoStatus("send SOCK_DESTROY");
    ssize_t n = mnl_socket_recvfrom(nl_, buf, sizeof(buf));
    if (n < 0) return ErrnoStatus("recv SOCK_DESTROY ack");
    if (mnl_cb_run(buf, n, seq_, mnl_socket_get_portid(nl_), nullptr, nullptr) < 0)
      return ErrnoStatus("SOCK_DESTROY");
    return absl::OkStatus();
  }

 private:
  explicit DiagSocket(mnl_socket* nl) : nl_(nl) {}

  // An inet_diag request of `type` in `buf`, the next sequence number.
  std::pair<nlmsghdr*, inet_diag_req_v2*> PutRequest(char* buf, uint16_t type, uint16_t flags,
                                                     int family, int protocol, uint32_t states) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = ++seq_;
    auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
    req->sdiag_family = family;
    req->sdiag_protocol = protocol;
    req->idiag_states = states;
    return {nlh, req};
  }

  static int OnMessage(const nlmsghdr* nlh, void* data) {
    auto* out = static_cast<std::vector<inet_diag_sockid>*>(data);
    auto* msg = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(nlh));
    out->push_back(msg->id);
    return MNL_CB_OK;
  }

  // Bytecode "destination == ep": one D_COND; on a match the program runs
  // off its end (accept), otherwise it jumps 4 bytes past it (reject).
  static void PutDestinationFilter(nlmsghdr* nlh, const Endpoint& ep) {
    int alen = ep.family == Family::kIpv4 ? 4 : 16;
    int len = sizeof(inet_diag_bc_op) + sizeof(inet_diag_hostcond) + alen;
    char bc[sizeof(inet_diag_bc_op) + sizeof(inet_diag_hostcond) + 16] = {};
    auto* op = reinterpret_cast<inet_diag_bc_op*>(bc);
    op->code = INET_DIAG_BC_D_COND;
    op->yes = len;
    op->no = len + 4;
    auto* cond = reinterpret_cast<inet_diag_hostcond*>(op + 1);
    cond->family = AfOf(ep.family);
    cond->prefix_len = alen * 8;
    cond->port = ntohs(ep.port_be);  // host order in the bytecode
    std::memcpy(cond->addr, ep.addr.data(), alen);
    mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, len, bc);
  }

  mnl_socket* nl_;
  uint32_t seq_ = 0;
};

}  // namespace

// A SOCK_DESTROY for a socket that cannot exist: ENOENT means the kernel can
// destroy (CONFIG_INET_DIAG_DESTROY); EOPNOTSUPP or EPERM say why not.
absl::Status SockDiagDestroyer::Probe() {
  SB_ASSIGN_OR_RETURN(DiagSocket s, DiagSocket::Open());
  inet_diag_sockid id{};
  id.idiag_cookie[0] = id.idiag_cookie[1] = 0xfffffffe;
  absl::Status st = s.Destroy(AF_INET, IPPROTO_UDP, id);
  if (st.ok() || absl::IsNotFound(st)) return absl::OkStatus();
  if (absl::IsUnimplemented(st) || absl::StrContains(st.message(), "not supported"))
    return absl::FailedPreconditionError(
        absl::StrCat("SOCK_DESTROY refused (kernel without CONFIG_INET_DIAG_DESTROY?): ", st.message()));
  return st;
}

absl::StatusOr<DestroyStats> SockDiagDestroyer::Destroy(const Target& target) {
  DestroyStats stats;
  SB_ASSIGN_OR_RETURN(UniqueFd home, CurrentNetns());
  absl::Status st;
  std::vector<inet_diag_sockid> found;
  for (int ns : target.netns_fds) {
    if (!(st = SetNetns(ns)).ok()) break;
    // A netlink socket belongs to the namespace it was created in.
    absl::StatusOr<DiagSocket> s = DiagSocket::Open();
    if (!(st = s.status()).ok()) break;
    for (int proto : {IPPROTO_TCP, IPPROTO_UDP}) {
      if ((proto == IPPROTO_TCP && !target.tcp) || (proto == IPPROTO_UDP && !target.udp)) continue;
      for (const Endpoint& ep : target.endpoints) {
        found.clear();
        if (!(st = s->Dump(proto, ep, &found)).ok()) break;
        stats.visited += found.size();
        stats.matched += found.size();
        for (const auto& id : found) {
          absl::Status d = s->Destroy(AfOf(ep.family), proto, id);
          if (d.ok())
            stats.destroyed++;
          else
            stats.failed++;
        }
      }
      if (!st.ok()) break;
    }
    if (!st.ok()) break;
  }
  SB_RETURN_IF_ERROR(SetNetns(home.get()));
  SB_RETURN_IF_ERROR(st);
  return stats;
}

}  // namespace sockbench
