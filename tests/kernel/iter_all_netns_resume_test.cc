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
  std::set<uint64_t> closed, opened;
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
      opened.insert({conns.back().cc, conns.back().pc});
      ++added;
    }
  }
  EXPECT_GT(removed_seen, 0);
  EXPECT_GT(removed_unseen, 0);
  EXPECT_GT(reads, 0);
  // The connections opened during the pass were really added to the
  // namespace's single bucket: a quiet pass afterwards shows both ends of
  // each, established, once.
  EXPECT_EQ(added, 8) << "connections opened during the pass";
  std::map<uint64_t, int> later;
  for (const Record& rec : Dump(Target::kTcpAllNetns))
    if (rec.netns == ns_cookie && rec.state == kTcpEstablished) later[rec.cookie]++;
  for (uint64_t c : opened) EXPECT_EQ(later[c], 1) << "socket " << c << " opened during the pass";
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
// walking (bpf_iter_seq_net_next()): that namespace can lose every other
// reference between two reads without the table going away under the
// iterator, and the reference goes when the walk moves on.
//
// Three namespaces with private tables, walked in creation order a, b, c,
// each with a listener, 8 established connections and 8 TIME_WAIT sockets
// (which do not pin their namespace). Once the pass is inside a's ehash,
// every reference of ours on a and b goes (sockets closed with a reset,
// namespace fds closed): b, not pinned, is dismantled meanwhile (its
// RTM_DELNSID arrives), a is not. The rest of the pass must then show a's
// TIME_WAIT sockets still in a's table (each of them once over the pass),
// none of a's closed sockets, nothing of b, and every socket of c, which
// stays, exactly once; a is dismantled once the walk has moved on to c,
// while the iterator is still open.
TEST_F(IterAllNetnsTest, NamespaceReleasedMidPassStaysValidUntilTheIteratorMovesOn) {
  constexpr int kConns = 8, kTimeWait = 8;
  struct Ns {
    const char* name;
    absl::StatusOr<UniqueFd> fd = absl::InternalError("not created");
    uint64_t cookie = 0;
    Sockets open;                  // listener, clients, accepted: pin the namespace
    std::set<uint64_t> time_wait;  // cookies of its TIME_WAIT sockets
  };
  Ns a{"a"}, b{"b"}, c{"c"};
  for (Ns* ns : {&a, &b, &c}) {  // in this order on net_namespace_list
    ns->fd = CreatePrivateTableNetns(64, 128);
    ASSERT_TRUE(ns->fd.ok()) << ns->name << ": " << ns->fd.status();
    ASSERT_EQ(TableEntries(ns->fd->get(), "tcp_ehash_entries"), 64) << ns->name;
    ns->cookie = CookieOf(ns->fd->get());
  }
  const int32_t base = 920000 + getpid() % 1000 * 4;
  NsidWatch a_gone(a.fd->get(), base), b_gone(b.fd->get(), base + 1);
  ASSERT_TRUE(a_gone.ok() && b_gone.ok());
  for (Ns* ns : {&a, &b, &c}) {
    auto in = ScopedNetns::Enter(ns->fd->get());
    ASSERT_TRUE(in.ok());
    const std::string name = ns->name;
    int l = ns->open.Keep(ns->open.TcpListener(AF_INET), name + " tcp listener");
    for (int i = 0; i < kConns; ++i) {
      auto [cl, p] = ns->open.TcpPair(l, AF_INET);
      ns->open.Keep(std::move(cl), name + " tcp client");
      ns->open.Keep(std::move(p), name + " tcp accepted");
    }
    // The client closes first, the server reads EOF and closes: the client
    // socket becomes a TIME_WAIT socket carrying its cookie.
    for (int i = 0; i < kTimeWait; ++i) {
      auto [cl, p] = ns->open.TcpPair(l, AF_INET);
      ns->time_wait.insert(Cookie(cl.get()));
      cl.reset();
      char byte;
      ASSERT_EQ(read(p.get(), &byte, 1), 0);
      p.reset();
    }
  }

  // Before the pass: each namespace holds exactly its open sockets and its
  // TIME_WAIT sockets (loopback completes the closing handshakes before the
  // calls return; checked, not assumed: a socket left in LAST_ACK or
  // FIN_WAIT would keep its namespace alive).
  {
    std::map<uint64_t, std::map<uint64_t, uint8_t>> by_ns;  // netns -> cookie -> state
    for (const Record& r : Dump(Target::kTcpAllNetns)) by_ns[r.netns][r.cookie] = r.state;
    for (Ns* ns : {&a, &b, &c}) {
      std::map<uint64_t, uint8_t> want;
      for (const auto& [cookie, desc] : ns->open.what)
        want[cookie] = desc.find("listener") != std::string::npos ? kTcpListen : kTcpEstablished;
      for (uint64_t cookie : ns->time_wait) want[cookie] = kTcpTimeWait;
      ASSERT_EQ(by_ns[ns->cookie], want) << ns->name << ": sockets and states before the pass";
    }
  }

  Link l = AttachDump(Target::kTcpAllNetns);
  ASSERT_TRUE(l.link.valid());
  UniqueFd it(bpf_iter_create(l.link.get()));
  ASSERT_TRUE(it.valid()) << strerror(errno);
  // Listeners are in the global lhash2, walked first; any other socket of
  // a is in a's own ehash.
  auto in_ehash_of = [](const Record& r, const Ns& ns) { return r.netns == ns.cookie && r.state != kTcpListen; };
  std::vector<Record> before, after;  // what the pass showed before and after the release
  Record r;
  while (ReadOne(it.get(), &r)) {
    before.push_back(r);
    if (in_ehash_of(r, a)) break;
  }
  ASSERT_TRUE(!before.empty() && in_ehash_of(before.back(), a)) << "the pass never reached a's private ehash";

  // Drop every reference we have on a and b.
  for (Ns* ns : {&a, &b}) {
    for (auto& fd : ns->open.fds) CloseWithReset(fd);
    ns->fd->reset();
  }
  ASSERT_TRUE(b_gone.WaitDeleted()) << "b, not pinned, is dismantled while the iterator is open";
  EXPECT_FALSE(a_gone.WaitDeleted(0)) << "a, the namespace being walked, is pinned by the iterator";

  // The rest of a's ehash, up to the first socket of c's.
  bool reached_c = false;
  while (ReadOne(it.get(), &r)) {
    after.push_back(r);
    if (in_ehash_of(r, c)) {
      reached_c = true;
      break;
    }
  }
  ASSERT_TRUE(reached_c) << "the pass never reached c's private ehash";
  // The walk has left a for c, dropping its reference: a goes now, while
  // the iterator is still open.
  EXPECT_TRUE(a_gone.WaitDeleted()) << "a is dismantled once the walk has moved on from it";
  std::vector<Record> rest = ReadAll<Record>(it.get());
  after.insert(after.end(), rest.begin(), rest.end());

  // What the pass did with each namespace.
  int a_time_wait_after = 0, a_other_after = 0, from_b_after = 0;
  for (const Record& rec : after) {
    from_b_after += rec.netns == b.cookie;
    if (rec.netns != a.cookie) continue;
    if (rec.state == kTcpTimeWait && a.time_wait.count(rec.cookie))
      ++a_time_wait_after;
    else
      ++a_other_after;
  }
  std::vector<Record> all = before;
  all.insert(all.end(), after.begin(), after.end());
  auto time_wait_shown = [&all](const Ns& ns) {
    std::map<uint64_t, int> n;
    for (const Record& rec : all)
      if (rec.netns == ns.cookie && rec.state == kTcpTimeWait && ns.time_wait.count(rec.cookie)) n[rec.cookie]++;
    return n;
  };
  EXPECT_EQ(from_b_after, 0) << "no socket of the dismantled b";
  EXPECT_EQ(a_other_after, 0) << "none of a's closed sockets after the release, nor anything unknown of a";
  // The pass stopped at a's first ehash socket: at most one of its TIME_WAIT
  // sockets was shown before the release, the others after it.
  EXPECT_GE(a_time_wait_after, kTimeWait - 1) << "a's TIME_WAIT sockets, still in a's table, after the release";
  for (const Ns* ns : {&a, &c}) {
    std::map<uint64_t, int> tw = time_wait_shown(*ns);
    for (uint64_t cookie : ns->time_wait)
      EXPECT_EQ(tw[cookie], 1) << ns->name << ": TIME_WAIT socket " << cookie << ", once over the pass";
  }
  ExpectSeenOnce(all, c.open, c.cookie, SOCK_STREAM);  // c's listener, clients and accepted sockets
  std::cout << "[ netns released mid-pass ] records before the release: " << before.size()
            << ", after: " << after.size() << " (a's TIME_WAIT: " << a_time_wait_after << ")\n";
}

}  // namespace
}  // namespace sockbench
