// Addresses of the fleet's backends, and what a destruction targets.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sockbench {

enum class Proto : uint8_t { kTcp = 0, kUdp = 1 };
enum class Family : uint8_t { kIpv4 = 0, kIpv6 = 1 };

inline int AfOf(Family f) { return f == Family::kIpv4 ? AF_INET : AF_INET6; }
inline int SockTypeOf(Proto p) { return p == Proto::kTcp ? SOCK_STREAM : SOCK_DGRAM; }
const char* ProtoName(Proto p);
const char* FamilyName(Family f);

// One IP endpoint. Address bytes and port in network order (as the kernel
// keeps them), so they go into BPF maps and diag requests unchanged.
struct Endpoint {
  Family family = Family::kIpv4;
  std::array<uint8_t, 16> addr{};  // IPv4 uses the first 4 bytes
  uint16_t port_be = 0;

  socklen_t ToSockaddr(sockaddr_storage* ss) const;
  static Endpoint FromSockaddr(const sockaddr* sa);
  std::string ToString() const;
  bool operator==(const Endpoint& o) const {
    return family == o.family && addr == o.addr && port_be == o.port_be;
  }
};

// Address number n (0 < n < 65536) of a loopback plan:
// 127.<v4_b>.<v4_c + n / 256>.<n % 256>, or fd00:<v6_net>::<n>. Port 0.
Endpoint NumberedAddress(Family family, uint8_t v4_b, uint8_t v4_c, uint8_t v6_net, int n);

// The addressing plan every namespace of the fleet shares (backends of a
// cluster have one address, whichever pod talks to them). Backends come in
// pairs on one address with two ports, so backend 0 (the one that dies) has a
// neighbour on the same address (1) and one on the same port (2): a
// destruction that matched on address or port alone would show as "extra".
Endpoint BackendEndpoint(int backend, Family family);
// How many distinct IPv6 addresses `backends` backends need on loopback.
int BackendAddressCount(int backends);
// Address number i (0-based) of that plan.
Endpoint BackendAddress(int i, Family family);

// Client sockets of a namespace normally leave the local address to the
// kernel. A namespace has 55,536 ephemeral ports (10000-65535, see netns.cc)
// per local address: a UDP client takes one of a family's ports, a TCP
// client one of the ports towards its backend. A namespace with more clients
// than kClientsPerSourceAddress in one such port space binds them to
// ClientSourceAddress 0, 1, ... (the rest of the range absorbs TIME_WAIT).
constexpr long kClientsPerSourceAddress = 50000;
constexpr int kMaxClientSourceAddresses = 250;
// IPv4: 127.1.0.(1+i), local on lo without setup; IPv6: fd00:5c::(1+i)/128,
// added to lo by the namespace setup. Port 0.
Endpoint ClientSourceAddress(int i, Family family);

// What one destruction pass must destroy: every socket whose destination is
// one of `endpoints`, of the given protocols, in the given namespaces (an
// agent knows which pods it manages; sockets elsewhere must survive).
struct Target {
  std::vector<Endpoint> endpoints;
  bool tcp = true;
  bool udp = true;
  std::vector<int> netns_fds;        // namespaces to clean, as open ns fds
  std::vector<uint64_t> netns_cookies;  // the same namespaces, by cookie
};

}  // namespace sockbench
