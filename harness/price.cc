#include "harness/price.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/cleanup.h"
#include "harness/netns.h"
#include "harness/registry.h"
#include "harness/status.h"
#include "harness/unique_fd.h"

namespace sockbench {
namespace {

// Descriptors a measuring process holds besides its sockets: stdio, its
// channel, and what it inherits from the command (the approaches' BPF
// objects).
constexpr long kSpareFds = 256;

double NowUs() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A /proc/meminfo field ("Slab:") in kB; -1 if absent.
long MeminfoKb(const char* field) {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  return -1;
}

// The previous row's sockets and namespace are freed after its process is
// gone (socket close, RCU, the namespace's cleanup work): wait until the
// slab stops shrinking, so those frees do not land in the next row's
// window. Settled: four readings 50 ms apart, none more than 64 KiB below
// the one before; at most 30 s (TCG).
void SettleSlab() {
  long prev = MeminfoKb("Slab:");
  int calm = 0;
  for (int i = 0; i < 600 && calm < 4; ++i) {
    usleep(50 * 1000);
    long cur = MeminfoKb("Slab:");
    calm = prev - cur < 64 ? calm + 1 : 0;
    prev = cur;
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string CaseName(PriceCase c) { return absl::StrCat(ProtoName(c.proto), "/", FamilyName(c.family)); }

void V6Only(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
}

absl::StatusOr<UniqueFd> BackendServer(PriceCase c, const Endpoint& ep) {
  UniqueFd s(socket(AfOf(c.family), SockTypeOf(c.proto) | SOCK_CLOEXEC, 0));
  if (!s.valid()) return ErrnoStatus("backend socket");
  if (c.family == Family::kIpv6) V6Only(s.get());
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return ErrnoStatus(absl::StrCat("bind the backend ", ep.ToString()));
  if (c.proto == Proto::kTcp && listen(s.get(), SOMAXCONN) < 0) return ErrnoStatus("listen");
  return s;
}

// In the measuring process: a namespace of its own with one backend, then
// the cgroup, and `n` sockets connected to the backend, each connect()
// timed; every socket (and TCP peer) stays open in `keep`. The namespace
// is set up before joining: its IPv6 setup connect()s a UDP socket to
// check the route, which the approach would record.
absl::StatusOr<ConnectSeries> TimeConnects(PriceCase c, int n, const std::string& cgroup_path,
                                           std::vector<UniqueFd>* keep) {
  NetnsOptions opts;
  if (c.family == Family::kIpv6) opts.ipv6_addresses = BackendAddressCount(1);
  SB_ASSIGN_OR_RETURN(UniqueFd ns, NetnsSet::CreateOne(opts));
  SB_RETURN_IF_ERROR(SetNetns(ns.get()));
  SB_RETURN_IF_ERROR(JoinCgroup(cgroup_path));
  const Endpoint ep = BackendEndpoint(0, c.family);
  SB_ASSIGN_OR_RETURN(UniqueFd server, BackendServer(c, ep));
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  keep->reserve(static_cast<size_t>(n) * (c.proto == Proto::kTcp ? 2 : 1) + 1);
  std::vector<double> us(static_cast<size_t>(n));
  const long slab0 = MeminfoKb("Slab:");
  for (int i = 0; i < n; ++i) {
    UniqueFd s(socket(AfOf(c.family), SockTypeOf(c.proto) | SOCK_CLOEXEC, 0));
    if (!s.valid()) return ErrnoStatus(absl::StrCat("socket ", i + 1, " of ", n));
    if (c.family == Family::kIpv6) V6Only(s.get());
    double t0 = NowUs();
    int rc = connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len);
    us[static_cast<size_t>(i)] = NowUs() - t0;
    if (rc < 0) return ErrnoStatus(absl::StrCat("connect ", i + 1, " of ", n, " to ", ep.ToString()));
    keep->push_back(std::move(s));
    if (c.proto == Proto::kTcp) {
      pollfd p{server.get(), POLLIN, 0};
      if (poll(&p, 1, 10000) != 1)
        return absl::DeadlineExceededError(
            absl::StrCat("connection ", i + 1, " of ", n, " never reached the backend's accept queue"));
      UniqueFd peer(accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!peer.valid()) return ErrnoStatus(absl::StrCat("accept ", i + 1, " of ", n));
      keep->push_back(std::move(peer));
    }
  }
  const long slab1 = MeminfoKb("Slab:");
  keep->push_back(std::move(server));

  ConnectSeries r;
  double total = 0;
  for (int b = 0; b < kPriceBlocks; ++b) {
    long lo = static_cast<long>(n) * b / kPriceBlocks, hi = static_cast<long>(n) * (b + 1) / kPriceBlocks;
    std::vector<double> block(us.begin() + lo, us.begin() + hi);
    double sum = 0;
    for (double v : block) sum += v;
    total += sum;
    r.block_sockets.push_back(hi - lo);
    r.block_mean_us.push_back(sum / static_cast<double>(block.size()));
    r.block_median_us.push_back(Median(block));
  }
  r.mean_us = total / n;
  r.median_us = Median(us);
  r.slab_bytes = slab0 < 0 || slab1 < 0 ? 0 : (slab1 - slab0) * 1024;
  return r;
}

nlohmann::json SeriesToJson(const ConnectSeries& s) {
  return {{"block_sockets", s.block_sockets}, {"block_mean_us", s.block_mean_us},
          {"block_median_us", s.block_median_us}, {"mean_us", s.mean_us}, {"median_us", s.median_us},
          {"slab_bytes", s.slab_bytes}};
}

ConnectSeries SeriesFromJson(const nlohmann::json& j) {
  ConnectSeries s;
  s.block_sockets = j.at("block_sockets").get<std::vector<long>>();
  s.block_mean_us = j.at("block_mean_us").get<std::vector<double>>();
  s.block_median_us = j.at("block_median_us").get<std::vector<double>>();
  s.mean_us = j.at("mean_us").get<double>();
  s.median_us = j.at("median_us").get<double>();
  s.slab_bytes = j.at("slab_bytes").get<long>();
  return s;
}

// The measuring process: measures, reports, and holds its sockets until
// the parent kills it (having read the approach's counters).
[[noreturn]] void PriceWorker(int chan, const std::string& cgroup_path, PriceCase c, int n) {
  std::vector<UniqueFd> keep;
  absl::StatusOr<ConnectSeries> s = TimeConnects(c, n, cgroup_path, &keep);
  nlohmann::json reply = s.ok() ? SeriesToJson(*s) : nlohmann::json{{"error", std::string(s.status().message())}};
  std::string msg = reply.dump();
  if (send(chan, msg.data(), msg.size(), MSG_NOSIGNAL) < 0) _exit(1);
  char b;
  while (read(chan, &b, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

absl::StatusOr<ConnectSeries> AwaitSeries(int chan) {
  std::string buf(1 << 16, '\0');
  ssize_t n;
  while ((n = recv(chan, buf.data(), buf.size(), 0)) < 0 && errno == EINTR) {
  }
  if (n < 0) return ErrnoStatus("receive the measuring process's report");
  if (n == 0) return absl::InternalError("the measuring process ended without a report");
  nlohmann::json j = nlohmann::json::parse(buf.substr(0, static_cast<size_t>(n)), nullptr, false);
  if (j.is_discarded()) return absl::InternalError("the measuring process's report is not JSON");
  if (j.contains("error")) return absl::InternalError(j["error"].get<std::string>());
  return SeriesFromJson(j);
}

std::string Grouped(uint64_t v) {
  std::string s = absl::StrCat(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

}  // namespace

std::vector<std::string> TrackingApproachNames() {
  std::vector<std::string> names;
  for (const ApproachInfo& a : Approaches().rows())
    if (a.make()->TracksAtConnect()) names.push_back(a.name);
  return names;
}

absl::StatusOr<PriceOptions> ParsePriceOptions(const PriceFlags& flags, const std::string& kernel_release,
                                               uint64_t fd_limit) {
  PriceOptions o;
  const std::vector<std::string> tracking = TrackingApproachNames();
  if (flags.approach.empty() || flags.approach == "all") {
    o.approaches = tracking;
  } else {
    std::vector<std::string> entries = absl::StrSplit(flags.approach, ',', absl::SkipWhitespace());
    if (entries.empty()) return absl::InvalidArgumentError("--approach: empty list");
    std::vector<std::string> given;
    for (const std::string& n : entries)
      if (n != kPriceBaseline) given.push_back(n);  // the baseline is always measured
    if (!given.empty()) {
      SB_ASSIGN_OR_RETURN(o.approaches, ParseApproachList(absl::StrJoin(given, ",")));
    }
    std::set<std::string> seen;
    for (const std::string& n : o.approaches) {
      if (std::find(tracking.begin(), tracking.end(), n) == tracking.end())
        return absl::InvalidArgumentError(absl::StrCat(
            "--approach: ", n, " records nothing at connect time, so connect() pays nothing for it "
            "(price measures: ", absl::StrJoin(tracking, ", "), "; or 'none' for the baseline alone)"));
      if (!seen.insert(n).second)
        return absl::InvalidArgumentError(absl::StrCat("--approach: ", n, " is listed twice"));
    }
  }
  o.sockets = flags.sockets.value_or(kDefaultPriceSockets);
  if (o.sockets < kPriceBlocks)
    return absl::InvalidArgumentError(absl::StrCat("--sockets must be at least ", kPriceBlocks,
                                                   " (the connect()s are timed in ", kPriceBlocks,
                                                   " blocks), got ", o.sockets));
  if (o.sockets > kClientsPerSourceAddress)
    return absl::InvalidArgumentError(
        absl::StrCat("--sockets must be at most ", kClientsPerSourceAddress,
                     " (the client ports of one namespace towards one backend), got ", o.sockets));
  const long need = 2L * o.sockets + kSpareFds;
  if (static_cast<uint64_t>(need) > fd_limit)
    return absl::InvalidArgumentError(absl::StrCat(
        "--sockets ", o.sockets, ": a TCP row holds ", need,
        " descriptors (each socket and its accepted peer, and ", kSpareFds, " spare), RLIMIT_NOFILE allows ",
        fd_limit, " (at most --sockets ", fd_limit > kSpareFds ? (fd_limit - kSpareFds) / 2 : 0, ")"));
  o.out = flags.out.empty() ? absl::StrCat("results/price-", kernel_release, ".json") : flags.out;
  return o;
}

std::vector<PriceCase> PriceCases() {
  return {{Proto::kUdp, Family::kIpv4}, {Proto::kTcp, Family::kIpv4}, {Proto::kUdp, Family::kIpv6},
          {Proto::kTcp, Family::kIpv6}};
}

PriceRow UnsupportedPriceRow(const std::string& approach, PriceCase c, const absl::Status& probe) {
  PriceRow row;
  row.approach = approach;
  row.c = c;
  row.status = absl::StrCat("unsupported: ", probe.message());
  return row;
}

PriceRow MeasurePriceRow(const std::string& approach, Destroyer* d, PriceCase c, int sockets,
                         const ScopedCgroup& cgroup, const std::function<void(int pid)>& started) {
  PriceRow row;
  row.approach = approach;
  row.c = c;
  row.sockets = sockets;
  row.status = "ok";
  auto failed = [&row](absl::string_view why) {
    row.status = absl::StrCat("failed: ", why);
    return row;
  };
  // Detached on every way out, after the measuring process is gone (its
  // sockets close while the programs are still attached: an index that
  // removes closed sockets stays clean for the next row).
  struct ReleaseOnExit {
    Destroyer* d;
    ~ReleaseOnExit() {
      if (d) d->Release();
    }
  } release{d};
  SettleSlab();
  if (d) {
    absl::Status st = d->Prepare(PrepareEnv{nullptr, cgroup.fd()});
    if (!st.ok()) return failed(absl::StrCat("Prepare: ", st.message()));
  }
  const TrackedCounts before = d ? d->Tracked() : TrackedCounts{};
  row.map_bytes_empty = d ? d->TrackingBytes() : 0;

  std::fflush(stdout);  // the child must not inherit buffered output
  absl::StatusOr<ForkedWorker> w = ForkWorker("price worker");
  if (!w.ok()) return failed(w.status().message());
  if (w->pid == 0) PriceWorker(w->fd, cgroup.path(), c, sockets);
  UniqueFd chan(w->fd);
  if (started) started(w->pid);
  absl::StatusOr<ConnectSeries> series = AwaitSeries(chan.get());
  TrackedCounts after = d ? d->Tracked() : TrackedCounts{};
  if (series.ok()) row.map_bytes = d ? d->TrackingBytes() : 0;
  KillAndReap(w->pid);
  if (!series.ok()) return failed(series.status().message());
  row.series = *series;
  row.recorded = after.recorded - before.recorded;
  row.record_failed = after.failed - before.failed;
  if (d && (row.recorded != static_cast<uint64_t>(sockets) || row.record_failed != 0))
    return failed(absl::StrCat(approach, " recorded ", row.recorded, " of ", sockets, " sockets (",
                               row.record_failed, " could not be recorded)"));
  return row;
}

void AddBaselineDifferences(std::vector<PriceRow>* rows) {
  for (PriceRow& r : *rows) {
    if (!r.series) continue;
    for (const PriceRow& b : *rows)
      if (b.approach == kPriceBaseline && b.ok() && b.c.proto == r.c.proto && b.c.family == r.c.family)
      {
        r.added_median_us = r.series->median_us - b.series->median_us;
        r.added_mean_us = r.series->mean_us - b.series->mean_us;
      }
  }
}

nlohmann::json PriceRowToJson(const PriceRow& row) {
  nlohmann::json j = {{"approach", row.approach}, {"protocol", ProtoName(row.c.proto)},
                      {"family", FamilyName(row.c.family)}, {"status", row.status}};
  if (!row.series) return j;
  const ConnectSeries& s = *row.series;
  j["sockets"] = row.sockets;
  j["block_sockets"] = s.block_sockets;
  j["connect_us_per_block"] = s.block_mean_us;
  j["connect_us_median_per_block"] = s.block_median_us;
  j["connect_us_mean"] = s.mean_us;
  j["connect_us_median"] = s.median_us;
  if (row.added_median_us) j["added_us_median"] = *row.added_median_us;
  if (row.added_mean_us) j["added_us_mean"] = *row.added_mean_us;
  j["slab_bytes"] = s.slab_bytes;
  j["slab_bytes_per_socket"] = static_cast<double>(s.slab_bytes) / row.sockets;
  j["map_bytes_empty"] = row.map_bytes_empty;
  j["map_bytes"] = row.map_bytes;
  j["recorded"] = row.recorded;
  j["record_failed"] = row.record_failed;
  return j;
}

nlohmann::json PriceDocument(nlohmann::json context, const std::vector<PriceRow>& rows) {
  context[kPriceSchemaVersionKey] = kPriceSchemaVersion;
  nlohmann::json out = nlohmann::json::array();
  for (const PriceRow& r : rows) out.push_back(PriceRowToJson(r));
  return {{"context", std::move(context)}, {"rows", std::move(out)}};
}

std::string PriceTable(const std::vector<PriceRow>& rows) {
  std::string t = absl::StrFormat("%-23s %-9s %-39s %7s %7s %7s %12s %27s %9s\n", "approach", "case",
                                  "connect() us: median of each fifth", "median", "added", "mean",
                                  "slab/socket", "map bytes: empty -> full", "recorded");
  for (size_t i = 0; i < rows.size(); ++i) {
    const PriceRow& r = rows[i];
    if (i > 0 && (r.c.proto != rows[i - 1].c.proto || r.c.family != rows[i - 1].c.family)) t += "\n";
    absl::StrAppendFormat(&t, "%-23s %-9s ", r.approach, CaseName(r.c));
    if (!r.series) {
      absl::StrAppend(&t, r.status, "\n");
      continue;
    }
    const ConnectSeries& s = *r.series;
    std::string blocks;
    for (double b : s.block_median_us) absl::StrAppendFormat(&blocks, "%7.1f ", b);
    const bool baseline = r.approach == kPriceBaseline;
    absl::StrAppendFormat(
        &t, "%-39s %7.1f %7s %7.1f %10.0f B %27s %9s", blocks, s.median_us,
        baseline || !r.added_median_us ? "-" : absl::StrFormat("%+.1f", *r.added_median_us), s.mean_us,
        static_cast<double>(s.slab_bytes) / r.sockets,
        baseline ? "-" : absl::StrCat(Grouped(r.map_bytes_empty), " -> ", Grouped(r.map_bytes)),
        baseline ? "-" : Grouped(r.recorded));
    if (!r.ok()) absl::StrAppend(&t, "  ", r.status);
    absl::StrAppend(&t, "\n");
  }
  return t;
}

}  // namespace sockbench
