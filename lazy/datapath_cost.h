// What icmp_unreachable's nft table costs the datagrams it does not reject
// (docs/lazy.md, "Datapath cost"). The node looks every UDP datagram it
// forwards up in the reject sets, whether its backend is dead or not, so
// the price is paid by all UDP traffic through the node, not by the dying.
//
// Measured on the lazy scene: one pod sends datagrams to a live backend's
// address, to a port nobody listens on, from one pinned thread. veth hands
// each datagram to the receiving namespace's softirq on the sending CPU, so
// the time per sendto() holds the node's whole forward path (and the
// backend's drop). Each sample is checked: the backend's UDP NoPorts counter
// must have grown by the datagrams sent, or the sample is an error (a
// datagram the node dropped cost nothing to forward).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "nlohmann/json.hpp"

namespace sockbench {

struct DatapathCostOptions {
  int packets = 20000;    // datagrams per sample
  int repetitions = 7;    // samples per configuration, interleaved
  // Dead backends in each reject set; kNoTable: the table is not there.
  std::vector<int> dead = {kNoTable, 0, 1, 1024};
  static constexpr int kNoTable = -1;
};

struct DatapathCostRow {
  Family family = Family::kIpv4;
  int dead = DatapathCostOptions::kNoTable;
  std::vector<double> ns;          // per datagram, one per sample
  double median_ns = 0, cv = 0;    // of ns
  // Over the same repetition's no-table sample: median, min, max of the
  // differences (ns per datagram). Empty for the no-table row itself.
  std::vector<double> extra_ns;
  double extra_median_ns = 0, extra_min_ns = 0, extra_max_ns = 0;
  std::string Config() const;
};

absl::StatusOr<std::vector<DatapathCostRow>> MeasureRejectTableCost(const DatapathCostOptions& opts);

nlohmann::json DatapathCostJson(const DatapathCostOptions& opts, const std::vector<DatapathCostRow>& rows);
std::string DatapathCostTable(const std::vector<DatapathCostRow>& rows);

}  // namespace sockbench
