// The leak study's addressing plan and socket kinds. Everything lives in one
// network namespace sockbench creates: backends are real sockets bound to
// the fleet's backend addresses on lo, and each service is a VIP that exists
// only in the socket-LB programs' service map (nothing listens on a VIP, so
// a connect that the programs did not translate fails).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/endpoint.h"

namespace sockbench {

enum class SockKind : uint8_t { kTcp = 0, kUdpConnected = 1, kUdpUnconnected = 2 };

const char* SockKindName(SockKind k);  // tcp | udp_connected | udp_unconnected
const std::vector<SockKind>& AllSockKinds();
inline Proto ProtoOf(SockKind k) { return k == SockKind::kTcp ? Proto::kTcp : Proto::kUdp; }
const std::vector<Family>& AllFamilies();

// Service 0's backend dies (matrix cells, churn); service 1 is where the
// churn study's long-lived sockets go, and its backend never dies.
constexpr int kDyingService = 0;
constexpr int kLiveService = 1;
constexpr int kServices = 2;

// 127.0.2.(1+s):80 and [fd00:5c::(1+s)]:80.
Endpoint VipEndpoint(int service, Family family);
// Backend s of the fleet plan: 127.0.1.1:800s and [fd00:5b::1]:800s, one
// address, two ports, so a translation that only got the address right
// still shows.
Endpoint ServiceBackend(int service, Family family);
inline uint16_t RevNatIndex(int service) { return static_cast<uint16_t>(service + 1); }
// IPv6 addresses the namespace needs on lo for the backends.
int LeakIpv6Addresses();

}  // namespace sockbench
