#include "harness/workload.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/status.h"
#include "harness/unique_fd.h"
#include "nlohmann/json.hpp"

namespace sockbench {
namespace {

using nlohmann::json;

constexpr int kMaxNamespaces = 8192;
constexpr long kMaxSockets = 4'000'000;

const char* const kComboNames[kCombos] = {"tcp_ipv4", "tcp_ipv6", "udp_ipv4", "udp_ipv6"};

class FieldError {
 public:
  explicit FieldError(std::string source) : source_(std::move(source)) {}
  absl::Status operator()(const std::string& field, const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrFormat("workload %s: field '%s': %s", source_, field, what));
  }

 private:
  std::string source_;
};

absl::Status CheckKnownFields(const json& obj, const std::vector<std::string>& known,
                              const std::string& prefix, const FieldError& err) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const auto& k : known) ok |= (k == it.key());
    if (!ok)
      return err(prefix + it.key(),
                 absl::StrCat("unknown field (known: ", absl::StrJoin(known, ", "), ")"));
  }
  return absl::OkStatus();
}

// What a field must be, and the value it has instead.
std::string Got(const std::string& want, const json& v) { return absl::StrCat(want, "; got ", v.dump()); }

// An integer in [lo, hi], or a non-empty list of them (a sweep axis).
absl::StatusOr<std::vector<long>> IntAxis(const json& v, const std::string& field, long lo,
                                          long hi, const FieldError& err) {
  std::string want = absl::StrFormat("must be an integer from %d to %d, or a non-empty list of them", lo, hi);
  std::vector<long> out;
  auto one = [&](const json& x) -> bool {
    if (!x.is_number_integer()) return false;
    long n = x.get<long>();
    if (n < lo || n > hi) return false;
    out.push_back(n);
    return true;
  };
  if (v.is_array()) {
    if (v.empty()) return err(field, want);
    for (const auto& x : v)
      if (!one(x)) return err(field, absl::StrCat(want, "; got ", x.dump()));
  } else if (!one(v)) {
    return err(field, absl::StrCat(want, "; got ", v.dump()));
  }
  return out;
}

absl::StatusOr<long> OneInt(const json& v, const std::string& field, long lo, long hi,
                            const FieldError& err) {
  if (!v.is_number_integer() || v.get<long>() < lo || v.get<long>() > hi)
    return err(field, absl::StrFormat("must be an integer from %d to %d; got %s", lo, hi, v.dump()));
  return v.get<long>();
}

// "line L, column C" of the byte the parser stopped at: `byte` counts the
// bytes read, so the offending one is text[byte - 1] (1-based columns, in
// bytes).
std::string LineColumn(const std::string& text, size_t byte) {
  size_t at = byte > 0 ? std::min(byte - 1, text.size()) : 0;
  long line = 1, column = 1;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::StrFormat("line %d, column %d", line, column);
}

// nlohmann's explanation without its "[json.exception...] parse error at
// line L, column C: " prefix (the position is given by LineColumn()).
std::string ParserReason(const json::exception& e) {
  std::string what = e.what();
  size_t bracket = what.find("] ");
  if (bracket != std::string::npos) what = what.substr(bracket + 2);
  size_t colon = what.find(": ");
  if (what.rfind("parse error", 0) == 0 && colon != std::string::npos) what = what.substr(colon + 2);
  return what;
}

// For an exception without a position: where the first token it quotes
// ('...') starts in the text, counted as the parser counts bytes (1-based);
// 0 (line 1, column 1) if none.
size_t QuotedTokenByte(const std::string& text, const json::exception& e) {
  std::string what = e.what();
  size_t open = what.find('\'');
  size_t close = open == std::string::npos ? open : what.find('\'', open + 1);
  if (close == std::string::npos) return 0;
  size_t at = text.find(what.substr(open + 1, close - open - 1));
  return at == std::string::npos ? 0 : at + 1;
}

}  // namespace

