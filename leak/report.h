// The leak study's results as JSON and as the Cilium issue's table.
#pragma once

#include <string>
#include <vector>

#include "leak/churn.h"
#include "leak/cost.h"
#include "leak/matrix.h"
#include "nlohmann/json.hpp"

namespace sockbench {

// What the study expects of a cell: Cilium's strategy leaks where the
// destination is gone at sock_release (connected UDP after an abort, and
// unconnected UDP, which never had one); the fixes never leak.
bool ExpectLeak(const std::string& strategy, const CellSpec& spec);
// What cilium/cilium#42649 reported for cases 1-8 ("" for other cases).
std::string IssueResult(const CellSpec& spec);

nlohmann::json CellToJson(const CellResult& r);
nlohmann::json ChurnToJson(const ChurnSeries& s);
nlohmann::json CostToJson(const std::vector<CostRow>& rows);

// Markdown tables (the docs paste them as they are).
std::string MatrixTable(const std::vector<CellResult>& cells);
std::string ChurnTable(const std::vector<ChurnSeries>& series);
std::string CostTable(const std::vector<CostRow>& rows);

}  // namespace sockbench
