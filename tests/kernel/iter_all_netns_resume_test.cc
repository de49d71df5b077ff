// The all-netns passes while the world changes (see iter_all_netns_test.cc):
// sockets and namespaces that come and go during a pass, read one record
// at a time so that every socket is a stop/start point.
#include <gtest/gtest.h>

#include "tests/kernel/iter_all_netns_fixture.h"

namespace sockbench {
namespace {

using namespace all_netns_test;  // NOLINT: the tests' shared vocabulary

// sock_iter_batch-style: one socket per read(), sockets added and removed
// between reads. TCP resumes a bucket by socket cookie (in Debian's 6.12 as
// upstream since 6.17), so every socket that exists for the whole pass is
// seen exactly once, and no socket twice. tcp_child_ehash_entries=1 puts all
// of the namespace's connections in one ehash bucket.
TEST_F(IterAllNetnsTest, TcpSocketsSeenExactlyOnceWhileSocketsComeAndGo) {
  auto priv = CreatePrivateTableNetns(1, 128);
  ASSERT_TRUE(priv.ok()) << priv.status();
  ASSERT_EQ(TableEntries(priv->get(), "tcp_ehash_entries"), 1);
  uint64_t ns_cookie = CookieOf(priv->get());

  Sockets s;
  UniqueFd listener;
  struct Conn {
    UniqueFd c, p;
    uint64_t cc, pc;
  };
  std::vector<Conn> conns;
  auto connect_one = [&] {
    auto [c, p] = s.TcpPair(listener.get(), AF_INET);
    Conn x{std::move(c), std::move(p), 0, 0};
    x.cc = Cookie(x.c.get());
    x.pc = Cookie(x.p.get());
    conns.push_back(std::move(x));
  };
  // Link and iterator are made in the initial namespace; the iterator's pass
  // starts with the first read(), so sockets made after it count as present.
  Link l = AttachDump(Target::kTcpAllNetns);
  ASSERT_TRUE(l.link.valid());
  UniqueFd it(bpf_iter_create(l.link.get()));
  ASSERT_TRUE(it.valid()) << strerror(errno);

  auto in = ScopedNetns::Enter(priv->get());
  ASSERT_TRUE(in.ok());
  listener = s.TcpListener(AF_INET);
  for (int i = 0; i < 48; ++i) connect_one();
  std::set<uint64_t> initial;  // established sockets present before the pass
  for (auto& c : conns) initial.insert({c.cc, c.pc});
  std::set<uint64_t> closed;
  std::map<uint64_t, int> seen;
  int reads = 0, ours = 0, removed_seen = 0, removed_unseen = 0, added = 0;
  Record r;
  while (ReadOne(it.get(), &r)) {
    ++reads;
    if (r.state == kTcpTimeWait || r.state == kTcpNewSynRecv) continue;
    seen[r.cookie]++;
    if (r.netns != ns_cookie || r.state != kTcpEstablished) continue;
    // Inside our single bucket: churn between two reads. Alternately close
    // (both ends, with a reset: no TIME_WAIT) a connection already seen,
    // which an offset-based resume would pay for with a skip, and one not
    // seen yet; and open a new one, which goes to the head of the bucket,
    // ahead of the resume point (an offset-based resume would repeat one).
    if (ours++ % 2) continue;
    bool want_seen = ours % 4 == 1;
    for (auto& c : conns) {
      if ((want_seen ? removed_seen : removed_unseen) >= 8) break;
      if (!c.c.valid() || !initial.count(c.cc)) continue;
      bool both_seen = seen.count(c.cc) && seen.count(c.pc);
      bool none_seen = !seen.count(c.cc) && !seen.count(c.pc);
      if (want_seen ? !both_seen : !none_seen) continue;
      CloseWithReset(c.c);
      CloseWithReset(c.p);
      closed.insert({c.cc, c.pc});
      ++(want_seen ? removed_seen : removed_unseen);
      break;
    }
    if (added < 8) {
      connect_one();
      ++added;
    }
  }
  EXPECT_GT(removed_seen, 0);
  EXPECT_GT(removed_unseen, 0);
  EXPECT_GT(reads, 0);
  for (const auto& [cookie, n] : seen) EXPECT_LE(n, 1) << "socket " << cookie << " seen twice";
  for (uint64_t c : initial) {
    if (closed.count(c)) continue;
    EXPECT_EQ(seen[c], 1) << "socket " << c << " present for the whole pass was skipped";
  }
  int survivors = 0;
  for (uint64_t c : initial) survivors += !closed.count(c) && seen[c] == 1;
  std::cout << "[ tcp churn ] reads=" << reads << " closed seen pairs=" << removed_seen
            << " closed unseen pairs=" << removed_unseen << " opened pairs=" << added
            << "; initial sockets never closed, each seen once: " << survivors << "\n";
}

// Namespaces are walked in net_namespace_list order, new ones are linked at
// its tail: the private tables of one created while a pass is still in the
// global tables are visited by that pass. Once a pass has ended, further
// read()s return nothing, even if such namespaces appeared since.
TEST_F(IterAllNetnsTest, NamespaceCreatedDuringThePassIsVisitedNoneAfterTheEnd) {
  Sockets host;
  host.Mix("init_net");  // so that the pass has something to show first
  for (Target t : {Target::kTcpAllNetns, Target::kUdpAllNetns}) {
    Link l = AttachDump(t);
    ASSERT_TRUE(l.link.valid());
    UniqueFd it(bpf_iter_create(l.link.get()));
    ASSERT_TRUE(it.valid());
    Record first;
    ASSERT_TRUE(ReadOne(it.get(), &first)) << IterFunc(t);
    auto late = CreatePrivateTableNetns(64, 128);
    ASSERT_TRUE(late.ok()) << late.status();
    Sockets s;
    {
      auto in = ScopedNetns::Enter(late->get());
      ASSERT_TRUE(in.ok());
      s.Mix("late");
    }
    std::vector<Record> rest = ReadAll<Record>(it.get());
    rest.push_back(first);
    // Its private tables are walked after the global ones. Its TCP
    // listeners went to the global lhash2, which the pass may have passed
    // already: like any socket created during a pass, they may be missed.
    Sockets in_private_tables;
    for (const auto& [cookie, desc] : s.what)
      if (desc.find("listener") == std::string::npos) in_private_tables.what[cookie] = desc;
    ExpectSeenOnce(rest, in_private_tables, CookieOf(late->get()), IsUdp(t) ? SOCK_DGRAM : SOCK_STREAM);

    // The pass is over: another private-table namespace changes nothing.
    auto later = CreatePrivateTableNetns(64, 128);
    ASSERT_TRUE(later.ok()) << later.status();
    Sockets s2;
    {
      auto in = ScopedNetns::Enter(later->get());
      ASSERT_TRUE(in.ok());
      s2.Mix("later");
    }
    char buf[256];
    EXPECT_EQ(read(it.get(), buf, sizeof(buf)), 0) << IterFunc(t) << ": read() after the end of the pass";
  }
}

// The iterator keeps a reference on the namespace whose private table it is
// walking: that namespace can lose every other reference between two reads
// without the table going away under the iterator. b, released at the same
// time but not pinned, is dismantled meanwhile (its RTM_DELNSID arrives);
// the rest of a's sockets are still shown, from a's own table, and a is
// dismantled only once the iterator is closed.
TEST_F(IterAllNetnsTest, NamespaceReleasedMidPassStaysValidUntilTheIteratorMovesOn) {
  auto a = CreatePrivateTableNetns(64, 128);
  auto b = CreatePrivateTableNetns(64, 128);
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t a_cookie = CookieOf(a->get()), b_cookie = CookieOf(b->get());
  const int32_t base = 920000 + getpid() % 1000 * 4;
  NsidWatch a_gone(a->get(), base), b_gone(b->get(), base + 1);
  ASSERT_TRUE(a_gone.ok() && b_gone.ok());
  Sockets sa, sb;
  for (auto [ns, s, name] : {std::tuple{a->get(), &sa, "a"}, std::tuple{b->get(), &sb, "b"}}) {
    auto in = ScopedNetns::Enter(ns);
    ASSERT_TRUE(in.ok());
    int l = s->Keep(s->TcpListener(AF_INET), std::string(name) + " listener");
    for (int i = 0; i < 8; ++i) {
      auto [c, p] = s->TcpPair(l, AF_INET);
      s->Keep(std::move(c), std::string(name) + " client");
      s->Keep(std::move(p), std::string(name) + " accepted");
    }
  }
  Link l = AttachDump(Target::kTcpAllNetns);
  ASSERT_TRUE(l.link.valid());
  UniqueFd it(bpf_iter_create(l.link.get()));
  ASSERT_TRUE(it.valid());
  Record r;
  int a_before = 0;
  while (ReadOne(it.get(), &r))
    if (r.netns == a_cookie && r.state == kTcpEstablished && ++a_before == 1) break;  // now in a's ehash
  ASSERT_EQ(a_before, 1) << "the pass reached a's private ehash";
  // Drop every reference we have on a and b: their sockets (reset: no
  // TIME_WAIT left behind) and namespace fds.
  for (auto& fd : sa.fds) CloseWithReset(fd);
  for (auto& fd : sb.fds) CloseWithReset(fd);
  a->reset();
  b->reset();
  ASSERT_TRUE(b_gone.WaitDeleted()) << "b, not pinned, is dismantled while the iterator is open";
  int rest = 0, from_b = 0;
  while (ReadOne(it.get(), &r)) {
    rest++;
    from_b += r.netns == b_cookie;
  }
  EXPECT_EQ(from_b, 0) << "no socket of the dismantled b";
  EXPECT_FALSE(a_gone.WaitDeleted(0)) << "a, pinned by the open iterator, is still there";
  it.reset();  // releases a
  EXPECT_TRUE(a_gone.WaitDeleted()) << "a is dismantled once the iterator lets go of it";
  std::cout << "[ netns released mid-pass ] records after the release: " << rest << "\n";
}

}  // namespace
}  // namespace sockbench
