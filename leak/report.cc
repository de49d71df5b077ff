#include "leak/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "leak/strategy_registry.h"

namespace sockbench {
namespace {

std::string ProtocolLabel(SockKind k) {
  switch (k) {
    case SockKind::kTcp:
      return "TCP";
    case SockKind::kUdpConnected:
      return "UDP (Connected)";
    case SockKind::kUdpUnconnected:
      return "UDP (Unconnected)";
  }
  return "?";
}

std::string Verdict(const CellResult& r) {
  if (!r.spec.applicable()) return "n/a";
  // A cell proves nothing unless the programs translated every socket and,
  // for an abort, the approach really aborted every one of them.
  if (r.translated != r.sockets || r.counters.inserted == 0) return "INVALID (no translation)";
  if (r.spec.abort && (r.destroy.destroyed != static_cast<uint64_t>(r.sockets) ||
                       r.aborted_seen != r.sockets))
    return "INVALID (not all aborted)";
  bool leaked = r.leaked > 0;
  bool expected = ExpectLeak(r.strategy, r.spec);
  if (leaked != expected) return leaked ? "UNEXPECTED leak" : "UNEXPECTED clean";
  std::string issue = IssueResult(r.spec);
  if (r.strategy == IssueStrategy().name)
    return issue.empty() ? "as expected (not in the issue's table)" : "as in cilium#42649";
  return leaked ? "as expected" : (IssueStrategy().ExpectLeak(r.spec.kind, r.spec.abort) ? "fixed" : "clean");
}

}  // namespace

bool ExpectLeak(const std::string& strategy, const CellSpec& spec) {
  const StrategyInfo* info = Strategies().Find(strategy);
  return info && info->ExpectLeak(spec.kind, spec.abort);
}

std::string IssueResult(const CellSpec& spec) {
  if (spec.kind == SockKind::kUdpUnconnected) return "";
  return spec.kind == SockKind::kUdpConnected && spec.abort ? "not cleaned up" : "cleaned up";
}

nlohmann::json CellToJson(const CellResult& r) {
  nlohmann::json j = {
      {"case", r.spec.case_number()},
      {"protocol", SockKindName(r.spec.kind)},
      {"family", FamilyName(r.spec.family)},
      {"type", r.spec.abort ? "abort" : "close"},
      {"approach", r.spec.approach},
      {"strategy", r.strategy},
      {"applicable", r.spec.applicable()},
      {"sockets", r.sockets},
      {"translated", r.translated},
      {"inserted", r.counters.inserted},
      {"deleted", r.counters.deleted},
      {"insert_failed", r.counters.insert_failed},
      {"leaked", r.leaked},
      {"leak_rate", r.leak_rate()},
      {"left", {{"rev4", r.left.rev4}, {"rev6", r.left.rev6}, {"index", r.left.index},
                {"storage", r.left.storage}}},
      {"baseline", r.baseline},
      {"settle_rounds", r.settle_rounds},
      {"aborted_seen", r.aborted_seen},
      {"expected", ExpectLeak(r.strategy, r.spec) ? "leak" : "clean"},
      {"issue_42649", IssueResult(r.spec)},
      {"verdict", Verdict(r)},
  };
  if (!r.left.storage_counted_by.empty())
    j["left"]["storage_counted_by"] = r.left.storage_counted_by;
  if (r.spec.abort)
    j["destroy"] = {{"visited", r.destroy.visited}, {"matched", r.destroy.matched},
                    {"destroyed", r.destroy.destroyed}, {"failed", r.destroy.failed}};
  if (!r.spec.applicable())
    j["note"] =
        "unconnected UDP has no destination: the destination-filtered abort matched none of "
        "these sockets, which were then closed as in the close cell";
  return j;
}

nlohmann::json ChurnToJson(const ChurnSeries& s) {
  nlohmann::json points = nlohmann::json::array();
  for (const ChurnPoint& p : s.points)
    points.push_back({{"cycle", p.cycle},
                      {"occupancy", p.occupancy},
                      {"live_present", p.live_present},
                      {"live_evicted", p.live_evicted},
                      {"checked", p.checked},
                      {"live_translated", p.live_translated},
                      {"live_wrong", p.live_wrong},
                      {"live_errors", p.live_errors},
                      {"live_wrong_known", p.live_wrong_known},
                      {"destroyed", p.destroyed},
                      {"inserted", p.inserted},
                      {"deleted", p.deleted}});
  return {{"strategy", s.strategy},
          {"approach", s.approach},
          {"cycles", s.options.cycles},
          {"lru_size", s.options.lru_size},
          {"churn_sockets", s.options.churn_sockets},
          {"live_sockets", s.options.live_sockets},
          {"check_every", s.options.check_every},
          {"final", {{"translated", s.final_translated}, {"wrong", s.final_wrong},
                     {"errors", s.final_errors}}},
          {"points", points}};
}

nlohmann::json CostToJson(const std::vector<CostRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const CostRow& r : rows) {
    nlohmann::json j = {{"strategy", r.strategy},   {"protocol", SockKindName(r.kind)},
                        {"family", FamilyName(r.family)}, {"sockets", r.sockets},
                        {"rounds", r.rounds},       {"connect_ns", r.connect_ns},
                        {"connect_iqr_ns", r.connect_iqr_ns},
                        {"connect_samples_ns", r.connect_samples_ns},
                        {"connect_delta_ns", r.connect_delta_ns},
                        {"close_ns", r.close_ns},   {"close_delta_ns", r.close_delta_ns}};
    j["abort_ns"] = r.abort_ns < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.abort_ns);
    j["abort_close_ns"] = r.abort_close_ns < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.abort_close_ns);
    j["abort_close_delta_ns"] =
        r.abort_close_ns < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.abort_close_delta_ns);
    out.push_back(j);
  }
  return out;
}

