// The lazy approaches, one row each (README's "Lazy approaches" table, which
// tests/unit checks against these rows), and the comparison rows the lazy
// runner also accepts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/name_registry.h"
#include "lazy/approach.h"

namespace sockbench {

struct LazyApproachInfo {
  std::string name;
  std::string kernel;
  std::string description;
  std::function<std::unique_ptr<LazyApproach>()> make;
};

const NameRegistry<LazyApproachInfo>& LazyApproaches();
// A lazy approach, or a comparison row: "none" or a destroy approach of the
// main registry ("iter_per_netns"). nullptr for an unknown name.
std::unique_ptr<LazyApproach> MakeLazyRow(const std::string& name);
// "all": the lazy approaches plus none and iter_per_netns; else a comma list.
absl::StatusOr<std::vector<std::string>> ParseLazyRowList(const std::string& list);

struct LazyProbe {
  std::string name;
  bool supported;
  std::string reason;
};
LazyProbe ProbeLazyApproach(const std::string& name);

}  // namespace sockbench
