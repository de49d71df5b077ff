#include "leak/plan.h"

namespace sockbench {

const char* SockKindName(SockKind k) {
  static constexpr const char* kNames[] = {"tcp", "udp_connected", "udp_unconnected"};
  return kNames[static_cast<int>(k)];
}

const std::vector<SockKind>& AllSockKinds() {
  static const std::vector<SockKind> kAll = {SockKind::kTcp, SockKind::kUdpConnected,
                                             SockKind::kUdpUnconnected};
  return kAll;
}

const std::vector<Family>& AllFamilies() {
  static const std::vector<Family> kAll = {Family::kIpv4, Family::kIpv6};
  return kAll;
}

Endpoint VipEndpoint(int service, Family family) {
  Endpoint e = NumberedAddress(family, 0, 2, 0x5c, 1 + service);
  e.port_be = htons(80);
  return e;
}

Endpoint ServiceBackend(int service, Family family) { return BackendEndpoint(service, family); }

int LeakIpv6Addresses() { return BackendAddressCount(kServices); }

}  // namespace sockbench
