// The destruction approaches: one row each, in the order reports list
// them. The rows are the name list, the --approach help and parsing, and
// the README's approach table (tests/unit/registry_test.cc checks it).
// Adding an approach: its class (harness/approaches/NAME.{h,cc}, and
// bpf/NAME.bpf.c), and one row in harness/registry.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/destroyer.h"
#include "harness/name_registry.h"

namespace sockbench {

struct ApproachInfo {
  std::string name;
  std::string kernel;       // what it needs: "stock", "stock (>= 6.5)", "sockbench patch", ...
  std::string description;  // one line, Markdown (the README's table)
  std::function<std::unique_ptr<Destroyer>()> make;
  // A defect the approach reproduces on purpose, as "issue: what it does"
  // (empty for none): a run that fails verification exactly the way the
  // defect says is that finding, reported as a failure but not counted
  // against the run (bench/summary.cc).
  std::string known_defect;
};

const NameRegistry<ApproachInfo>& Approaches();

const std::vector<std::string>& ApproachNames();
// nullptr for an unknown name.
std::unique_ptr<Destroyer> MakeDestroyer(const std::string& name);
// "a,b" or "all" -> names; one error naming the bad entry.
absl::StatusOr<std::vector<std::string>> ParseApproachList(const std::string& list);

struct ProbeResult {
  std::string name;
  bool supported;
  std::string reason;  // empty when supported
};
ProbeResult ProbeApproach(const std::string& name);

}  // namespace sockbench
