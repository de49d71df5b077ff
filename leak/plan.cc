#include "leak/plan.h"

namespace sockbench {

const char* SockKindName(SockKind k) {
  switch (k) {
    case SockKind::kTcp:
      return "tcp";
    case SockKind::kUdpConnected:
      return "udp_connected";
    case SockKind::kUdpUnconnected:
      return "udp_unconnected";
  }
  return "?";
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
  Endpoint e;
  e.family = family;
  if (family == Family::kIpv4) {
    e.addr[0] = 127;
    e.addr[2] = 2;
    e.addr[3] = static_cast<uint8_t>(1 + service);
  } else {
    e.addr[0] = 0xfd;
    e.addr[3] = 0x5c;
    e.addr[15] = static_cast<uint8_t>(1 + service);
  }
  e.port_be = htons(80);
  return e;
}

Endpoint ServiceBackend(int service, Family family) { return BackendEndpoint(service, family); }

int LeakIpv6Addresses() { return BackendAddressCount(kServices); }

}  // namespace sockbench
