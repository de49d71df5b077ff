#include "harness/result_file.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "harness/result_json.h"

namespace sockbench {
namespace {

using json = nlohmann::json;

absl::Status FieldError(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", what));
}

// A string member of `obj` (`where` names obj in the error).
absl::StatusOr<std::string> StringField(const json& obj, const std::string& where, const char* key,
                                        bool required = true) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (!required) return std::string();
    return FieldError(absl::StrCat(where, ".", key), "is missing");
  }
  if (!it->is_string()) return FieldError(absl::StrCat(where, ".", key), "must be a string");
  return it->get<std::string>();
}

absl::StatusOr<double> MsPer(const std::string& unit, const std::string& where) {
  if (unit == "ns") return 1e-6;
  if (unit == "us") return 1e-3;
  if (unit == "ms") return 1.0;
  if (unit == "s") return 1e3;
  return FieldError(where, absl::StrCat("must be one of ns, us, ms, s (is '", unit, "')"));
}

struct Group {
  std::string approach, scenario;
  std::vector<double> ms;
  std::string error;  // the first error_occurred run's message
};

}  // namespace

double TimedBenchmark::median_ms() const {
  if (ms.empty()) return 0;
  std::vector<double> v = ms;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double TimedBenchmark::min_ms() const { return ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()); }
double TimedBenchmark::max_ms() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }

double TimedBenchmark::stddev_ms() const {
  const size_t n = ms.size();
  if (n < 2) return 0;
  double mean = 0, var = 0;
  for (double v : ms) mean += v / n;
  for (double v : ms) var += (v - mean) * (v - mean) / (n - 1);
  return std::sqrt(var);
}

absl::StatusOr<ResultFile> ParseResultFile(const json& doc) {
  if (!doc.is_object()) return absl::InvalidArgumentError("the document must be a JSON object");
  ResultFile out;
  if (auto c = doc.find("context"); c != doc.end()) {
    if (!c->is_object()) return FieldError("context", "must be an object");
    out.context = *c;
    if (auto v = c->find(kSchemaVersionKey); v != c->end()) {
      if (!v->is_number_integer() || v->get<long>() < 1)
        return FieldError(absl::StrCat("context.", kSchemaVersionKey), "must be an integer >= 1");
      if (v->get<long>() > kResultSchemaVersion)
        return FieldError(absl::StrCat("context.", kSchemaVersionKey),
                          absl::StrCat("is ", v->get<long>(), ": newer than this sockbench reads (",
                                       kResultSchemaVersion, ")"));
      out.schema_version = v->get<int>();
    }
  } else {
    out.context = json::object();
  }
  auto benchmarks = doc.find("benchmarks");
  if (benchmarks == doc.end()) return FieldError("benchmarks", "is missing (not a sockbench run result?)");
  if (!benchmarks->is_array()) return FieldError("benchmarks", "must be an array");

  std::vector<std::string> order;
  std::map<std::string, Group> groups;
  for (size_t i = 0; i < benchmarks->size(); ++i) {
    const json& b = (*benchmarks)[i];
    const std::string where = absl::StrCat("benchmarks[", i, "]");
    if (!b.is_object()) return FieldError(where, "must be an object");
    absl::StatusOr<std::string> name = StringField(b, where, "name");
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> run_name = StringField(b, where, "run_name", /*required=*/false);
    if (!run_name.ok()) return run_name.status();
    absl::StatusOr<std::string> run_type = StringField(b, where, "run_type", /*required=*/false);
    if (!run_type.ok()) return run_type.status();
    if (*run_type == "aggregate") continue;  // recomputed from the repetitions
    if (!run_type->empty() && *run_type != "iteration")
      return FieldError(absl::StrCat(where, ".run_type"), "must be \"iteration\" or \"aggregate\"");
    // Version 1 names carry repeats:N.
    const std::string key = StableBenchmarkName(run_name->empty() ? *name : *run_name);
    std::string approach, scenario;
    if (!ParseBenchmarkName(key, &approach, &scenario))
      return FieldError(absl::StrCat(where, ".name"),
                        absl::StrCat("'", *name, "' is not a sockbench benchmark (destroy/<approach>/<scenario>/...)"));
    auto [it, inserted] = groups.try_emplace(key);
    Group& g = it->second;
    if (inserted) {
      order.push_back(key);
      g.approach = approach;
      g.scenario = scenario;
    }
    if (auto e = b.find("error_occurred"); e != b.end() && e->is_boolean() && e->get<bool>()) {
      absl::StatusOr<std::string> msg = StringField(b, where, "error_message", /*required=*/false);
      if (!msg.ok()) return msg.status();
      if (g.error.empty()) g.error = msg->empty() ? "error without a message" : *msg;
      continue;
    }
    auto t = b.find("real_time");
    if (t == b.end() || !t->is_number()) return FieldError(absl::StrCat(where, ".real_time"), "must be a number");
    absl::StatusOr<std::string> unit = StringField(b, where, "time_unit");
    if (!unit.ok()) return unit.status();
    absl::StatusOr<double> scale = MsPer(*unit, absl::StrCat(where, ".time_unit"));
    if (!scale.ok()) return scale.status();
    g.ms.push_back(t->get<double>() * *scale);
  }

  std::map<std::string, bool> listed_not_timed;
  if (auto nt = doc.find(kNotTimedKey); nt != doc.end()) {
    if (!nt->is_array()) return FieldError(kNotTimedKey, "must be an array");
    for (size_t i = 0; i < nt->size(); ++i) {
      const json& e = (*nt)[i];
      const std::string where = absl::StrCat(kNotTimedKey, "[", i, "]");
      if (!e.is_object()) return FieldError(where, "must be an object");
      NotTimedBenchmark n;
      for (auto [field, key] : {std::pair{&n.name, "name"}, {&n.approach, "approach"}, {&n.scenario, "scenario"},
                                {&n.status, "status"}, {&n.reason, "reason"}}) {
        absl::StatusOr<std::string> v = StringField(e, where, key);
        if (!v.ok()) return v.status();
        *field = *v;
      }
      if (n.status != "unsupported" && n.status != "failed")
        return FieldError(absl::StrCat(where, ".status"),
                          absl::StrCat("must be \"unsupported\" or \"failed\" (is '", n.status, "')"));
      listed_not_timed[n.name] = true;
      out.not_timed.push_back(std::move(n));
    }
  }

  for (const std::string& key : order) {
    Group& g = groups[key];
    if (listed_not_timed.count(key)) continue;
    if (!g.error.empty()) {
      out.not_timed.push_back({key, g.approach, g.scenario,
                               absl::StartsWith(g.error, "unsupported:") ? "unsupported" : "failed", g.error});
      continue;
    }
    out.timed.push_back({key, g.approach, g.scenario, std::move(g.ms)});
  }
  return out;
}

absl::StatusOr<ResultFile> ReadResultFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream ss;
  ss << in.rdbuf();
  json doc;
  try {
    doc = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 1: ..."
    std::string what = e.what();
    if (size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON: ", what));
  }
  absl::StatusOr<ResultFile> r = ParseResultFile(doc);
  if (!r.ok()) return absl::Status(r.status().code(), absl::StrCat(path, ": ", r.status().message()));
  return r;
}

}  // namespace sockbench
