// The price of sleepable_kfunc's index (docs/sleepable_kfunc.md): a
// measurement, opt-in, not a check.
#include <gtest/gtest.h>
#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "harness/approaches/sleepable_kfunc.h"
#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "nlohmann/json.hpp"
#include "tests/kernel/destroy_scene.h"
#include "tests/kernel/price_support.h"

namespace sockbench {
namespace {

// The price of the index, measured, not checked: connect() with no
// program, and with each variant's fexit/release programs, for sockets that
// all go to one backend; the index's map memory and the slab growth per
// socket. Opt-in (SOCKBENCH_SLEEPABLE_PRICE_OUT=<file>); results in
// docs/sleepable_kfunc.md.
TEST(SleepableKfuncPrice, ConnectCostAndMemory) {
  const char* out = getenv("SOCKBENCH_SLEEPABLE_PRICE_OUT");
  if (!out) GTEST_SKIP() << "set SOCKBENCH_SLEEPABLE_PRICE_OUT=<file> to measure";
  for (SleepableIndex index : {SleepableIndex::kHash, SleepableIndex::kRbtree}) {
    SleepableKfuncDestroyer probe(index);
    absl::Status st = probe.Probe();
    if (!st.ok()) GTEST_SKIP() << probe.name() << " unsupported here: " << st.message();
  }
  const char* env_n = getenv("SOCKBENCH_PRICE_SOCKETS");
  // TCP holds two fds per socket; the guest's RLIMIT_NOFILE is 20000.
  const long n = env_n ? std::strtol(env_n, nullptr, 0) : 8000;
  const long block = n >= 5 ? n / 5 : 1;  // five blocks: does the price grow?
  nlohmann::json j;
  j["sockets"] = n;
  j["block"] = block;
  j["vm"] = getenv("SOCKBENCH_VM") ? getenv("SOCKBENCH_VM") : "none";
  j["patchset"] = getenv("SOCKBENCH_PATCHSET") ? getenv("SOCKBENCH_PATCHSET") : "none";
  struct Mode {
    const char* name;
    Proto proto;
    int index;  // -1: no program
  };
  for (Mode m : {Mode{"udp_no_program", Proto::kUdp, -1}, Mode{"udp_hash", Proto::kUdp, 0},
                 Mode{"udp_rbtree", Proto::kUdp, 1}, Mode{"tcp_no_program", Proto::kTcp, -1},
                 Mode{"tcp_hash", Proto::kTcp, 0}, Mode{"tcp_rbtree", Proto::kTcp, 1}}) {
    std::fprintf(stderr, "connect: %s\n", m.name);
    auto ns = NetnsSet::CreateOne(NetnsOptions{BackendAddressCount(1)});
    ASSERT_TRUE(ns.ok()) << ns.status();
    std::unique_ptr<SleepableKfuncDestroyer> d;
    uint64_t inserted0 = 0;  // Prepare() probes: one socket indexed and destroyed
    if (m.index >= 0) {
      d = std::make_unique<SleepableKfuncDestroyer>(m.index ? SleepableIndex::kRbtree : SleepableIndex::kHash);
      ASSERT_TRUE(d->Prepare(PrepareEnv{}).ok());
      inserted0 = d->index_stats().inserted;
    }
    auto in = ScopedNetns::Enter(ns->get());
    ASSERT_TRUE(in.ok());
    std::vector<UniqueFd> servers, keep;
    Conn first = ConnectTo(m.proto, Family::kIpv4, 0, &servers);
    Endpoint ep = BackendEndpoint(0, Family::kIpv4);
    sockaddr_storage ss;
    socklen_t len = ep.ToSockaddr(&ss);
    long slab0 = MeminfoKb("Slab:");
    std::vector<double> means;
    double acc = 0;
    for (long i = 0; i < n; ++i) {
      UniqueFd c(socket(AF_INET, SockTypeOf(m.proto) | SOCK_CLOEXEC, 0));
      ASSERT_TRUE(c.valid()) << i << ": socket: " << strerror(errno) << " (RLIMIT_NOFILE?)";
      double t0 = NowUs();
      int rc = connect(c.get(), reinterpret_cast<sockaddr*>(&ss), len);
      acc += NowUs() - t0;
      ASSERT_EQ(rc, 0) << i << ": " << strerror(errno);
      keep.push_back(std::move(c));
      if (m.proto == Proto::kTcp) {
        pollfd p{servers.back().get(), POLLIN, 0};
        ASSERT_EQ(poll(&p, 1, 10000), 1);
        keep.push_back(UniqueFd(accept4(servers.back().get(), nullptr, nullptr, SOCK_CLOEXEC)));
      }
      if ((i + 1) % block == 0) {
        means.push_back(acc / block);
        acc = 0;
      }
    }
    nlohmann::json r;
    r["connect_us_per_block"] = means;
    r["slab_kb_delta"] = MeminfoKb("Slab:") - slab0;  // TCP: client + peer
    if (d) {
      SleepableIndexStats s = d->index_stats();
      r["inserted"] = s.inserted - inserted0;
      r["failed"] = s.failed;
      r["index_map_memlock_bytes"] = d->index_map_bytes();
      EXPECT_EQ(s.inserted - inserted0, static_cast<uint64_t>(n + 1));  // + ConnectTo's client
    }
    j["connect"][m.name] = r;
    std::ofstream(out) << j.dump(2) << "\n";
  }
  std::printf("%s\n", j.dump(2).c_str());
}

}  // namespace
}  // namespace sockbench
