// Selftest-style checks of the kernel side of iter_all_netns: the
// "tcp_all_netns" / "udp_all_netns" iterator targets added by
// kernel/patches/000[1-3]-*.patch (see docs/iter_all_netns.md).
//
// The programs are tests/bpf/all_netns_dump.bpf.c (CO-RE, built by
// bpf_object() like every other object):
//   dump:    writes {socket cookie, netns cookie, family, state, bucket} of
//            every socket it is shown (the netns cookie read through
//            sk->__sk_common.skc_net.net->net_cookie);
//   destroy: bpf_sock_destroy() on the sockets whose cookie is in a hash map,
//            writing {cookie, return value}.
// Each load loads one program of the object, so a target the kernel lacks
// only fails the programs for it. On a kernel without the targets every
// test is skipped.
//
// Needs root. Changes net.ipv4.tcp_child_ehash_entries and
// net.ipv4.udp_child_hash_entries of the initial namespace for a moment
// (restored at once): run it in the sockbench VM (tests/vm/
// test_iter_all_netns.sh), not on a machine doing anything else.
#include <gtest/gtest.h>

#include "tests/kernel/iter_all_netns_fixture.h"

namespace sockbench {
namespace {

using namespace all_netns_test;  // NOLINT: the tests' shared vocabulary

// ---------------------------------------------------------------------------

TEST_F(IterAllNetnsTest, ProgramsWithSockDestroyLoadForBothTargets) {
  int destroy_id = kbtf_.FuncId("bpf_sock_destroy");
  ASSERT_GT(destroy_id, 0);
  UniqueFd map(bpf_map_create(BPF_MAP_TYPE_HASH, "sb_cookies", 8, 1, 64, nullptr));
  ASSERT_TRUE(map.valid()) << strerror(errno);
  for (Target t : {Target::kTcpAllNetns, Target::kUdpAllNetns}) {
    std::string log;
    UniqueFd d(LoadProg(t, Prog::kDestroy, map.get(), &log));
    EXPECT_TRUE(d.valid()) << IterFunc(t) << " + bpf_sock_destroy (needs a trusted ctx pointer): " << log;
    EXPECT_TRUE(LoadDump(t).valid());
  }
}

TEST_F(IterAllNetnsTest, OnePassSeesEverySocketOfEveryNamespaceOnceWithItsNetnsCookie) {
  Sockets host;
  host.Mix("init_net");
  std::vector<UniqueFd> nss;
  std::vector<Sockets> socks(3);
  for (int i = 0; i < 3; ++i) {
    auto fd = NetnsSet::CreateOne(NetnsOptions{});
    ASSERT_TRUE(fd.ok()) << fd.status();
    nss.push_back(std::move(*fd));
    auto in = ScopedNetns::Enter(nss.back().get());
    ASSERT_TRUE(in.ok());
    socks[i].Mix("netns" + std::to_string(i));
  }
  std::vector<Record> tcp = Dump(Target::kTcpAllNetns);
  std::vector<Record> udp = Dump(Target::kUdpAllNetns);
  ExpectSeenOnce(tcp, host, init_cookie_, SOCK_STREAM);
  ExpectSeenOnce(udp, host, init_cookie_, SOCK_DGRAM);
  for (int i = 0; i < 3; ++i) {
    ExpectSeenOnce(tcp, socks[i], CookieOf(nss[i].get()), SOCK_STREAM);
    ExpectSeenOnce(udp, socks[i], CookieOf(nss[i].get()), SOCK_DGRAM);
  }
  // Nothing but TCP in the tcp pass, nothing but UDP in the udp pass.
  for (const Record& r : udp) EXPECT_TRUE(r.family == AF_INET || r.family == AF_INET6);
  std::set<uint64_t> tcp_cookies;
  for (const Record& r : tcp) tcp_cookies.insert(r.cookie);
  for (const Record& r : udp) EXPECT_EQ(tcp_cookies.count(r.cookie), 0u);
}

TEST_F(IterAllNetnsTest, PerNetnsTargetsAndProcStillSeeOnlyTheirNamespace) {
  auto fd = NetnsSet::CreateOne(NetnsOptions{});
  ASSERT_TRUE(fd.ok()) << fd.status();
  Sockets host, child;
  host.Mix("init_net");
  {
    auto in = ScopedNetns::Enter(fd->get());
    ASSERT_TRUE(in.ok());
    child.Mix("child");
  }
  uint64_t child_cookie = CookieOf(fd->get());
  for (Target t : {Target::kTcp, Target::kUdp}) {
    Link l = AttachDump(t);
    ASSERT_TRUE(l.link.valid());
    auto in = ScopedNetns::Enter(fd->get());
    ASSERT_TRUE(in.ok());
    UniqueFd it(bpf_iter_create(l.link.get()));
    ASSERT_TRUE(it.valid()) << strerror(errno);
    std::vector<Record> recs = ReadAll<Record>(it.get());
    for (const Record& r : recs) EXPECT_EQ(r.netns, child_cookie) << IterFunc(t);
    ExpectSeenOnce(recs, child, child_cookie, IsUdp(t) ? SOCK_DGRAM : SOCK_STREAM);
  }
  // /proc/net/tcp shares seq_sk_match() with the iterators.
  auto in = ScopedNetns::Enter(fd->get());
  ASSERT_TRUE(in.ok());
  UniqueFd f(open("/proc/thread-self/net/tcp", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(f.valid());
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(f.get(), buf, sizeof(buf))) > 0;) text.append(buf, n);
  int lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines - 1, 3) << "child's IPv4 TCP sockets: listener, client, accepted\n" << text;
}

TEST_F(IterAllNetnsTest, NamespacesWithPrivateHashTablesAreVisited) {
  auto priv = CreatePrivateTableNetns(64, 256);
  ASSERT_TRUE(priv.ok()) << priv.status();
  auto shared = NetnsSet::CreateOne(NetnsOptions{});
  ASSERT_TRUE(shared.ok()) << shared.status();
  ASSERT_EQ(TableEntries(priv->get(), "tcp_ehash_entries"), 64) << "private ehash expected";
  ASSERT_EQ(TableEntries(priv->get(), "udp_hash_entries"), 256) << "private udp_table expected";
  ASSERT_LT(TableEntries(shared->get(), "tcp_ehash_entries"), 0) << "global ehash expected";

  // A grandchild created from inside the private namespace, with the sysctls
  // set there: private tables anywhere in the tree are found.
  absl::StatusOr<UniqueFd> grand = absl::InternalError("not created");
  {
    auto in = ScopedNetns::Enter(priv->get());
    ASSERT_TRUE(in.ok());
    grand = CreatePrivateTableNetns(16, 128);
  }
  ASSERT_TRUE(grand.ok()) << grand.status();
  ASSERT_EQ(TableEntries(grand->get(), "tcp_ehash_entries"), 16);

  std::vector<std::pair<int, Sockets>> all;
  for (int nsfd : {priv->get(), shared->get(), grand->get()}) {
    auto in = ScopedNetns::Enter(nsfd);
    ASSERT_TRUE(in.ok());
    Sockets s;
    s.Mix("ns");
    all.emplace_back(nsfd, std::move(s));
  }
  Sockets host;
  host.Mix("init_net");
  std::vector<Record> tcp = Dump(Target::kTcpAllNetns);
  std::vector<Record> udp = Dump(Target::kUdpAllNetns);
  for (auto& [nsfd, s] : all) {
    ExpectSeenOnce(tcp, s, CookieOf(nsfd), SOCK_STREAM);
    ExpectSeenOnce(udp, s, CookieOf(nsfd), SOCK_DGRAM);
  }
  ExpectSeenOnce(tcp, host, init_cookie_, SOCK_STREAM);
  ExpectSeenOnce(udp, host, init_cookie_, SOCK_DGRAM);
}

TEST_F(IterAllNetnsTest, DestroysTargetsInEveryKindOfNamespaceAndNothingElse) {
  auto priv = CreatePrivateTableNetns(64, 256);
  ASSERT_TRUE(priv.ok()) << priv.status();
  auto shared = NetnsSet::CreateOne(NetnsOptions{});
  ASSERT_TRUE(shared.ok()) << shared.status();

  struct Victim {
    std::string desc;
    int fd;
    bool udp;
  };
  std::vector<Sockets> socks(2);
  std::vector<Victim> victims, bystanders;
  int i = 0;
  for (int nsfd : {priv->get(), shared->get()}) {
    auto in = ScopedNetns::Enter(nsfd);
    ASSERT_TRUE(in.ok());
    Sockets& s = socks[i++];
    s.Mix(i == 1 ? "private" : "shared");
    for (auto& fd : s.fds) {
      const std::string& desc = s.what[Cookie(fd.get())];
      bool udp = desc.find(" udp ") != std::string::npos;
      bool victim = desc.find("client v4") != std::string::npos || desc.find("connected v6") != std::string::npos;
      (victim ? victims : bystanders).push_back({desc, fd.get(), udp});
    }
  }
  UniqueFd map(bpf_map_create(BPF_MAP_TYPE_HASH, "sb_cookies", 8, 1, 64, nullptr));
  ASSERT_TRUE(map.valid());
  uint8_t one = 1;
  for (const Victim& v : victims) {
    uint64_t c = Cookie(v.fd);
    ASSERT_EQ(bpf_map_update_elem(map.get(), &c, &one, BPF_ANY), 0);
  }
  std::map<uint64_t, int64_t> ret;
  for (Target t : {Target::kTcpAllNetns, Target::kUdpAllNetns}) {
    std::string log;
    UniqueFd prog(LoadProg(t, Prog::kDestroy, map.get(), &log));
    ASSERT_TRUE(prog.valid()) << log;
    UniqueFd link(bpf_link_create(prog.get(), 0, BPF_TRACE_ITER, nullptr));
    ASSERT_TRUE(link.valid()) << strerror(errno);
    UniqueFd it(bpf_iter_create(link.get()));
    ASSERT_TRUE(it.valid()) << strerror(errno);
    for (const DestroyRecord& r : ReadAll<DestroyRecord>(it.get())) {
      EXPECT_EQ(ret.count(r.cookie), 0u) << "destroyed twice";
      ret[r.cookie] = static_cast<int32_t>(r.ret);
    }
  }
  for (const Victim& v : victims) {
    uint64_t c = Cookie(v.fd);
    ASSERT_EQ(ret.count(c), 1u) << v.desc << " not visited";
    EXPECT_EQ(ret[c], 0) << v.desc;
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(v.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    EXPECT_EQ(err, ECONNABORTED) << v.desc;
  }
  for (const Victim& b : bystanders) {
    EXPECT_EQ(ret.count(Cookie(b.fd)), 0u) << b.desc << " should not be destroyed";
    // The accepted end of an aborted TCP client gets its reset; the rest
    // must not notice anything.
    if (b.desc.find("tcp accepted v4") != std::string::npos) continue;
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(b.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    EXPECT_EQ(err, 0) << b.desc << " should survive";
  }
}

}  // namespace
}  // namespace sockbench