std::string MatrixTable(const std::vector<CellResult>& cells) {
  std::string out =
      "| Case | Strategy | Protocol | IP Family | Type | Result | Inserted | Left | Verdict |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  for (const CellResult& r : cells) {
    std::string type = r.spec.abort ? absl::StrCat("Abort (", r.spec.approach, ")") : "Regular close";
    std::string result;
    if (!r.spec.applicable())
      result = absl::StrFormat("n/a: %d aborted; %s", r.destroy.destroyed,
                               r.leaked ? "❌ close leaks" : "✅ close cleans");
    else
      result = r.leaked ? "❌ Not cleaned up" : "✅ Cleaned up";
    absl::StrAppendFormat(&out, "| %d | %s | %s | %s | %s | %s | %d | %d | %s |\n",
                          r.spec.case_number(), r.strategy, ProtocolLabel(r.spec.kind),
                          r.spec.family == Family::kIpv4 ? "IPv4" : "IPv6", type, result,
                          r.counters.inserted, r.leaked, Verdict(r));
  }
  return out;
}

std::string ChurnTable(const std::vector<ChurnSeries>& series) {
  std::string out =
      "| Strategy | Cycles | LRU size | Final occupancy | Live entries evicted | First eviction | "
      "First wrong translation | Live sockets mistranslated at the end |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const ChurnSeries& s : series) {
    if (s.points.empty()) continue;
    const ChurnPoint& last = s.points.back();
    int first_wrong = -1, first_evicted = -1;
    for (const ChurnPoint& p : s.points) {
      if (p.live_wrong > 0 && first_wrong < 0) first_wrong = p.cycle;
      if (p.live_evicted > 0 && first_evicted < 0) first_evicted = p.cycle;
    }
    const StrategyInfo* info = Strategies().Find(s.strategy);
    bool lru = !info || info->lru;
    auto cycle = [](int c) { return c < 0 ? std::string("none") : absl::StrCat("cycle ", c); };
    absl::StrAppendFormat(&out, "| %s | %d | %s | %d | %s | %s | %s | %d of %d |\n", s.strategy,
                          s.options.cycles, lru ? absl::StrCat(s.options.lru_size) : "n/a (no LRU)",
                          last.occupancy,
                          last.live_evicted < 0 ? "n/a" : absl::StrCat(last.live_evicted),
                          lru ? cycle(first_evicted) : "n/a", cycle(first_wrong), s.final_wrong,
                          s.options.live_sockets);
  }
  return out;
}

std::string CostTable(const std::vector<CostRow>& rows) {
  auto ns = [](double v) { return v < 0 ? std::string("n/a") : absl::StrFormat("%.0f", v); };
  auto delta = [](const CostRow& r, double v, double d) {
    return r.strategy == "none" || v < 0 ? std::string() : absl::StrFormat(" (%+.0f)", d);
  };
  std::string out =
      "| Strategy | Protocol | Family | connect() ns/socket | connect spread (IQR) | close() ns/socket "
      "| abort pass ns/socket | close() after abort ns/socket |\n|---|---|---|---|---|---|---|---|\n";
  for (const CostRow& r : rows)
    absl::StrAppendFormat(&out, "| %s | %s | %s | %s%s | %s | %s%s | %s | %s%s |\n", r.strategy,
                          SockKindName(r.kind), FamilyName(r.family), ns(r.connect_ns),
                          delta(r, r.connect_ns, r.connect_delta_ns), ns(r.connect_iqr_ns),
                          ns(r.close_ns), delta(r, r.close_ns, r.close_delta_ns), ns(r.abort_ns),
                          ns(r.abort_close_ns), delta(r, r.abort_close_ns, r.abort_close_delta_ns));
  return out;
}

}  // namespace sockbench
