#include "lazy/workload.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace sockbench {
namespace {

using nlohmann::json;

class Err {
 public:
  explicit Err(std::string source) : source_(std::move(source)) {}
  absl::Status operator()(const std::string& field, const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrFormat("workload %s: field '%s': %s", source_, field, what));
  }
  std::string source_;
};

absl::StatusOr<std::vector<long>> IntAxis(const json& v, const std::string& field, long lo, long hi,
                                          const Err& err) {
  std::string want = absl::StrFormat("must be an integer from %d to %d, or a non-empty list of them", lo, hi);
  std::vector<long> out;
  auto one = [&](const json& x) {
    if (!x.is_number_integer() || x.get<long>() < lo || x.get<long>() > hi) return false;
    out.push_back(x.get<long>());
    return true;
  };
  if (v.is_array()) {
    if (v.empty()) return err(field, absl::StrCat(want, "; got []"));
    for (const auto& x : v)
      if (!one(x)) return err(field, absl::StrCat(want, "; got ", x.dump()));
  } else if (!one(v)) {
    return err(field, absl::StrCat(want, "; got ", v.dump()));
  }
  return out;
}

std::string Got(const json& v) { return absl::StrCat("must be a string; got ", v.dump()); }

absl::StatusOr<long> OneInt(const json& v, const std::string& field, long lo, long hi, const Err& err) {
  if (!v.is_number_integer() || v.get<long>() < lo || v.get<long>() > hi)
    return err(field, absl::StrFormat("must be an integer from %d to %d; got %s", lo, hi, v.dump()));
  return v.get<long>();
}

template <size_t N>
absl::Status Weights(const json& v, const std::string& field, const std::array<const char*, N>& keys,
                     std::array<double, N>* out, const Err& err) {
  if (!v.is_object()) return err(field, absl::StrCat("must be an object of weights; got ", v.dump()));
  out->fill(0);
  for (auto it = v.begin(); it != v.end(); ++it) {
    size_t k = 0;
    while (k < N && it.key() != keys[k]) ++k;
    if (k == N)
      return err(field + "." + it.key(),
                 absl::StrCat("unknown field (known: ", absl::StrJoin(keys, ", "), ")"));
    if (!it.value().is_number() || it.value().get<double>() < 0 || !std::isfinite(it.value().get<double>()))
      return err(field + "." + it.key(), absl::StrCat("must be a number >= 0; got ", it.value().dump()));
    (*out)[k] = it.value().get<double>();
  }
  double sum = 0;
  for (double w : *out) sum += w;
  if (sum <= 0) return err(field, "must have a weight > 0");
  return absl::OkStatus();
}

// n split by weights, largest remainder.
std::vector<int> Split(int n, const std::vector<double>& w) {
  double sum = 0;
  for (double x : w) sum += x;
  std::vector<int> out(w.size(), 0);
  if (sum <= 0 || n <= 0) return out;
  std::vector<std::pair<double, size_t>> rem;
  int given = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    double exact = n * w[i] / sum;
    out[i] = static_cast<int>(exact);
    given += out[i];
    rem.push_back({exact - out[i], i});
  }
  std::stable_sort(rem.begin(), rem.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < n; ++k, ++given) ++out[rem[k % rem.size()].second];
  return out;
}

}  // namespace

