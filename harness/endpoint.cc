#include "harness/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "sb_constants.h"

namespace sockbench {

// What the BPF objects compare against (bpf/sb_constants.h).
static_assert(SB_AF_INET == AF_INET && SB_AF_INET6 == AF_INET6, "address families");
static_assert(SB_SOCK_DGRAM == SOCK_DGRAM, "socket type");
static_assert(SB_IPPROTO_TCP == IPPROTO_TCP && SB_IPPROTO_UDP == IPPROTO_UDP, "protocols");
static_assert(SB_EEXIST == EEXIST, "errno");

const char* ProtoName(Proto p) { return p == Proto::kTcp ? "tcp" : "udp"; }
const char* FamilyName(Family f) { return f == Family::kIpv4 ? "ipv4" : "ipv6"; }

socklen_t Endpoint::ToSockaddr(sockaddr_storage* ss) const {
  std::memset(ss, 0, sizeof(*ss));
  if (family == Family::kIpv4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = port_be;
    std::memcpy(&sin->sin_addr, addr.data(), 4);
    return sizeof(*sin);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = port_be;
  std::memcpy(&sin6->sin6_addr, addr.data(), 16);
  return sizeof(*sin6);
}

Endpoint Endpoint::FromSockaddr(const sockaddr* sa) {
  Endpoint e;
  if (sa->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    e.family = Family::kIpv4;
    e.port_be = sin->sin_port;
    std::memcpy(e.addr.data(), &sin->sin_addr, 4);
  } else {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    e.family = Family::kIpv6;
    e.port_be = sin6->sin6_port;
    std::memcpy(e.addr.data(), &sin6->sin6_addr, 16);
  }
  return e;
}

std::string Endpoint::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AfOf(family), addr.data(), buf, sizeof(buf));
  return family == Family::kIpv4 ? absl::StrFormat("%s:%d", buf, ntohs(port_be))
                                 : absl::StrFormat("[%s]:%d", buf, ntohs(port_be));
}

Endpoint NumberedAddress(Family family, uint8_t v4_b, uint8_t v4_c, uint8_t v6_net, int n) {
  Endpoint e;
  e.family = family;
  if (family == Family::kIpv4) {
    e.addr = {127, v4_b, static_cast<uint8_t>(v4_c + n / 256), static_cast<uint8_t>(n % 256)};
  } else {
    e.addr = {0xfd, 0x00, 0x00, v6_net};
    e.addr[14] = static_cast<uint8_t>(n >> 8);
    e.addr[15] = static_cast<uint8_t>(n & 0xff);
  }
  return e;
}

// IPv4: 127.0.1.(1+i) is local on lo in every namespace without any setup.
// IPv6: fd00:5b::(1+i)/128 is added to lo by the namespace setup.
Endpoint BackendAddress(int i, Family family) { return NumberedAddress(family, 0, 1, 0x5b, i + 1); }

Endpoint ClientSourceAddress(int i, Family family) { return NumberedAddress(family, 1, 0, 0x5c, i + 1); }

int BackendAddressCount(int backends) { return (backends + 1) / 2; }

Endpoint BackendEndpoint(int backend, Family family) {
  Endpoint e = BackendAddress(backend / 2, family);
  e.port_be = htons(static_cast<uint16_t>(8000 + backend % 2));
  return e;
}

}  // namespace sockbench
