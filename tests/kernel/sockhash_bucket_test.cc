// Selftest-style checks of sockbench's sockhash kernel patches (kernel/patches/sockmap)
// and of the sockhash_bucket approach, on the running kernel (root):
//   - sockets enter the map at connect time (TCP via sock_ops, connected UDP
//     via cgroup connect4/6), and leave it on close;
//   - a prefix pass destroys exactly the target from its bucket;
//   - a prefix pass visits only the elements of its prefix (also when
//     other prefixes share the bucket), and misuse is refused;
//   - an iterator resumed after every element, while elements are added
//     and removed between reads, shows every element that stays exactly
//     once and none twice (the stock iterator restarts the bucket);
//   - destroy passes racing connect() and close() in the bucket destroy
//     every target exactly once and no bystander.
// Everything is skipped on kernels without the patches (probe fails).
// The price measurement is `sockbench price` (harness/price.cc).
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
  // 64 buckets, 20 prefixes x 3 keys. The prefixes are chosen (by the
  // kernel's hash, BucketOf()) so that they go two by two into 10 buckets:
  // every prefix shares its bucket with another, which the pass must
  // filter out.
  constexpr uint32_t kBuckets = 64;
  auto skel = LoadSkel(kBuckets, SB_SOCKHASH_PREFIX_LEN);
  ASSERT_TRUE(skel.ok()) << skel.status();
  int map = bpf_map__fd((*skel)->maps.sb_sockhash);
  int prog = bpf_program__fd((*skel)->progs.dump_bucket);
  InNetns ns;
  // One socket can sit in a sockhash under many keys.
  UniqueFd s = UdpConnected(Loopback4(9));
  uint64_t fd = s.get();
  std::vector<sb_sockhash_key> prefixes;
  std::vector<uint32_t> bucket;  // of prefixes[p], by BucketOf()
  std::map<uint32_t, int> per_bucket;
  for (uint16_t port = 1000; prefixes.size() < 20; ++port) {
    ASSERT_LT(port, 60000) << "no 20 prefixes two by two in 10 buckets";
    sb_sockhash_key k = SockhashPrefix(Loopback4(port));
    uint32_t b = BucketOf(k, kBuckets);
    if (per_bucket.count(b) ? per_bucket[b] >= 2 : per_bucket.size() >= 10) continue;
    per_bucket[b]++;
    prefixes.push_back(k);
    bucket.push_back(b);
  }
  // Interleaved: key c of every prefix, then key c + 1. Within a bucket
  // the two prefixes' elements then alternate.
  for (uint64_t c = 1; c <= 3; ++c) {
    for (size_t p = 0; p < prefixes.size(); ++p) {
      sb_sockhash_key k = prefixes[p];
      k.cookie = p * 100 + c;
      ASSERT_EQ(bpf_map_update_elem(map, &k, &fd, BPF_NOEXIST), 0) << strerror(errno);
    }
  }
  // The kernel really shares the buckets: a whole-map pass walks bucket
  // after bucket, so the elements come in the order of BucketOf() (the
  // kernel chose the buckets the test computed), and every prefix's three
  // elements are not contiguous: the only elements between them are those
  // of the other prefix of their bucket.
  auto whole = AttachSockhashIter(prog, map, nullptr, 0);
  ASSERT_TRUE(whole.ok()) << whole.status();
  std::vector<uint64_t> all = DumpCookies(whole->get(), 4096);
  ASSERT_EQ(all.size(), 60u);
  std::map<size_t, std::vector<size_t>> positions;  // prefix -> where its elements came
  for (size_t i = 0; i < all.size(); ++i) {
    const size_t p = all[i] / 100;
    ASSERT_LT(p, prefixes.size()) << "unknown cookie " << all[i];
    positions[p].push_back(i);
    if (i > 0) {
      EXPECT_LE(bucket[all[i - 1] / 100], bucket[p]) << "the walk is in bucket order";
    }
  }
  int shared = 0;
  for (const auto& [p, at] : positions) {
    ASSERT_EQ(at.size(), 3u);
    shared += at.back() - at.front() > 2;  // another prefix's elements in between
    for (size_t i = at.front(); i <= at.back(); ++i)
      EXPECT_EQ(bucket[all[i] / 100], bucket[p]) << "between prefix " << p << "'s elements: its bucket's";
  }
  EXPECT_EQ(shared, 20) << "every prefix shares its bucket with another";

  for (size_t p = 0; p < prefixes.size(); ++p) {
    (*skel)->bss->sb_counters.visited = 0;
    auto link = AttachSockhashIter(prog, map, &prefixes[p], SB_SOCKHASH_PREFIX_LEN);
    ASSERT_TRUE(link.ok()) << link.status();
    std::vector<uint64_t> got = DumpCookies(link->get(), 4096);
    std::sort(got.begin(), got.end());
    std::vector<uint64_t> want = {p * 100ull + 1, p * 100ull + 2, p * 100ull + 3};
    EXPECT_EQ(got, want) << "prefix " << p;
    // The program only ever saw the prefix's own elements, 3 of the
    // bucket's 6.
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

// Concurrency: sockets join and leave one bucket (connect, close) while
// destroy passes run over it. Two threads connect UDP sockets to the same
// backend, hence under the same key prefix, into the same bucket: one in
// the target namespace (targets), one in another namespace (bystanders,
// which the passes must leave alone: the namespace filter, not the bucket,
// tells them apart), and each closes its sockets as it goes: a target once
// it has been destroyed (then nothing may destroy it again), a bystander
// once checked untouched. Meant for the debug kernel too (KASAN, lockdep):
// element and socket lifetimes across the unlocked parts of the iterator.
//
// After the race, 8 more targets and one last pass: every pass finished;
// every target was destroyed (its application saw ECONNABORTED), and the
// passes' destroyed counts add up to exactly the number of targets, so
// each was destroyed exactly once; no bystander was touched; and the
// bucket really was shared: the bystanders and the fresh targets are all
// in the map under the backend's prefix, and the last pass visited them
// all.
TEST(SockhashBucket, PassesRaceWithConnectAndClose) {
  SKIP_UNLESS_SUPPORTED();
  SockhashBucketDestroyer d;
  ASSERT_TRUE(d.Prepare(PrepareEnv{}).ok());  // connect4 indexes the sockets
  auto target_ns = NewNetns();
  auto other_ns = NewNetns();
  ASSERT_TRUE(target_ns.ok() && other_ns.ok());
  auto target_cookie = NetnsCookie(target_ns->get());
  ASSERT_TRUE(target_cookie.ok());
  const Endpoint backend = Loopback4(9);
  const sb_sockhash_key prefix = SockhashPrefix(backend);
  constexpr int kConnects = 2000;   // per thread
  constexpr size_t kKeep = 64;      // sockets a thread keeps open at least
  constexpr size_t kMaxOpen = 512;  // targets not yet destroyed before the thread waits for a pass

  std::mutex mu;
  std::condition_variable pass_done;
  int passes = 0;
  bool stop = false;

  struct Churn {
    bool targets;
    std::set<uint64_t> connected;           // every socket it connected
    std::set<uint64_t> destroyed_seen;      // targets found destroyed (ECONNABORTED), then closed
    std::map<uint64_t, UniqueFd> open;      // still open at the end
    std::vector<std::string> problems;
  };
  Churn targets{true}, bystanders{false};
  auto churn = [&](int netns_fd, Churn* c) {
    auto in = ScopedNetns::Enter(netns_fd);
    if (!in.ok()) {
      c->problems.push_back(std::string(in.status().message()));
      return;
    }
    std::deque<std::pair<uint64_t, UniqueFd>> socks;  // oldest first
    for (int i = 0; i < kConnects; ++i) {
      UniqueFd s = UdpConnected(backend);
      const uint64_t cookie = Cookie(s.get());
      c->connected.insert(cookie);
      socks.emplace_back(cookie, std::move(s));
      if (socks.size() <= kKeep) continue;
      if (!c->targets) {  // close the oldest bystander, untouched
        int fd = socks.front().second.get();
        if (!Connected(fd) || RecvErrno(fd) != EAGAIN)
          c->problems.push_back("bystander " + std::to_string(socks.front().first) + " was touched");
        socks.pop_front();
        continue;
      }
      // Close a target that has been destroyed (disconnected, ECONNABORTED
      // pending); if there is none yet and too many wait, wait for a pass.
      for (;;) {
        auto it = std::find_if(socks.begin(), socks.end(), [](const auto& x) { return !Connected(x.second.get()); });
        if (it != socks.end()) {
          int err = RecvErrno(it->second.get());
          if (err != ECONNABORTED)
            c->problems.push_back("target " + std::to_string(it->first) + " disconnected with " + strerror(err));
          c->destroyed_seen.insert(it->first);
          socks.erase(it);
          break;
        }
        if (socks.size() < kMaxOpen) break;
        std::unique_lock<std::mutex> l(mu);
        const int seen = passes;
        if (!pass_done.wait_for(l, std::chrono::seconds(120), [&] { return passes > seen || stop; }) || stop) {
          c->problems.push_back("no pass finished while " + std::to_string(socks.size()) + " targets waited");
          break;
        }
      }
    }
    for (auto& [cookie, fd] : socks) c->open[cookie] = std::move(fd);
  };

  std::thread t1(churn, target_ns->get(), &targets), t2(churn, other_ns->get(), &bystanders);
  Target t;
  t.endpoints = {backend};
  t.tcp = false;
  t.udp = true;
  t.netns_fds = {target_ns->get()};
  t.netns_cookies = {*target_cookie};
  DestroyStats sum;
  std::map<uint64_t, UniqueFd> fresh;  // targets connected after the race
  absl::Status failed_pass;
  std::atomic<int> running{2};
  auto join = [&] {
    t1.join();
    t2.join();
  };
  // Passes until both threads are done (they cannot finish without
  // passes: the target thread waits for them).
  std::thread watcher([&] {
    join();
    running = 0;
  });
  while (running.load() > 0) {
    auto st = d.Destroy(t);
    if (!st.ok()) {
      failed_pass = st.status();
      break;
    }
    sum.visited += st->visited;
    sum.destroyed += st->destroyed;
    sum.failed += st->failed;
    std::lock_guard<std::mutex> l(mu);
    ++passes;
    pass_done.notify_all();
  }
  {
    std::lock_guard<std::mutex> l(mu);
    stop = true;
    pass_done.notify_all();
  }
  watcher.join();
  ASSERT_TRUE(failed_pass.ok()) << failed_pass;
  for (const Churn* c : {&targets, &bystanders})
    for (const std::string& p : c->problems) ADD_FAILURE() << p;
  ASSERT_EQ(targets.connected.size(), static_cast<size_t>(kConnects));
  ASSERT_EQ(bystanders.connected.size(), static_cast<size_t>(kConnects));

  // A few more targets, connected now that nothing churns: the bucket then
  // surely holds targets no pass has destroyed yet beside the bystanders,
  // all under the backend's prefix.
  {
    auto in = ScopedNetns::Enter(target_ns->get());
    ASSERT_TRUE(in.ok());
    for (int i = 0; i < 8; ++i) {
      UniqueFd s = UdpConnected(backend);
      const uint64_t cookie = Cookie(s.get());
      targets.connected.insert(cookie);
      fresh[cookie] = std::move(s);
    }
  }
  std::set<uint64_t> in_bucket;
  for (const sb_sockhash_key& k : Keys(d.map_fd()))
    if (std::memcmp(&k, &prefix, SB_SOCKHASH_PREFIX_LEN) == 0) in_bucket.insert(k.cookie);
  ASSERT_FALSE(bystanders.open.empty());
  for (const auto* open : {&fresh, &bystanders.open})
    for (const auto& [cookie, fd] : *open)
      EXPECT_TRUE(in_bucket.count(cookie)) << (open == &fresh ? "target " : "bystander ") << cookie
                                           << " not in the backend's bucket";

  // The last pass: it walks the shared bucket, bystanders included, and
  // destroys the targets no pass destroyed before, the fresh ones at least.
  auto last = d.Destroy(t);
  ASSERT_TRUE(last.ok()) << last.status();
  sum.visited += last->visited;
  sum.destroyed += last->destroyed;
  sum.failed += last->failed;
  EXPECT_GE(last->visited, fresh.size() + bystanders.open.size()) << "the pass walked the shared bucket";
  EXPECT_GE(last->destroyed, fresh.size());
  for (auto& [cookie, fd] : fresh) targets.open[cookie] = std::move(fd);

  // Every target destroyed, each exactly once.
  for (auto& [cookie, fd] : targets.open) {
    EXPECT_FALSE(Connected(fd.get())) << "target " << cookie;
    EXPECT_EQ(RecvErrno(fd.get()), ECONNABORTED) << "target " << cookie;
    targets.destroyed_seen.insert(cookie);
  }
  EXPECT_EQ(targets.destroyed_seen, targets.connected) << "every target destroyed";
  EXPECT_EQ(sum.destroyed, targets.connected.size()) << "destroyed counts add up to one per target";
  EXPECT_EQ(sum.failed, 0u);
  // No bystander touched.
  for (auto& [cookie, fd] : bystanders.open) {
    EXPECT_TRUE(Connected(fd.get())) << "bystander " << cookie;
    EXPECT_EQ(RecvErrno(fd.get()), EAGAIN) << "bystander " << cookie;
  }
  const sb_index_counters ic = d.index_counters();
  EXPECT_EQ(ic.failed, 0u) << "last error " << ic.last_error;
  EXPECT_GE(ic.inserted, 2u * kConnects + fresh.size());
  std::printf("%d passes + 1, %d targets and %d bystanders connected, %lu destroyed, %lu visited\n", passes,
              kConnects, kConnects, static_cast<unsigned long>(sum.destroyed),
              static_cast<unsigned long>(sum.visited));
  d.Release();
}

}  // namespace
}  // namespace sockbench
