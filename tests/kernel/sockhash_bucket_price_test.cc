// The price of the sockhash_bucket approach on the running kernel: connect()
// with the socket inserted into the sockhash, and the map's memory. Only
// with SOCKBENCH_SOCKHASH_PRICE_OUT=<file> (minutes under TCG), which gets
// the JSON; skipped on kernels without the sockmap series.
#include <gtest/gtest.h>

#include "harness/bpf_map_memory.h"
#include "tests/kernel/price_support.h"
#include "tests/kernel/sockhash_bucket_support.h"

namespace sockbench {

namespace {

using namespace sockhash_test;  // NOLINT: SkipReason, Cookie, Loopback4

// ---------------------------------------------------------------------------
// The price: connect() with insertion, and memory. Only with
// SOCKBENCH_SOCKHASH_PRICE_OUT set (minutes under TCG).

long EnvLong(const char* name, long def) {
  const char* v = getenv(name);
  return v ? std::strtol(v, nullptr, 0) : def;
}

// Connects `n` sockets (UDP, or TCP with the peer accepted at once) to one
// endpoint (`distinct` false: one bucket) or each to its own port (UDP
// only: one bucket each); returns the mean connect() time in microseconds
// of each block of `block` connects. Sockets are kept in `keep`; a fresh
// namespace every 40000 sockets (port space).
std::vector<double> ConnectSeries(Proto proto, long n, long block, bool distinct,
                                  std::vector<UniqueFd>* keep, std::vector<UniqueFd>* namespaces) {
  std::vector<double> means;
  double acc = 0;
  std::optional<ScopedNetns> in;
  UniqueFd server;
  const Endpoint tcp_backend = Loopback4(8000);
  for (long i = 0; i < n; ++i) {
    if (i % 40000 == 0) {
      in.reset();
      auto fd = NetnsSet::CreateOne({0});
      EXPECT_TRUE(fd.ok()) << fd.status();
      namespaces->push_back(std::move(*fd));
      auto e = ScopedNetns::Enter(namespaces->back().get());
      EXPECT_TRUE(e.ok());
      in.emplace(std::move(*e));
      if (proto == Proto::kTcp) {
        server.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_storage ss;
        socklen_t len = tcp_backend.ToSockaddr(&ss);
        EXPECT_EQ(bind(server.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
        EXPECT_EQ(listen(server.get(), 4096), 0);
        keep->push_back(UniqueFd(dup(server.get())));
      }
    }
    Endpoint to = proto == Proto::kTcp ? tcp_backend : Loopback4(9);
    if (distinct) {
      to.port_be = htons(static_cast<uint16_t>(1 + i % 60000));
      to.addr[2] = static_cast<uint8_t>(i / 60000);
    }
    UniqueFd s(socket(AF_INET, SockTypeOf(proto) | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = to.ToSockaddr(&ss);
    double t0 = NowUs();
    int rc = connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len);
    acc += NowUs() - t0;
    if (rc != 0) {
      ADD_FAILURE() << "connect " << i << ": " << strerror(errno);
      break;
    }
    keep->push_back(std::move(s));
    if (proto == Proto::kTcp) keep->push_back(UniqueFd(accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC)));
    if ((i + 1) % block == 0) {
      means.push_back(acc / block);
      std::fprintf(stderr, "  %ld connects, last block %.1f us\n", i + 1, acc / block);
      acc = 0;
    }
  }
  return means;
}

void WriteJson(const char* out, const nlohmann::json& j) { std::ofstream(out) << j.dump(2) << "\n"; }

TEST(SockhashBucketPrice, ConnectCostAndMemory) {
  const char* out = getenv("SOCKBENCH_SOCKHASH_PRICE_OUT");
  if (!out) GTEST_SKIP() << "set SOCKBENCH_SOCKHASH_PRICE_OUT=<file> to measure";
  SKIP_UNLESS_SUPPORTED();
  const long n = EnvLong("SOCKBENCH_PRICE_SOCKETS", 50000);
  const long n_tcp = EnvLong("SOCKBENCH_PRICE_TCP_SOCKETS", 10000);
  const long block = EnvLong("SOCKBENCH_PRICE_BLOCK", 5000);
  const long entries = EnvLong("SOCKBENCH_PRICE_MAP_ENTRIES", 1 << 20);
  const long holders = EnvLong("SOCKBENCH_PRICE_MAP_SOCKETS", 4096);
  nlohmann::json j;
  j["sockets"] = n;
  j["tcp_sockets"] = n_tcp;
  j["block"] = block;
  j["vm"] = getenv("SOCKBENCH_VM") ? getenv("SOCKBENCH_VM") : "none";
  j["patchset"] = getenv("SOCKBENCH_PATCHSET") ? getenv("SOCKBENCH_PATCHSET") : "none";

  // Map memory: empty with max_entries = 1 << 20, and full: `entries` keys
  // with distinct prefixes over `holders` sockets (a socket can be in a
  // sockhash under many keys; keep the links per socket few, their removal
  // walks the psock's link list).
  {
    std::fprintf(stderr, "memory: %ld entries over %ld sockets\n", entries, holders);
    auto skel = LoadSkel(static_cast<uint32_t>(entries), SB_SOCKHASH_PREFIX_LEN);
    ASSERT_TRUE(skel.ok()) << skel.status();
    int map = bpf_map__fd((*skel)->maps.sb_sockhash);
    j["memory"]["max_entries"] = entries;
    j["memory"]["key_size"] = sizeof(sb_sockhash_key);
    j["memory"]["memlock_empty_bytes"] = MapMemlockBytes(map);
    InNetns ns;
    std::vector<UniqueFd> socks;
    for (long i = 0; i < holders; ++i) socks.push_back(UdpConnected(Loopback4(9)));
    long slab0 = MeminfoKb("Slab:");
    double t0 = NowUs();
    long done = 0;
    for (long i = 0; i < entries; ++i) {
      sb_sockhash_key k = SockhashPrefix(Loopback4(static_cast<uint16_t>(i % 65536)));
      k.addr_be[1] = static_cast<uint32_t>(i / 65536);
      k.cookie = static_cast<uint64_t>(i);
      uint64_t fd = socks[i % holders].get();
      if (bpf_map_update_elem(map, &k, &fd, BPF_NOEXIST) != 0) {
        ADD_FAILURE() << "update " << i << ": " << strerror(errno);
        break;
      }
      ++done;
    }
    j["memory"]["entries"] = done;
    j["memory"]["holder_sockets"] = holders;
    j["memory"]["insert_us_per_entry_syscall"] = (NowUs() - t0) / std::max(1L, done);
    j["memory"]["memlock_full_bytes"] = MapMemlockBytes(map);
    j["memory"]["slab_kb_delta_full"] = MeminfoKb("Slab:") - slab0;
    WriteJson(out, j);
    std::fprintf(stderr, "memory done\n");
  }

  // connect(): no program, then with the programs inserting into the
  // sockhash, with distinct prefixes (a bucket each) and with a single
  // prefix (one bucket that grows to n).
  struct Mode {
    const char* name;
    Proto proto;
    bool program;
    bool distinct;
  };
  for (Mode m : {Mode{"udp_no_program", Proto::kUdp, false, false},
                 Mode{"udp_insert_distinct_prefixes", Proto::kUdp, true, true},
                 Mode{"udp_insert_one_prefix", Proto::kUdp, true, false},
                 Mode{"tcp_no_program", Proto::kTcp, false, false},
                 Mode{"tcp_insert_one_prefix", Proto::kTcp, true, false}}) {
    std::fprintf(stderr, "connect: %s\n", m.name);
    std::vector<UniqueFd> keep, namespaces;
    SockhashBucketDestroyer d;
    if (m.program) {
      ASSERT_TRUE(d.Prepare(PrepareEnv{}).ok());
    }
    long slab0 = MeminfoKb("Slab:");
    long count = m.proto == Proto::kTcp ? n_tcp : n;
    std::vector<double> means = ConnectSeries(m.proto, count, block, m.distinct, &keep, &namespaces);
    nlohmann::json r;
    r["connect_us_per_block"] = means;
    r["sockets"] = count;
    r["slab_kb_delta"] = MeminfoKb("Slab:") - slab0;  // TCP: client + peer
    if (d.map_fd() >= 0) {
      r["inserted"] = d.index_counters().inserted;
      r["insert_failed"] = d.index_counters().failed;
      r["map_memlock_bytes"] = MapMemlockBytes(d.map_fd());
    }
    j["connect"][m.name] = r;
    WriteJson(out, j);
    keep.clear();
    d.Release();
  }
  std::printf("%s\n", j.dump(2).c_str());
}

}  // namespace
}  // namespace sockbench