absl::StatusOr<LazyWorkload> ParseLazyWorkload(const std::string& text, const std::string& source) {
  Err err(source);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("workload ", source, ": not valid JSON: ", e.what()));
  }
  if (!doc.is_object()) return absl::InvalidArgumentError(absl::StrCat("workload ", source, ": must be a JSON object"));
  static const std::vector<std::string> kKnown = {
      "name", "description", "pods", "sockets_per_pod", "mix", "backends", "targets_per_pod", "roles",
      "unconnected_senders", "send_interval_ms", "icmp", "icmp_ratelimit_ms", "tcp_user_timeout_ms",
      "deadline_ms", "warmup_ms", "observe_ms", "repetitions"};
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (std::find(kKnown.begin(), kKnown.end(), it.key()) == kKnown.end())
      return err(it.key(), absl::StrCat("unknown field (known: ", absl::StrJoin(kKnown, ", "), ")"));
  LazyWorkload w;
  w.path = source;
  if (!doc.contains("name") || !doc["name"].is_string() || doc["name"].get<std::string>().empty() ||
      doc["name"].get<std::string>().find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
    return err("name", absl::StrCat("required, a string of [A-Za-z0-9_-]+; got ",
                                    doc.contains("name") ? doc["name"].dump() : "nothing"));
  w.name = doc["name"];
  if (doc.contains("description")) {
    if (!doc["description"].is_string()) return err("description", Got(doc["description"]));
    w.description = doc["description"];
  }
  LazyScenario base;
  auto get_int = [&](const char* f, long lo, long hi, int* out) -> absl::Status {
    if (!doc.contains(f)) return absl::OkStatus();
    absl::StatusOr<long> v = OneInt(doc[f], f, lo, hi, err);
    if (!v.ok()) return v.status();
    *out = static_cast<int>(*v);
    return absl::OkStatus();
  };
  absl::Status st;
  if (!(st = get_int("pods", 1, 64, &base.pods)).ok()) return st;
  if (!(st = get_int("sockets_per_pod", 1, 20000, &base.sockets_per_pod)).ok()) return st;
  if (!(st = get_int("backends", 2, 200, &base.backends)).ok()) return st;
  if (!(st = get_int("targets_per_pod", 0, base.sockets_per_pod, &base.targets_per_pod)).ok()) return st;
  if (!(st = get_int("unconnected_senders", 0, 1000, &base.unconnected_senders)).ok()) return st;
  if (!(st = get_int("tcp_user_timeout_ms", 1, 600000, &base.opts.tcp_user_timeout_ms)).ok()) return st;
  if (!(st = get_int("deadline_ms", 1, 600000, &base.opts.deadline_ms)).ok()) return st;
  if (!(st = get_int("warmup_ms", 0, 60000, &base.warmup_ms)).ok()) return st;
  if (!(st = get_int("observe_ms", 100, 600000, &base.observe_ms)).ok()) return st;
  if (!(st = get_int("repetitions", 1, 100, &w.repetitions)).ok()) return st;
  if (base.opts.deadline_ms >= base.observe_ms)
    return err("deadline_ms", absl::StrFormat("must be less than observe_ms (%d); got %d", base.observe_ms,
                                              base.opts.deadline_ms));
  if (base.sockets_per_pod - base.targets_per_pod > 0 && base.backends < 2)
    return err("backends", "must be >= 2 when there are sockets to live backends");
  if (doc.contains("mix")) {
    std::array<double, 4> m;
    st = Weights<4>(doc["mix"], "mix", {"tcp_ipv4", "tcp_ipv6", "udp_ipv4", "udp_ipv6"}, &m, err);
    if (!st.ok()) return st;
    base.mix = m;
  }
  if (doc.contains("roles")) {
    std::array<double, 3> r;
    st = Weights<3>(doc["roles"], "roles", {"active", "idle", "receive_only"}, &r, err);
    if (!st.ok()) return st;
    base.roles = r;
  }
  std::vector<long> intervals = {base.send_interval_ms};
  if (doc.contains("send_interval_ms")) {
    auto v = IntAxis(doc["send_interval_ms"], "send_interval_ms", 1, 60000, err);
    if (!v.ok()) return v.status();
    intervals = *v;
  }
  std::vector<IcmpKind> kinds = {base.opts.icmp};
  if (doc.contains("icmp")) {
    const json& v = doc["icmp"];
    std::string want = "must be \"port-unreachable\", \"host-unreachable\" or \"admin-prohibited\", or a non-empty list of them";
    std::vector<json> items = v.is_array() ? std::vector<json>(v.begin(), v.end()) : std::vector<json>{v};
    if (items.empty()) return err("icmp", absl::StrCat(want, "; got []"));
    kinds.clear();
    for (const json& x : items) {
      IcmpKind k;
      if (x == "port-unreachable") k = IcmpKind::kPortUnreachable;
      else if (x == "host-unreachable") k = IcmpKind::kHostUnreachable;
      else if (x == "admin-prohibited") k = IcmpKind::kAdminProhibited;
      else return err("icmp", absl::StrCat(want, "; got ", x.dump()));
      kinds.push_back(k);
    }
  }
  std::vector<long> ratelimits = {-1};
  if (doc.contains("icmp_ratelimit_ms")) {
    const json& v = doc["icmp_ratelimit_ms"];
    std::vector<json> items = v.is_array() ? std::vector<json>(v.begin(), v.end()) : std::vector<json>{v};
    std::string want = "must be \"kernel\" or an integer from 0 to 100000, or a non-empty list of them";
    if (items.empty()) return err("icmp_ratelimit_ms", absl::StrCat(want, "; got []"));
    ratelimits.clear();
    for (const json& x : items) {
      if (x == "kernel") ratelimits.push_back(-1);
      else if (x.is_number_integer() && x.get<long>() >= 0 && x.get<long>() <= 100000) ratelimits.push_back(x.get<long>());
      else return err("icmp_ratelimit_ms", absl::StrCat(want, "; got ", x.dump()));
    }
  }
  for (long iv : intervals)
    for (IcmpKind k : kinds)
      for (long rl : ratelimits) {
        LazyScenario s = base;
        s.send_interval_ms = static_cast<int>(iv);
        s.opts.icmp = k;
        s.icmp_ratelimit_ms = static_cast<int>(rl);
        s.name = absl::StrCat("interval:", iv, "ms/icmp:", IcmpKindName(k), "/ratelimit:",
                              rl < 0 ? "kernel" : absl::StrCat(rl, "ms"));
        w.scenarios.push_back(s);
      }
  return w;
}

