// A table of named things, one row each, in the order reports list them:
// the destruction approaches (harness/registry.h) and the leak study's
// strategies (leak/strategy_registry.h). The rows drive the name lists,
// the flags' help and the parsing of comma-separated lists.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace sockbench {

// Row needs a `name` member.
template <typename Row>
class NameRegistry {
 public:
  // `what` names a row in errors ("approach"), `flag` the flag ("--approach").
  NameRegistry(std::string what, std::string flag, std::vector<Row> rows)
      : what_(std::move(what)), flag_(std::move(flag)), rows_(std::move(rows)) {
    for (const Row& r : rows_) names_.push_back(r.name);
  }

  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<std::string>& names() const { return names_; }
  const Row* Find(absl::string_view name) const {
    for (const Row& r : rows_)
      if (r.name == name) return &r;
    return nullptr;
  }

  // "a,b" -> those names, in that order; "all" or "" -> every name. One
  // error naming the bad entry.
  absl::StatusOr<std::vector<std::string>> ParseList(const std::string& list) const {
    if (list.empty() || list == "all") return names_;
    std::vector<std::string> out;
    for (absl::string_view n : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      if (!Find(n))
        return absl::InvalidArgumentError(absl::StrCat(flag_, ": unknown ", what_, " '", n,
                                                       "' (known: ", absl::StrJoin(names_, ", "), ")"));
      out.emplace_back(n);
    }
    if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(flag_, ": empty list"));
    return out;
  }

  // The flag's help: `intro` then "or 'all' (a, b, ...)".
  std::string Help(absl::string_view intro) const {
    return absl::StrCat(intro, ", or 'all' (", absl::StrJoin(names_, ", "), ")");
  }

 private:
  std::string what_, flag_;
  std::vector<Row> rows_;
  std::vector<std::string> names_;
};

}  // namespace sockbench
