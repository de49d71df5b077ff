#include "lazy/datapath_cost.h"

#include <arpa/inet.h>
#include <sched.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/netns.h"
#include "harness/sample_stats.h"
#include "harness/status.h"
#include "harness/unique_fd.h"
#include "lazy/approach.h"
#include "lazy/scene.h"

namespace sockbench {
namespace {

// Nobody listens there: the backend drops each datagram (NoPorts) and its
// ICMP answer is rate-limited to a trickle.
constexpr uint16_t kDiscardPort = 9;

// The backends' UDP NoPorts counter for `family`, read inside their
// namespace (/proc/thread-self/net follows the thread's namespace).
absl::StatusOr<long> NoPorts(int netns_fd, Family family) {
  SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(netns_fd));
  if (family == Family::kIpv6) {
    std::ifstream f("/proc/thread-self/net/snmp6");
    std::string key;
    long v;
    while (f >> key >> v)
      if (key == "Udp6NoPorts") return v;
    return absl::NotFoundError("no Udp6NoPorts in /proc/net/snmp6");
  }
  // Two "Udp:" lines: the field names, then the values.
  std::ifstream f("/proc/thread-self/net/snmp");
  std::string line, names;
  while (std::getline(f, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    if (names.empty()) {
      names = line;
      continue;
    }
    std::istringstream n(names), v(line);
    std::string name, value;
    while (n >> name && v >> value)
      if (name == "NoPorts") return std::stol(value);
  }
  return absl::NotFoundError("no Udp NoPorts in /proc/net/snmp");
}

// The dead backends of a configuration: addresses nothing uses, so that the
// set is as big as configured and no datagram of the sample is rejected.
std::string AddDead(Family family, int n) {
  std::string cmd;
  for (int i = 0; i < n; ++i) {
    std::string addr = family == Family::kIpv4 ? absl::StrFormat("10.203.%d.%d", i / 250, 1 + i % 250)
                                               : absl::StrFormat("fd00:5f::%x", i + 1);
    absl::StrAppend(&cmd, cmd.empty() ? "" : ", ", addr, " . ", kLazyBackendPort);
  }
  if (cmd.empty()) return "";
  return absl::StrCat("add element inet sockbench_icmp ", family == Family::kIpv4 ? "reject4" : "reject6", " { ",
                      cmd, " }\n");
}

absl::Status Configure(Scene& scene, Family family, int dead) {
  Nft& nft = scene.node_nft();
  // "destroy" would need nft 1.0.8; a missing table is the only failure
  // "delete" may have here, and the next command names any other.
  (void)nft.Run("delete table inet sockbench_icmp\n");
  if (dead == DatapathCostOptions::kNoTable) return absl::OkStatus();
  SB_RETURN_IF_ERROR(nft.Run(IcmpRejectRules(IcmpKind::kPortUnreachable)));
  return nft.Run(AddDead(family, dead));
}

// One sample: `packets` sendto()s from the pod, ns per datagram; checked
// against the backends' NoPorts counter.
absl::StatusOr<double> Sample(Scene& scene, Family family, int packets) {
  Endpoint to = LazyBackend(1, family);
  to.port_be = htons(kDiscardPort);
  sockaddr_storage ss;
  socklen_t len = to.ToSockaddr(&ss);
  SB_ASSIGN_OR_RETURN(long before, NoPorts(scene.backends_fd(), family));
  int64_t start, end;
  {
    SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(scene.pod_fd(0)));
    UniqueFd s(socket(AfOf(family), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) return ErrnoStatus("socket");
    char payload[64] = {};
    start = MonotonicNs();
    for (int i = 0; i < packets; ++i)
      if (sendto(s.get(), payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0)
        return ErrnoStatus(absl::StrCat("sendto ", to.ToString()));
    end = MonotonicNs();
  }
  // veth delivers in the sender's softirq, so every datagram has normally
  // arrived when sendto() returns; a softirq deferred to ksoftirqd may
  // still be draining, so the counter gets a bounded second. One the node
  // dropped would make the sample cheaper than the path it claims to time.
  long after = before;
  for (int64_t until = MonotonicNs() + 1'000'000'000; after - before < packets && MonotonicNs() < until;) {
    SB_ASSIGN_OR_RETURN(after, NoPorts(scene.backends_fd(), family));
    if (after - before < packets) sched_yield();
  }
  if (after - before != packets)
    return absl::InternalError(absl::StrFormat("%d datagrams sent to %s, %d reached the backend", packets,
                                               to.ToString(), after - before));
  return static_cast<double>(end - start) / packets;
}

// Pins the calling thread to the CPU it runs on, for the samples' sake;
// the old mask comes back at the end of the scope.
class PinToThisCpu {
 public:
  PinToThisCpu() {
    ok_ = sched_getaffinity(0, sizeof(old_), &old_) == 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    if (ok_) sched_setaffinity(0, sizeof(one), &one);
  }
  ~PinToThisCpu() {
    if (ok_) sched_setaffinity(0, sizeof(old_), &old_);
  }

 private:
  cpu_set_t old_;
  bool ok_;
};

}  // namespace

std::string DatapathCostRow::Config() const {
  if (dead == DatapathCostOptions::kNoTable) return "no reject table";
  return absl::StrCat("reject table, ", dead, " dead");
}

absl::StatusOr<std::vector<DatapathCostRow>> MeasureRejectTableCost(const DatapathCostOptions& opts) {
  if (opts.packets <= 0 || opts.repetitions <= 0) return absl::InvalidArgumentError("packets and repetitions > 0");
  if (opts.dead.empty() || opts.dead[0] != DatapathCostOptions::kNoTable)
    return absl::InvalidArgumentError("the first configuration must be the one without the table");
  SB_ASSIGN_OR_RETURN(std::unique_ptr<Scene> scene, Scene::Create(SceneOptions{.pods = 1, .backends = 2}));
  PinToThisCpu pin;
  std::vector<DatapathCostRow> rows;
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    const size_t first = rows.size();
    for (int d : opts.dead) rows.push_back(DatapathCostRow{.family = family, .dead = d});
    // Warm-up: caches, the neighbour entry for the discard port's path.
    SB_RETURN_IF_ERROR(Configure(*scene, family, DatapathCostOptions::kNoTable));
    SB_RETURN_IF_ERROR(Sample(*scene, family, std::max(1, opts.packets / 10)).status());
    for (int rep = 0; rep < opts.repetitions; ++rep)
      // Interleaved, each repetition starting one configuration later, so
      // that a drift of the machine lands on every configuration alike.
      for (size_t k = 0; k < opts.dead.size(); ++k) {
        DatapathCostRow& row = rows[first + (k + rep) % opts.dead.size()];
        SB_RETURN_IF_ERROR(Configure(*scene, family, row.dead));
        SB_ASSIGN_OR_RETURN(double ns, Sample(*scene, family, opts.packets));
        row.ns.push_back(ns);
      }
    const DatapathCostRow& base = rows[first];
    for (size_t i = first; i < rows.size(); ++i) {
      DatapathCostRow& row = rows[i];
      row.median_ns = Median(row.ns);
      row.cv = Cv(row.ns);
      if (i == first) continue;
      for (int rep = 0; rep < opts.repetitions; ++rep) row.extra_ns.push_back(row.ns[rep] - base.ns[rep]);
      row.extra_median_ns = Median(row.extra_ns);
      row.extra_min_ns = *std::min_element(row.extra_ns.begin(), row.extra_ns.end());
      row.extra_max_ns = *std::max_element(row.extra_ns.begin(), row.extra_ns.end());
    }
  }
  (void)scene->node_nft().Run("delete table inet sockbench_icmp\n");
  return rows;
}

nlohmann::json DatapathCostJson(const DatapathCostOptions& opts, const std::vector<DatapathCostRow>& rows) {
  nlohmann::json j = {{"what", "ns per forwarded UDP datagram that no rule rejects, sender's sendto() to a "
                               "live backend's closed port through the node (lazy scene)"},
                      {"packets_per_sample", opts.packets},
                      {"repetitions", opts.repetitions},
                      {"rows", nlohmann::json::array()}};
  for (const DatapathCostRow& r : rows) {
    nlohmann::json row = {{"family", FamilyName(r.family)}, {"config", r.Config()},
                          {"dead_backends", r.dead == DatapathCostOptions::kNoTable ? nlohmann::json(nullptr)
                                                                                      : nlohmann::json(r.dead)},
                          {"ns_per_packet", r.ns},           {"median_ns", r.median_ns},
                          {"cv", r.cv}};
    if (!r.extra_ns.empty())
      row["extra_vs_no_table_ns"] = {{"per_repetition", r.extra_ns},
                                     {"median", r.extra_median_ns},
                                     {"min", r.extra_min_ns},
                                     {"max", r.extra_max_ns}};
    j["rows"].push_back(row);
  }
  return j;
}

std::string DatapathCostTable(const std::vector<DatapathCostRow>& rows) {
  std::string out = absl::StrFormat("%-6s %-26s %12s %7s   %s\n", "family", "datapath", "ns/datagram", "cv",
                                    "extra vs no table: median [min, max] ns");
  for (const DatapathCostRow& r : rows) {
    std::string extra = r.extra_ns.empty() ? "-"
                                           : absl::StrFormat("%+.0f [%+.0f, %+.0f]", r.extra_median_ns,
                                                             r.extra_min_ns, r.extra_max_ns);
    absl::StrAppend(&out, absl::StrFormat("%-6s %-26s %12.0f %6.1f%%   %s\n", FamilyName(r.family), r.Config(),
                                          r.median_ns, 100 * r.cv, extra));
  }
  return out;
}

}  // namespace sockbench