absl::StatusOr<LazyWorkload> LoadLazyWorkload(const std::string& path) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(absl::StrCat("workload ", path, ": cannot open: ", std::strerror(errno)));
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseLazyWorkload(ss.str(), path);
}

std::vector<ClientSpec> LazyClients(const LazyScenario& s) {
  static const Proto kProto[4] = {Proto::kTcp, Proto::kTcp, Proto::kUdp, Proto::kUdp};
  static const Family kFam[4] = {Family::kIpv4, Family::kIpv6, Family::kIpv4, Family::kIpv6};
  const std::vector<double> mix(s.mix.begin(), s.mix.end()), roles(s.roles.begin(), s.roles.end());
  std::vector<ClientSpec> out;
  for (int pod = 0; pod < s.pods; ++pod) {
    std::vector<int> t = Split(s.targets_per_pod, mix);
    std::vector<int> l = Split(s.sockets_per_pod - s.targets_per_pod, mix);
    for (int c = 0; c < 4; ++c) {
      std::vector<int> tr = Split(t[c], roles), lr = Split(l[c], roles);
      for (int r = 0; r < 3; ++r) {
        for (int k = 0; k < tr[r]; ++k) out.push_back({kProto[c], kFam[c], static_cast<Role>(r), 0, pod});
        for (int k = 0; k < lr[r]; ++k)
          out.push_back({kProto[c], kFam[c], static_cast<Role>(r), 1 + (k % (s.backends - 1)), pod});
      }
    }
    double udp = s.mix[2] + s.mix[3];
    std::vector<int> u = Split(s.unconnected_senders, udp > 0 ? std::vector<double>{s.mix[2], s.mix[3]}
                                                              : std::vector<double>{1, 1});
    for (int f = 0; f < 2; ++f)
      for (int k = 0; k < u[f]; ++k) out.push_back({Proto::kUdp, kFam[2 + f], Role::kUnconnected, 0, pod});
  }
  return out;
}

}  // namespace sockbench
