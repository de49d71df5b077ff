// The six approach names, in the order reports list them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/destroyer.h"

namespace sockbench {

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
