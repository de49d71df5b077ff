// Waiting for a network namespace's teardown, without sleeping: give the
// namespace an nsid in the caller's namespace, and wait for the RTM_DELNSID
// that cleanup_net() sends (unhash_nsid()) once the namespace has lost its
// last reference and is being dismantled, before its pernet exit methods
// run.
#pragma once

#include <gtest/gtest.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "harness/unique_fd.h"

namespace sockbench {
namespace all_netns_test {

class NsidWatch {
 public:
  // Subscribes to nsid events first, then assigns `nsid` to `netns_fd`.
  NsidWatch(int netns_fd, int32_t nsid) : nsid_(nsid) {
    events_.reset(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    int group = RTNLGRP_NSID;
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    ok_ = events_.valid() && bind(events_.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0 &&
          setsockopt(events_.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) == 0;
    EXPECT_TRUE(ok_) << "nsid event socket: " << strerror(errno);
    if (ok_) ok_ = Assign(netns_fd);
  }
  bool ok() const { return ok_; }

  // Waits until the kernel announces RTM_DELNSID for our nsid. The timeout
  // is a failure bound, not a synchronisation.
  bool WaitDeleted(int timeout_ms = 120000) {
    char buf[8192];
    for (;;) {
      pollfd p{events_.get(), POLLIN, 0};
      int n = poll(&p, 1, timeout_ms);
      if (n <= 0) return false;
      ssize_t len = recv(events_.get(), buf, sizeof(buf), 0);
      if (len < 0) return false;
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == RTM_DELNSID && NsidOf(h) == nsid_) return true;
      }
    }
  }

 private:
  static int32_t NsidOf(nlmsghdr* h) {
    int alen = static_cast<int>(h->nlmsg_len) - NLMSG_LENGTH(sizeof(rtgenmsg));
    auto* a = reinterpret_cast<rtattr*>(static_cast<char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(rtgenmsg)));
    for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
      if (a->rta_type == NETNSA_NSID) return *static_cast<int32_t*>(RTA_DATA(a));
    return -1;
  }

  bool Assign(int netns_fd) {
    struct {
      nlmsghdr h;
      rtgenmsg g;
      char attrs[64];
    } req{};
    req.h.nlmsg_type = RTM_NEWNSID;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.g.rtgen_family = AF_UNSPEC;
    int off = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(rtgenmsg)));
    auto put = [&](uint16_t type, uint32_t v) {
      auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + off);
      a->rta_type = type;
      a->rta_len = RTA_LENGTH(sizeof(v));
      memcpy(RTA_DATA(a), &v, sizeof(v));
      off += RTA_ALIGN(a->rta_len);
    };
    put(NETNSA_FD, static_cast<uint32_t>(netns_fd));
    put(NETNSA_NSID, static_cast<uint32_t>(nsid_));
    req.h.nlmsg_len = off;
    UniqueFd s(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!s.valid() || send(s.get(), &req, off, 0) != off) {
      ADD_FAILURE() << "RTM_NEWNSID: " << strerror(errno);
      return false;
    }
    char buf[512];
    ssize_t n = recv(s.get(), buf, sizeof(buf), 0);
    auto* h = reinterpret_cast<nlmsghdr*>(buf);
    if (n < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) || h->nlmsg_type != NLMSG_ERROR) {
      ADD_FAILURE() << "RTM_NEWNSID: no ack";
      return false;
    }
    int err = static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
    EXPECT_EQ(err, 0) << "RTM_NEWNSID " << nsid_ << ": " << strerror(-err);
    return err == 0;
  }

  UniqueFd events_;
  int32_t nsid_;
  bool ok_ = false;
};

}  // namespace all_netns_test
}  // namespace sockbench