const char* ComboName(int combo) { return kComboNames[combo]; }

std::string ScenarioSpec::Label() const {
  return absl::StrFormat("netns:%d/sockets:%d/targets:%dx%d", namespaces, sockets,
                         targets_per_netns, target_namespaces);
}

absl::StatusOr<Workload> ParseWorkload(const std::string& text, const std::string& source) {
  FieldError err(source);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrFormat("workload %s: not valid JSON at %s: %s", source,
                                                      LineColumn(text, e.byte), ParserReason(e)));
  } catch (const json::exception& e) {
    // A number too large for a double (out_of_range.406) carries no
    // position; its message quotes the token.
    return absl::InvalidArgumentError(absl::StrFormat("workload %s: not valid JSON at %s: %s", source,
                                                      LineColumn(text, QuotedTokenByte(text, e)),
                                                      ParserReason(e)));
  }
  if (!doc.is_object())
    return absl::InvalidArgumentError(absl::StrFormat("workload %s: must be a JSON object", source));

  auto st = CheckKnownFields(doc, {"name", "description", "namespaces", "sockets", "mix",
                                   "backends", "targets", "unconnected_senders", "repetitions", "churn"},
                             "", err);
  if (!st.ok()) return st;

  Workload w;
  w.path = source;
  for (const char* req : {"name", "namespaces", "sockets", "targets"})
    if (!doc.contains(req)) return err(req, "required field is missing");
  if (!doc["name"].is_string() || doc["name"].get<std::string>().empty())
    return err("name", Got("must be a non-empty string", doc["name"]));
  w.name = doc["name"].get<std::string>();
  for (char c : w.name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return err("name", Got("may hold only letters, digits, '-' and '_'", doc["name"]));
  if (doc.contains("description")) {
    if (!doc["description"].is_string()) return err("description", Got("must be a string", doc["description"]));
    w.description = doc["description"].get<std::string>();
  }
  if (doc.contains("repetitions")) {
    auto r = OneInt(doc["repetitions"], "repetitions", 1, 10000, err);
    if (!r.ok()) return r.status();
    w.repetitions = static_cast<int>(*r);
  }

  auto ns_axis = IntAxis(doc["namespaces"], "namespaces", 1, kMaxNamespaces, err);
  if (!ns_axis.ok()) return ns_axis.status();
  auto sock_axis = IntAxis(doc["sockets"], "sockets", 1, kMaxSockets, err);
  if (!sock_axis.ok()) return sock_axis.status();

  ScenarioSpec base;
  base.workload = w.name;
  if (doc.contains("backends")) {
    auto b = OneInt(doc["backends"], "backends", 1, kMaxBackends, err);
    if (!b.ok()) return b.status();
    base.backends = static_cast<int>(*b);
  }
  if (doc.contains("unconnected_senders")) {
    auto u = OneInt(doc["unconnected_senders"], "unconnected_senders", 0, kMaxSockets, err);
    if (!u.ok()) return u.status();
    base.unconnected_per_netns = static_cast<int>(*u);
  }
  if (doc.contains("churn")) {
    const json& c = doc["churn"];
    if (!c.is_object())
      return err("churn", Got("must be an object {\"opens_per_second\": N, \"max_open\": M, \"sending_share\": S}", c));
    st = CheckKnownFields(c, {"opens_per_second", "max_open", "sending_share"}, "churn.", err);
    if (!st.ok()) return st;
    if (!c.contains("opens_per_second")) return err("churn.opens_per_second", "required field is missing");
    auto rate = OneInt(c["opens_per_second"], "churn.opens_per_second", 1, 100000, err);
    if (!rate.ok()) return rate.status();
    base.churn.opens_per_second = static_cast<int>(*rate);
    if (c.contains("max_open")) {
      auto m = OneInt(c["max_open"], "churn.max_open", 1, 10000, err);
      if (!m.ok()) return m.status();
      base.churn.max_open = static_cast<int>(*m);
    }
    if (c.contains("sending_share")) {
      const json& v = c["sending_share"];
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1)
        return err("churn.sending_share", Got("must be a number from 0 to 1", v));
      base.churn.sending_share = v.get<double>();
    }
  }
  if (doc.contains("mix")) {
    const json& mix = doc["mix"];
    if (!mix.is_object() || mix.empty())
      return err("mix", Got("must be an object of weights, e.g. {\"udp_ipv4\": 1}", mix));
    st = CheckKnownFields(mix, {kComboNames[0], kComboNames[1], kComboNames[2], kComboNames[3]},
                          "mix.", err);
    if (!st.ok()) return st;
    base.mix = {0, 0, 0, 0};
    double sum = 0;
    for (int c = 0; c < kCombos; ++c) {
      if (!mix.contains(kComboNames[c])) continue;
      const json& v = mix[kComboNames[c]];
      if (!v.is_number() || v.get<double>() < 0)
        return err(absl::StrCat("mix.", kComboNames[c]), Got("must be a number >= 0", v));
      base.mix[c] = v.get<double>();
      sum += base.mix[c];
    }
    if (sum <= 0) return err("mix", "at least one weight must be > 0");
  }

  const json& t = doc["targets"];
  if (!t.is_object())
    return err("targets", Got("must be an object {\"per_netns\": N, \"namespaces\": M|\"all\"}", t));
  st = CheckKnownFields(t, {"per_netns", "namespaces"}, "targets.", err);
  if (!st.ok()) return st;
  if (!t.contains("per_netns")) return err("targets.per_netns", "required field is missing");
  auto per_axis = IntAxis(t["per_netns"], "targets.per_netns", 1, kMaxSockets, err);
  if (!per_axis.ok()) return per_axis.status();
  // 0 stands for "all namespaces of the scenario".
  std::vector<long> tns_axis = {0};
  if (t.contains("namespaces") && !(t["namespaces"].is_string() && t["namespaces"] == "all")) {
    if (t["namespaces"].is_string())
      return err("targets.namespaces",
                 Got("must be \"all\", an integer >= 1 or a list of them", t["namespaces"]));
    auto a = IntAxis(t["namespaces"], "targets.namespaces", 1, kMaxNamespaces, err);
    if (!a.ok()) return a.status();
    tns_axis = *a;
  }

  for (long ns : *ns_axis)
    for (long socks : *sock_axis)
      for (long per : *per_axis)
        for (long tns : tns_axis) {
          ScenarioSpec s = base;
          s.namespaces = static_cast<int>(ns);
          s.sockets = socks;
          s.targets_per_netns = static_cast<int>(per);
          s.target_namespaces = static_cast<int>(tns == 0 ? ns : tns);
          if (s.target_namespaces > s.namespaces)
            return err("targets.namespaces",
                       absl::StrFormat("%d target namespaces but the scenario has only %d namespaces",
                                       s.target_namespaces, s.namespaces));
          if (s.targets() > s.sockets)
            return err("targets.per_netns",
                       absl::StrFormat("%d targets (%d x %d namespaces) exceed the %d sockets of scenario %s",
                                       s.targets(), s.targets_per_netns, s.target_namespaces,
                                       s.sockets, s.Label()));
          if (s.targets() < s.sockets && s.backends < 2)
            return err("backends", "must be >= 2: sockets that are not targets need a backend that stays alive");
          w.scenarios.push_back(s);
        }
  return w;
}

absl::StatusOr<Workload> LoadWorkload(const std::string& path) {
  // A missing file is NotFound, one that cannot be read (a directory, no
  // permission) says why; either names the path.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrFormat("workload %s: cannot open file", path));
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(absl::StrFormat("workload %s: cannot read file", path));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return ParseWorkload(text, path);
}

}  // namespace sockbench
