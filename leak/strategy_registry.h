// The reverse-NAT cleanup strategies of the leak study: one row each, in
// the order reports list them. A row says what the strategy is expected
// to do, so the report judges cells without naming strategies. Adding a
// strategy: its file (leak/NAME.cc + leak/bpf/leak_NAME.bpf.c) and one row
// in leak/strategy_registry.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "harness/name_registry.h"
#include "leak/plan.h"
#include "leak/strategy.h"

namespace sockbench {

struct StrategyInfo {
  std::string name;
  std::string description;
  // The cells whose reverse state it is expected to leak (nullptr: none).
  bool (*expect_leak)(SockKind kind, bool abort) = nullptr;
  // The strategy cilium/cilium#42649 reports on (Cilium today): its cells
  // are compared with the issue, the others' with it.
  bool reproduces_issue = false;
  // Reverse state in LRU maps (which can evict live sockets' entries).
  bool lru = true;
  std::function<std::unique_ptr<LeakStrategy>()> make;

  bool ExpectLeak(SockKind kind, bool abort) const { return expect_leak && expect_leak(kind, abort); }
};

const NameRegistry<StrategyInfo>& Strategies();
// The row with reproduces_issue.
const StrategyInfo& IssueStrategy();

}  // namespace sockbench
