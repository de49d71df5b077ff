// `sockbench price`: what an approach that records sockets at connect time
// (Destroyer::TracksAtConnect) makes every connect() pay, beside a baseline
// with no programs ("none"): connect() time in five blocks (does the price
// grow with the index?), slab growth, the approach's map memory, and how
// many sockets it recorded (all of them, or the row fails).
//
// Each row is measured by a process of its own, forked into the command's
// cgroup (where the approach's programs are attached) and a network
// namespace of its own, so nothing else on the machine runs them (except
// that fexit programs, sleepable_kfunc's, run for every connect() of the
// machine and return at once outside the cgroup). It reports to the parent
// over a socket pair and holds its sockets until the parent has read the
// approach's counters and maps.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/cgroup.h"
#include "harness/destroyer.h"
#include "harness/endpoint.h"
#include "nlohmann/json.hpp"

namespace sockbench {

inline constexpr char kPriceBaseline[] = "none";
inline constexpr int kPriceBlocks = 5;
// TCP holds two descriptors per socket; the VM guest's RLIMIT_NOFILE is
// 20000.
inline constexpr int kDefaultPriceSockets = 8000;
inline constexpr int kPriceSchemaVersion = 1;
inline constexpr char kPriceSchemaVersionKey[] = "sockbench_price_schema_version";

// The command's flags as given (sockets unset: the default).
struct PriceFlags {
  std::string approach = "all";
  std::optional<int> sockets;
  std::string out;
};

struct PriceOptions {
  std::vector<std::string> approaches;  // the tracking approaches to measure, besides the baseline
  int sockets = kDefaultPriceSockets;
  std::string out;
};

// Every registered approach whose Destroyer tracks sockets at connect time,
// in the registry's order: the default list.
std::vector<std::string> TrackingApproachNames();

// Checks the flags; one error naming the flag. --approach: "all" (every
// tracking approach), "none" (the baseline alone) or a list of tracking
// approaches; --sockets: at least one socket per block, at most what one
// namespace's ports and `fd_limit` (RLIMIT_NOFILE of the measuring
// process) hold; --out: default results/price-<kernel_release>.json.
absl::StatusOr<PriceOptions> ParsePriceOptions(const PriceFlags& flags, const std::string& kernel_release,
                                               uint64_t fd_limit);

// What one row measures: protocol and family.
struct PriceCase {
  Proto proto;
  Family family;
};
// udp/ipv4, tcp/ipv4, udp/ipv6, tcp/ipv6.
std::vector<PriceCase> PriceCases();

// What the measuring process saw.
struct ConnectSeries {
  std::vector<long> block_sockets;     // connects per block
  std::vector<double> block_mean_us;   // mean connect() per block
  std::vector<double> block_median_us; // median connect() per block (a preempted call moves the mean)
  double mean_us = 0;
  double median_us = 0;
  long slab_bytes = 0;                 // /proc/meminfo Slab: after minus before (TCP: client + peer)
};

struct PriceRow {
  std::string approach;
  PriceCase c{};
  std::string status;  // "ok", "unsupported: <probe's reason>", "failed: <why>"
  int sockets = 0;
  std::optional<ConnectSeries> series;  // what was measured (a failed row may have it)
  // Minus the baseline's of the same case (none when it has none).
  std::optional<double> added_median_us, added_mean_us;
  uint64_t map_bytes_empty = 0;         // TrackingBytes() after Prepare, before the connects
  uint64_t map_bytes = 0;               // with the sockets open
  uint64_t recorded = 0;                // Tracked() over the connects
  uint64_t record_failed = 0;
  bool ok() const { return status == "ok"; }
};

// Measures one row: `d` (nullptr: the baseline) is Prepare()d with
// `cgroup`, a process sets up a namespace of its own, joins the cgroup and
// times `sockets` connect()s to one backend, keeping every socket (and for
// TCP its accepted peer) open; the approach must have recorded exactly
// those sockets.
// `started` is called with the measuring process's pid once it runs.
PriceRow MeasurePriceRow(const std::string& approach, Destroyer* d, PriceCase c, int sockets,
                         const ScopedCgroup& cgroup, const std::function<void(int pid)>& started = nullptr);
// A row for an approach the kernel does not support.
PriceRow UnsupportedPriceRow(const std::string& approach, PriceCase c, const absl::Status& probe);
// Fills added_*_us of every row from the ok baseline row of its case.
void AddBaselineDifferences(std::vector<PriceRow>* rows);

nlohmann::json PriceRowToJson(const PriceRow& row);
// The result document: `context` (RunContext and the command's settings)
// with the schema version, and the rows.
nlohmann::json PriceDocument(nlohmann::json context, const std::vector<PriceRow>& rows);
// The human table.
std::string PriceTable(const std::vector<PriceRow>& rows);

}  // namespace sockbench
