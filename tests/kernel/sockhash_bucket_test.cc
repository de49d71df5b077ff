// Selftest-style checks of sockbench's sockhash kernel patches (kernel/patches/sockmap)
// and of the sockhash_bucket approach, on the running kernel (root):
//   - sockets enter the map at connect time (TCP via sock_ops, connected UDP
//     via cgroup connect4/6), and leave it on close;
//   - a prefix pass destroys exactly the target from its bucket;
//   - a prefix pass visits only the elements of its prefix (also when
//     other prefixes share the bucket), and misuse is refused;
//   - an iterator resumed after every element, while elements are added
//     and removed between reads, shows every element that stays exactly
//     once and none twice (the stock iterator restarts the bucket).
// Everything is skipped on kernels without the patches (probe fails).
// The price measurement is sockhash_bucket_price_test.cc.
#include <gtest/gtest.h>

#include "tests/kernel/sockhash_bucket_support.h"

namespace sockbench {

namespace {

using namespace sockhash_test;  // NOLINT: SkipReason, Cookie, Loopback4

// ---------------------------------------------------------------------------
// Connect-time indexing

TEST(SockhashBucket, ConnectedSocketsEnterTheMapAtConnectAndLeaveOnClose) {
  SKIP_UNLESS_SUPPORTED();
  SockhashBucketDestroyer d;
  ASSERT_TRUE(d.Prepare(PrepareEnv{}).ok());  // cgroup v2 root
  InNetns ns;
  // Namespace setup connects throw-away UDP sockets (to learn that its IPv6
  // addresses route); they come and go before this point.
  const sb_index_counters before = d.index_counters();

  struct Made {
    UniqueFd client, server, peer;
    Endpoint ep;
  };
  std::vector<Made> made;
  for (Proto proto : {Proto::kTcp, Proto::kUdp}) {
    for (Family family : {Family::kIpv4, Family::kIpv6}) {
      Made m;
      m.ep = BackendEndpoint(0, family);
      sockaddr_storage ss;
      socklen_t len = m.ep.ToSockaddr(&ss);
      int one = 1;
      m.server.reset(socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC, 0));
      if (family == Family::kIpv6) setsockopt(m.server.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      ASSERT_EQ(bind(m.server.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
      if (proto == Proto::kTcp) {
        ASSERT_EQ(listen(m.server.get(), 8), 0);
      }
      m.client.reset(socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC, 0));
      if (family == Family::kIpv6) setsockopt(m.client.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      ASSERT_EQ(connect(m.client.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
      if (proto == Proto::kTcp) m.peer.reset(accept4(m.server.get(), nullptr, nullptr, SOCK_CLOEXEC));
      made.push_back(std::move(m));
    }
  }
  sb_index_counters ic = d.index_counters();
  EXPECT_EQ(ic.inserted - before.inserted, 4u);  // the four clients; no listener, peer or UDP server
  EXPECT_EQ(ic.failed - before.failed, 0u) << "last error " << ic.last_error;

  std::vector<sb_sockhash_key> keys = Keys(d.map_fd());
  ASSERT_EQ(keys.size(), 4u);
  for (const Made& m : made) {
    sb_sockhash_key want = SockhashPrefix(m.ep);
    want.cookie = Cookie(m.client.get());
    EXPECT_EQ(std::count_if(keys.begin(), keys.end(),
                            [&](const sb_sockhash_key& k) { return std::memcmp(&k, &want, sizeof(k)) == 0; }),
              1)
        << m.ep.ToString();
  }
  made[0].client.reset();  // close(): the socket leaves the map
  made[2].client.reset();
  EXPECT_EQ(Keys(d.map_fd()).size(), 2u);
  d.Release();
}

// ---------------------------------------------------------------------------
// Destruction from the iterator

using Param = std::tuple<Proto, Family>;
class SockhashBucketDestroy : public ::testing::TestWithParam<Param> {};

TEST_P(SockhashBucketDestroy, ExactlyTheTargetIsDestroyedFromItsBucket) {
  SKIP_UNLESS_SUPPORTED();
  auto [proto, family] = GetParam();
  SockhashBucketDestroyer d;
  ASSERT_TRUE(d.Prepare(PrepareEnv{}).ok());  // before the sockets: they are indexed at connect

  auto a_fd = NewNetns();
  auto b_fd = NewNetns();
  ASSERT_TRUE(a_fd.ok() && b_fd.ok());
  auto a_cookie = NetnsCookie(a_fd->get());
  ASSERT_TRUE(a_cookie.ok());
  std::vector<UniqueFd> servers;
  Conn target, same_addr, same_port, elsewhere;
  {
    auto in = ScopedNetns::Enter(a_fd->get());
    ASSERT_TRUE(in.ok());
    target = ConnectTo(proto, family, 0, &servers);
    same_addr = ConnectTo(proto, family, 1, &servers);  // same address, other port
    same_port = ConnectTo(proto, family, 2, &servers);  // same port, other address
  }
  {
    auto in = ScopedNetns::Enter(b_fd->get());
    ASSERT_TRUE(in.ok());
    elsewhere = ConnectTo(proto, family, 0, &servers);  // same backend, namespace not asked for
  }

  Target t = Backend0In(proto, family, a_fd->get(), *a_cookie);
  auto stats = d.Destroy(t);
  ASSERT_TRUE(stats.ok()) << stats.status();
  // The bucket of backend 0 holds the target and its twin in namespace b.
  EXPECT_EQ(stats->visited, 2u);
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(stats->failed, 0u);
  ExpectOnlyTargetDestroyed(proto, target, {&same_addr, &same_port, &elsewhere});

  // A second pass over the same bucket: the aborted socket is still in the
  // map (until closed) but is not touched again.
  auto again = d.Destroy(t);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->destroyed, 0u);
  EXPECT_EQ(again->failed, 0u);
  d.Release();
}

std::string Name(const ::testing::TestParamInfo<Param>& info) {
  return std::string(ProtoName(std::get<0>(info.param))) + "_" + FamilyName(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, SockhashBucketDestroy,
                         ::testing::Combine(::testing::Values(Proto::kTcp, Proto::kUdp),
                                            ::testing::Values(Family::kIpv4, Family::kIpv6)),
                         Name);

// ---------------------------------------------------------------------------
// Prefix filter

TEST(SockhashBucket, PrefixPassVisitsOnlyItsPrefixAlsoWhenBucketsAreShared) {
  SKIP_UNLESS_SUPPORTED();
  // 64 buckets, 20 prefixes x 3 keys: prefixes collide in buckets (the
  // chance that none does is ~5%), which the pass must filter out.
  auto skel = LoadSkel(64, SB_SOCKHASH_PREFIX_LEN);
  ASSERT_TRUE(skel.ok()) << skel.status();
  int map = bpf_map__fd((*skel)->maps.sb_sockhash);
  int prog = bpf_program__fd((*skel)->progs.dump_bucket);
  InNetns ns;
  // One socket can sit in a sockhash under many keys.
  UniqueFd s = UdpConnected(Loopback4(9));
  uint64_t fd = s.get();
  std::vector<sb_sockhash_key> prefixes;
  for (int p = 0; p < 20; ++p) {
    sb_sockhash_key k = SockhashPrefix(Loopback4(static_cast<uint16_t>(1000 + p)));
    prefixes.push_back(k);
    for (uint64_t c = 1; c <= 3; ++c) {
      k.cookie = p * 100 + c;
      ASSERT_EQ(bpf_map_update_elem(map, &k, &fd, BPF_NOEXIST), 0) << strerror(errno);
    }
  }
  auto whole = AttachSockhashIter(prog, map, nullptr, 0);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(DumpCookies(whole->get(), 4096).size(), 60u);

  for (int p = 0; p < 20; ++p) {
    (*skel)->bss->sb_counters.visited = 0;
    auto link = AttachSockhashIter(prog, map, &prefixes[p], SB_SOCKHASH_PREFIX_LEN);
    ASSERT_TRUE(link.ok()) << link.status();
    std::vector<uint64_t> got = DumpCookies(link->get(), 4096);
    std::sort(got.begin(), got.end());
    std::vector<uint64_t> want = {p * 100ull + 1, p * 100ull + 2, p * 100ull + 3};
    EXPECT_EQ(got, want) << "prefix " << p;
    // The program only ever saw the prefix's own elements.
    EXPECT_EQ((*skel)->bss->sb_counters.visited, 3u) << "prefix " << p;
  }

  // A prefix may be longer than map_extra (up to the whole key): one key.
  sb_sockhash_key exact = prefixes[4];
  exact.cookie = 402;
  auto one = AttachSockhashIter(prog, map, &exact, sizeof(exact));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(DumpCookies(one->get(), 4096), std::vector<uint64_t>{402});
}

TEST(SockhashBucket, MisuseIsRefused) {
  SKIP_UNLESS_SUPPORTED();
  auto skel = LoadSkel(64, SB_SOCKHASH_PREFIX_LEN);
  ASSERT_TRUE(skel.ok()) << skel.status();
  int map = bpf_map__fd((*skel)->maps.sb_sockhash);
  int prog = bpf_program__fd((*skel)->progs.dump_bucket);
  sb_sockhash_key k = SockhashPrefix(Loopback4(1));
  // Shorter than map_extra: would not name a bucket.
  auto short_prefix = AttachSockhashIter(prog, map, &k, SB_SOCKHASH_PREFIX_LEN - 1);
  EXPECT_FALSE(short_prefix.ok());
  EXPECT_EQ(errno, EINVAL);
  // Longer than the key.
  char big[sizeof(k) + 1] = {};
  EXPECT_FALSE(AttachSockhashIter(prog, map, big, sizeof(big)).ok());
  // map_extra larger than the key.
  LIBBPF_OPTS(bpf_map_create_opts, o);
  o.map_extra = sizeof(k) + 1;
  int bad = bpf_map_create(BPF_MAP_TYPE_SOCKHASH, "sb_bad", sizeof(k), 8, 16, &o);
  EXPECT_LT(bad, 0);
  EXPECT_EQ(errno, EINVAL);
  if (bad >= 0) close(bad);
  // A prefix on a sockmap (array) is refused.
  int sockmap = bpf_map_create(BPF_MAP_TYPE_SOCKMAP, "sb_arr", 4, 8, 16, nullptr);
  ASSERT_GE(sockmap, 0) << strerror(errno);
  uint32_t idx = 0;
  int keyless = bpf_program__fd((*skel)->progs.count_bucket);  // reads no key
  EXPECT_FALSE(AttachSockhashIter(keyless, sockmap, &idx, sizeof(idx)).ok());
  EXPECT_EQ(errno, EINVAL);
  close(sockmap);
  // Without map_extra the whole key chooses the bucket: only a full-key
  // prefix names one.
  auto plain = LoadSkel(64, 0);
  ASSERT_TRUE(plain.ok()) << plain.status();
  int pmap = bpf_map__fd((*plain)->maps.sb_sockhash);
  int pprog = bpf_program__fd((*plain)->progs.dump_bucket);
  EXPECT_FALSE(AttachSockhashIter(pprog, pmap, &k, SB_SOCKHASH_PREFIX_LEN).ok());
  EXPECT_TRUE(AttachSockhashIter(pprog, pmap, &k, sizeof(k)).ok());
}

// ---------------------------------------------------------------------------
// Resumption while the bucket changes

TEST(SockhashBucket, ResumesExactlyOnceWhileElementsAreAddedAndRemoved) {
  SKIP_UNLESS_SUPPORTED();
  auto skel = LoadSkel(1024, SB_SOCKHASH_PREFIX_LEN);
  ASSERT_TRUE(skel.ok()) << skel.status();
  int map = bpf_map__fd((*skel)->maps.sb_sockhash);
  int prog = bpf_program__fd((*skel)->progs.dump_bucket);
  InNetns ns;
  const Endpoint backend = Loopback4(9);
  const sb_sockhash_key prefix = SockhashPrefix(backend);

  std::map<uint64_t, UniqueFd> live;  // cookie -> socket
  auto add = [&]() {
    UniqueFd s = UdpConnected(backend);
    sb_sockhash_key k = prefix;
    k.cookie = Cookie(s.get());
    uint64_t fd = s.get();
    EXPECT_EQ(bpf_map_update_elem(map, &k, &fd, BPF_NOEXIST), 0) << strerror(errno);
    uint64_t c = k.cookie;
    live[c] = std::move(s);
    return c;
  };

  for (bool with_prefix : {true, false}) {
    SCOPED_TRACE(with_prefix ? "prefix pass" : "whole-map pass");
    live.clear();
    std::set<uint64_t> initial;
    for (int i = 0; i < 100; ++i) initial.insert(add());  // one bucket of 100
    std::set<uint64_t> removed_unseen, removed_seen, added;
    std::vector<uint64_t> seen_so_far;
    int reads = 0;

    auto link = AttachSockhashIter(prog, map, with_prefix ? &prefix : nullptr,
                                   with_prefix ? SB_SOCKHASH_PREFIX_LEN : 0);
    ASSERT_TRUE(link.ok()) << link.status();
    UniqueFd it(bpf_iter_create(link->get()));
    ASSERT_TRUE(it.valid()) << strerror(errno);
    // 8-byte reads: the iterator stops and resumes after every element,
    // in the middle of the bucket; the bucket changes between reads.
    for (;; ++reads) {
      ASSERT_LT(reads, 2000) << "iterator does not finish (stuck in the bucket?)";
      uint64_t c;
      ssize_t n = read(it.get(), &c, sizeof(c));
      if (n == 0) break;
      ASSERT_EQ(n, 8) << strerror(errno);
      seen_so_far.push_back(c);
      std::set<uint64_t> seen(seen_so_far.begin(), seen_so_far.end());
      if (reads % 3 == 0) {  // remove a socket not shown yet
        for (auto& [cookie, fd] : live)
          if (!seen.count(cookie) && !added.count(cookie)) {
            uint64_t victim = cookie;
            removed_unseen.insert(victim);
            live.erase(victim);
            break;
          }
      }
      if (reads % 5 == 0) {  // remove one already shown
        for (auto& [cookie, fd] : live)
          if (seen.count(cookie)) {
            uint64_t victim = cookie;
            removed_seen.insert(victim);
            live.erase(victim);
            break;
          }
      }
      if (reads % 4 == 0) added.insert(add());  // a newcomer in the bucket
    }
    std::set<uint64_t> seen(seen_so_far.begin(), seen_so_far.end());
    EXPECT_EQ(seen.size(), seen_so_far.size()) << "an element was shown twice";
    for (uint64_t c : initial) {
      if (removed_unseen.count(c)) {
        EXPECT_FALSE(seen.count(c)) << "removed before its turn, yet shown: " << c;
      } else {
        EXPECT_TRUE(seen.count(c)) << "present throughout, never shown: " << c;
      }
    }
    EXPECT_FALSE(removed_unseen.empty());
    EXPECT_FALSE(added.empty());
    for (uint64_t c : seen)
      EXPECT_TRUE(initial.count(c) || added.count(c)) << "unknown cookie " << c;
    live.clear();
    EXPECT_TRUE(Keys(map).empty());
  }
}

// Concurrency: sockets join and leave the bucket (connect, close) while
// destroy passes run over it, from two threads. Meant for the debug kernel
// (KASAN, lockdep): element and socket lifetimes across the unlocked parts
// of the iterator. Every pass must finish; every destroyed socket must have
// been a live target.
TEST(SockhashBucket, PassesRaceWithConnectAndClose) {
  SKIP_UNLESS_SUPPORTED();
  SockhashBucketDestroyer d;
  ASSERT_TRUE(d.Prepare(PrepareEnv{}).ok());  // connect4 indexes the sockets
  auto ns = NewNetns();
  ASSERT_TRUE(ns.ok());
  auto ns_cookie = NetnsCookie(ns->get());
  ASSERT_TRUE(ns_cookie.ok());
  const Endpoint backend = Loopback4(9);
  std::atomic<bool> stop{false};
  std::atomic<long> churned{0};
  std::thread churn([&] {
    auto in = ScopedNetns::Enter(ns->get());
    if (!in.ok()) return;
    std::vector<UniqueFd> socks;
    for (int i = 0; !stop.load(); ++i) {
      socks.push_back(UdpConnected(backend));
      if (socks.size() > 64) socks.erase(socks.begin() + (i * 7) % socks.size());
      churned++;
    }
  });
  Target t;
  t.endpoints = {backend};
  t.tcp = false;
  t.udp = true;
  t.netns_fds = {ns->get()};
  t.netns_cookies = {*ns_cookie};
  uint64_t destroyed = 0, failed = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int passes = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto st = d.Destroy(t);
    ASSERT_TRUE(st.ok()) << st.status();
    destroyed += st->destroyed;
    failed += st->failed;
    ++passes;
  }
  stop = true;
  churn.join();
  EXPECT_GT(passes, 0);
  EXPECT_GT(churned.load(), 0);
  EXPECT_EQ(failed, 0u);
  std::printf("%d passes, %ld sockets churned, %lu destroyed\n", passes, churned.load(),
              static_cast<unsigned long>(destroyed));
  d.Release();
}

}  // namespace
}  // namespace sockbench
