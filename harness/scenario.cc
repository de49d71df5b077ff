#include "harness/scenario.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/context.h"
#include "harness/hold_point.h"
#include "harness/progress.h"
#include "harness/status.h"

namespace sockbench {
namespace {

using Clock = std::chrono::steady_clock;

Repetition Failed(Outcome outcome, std::string error) {
  Repetition r;
  r.outcome = outcome;
  r.error = std::move(error);
  return r;
}

}  // namespace

Repetition UnsupportedRepetition(const absl::Status& reason) {
  return Failed(Outcome::kUnsupported, absl::StrCat("unsupported: ", reason.message()));
}

bool OnlyUnconnectedSendersHit(const Repetition& r, long targets) {
  const VerifyCounts& c = r.verify.counts;
  return r.outcome == Outcome::kVerifyFailed && c.missed == 0 && c.targets == targets &&
         c.destroyed == targets && c.unconnected_extra > 0 && c.extra == c.unconnected_extra;
}

Target PlanTarget(const FleetPlan& plan, const NetnsSet& netns) {
  Target t;
  t.tcp = t.udp = false;
  for (const NetnsPlan& np : plan.netns)
    for (const SocketGroup& g : np.groups) {
      if (!g.target) continue;
      Endpoint e = BackendEndpoint(g.backend, g.family);
      bool known = false;
      for (const Endpoint& have : t.endpoints) known |= have == e;
      if (!known) t.endpoints.push_back(e);
      (g.proto == Proto::kTcp ? t.tcp : t.udp) = true;
    }
  t.netns_fds = netns.AllFds();
  t.netns_cookies = netns.cookies();
  return t;
}

absl::StatusOr<std::unique_ptr<Scenario>> Scenario::Build(const FleetPlan& plan,
                                                          const ScenarioEnv& env,
                                                          const std::vector<Destroyer*>& approaches) {
  const std::string label = plan.scenario.Label();
  std::map<std::string, long> before = SocketMemory();
  const auto t0 = Clock::now();
  absl::StatusOr<NetnsSet> netns;
  {
    Progress p(absl::StrCat("namespaces for ", label));
    netns = NetnsSet::Create(plan.scenario.namespaces, plan.netns_options(), p.Fn());
  }
  if (!netns.ok()) return netns.status();
  std::unique_ptr<Scenario> s(new Scenario(plan, std::move(*netns)));
  s->memory_before_ = std::move(before);
  s->cgroup_fd_ = env.cgroup_fd;
  s->cgroup_path_ = env.cgroup_path;
  HoldPoint("namespaces");
  for (Destroyer* d : approaches) (void)s->Prepare(*d);  // recorded, reported per repetition
  HoldPoint("prepare");
  absl::Status st = s->BuildFleet(env);
  if (!st.ok())
    return absl::Status(st.code(), absl::StrCat("building the fleet for ", label, ": ", st.message()));
  s->setup_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
  s->memory_after_ = SocketMemory();
  return s;
}

absl::Status Scenario::BuildFleet(const ScenarioEnv& env) {
  Progress p(absl::StrCat("sockets for ", plan_.scenario.Label()));
  SB_ASSIGN_OR_RETURN(fleet_, Fleet::Build(plan_, netns_, env.cgroup_path, p.Fn()));
  target_ = PlanTarget(plan_, netns_);
  return absl::OkStatus();
}

Scenario::~Scenario() {
  // Release() is for after the fleet is gone (destroyer.h).
  fleet_.reset();
  for (auto& [d, st] : prepared_) d->Release();
}

absl::Status Scenario::Prepare(Destroyer& d) {
  absl::Status st = d.Prepare(PrepareEnv{&netns_, cgroup_fd_});
  prepared_[&d] = st;
  return st;
}

void Scenario::Release(Destroyer& d) {
  if (prepared_.erase(&d)) d.Release();
}

std::optional<Repetition> Scenario::CannotRun(Destroyer& d) const {
  auto prepared = prepared_.find(&d);
  if (prepared == prepared_.end())
    return Failed(Outcome::kPrepareFailed, "prepare failed: not prepared for this scenario");
  if (!prepared->second.ok())
    return Failed(Outcome::kPrepareFailed, absl::StrCat("prepare failed: ", prepared->second.message()));
  return std::nullopt;
}

Repetition Scenario::RunRepetition(Destroyer& d) {
  if (std::optional<Repetition> no = CannotRun(d)) return *no;
  if (!targets_fresh_) {
    absl::Status st = fleet_->RecreateTargets();
    if (!st.ok()) return Failed(Outcome::kRecreateFailed, absl::StrCat("re-creating targets: ", st.message()));
  }
  targets_fresh_ = false;
  std::unique_ptr<Churn> churn;
  if (plan_.scenario.churn.on()) {
    absl::StatusOr<std::unique_ptr<Churn>> c =
        Churn::Start(plan_.scenario.churn, netns_, plan_.scenario.backends, cgroup_path_);
    if (!c.ok()) return Failed(Outcome::kVerifyError, absl::StrCat("churn could not start: ", c.status().message()));
    churn = std::move(*c);
  }
  HoldPoint("timed");

  Repetition r;
  const auto t0 = Clock::now();
  absl::StatusOr<DestroyStats> stats = d.Destroy(target_);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!stats.ok()) {
    r.outcome = Outcome::kDestroyFailed;
    r.error = absl::StrCat("destroy failed: ", stats.status().message());
    return r;
  }
  r.stats = *stats;
  if (churn) {
    absl::StatusOr<ChurnReport> cr = churn->Stop();
    churn.reset();
    if (!cr.ok()) {
      r.outcome = Outcome::kVerifyError;
      r.error = absl::StrCat("churn: ", cr.status().message());
      return r;
    }
    r.churn = *cr;
  }
  absl::StatusOr<VerifyResult> v = fleet_->Verify();
  if (!v.ok()) {
    r.outcome = Outcome::kVerifyError;
    r.error = absl::StrCat("verification could not run: ", v.status().message());
    return r;
  }
  r.verify = *v;
  const long targets = plan_.scenario.targets();
  // A churned socket destroyed (its endpoint is alive) or any other
  // surprise of the churn fails the repetition like an extra.
  const bool churn_ok = !r.churn || (r.churn->destroyed == 0 && !r.churn->first_problem[0]);
  if (v->ok(targets) && !churn_ok) {
    r.outcome = Outcome::kVerifyFailed;
    r.error = absl::StrFormat("verification failed: %d of the %d churned sockets destroyed; first: %s",
                              r.churn->destroyed, r.churn->opened, r.churn->first_problem);
  }
  // Each socket at most once: the approach's successful destroy calls
  // cannot outnumber the sockets seen destroyed (targets, extras, churned)
  // unless one socket was destroyed twice.
  const long seen = v->counts.destroyed + v->counts.extra + (r.churn ? r.churn->destroyed : 0);
  if (r.ok() && v->ok(targets) && static_cast<long>(r.stats.destroyed) > seen) {
    r.outcome = Outcome::kVerifyFailed;
    r.error = absl::StrFormat(
        "verification failed: %d successful destroy calls for %d sockets destroyed: a socket destroyed twice",
        r.stats.destroyed, seen);
  }
  if (!v->ok(targets)) {
    r.outcome = Outcome::kVerifyFailed;
    std::string senders;
    if (v->counts.unconnected > 0)
      senders = absl::StrFormat(" (%d of the %d unconnected UDP senders)", v->counts.unconnected_extra,
                                v->counts.unconnected);
    r.error = absl::StrFormat("verification failed: %d of %d targets destroyed, %d missed, %d extra%s; first: %s",
                              v->counts.destroyed, targets, v->counts.missed, v->counts.extra, senders,
                              v->first_problem);
    if (!churn_ok)
      absl::StrAppendFormat(&r.error, "; and %d of the %d churned sockets destroyed (%s)", r.churn->destroyed,
                            r.churn->opened, r.churn->first_problem);
  }
  return r;
}

}  // namespace sockbench
