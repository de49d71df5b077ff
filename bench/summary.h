// The human table at the end of `sockbench run`, read back from the result
// document so it shows exactly what was written.
#pragma once

#include "nlohmann/json.hpp"

namespace sockbench {

// Prints the table; returns how many supported approach runs failed.
int PrintSummary(const nlohmann::json& doc);

}  // namespace sockbench
