#include "harness/socket_lb.h"

#include <bpf/bpf.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "harness/status.h"

namespace sockbench {

absl::Status AddSocketLbService(int services_fd, const Endpoint& vip, Proto proto,
                                const Endpoint& backend, uint16_t rev_nat_index) {
  leak_svc_key key{};
  std::memcpy(key.addr, vip.addr.data(), vip.family == Family::kIpv4 ? 4 : 16);
  key.port = vip.port_be;
  key.family = static_cast<__u8>(AfOf(vip.family));
  key.proto = static_cast<__u8>(proto == Proto::kTcp ? IPPROTO_TCP : IPPROTO_UDP);
  leak_backend val{};
  std::memcpy(val.addr, backend.addr.data(), backend.family == Family::kIpv4 ? 4 : 16);
  val.port = backend.port_be;
  val.rev_nat_index = rev_nat_index;
  if (bpf_map_update_elem(services_fd, &key, &val, BPF_ANY) < 0)
    return ErrnoStatus(absl::StrCat("add service ", vip.ToString()));
  return absl::OkStatus();
}

leak_rev4_key ReverseKey4(uint64_t cookie, const Endpoint& backend) {
  leak_rev4_key key{};
  key.cookie = cookie;
  std::memcpy(&key.address, backend.addr.data(), 4);
  key.port = backend.port_be;
  return key;
}

leak_rev6_key ReverseKey6(uint64_t cookie, const Endpoint& backend) {
  leak_rev6_key key{};
  key.cookie = cookie;
  std::memcpy(key.address, backend.addr.data(), 16);
  key.port = backend.port_be;
  return key;
}

absl::StatusOr<bool> ReverseMaps::Has(uint64_t cookie, const Endpoint& backend) const {
  int rc;
  if (backend.family == Family::kIpv4) {
    leak_rev4_key key = ReverseKey4(cookie, backend);
    leak_rev4_val val;
    rc = bpf_map_lookup_elem(rev4_fd, &key, &val);
  } else {
    leak_rev6_key key = ReverseKey6(cookie, backend);
    leak_rev6_val val;
    rc = bpf_map_lookup_elem(rev6_fd, &key, &val);
  }
  if (rc == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus("lookup reverse entry");
}

absl::Status ReverseMaps::Delete(uint64_t cookie, const Endpoint& backend) const {
  int rc;
  if (backend.family == Family::kIpv4) {
    leak_rev4_key key = ReverseKey4(cookie, backend);
    rc = bpf_map_delete_elem(rev4_fd, &key);
  } else {
    leak_rev6_key key = ReverseKey6(cookie, backend);
    rc = bpf_map_delete_elem(rev6_fd, &key);
  }
  if (rc < 0) return ErrnoStatus(absl::StrCat("delete reverse entry of ", backend.ToString()));
  return absl::OkStatus();
}

}  // namespace sockbench
