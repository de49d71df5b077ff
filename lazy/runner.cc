#include "lazy/runner.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "harness/cgroup.h"
#include "lazy/registry.h"
#include "lazy/scene.h"

namespace sockbench {
namespace {

void SleepUntil(int64_t mono_ns) {
  timespec ts{static_cast<time_t>(mono_ns / 1000000000), static_cast<long>(mono_ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

std::string ErrnoName(int e) {
  if (e == 0) return "EOF";
  const char* n = strerrorname_np(e);
  return n ? n : absl::StrCat("errno ", e);
}

void Finish(NoticeStats* s) {
  std::sort(s->ms.begin(), s->ms.end());
  if (s->ms.empty()) return;
  auto rank = [&](double q) { return s->ms[std::min(s->ms.size() - 1, static_cast<size_t>(q * s->ms.size()))]; };
  s->median_ms = rank(0.5);
  s->p99_ms = rank(0.99);
  s->max_ms = s->ms.back();
}

nlohmann::json StatsJson(const NoticeStats& s) {
  nlohmann::json never = nlohmann::json::object();
  for (int r = 0; r < 3; ++r) never[RoleName(static_cast<Role>(r))] = s.never[r];
  return {{"sockets", s.sockets},     {"noticed", s.noticed}, {"median_ms", s.median_ms},
          {"p99_ms", s.p99_ms},       {"max_ms", s.max_ms},   {"errnos", s.errnos},
          {"never_by_role", never},   {"cleaned_unseen", s.cleaned_unseen}};
}

}  // namespace

nlohmann::json LazyRow::ToJson() const {
  nlohmann::json j = {{"approach", approach}, {"scenario", scenario}, {"status", status}, {"reason", reason}};
  if (status == "unsupported") return j;
  j["agent_us"] = agent_us;
  if (deadline_pass_us >= 0)
    j["deadline_pass"] = {{"us", deadline_pass_us}, {"visited", pass.visited}, {"destroyed", pass.destroyed},
                          {"failed", pass.failed}};
  j["udp"] = StatsJson(udp);
  j["tcp"] = StatsJson(tcp);
  for (int r = 0; r < 3; ++r) j["by_role"][RoleName(static_cast<Role>(r))] = StatsJson(by_role[r]);
  j["live"] = {{"sockets", live}, {"errors", live_errors}, {"stalled", live_stalled}};
  j["unconnected"] = {{"sockets", unconnected}, {"errors", unconnected_errors}};
  j["counters"] = counters;
  return j;
}

LazyRow RunLazyRow(const LazyScenario& s, const std::string& name) {
  LazyRow row;
  row.approach = name;
  row.scenario = s.name;
  auto failed = [&](const absl::Status& st) {
    row.status = "failed";
    row.reason = std::string(st.message());
    return row;
  };
  std::unique_ptr<LazyApproach> a = MakeLazyRow(name);
  if (!a) return failed(absl::InvalidArgumentError("unknown approach"));
  absl::Status st = a->Probe();
  if (!st.ok()) {
    row.status = "unsupported";
    row.reason = std::string(st.message());
    return row;
  }
  absl::StatusOr<ScopedCgroup> cg = ScopedCgroup::Create("lazy");
  if (!cg.ok()) return failed(cg.status());
  absl::StatusOr<std::unique_ptr<Scene>> scene =
      Scene::Create({s.pods, s.backends, s.icmp_ratelimit_ms});
  if (!scene.ok()) return failed(scene.status());
  LazyEnv env{scene->get(), cg->fd(), {LazyBackend(0, Family::kIpv4), LazyBackend(0, Family::kIpv6)}, s.opts};
  st = a->Prepare(env);
  if (!st.ok()) {
    a->Release();
    return failed(st);
  }
  std::vector<ClientSpec> specs = LazyClients(s);
  std::vector<ClientRecord> rec;
  int64_t t0 = 0;
  {
    absl::StatusOr<ClientApp> app = ClientApp::Start(specs, (*scene)->PodFds(), cg->path(), s.send_interval_ms);
    if (!app.ok()) {
      a->Release();
      return failed(app.status());
    }
    // Pacing, not synchronisation: the applications talk to every backend
    // for a while before one dies.
    SleepUntil(MonotonicNs() + static_cast<int64_t>(s.warmup_ms) * 1000000);
    st = (*scene)->KillBackend(0);
    if (!st.ok()) {
      a->Release();
      return failed(st);
    }
    t0 = (*scene)->death_ns();
    int64_t a0 = MonotonicNs();
    st = a->BackendDied(env);
    row.agent_us = (MonotonicNs() - a0) / 1e3;
    if (st.ok() && a->HasDeadline()) {
      SleepUntil(t0 + static_cast<int64_t>(s.opts.deadline_ms) * 1000000);
      int64_t p0 = MonotonicNs();
      absl::StatusOr<DestroyStats> ds = a->Deadline(env);
      row.deadline_pass_us = (MonotonicNs() - p0) / 1e3;
      if (ds.ok()) row.pass = *ds;
      else st = ds.status();
    }
    if (!st.ok()) {
      a->Release();
      return failed(st);
    }
    SleepUntil(t0 + static_cast<int64_t>(s.observe_ms) * 1000000);
    absl::StatusOr<std::vector<ClientRecord>> r = app->Stop();
    if (!r.ok()) {
      a->Release();
      return failed(r.status());
    }
    rec = std::move(*r);
  }
  row.counters = a->Counters();
  a->Release();

  std::string problem;
  const bool expect_replies = 2LL * s.send_interval_ms < s.observe_ms;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ClientSpec& c = specs[i];
    const ClientRecord& r = rec[i];
    if (r.how != Learned::kNot && r.notice_ns < t0 && problem.empty())
      problem = absl::StrCat("socket ", i, " (", RoleName(c.role), ", backend ", c.backend, ") was told ",
                             ErrnoName(r.err), " before the backend died");
    if (c.role == Role::kUnconnected) {
      ++row.unconnected;
      if (r.how != Learned::kNot || r.final_error) {
        ++row.unconnected_errors;
        if (problem.empty())
          problem = absl::StrCat("unconnected UDP sender ", i, " saw ", ErrnoName(r.err ? r.err : r.final_error));
      }
      continue;
    }
    if (c.backend != 0) {
      ++row.live;
      if (r.how != Learned::kNot || r.final_error || !r.final_connected) {
        ++row.live_errors;
        if (problem.empty())
          problem = absl::StrCat("socket ", i, " to live backend ", c.backend, " (", ProtoName(c.proto), " ",
                                 FamilyName(c.family), ", ", RoleName(c.role), ") saw ",
                                 r.how != Learned::kNot ? ErrnoName(r.err) : ErrnoName(r.final_error));
      } else if (c.role == Role::kActive && expect_replies && r.last_reply_ns < t0) {
        ++row.live_stalled;
        if (problem.empty())
          problem = absl::StrCat("socket ", i, " to live backend ", c.backend, " got no reply after the death");
      }
      continue;
    }
    NoticeStats* groups[2] = {c.proto == Proto::kUdp ? &row.udp : &row.tcp, &row.by_role[static_cast<int>(c.role)]};
    for (NoticeStats* g : groups) {
      ++g->sockets;
      if (r.how != Learned::kNot && r.notice_ns >= t0) {
        ++g->noticed;
        g->ms.push_back((r.notice_ns - t0) / 1e6);
        ++g->errnos[ErrnoName(r.err)];
      } else {
        ++g->never[static_cast<int>(c.role)];
        if (r.final_error || !r.final_connected) ++g->cleaned_unseen;
      }
    }
  }
  Finish(&row.udp);
  Finish(&row.tcp);
  for (auto& g : row.by_role) Finish(&g);
  if (!problem.empty()) {
    row.status = "failed";
    row.reason = problem;
  }
  return row;
}

}  // namespace sockbench
