// The fleet and its verification, on the real kernel: verification must see
// a miss when nothing was destroyed and an extra when too much was, or none
// of sockbench's "verified" numbers would mean anything.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "harness/cgroup.h"
#include "harness/fleet.h"
#include "harness/registry.h"
#include "harness/scenario.h"

namespace sockbench {
namespace {

// Failed assertions of the running test so far.
int FailedParts() {
  const ::testing::TestResult* r = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < r->total_part_count(); ++i) n += r->GetTestPartResult(i).failed();
  return n;
}

// The scenario the benchmark builds, without a cgroup of its own;
// `unconnected` senders of the dying backend in each target namespace.
std::unique_ptr<Scenario> MakeRig(int ns, long sockets, int per, int tns, int unconnected = 0,
                                  ChurnSpec churn = {}) {
  ScenarioSpec s;
  s.churn = churn;
  s.namespaces = ns;
  s.sockets = sockets;
  s.targets_per_netns = per;
  s.target_namespaces = tns;
  s.unconnected_per_netns = unconnected;
  auto plan = FleetPlan::Make(s, FleetLimits::OfThisMachine());
  EXPECT_TRUE(plan.ok()) << plan.status();
  auto rig = Scenario::Build(*plan, ScenarioEnv{});
  EXPECT_TRUE(rig.ok()) << rig.status();
  return rig.ok() ? std::move(*rig) : nullptr;
}

// Two repetitions as the benchmark runs them (re-create, destroy with `d`,
// verify): exactly `targets` destroyed, each once, none missed, none extra,
// the other sockets intact, every unconnected sender too. Targets spread
// evenly over the four socket kinds, so half are TCP, whose peers the
// kernel resets. An approach whose registry row names a known defect
// (cilium_term: cilium#48564) must show exactly that instead: the same,
// except that every unconnected sender was destroyed too, and the
// repetition failed verification for it. `*verified` counts the
// repetitions that got this far and passed every check.
constexpr int kRepetitions = 2;
void DestroyExactlyAcrossRecreation(Scenario* rig, Destroyer* d, long sockets, int targets,
                                    int* verified) {
  *verified = 0;
  const bool defect = !Approaches().Find(d->name())->known_defect.empty();
  const long senders = rig->plan().scenario.unconnected();
  // `d` dies before the scenario: release it here, however the test ends.
  absl::Cleanup release = [rig, d] { rig->Release(*d); };
  ASSERT_TRUE(rig->Prepare(*d).ok());
  for (int rep = 0; rep < kRepetitions; ++rep) {
    const int failures_before = FailedParts();
    Repetition r = rig->RunRepetition(*d);
    ASSERT_NE(r.outcome, Outcome::kRecreateFailed) << r.error;
    ASSERT_NE(r.outcome, Outcome::kDestroyFailed) << r.error;
    const DestroyStats* stats = &r.stats;
    ASSERT_NE(r.outcome, Outcome::kVerifyError) << r.error;
    const VerifyResult* v = &r.verify;
    EXPECT_EQ(v->counts.targets, targets);
    EXPECT_EQ(v->counts.destroyed, targets);
    EXPECT_EQ(v->counts.missed, 0);
    EXPECT_EQ(v->counts.intact, sockets - targets);
    EXPECT_EQ(v->counts.peer_reset, targets / 2);
    EXPECT_EQ(v->counts.unconnected, senders);
    if (defect) {
      ASSERT_GT(senders, 0) << "the rig must hold the senders the defect destroys";
      EXPECT_EQ(r.outcome, Outcome::kVerifyFailed);
      EXPECT_TRUE(OnlyUnconnectedSendersHit(r, targets)) << r.error;
      EXPECT_EQ(v->counts.unconnected_extra, senders) << "the defect reproduced for every sender";
      EXPECT_EQ(v->counts.extra, senders);
      EXPECT_EQ(stats->destroyed, static_cast<uint64_t>(targets + senders));
    } else {
      EXPECT_TRUE(v->ok(targets)) << v->first_problem;
      EXPECT_EQ(v->counts.extra, 0);
      EXPECT_EQ(v->counts.unconnected_extra, 0) << "an unconnected sender destroyed (cilium#48564)";
      EXPECT_EQ(stats->destroyed, static_cast<uint64_t>(targets));
    }
    if (FailedParts() == failures_before) ++*verified;
  }
}

TEST(Fleet, VerificationSeesEveryTargetMissedWhenNothingWasDestroyed) {
  auto rig = MakeRig(3, 120, 4, 2);
  auto v = rig->fleet().Verify();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->counts.targets, 8);
  EXPECT_EQ(v->counts.missed, 8);
  EXPECT_EQ(v->counts.destroyed, 0);
  EXPECT_EQ(v->counts.extra, 0);
  EXPECT_EQ(v->counts.intact, 120 - 8);
  EXPECT_FALSE(v->ok(8));
  EXPECT_NE(v->first_problem.find("target not destroyed"), std::string::npos);
}

// Every approach the kernel supports, in turn, on one fleet. Those it does
// not support are left out, but not silently: the stock approaches run on
// every kernel sockbench supports, so they must have run and verified (or,
// cilium_term, shown its known defect in every repetition).
TEST(Fleet, EachSupportedApproachDestroysExactlyTheTargetsAcrossRecreation) {
  auto rig = MakeRig(4, 200, 4, 3, 2);
  ASSERT_NE(rig, nullptr);
  std::map<std::string, int> verified;
  for (const auto& name : ApproachNames()) {
    auto d = MakeDestroyer(name);
    absl::Status probe = d->Probe();
    if (!probe.ok()) {
      std::printf("[ fleet ] %s: unsupported here: %s\n", name.c_str(), std::string(probe.message()).c_str());
      continue;
    }
    SCOPED_TRACE(name);
    DestroyExactlyAcrossRecreation(rig.get(), d.get(), 200, 12, &verified[name]);
    const std::string& defect = Approaches().Find(name)->known_defect;
    std::printf("[ fleet ] %s: %d of %d repetitions verified%s\n", name.c_str(), verified[name], kRepetitions,
                defect.empty() ? "" : (" to show its known defect, " + defect).c_str());
  }
  for (const char* stock : {"sock_diag", "iter_per_netns", "cilium_term", "cilium_term_fixed"})
    EXPECT_EQ(verified[stock], kRepetitions) << stock << " must run and verify on every kernel";
}

TEST(Fleet, VerificationSeesExtrasWhenALiveBackendIsDestroyedToo) {
  auto rig = MakeRig(2, 100, 2, 2);
  auto d = MakeDestroyer("sock_diag");
  ASSERT_TRUE(d->Probe().ok());
  Target t = rig->target();
  t.endpoints.push_back(BackendEndpoint(1, Family::kIpv4));  // a backend that is alive
  ASSERT_TRUE(d->Destroy(t).ok());
  auto v = rig->fleet().Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_GT(v->counts.extra, 0);
  EXPECT_FALSE(v->ok(4));
}

// Churn during the pass (harness/churn.h): the sockets it opens and closes
// to a live endpoint, in every namespace, survive the pass and are counted;
// the targets are still destroyed exactly.
TEST(Fleet, ChurnedSocketsSurviveThePassAndAreCounted) {
  const ChurnSpec churn{.opens_per_second = 2000, .max_open = 32, .sending_share = 0.5};
  auto rig = MakeRig(4, 200, 2, 2, 1, churn);
  ASSERT_NE(rig, nullptr);
  for (const char* name : {"sock_diag", "iter_per_netns"}) {
    SCOPED_TRACE(name);
    auto d = MakeDestroyer(name);
    ASSERT_TRUE(d->Probe().ok());
    ASSERT_TRUE(rig->Prepare(*d).ok());
    Repetition r = rig->RunRepetition(*d);
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.verify.counts.destroyed, 4);
    ASSERT_TRUE(r.churn.has_value());
    EXPECT_GE(r.churn->opened, churn.max_open);  // the ones open when the pass began
    EXPECT_EQ(r.churn->destroyed, 0);
    EXPECT_GT(r.churn->sends, 0);
    EXPECT_STREQ(r.churn->first_problem, "");
    rig->Release(*d);
  }
}

// An approach that also destroys the churn's live endpoint: the churned
// sockets it destroyed fail the repetition, though every target is right.
TEST(Fleet, ADestroyedChurnedSocketFailsTheRepetition) {
  const ChurnSpec churn{.opens_per_second = 500, .max_open = 16};
  auto rig = MakeRig(2, 100, 2, 2, 0, churn);
  ASSERT_NE(rig, nullptr);
  class AlsoChurn : public Destroyer {
   public:
    AlsoChurn(int backends) : inner_(MakeDestroyer("iter_per_netns")), backends_(backends) {}
    const char* name() const override { return "iter_per_netns+churn"; }
    absl::Status Probe() override { return inner_->Probe(); }
    absl::StatusOr<DestroyStats> Destroy(const Target& target) override {
      Target t = target;
      t.tcp = t.udp = true;  // the churn has both; the plan's few targets may not
      for (Family f : {Family::kIpv4, Family::kIpv6}) {
        Endpoint e = BackendAddress((backends_ - 1) / 2, f);
        e.port_be = htons(kChurnPort);
        t.endpoints.push_back(e);
      }
      return inner_->Destroy(t);
    }

   private:
    std::unique_ptr<Destroyer> inner_;
    int backends_;
  } d(rig->plan().scenario.backends);
  ASSERT_TRUE(d.Probe().ok());
  ASSERT_TRUE(rig->Prepare(d).ok());
  Repetition r = rig->RunRepetition(d);
  EXPECT_EQ(r.outcome, Outcome::kVerifyFailed);
  EXPECT_EQ(r.verify.counts.destroyed, 4);
  EXPECT_EQ(r.verify.counts.extra, 0);
  ASSERT_TRUE(r.churn.has_value());
  EXPECT_GE(r.churn->destroyed, churn.max_open);
  EXPECT_NE(r.error.find("churned sockets destroyed"), std::string::npos) << r.error;
  rig->Release(d);
}

// More successful destroy calls than sockets seen destroyed is a socket
// destroyed twice: an approach that reports one call more than it made
// (the kernel refuses a second destroy of the same socket, so this is the
// way such a bug would show) fails the repetition.
TEST(Fleet, MoreDestroyCallsThanDestroyedSocketsFailTheRepetition) {
  auto rig = MakeRig(2, 100, 2, 2);
  ASSERT_NE(rig, nullptr);
  class OneTooMany : public Destroyer {
   public:
    OneTooMany() : inner_(MakeDestroyer("iter_per_netns")) {}
    const char* name() const override { return "iter_per_netns+1"; }
    absl::Status Probe() override { return inner_->Probe(); }
    absl::StatusOr<DestroyStats> Destroy(const Target& target) override {
      absl::StatusOr<DestroyStats> st = inner_->Destroy(target);
      if (st.ok()) st->destroyed++;
      return st;
    }

   private:
    std::unique_ptr<Destroyer> inner_;
  } d;
  ASSERT_TRUE(d.Probe().ok());
  ASSERT_TRUE(rig->Prepare(d).ok());
  Repetition r = rig->RunRepetition(d);
  EXPECT_EQ(r.verify.counts.destroyed, 4);
  EXPECT_EQ(r.outcome, Outcome::kVerifyFailed);
  EXPECT_NE(r.error.find("a socket destroyed twice"), std::string::npos) << r.error;
  rig->Release(d);
}

// Destroys what the plan targets and every socket without a destination
// (0.0.0.0:0 and [::]:0: every unconnected UDP socket, the senders and the
// backends' UDP servers), with iter_per_netns: the approach cilium#48564
// describes, made out of a stock one.
class AlsoUnconnected : public Destroyer {
 public:
  AlsoUnconnected() : inner_(MakeDestroyer("iter_per_netns")) {}
  const char* name() const override { return "iter_per_netns+unconnected"; }
  absl::Status Probe() override { return inner_->Probe(); }
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override {
    Target t = target;
    Endpoint any6;
    any6.family = Family::kIpv6;
    t.endpoints.push_back(Endpoint{});
    t.endpoints.push_back(any6);
    return inner_->Destroy(t);
  }

 private:
  std::unique_ptr<Destroyer> inner_;
};

// An unconnected sender that was destroyed is an extra, in that
// repetition (it reports ECONNABORTED) and in every later verification
// (its port is gone), and the repetition fails naming the senders.
TEST(Fleet, VerificationSeesADestroyedUnconnectedSenderAsExtra) {
  auto rig = MakeRig(3, 120, 4, 2, 3);
  ASSERT_NE(rig, nullptr);
  auto v = rig->fleet().Verify();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->counts.unconnected, 6);
  EXPECT_EQ(v->counts.unconnected_extra, 0);
  EXPECT_EQ(v->counts.extra, 0) << v->first_problem;

  AlsoUnconnected d;
  ASSERT_TRUE(rig->Prepare(d).ok());
  absl::Cleanup release = [&] { rig->Release(d); };
  Repetition r = rig->RunRepetition(d);
  EXPECT_EQ(r.outcome, Outcome::kVerifyFailed) << r.error;
  EXPECT_EQ(r.verify.counts.destroyed, 8);
  EXPECT_EQ(r.verify.counts.missed, 0);
  EXPECT_EQ(r.verify.counts.unconnected_extra, 6);
  EXPECT_EQ(r.verify.counts.extra, 6);
  EXPECT_NE(r.error.find("8 of 8 targets destroyed, 0 missed, 6 extra (6 of the 6 unconnected UDP senders)"),
            std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("unconnected sender destroyed"), std::string::npos) << r.error;

  v = rig->fleet().Verify();  // SO_ERROR was read; the lost port stays
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->counts.unconnected_extra, 6);
  EXPECT_FALSE(v->ok(8));
}

// Lowers this process's RLIMIT_NOFILE (soft and hard) for a test, so that
// the workers it forks really cannot hold more; root raises it back.
class ScopedFdLimit {
 public:
  explicit ScopedFdLimit(rlim_t fds) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low{fds, fds};
    ok_ = setrlimit(RLIMIT_NOFILE, &low) == 0;
  }
  ~ScopedFdLimit() { setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

long WorkerFdLimitOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Max open files", 0) == 0) return std::stol(line.substr(26));
  return -1;
}

// One namespace with more descriptors than one worker may hold: its sockets
// are spread over several workers (targets in each of them), which share its
// listeners. Both stock approaches must destroy exactly the targets, across
// re-creation, and verification must still count every socket once.
TEST(Fleet, ANamespaceSharedByWorkersIsDestroyedExactly) {
  ScopedFdLimit limit(2048);
  ASSERT_TRUE(limit.ok());
  constexpr long kSockets = 3000;  // 4,500 descriptors in one namespace
  constexpr int kTargets = 40;
  auto rig = MakeRig(1, kSockets, kTargets, 1, 6);
  ASSERT_NE(rig, nullptr);
  const FleetPlan& plan = rig->plan();
  ASSERT_GT(plan.netns[0].fds, 2048);
  ASSERT_GE(plan.netns[0].workers.size(), 3u);
  for (pid_t pid : rig->fleet().worker_pids()) EXPECT_EQ(WorkerFdLimitOf(pid), 2048);
  for (const WorkerPlan& wp : plan.workers) {
    long targets = 0;
    for (const SocketGroup& g : wp.groups) targets += g.target ? g.count : 0;
    EXPECT_GT(targets, 0) << "every worker holds some of the namespace's targets";
  }
  for (const char* name : {"iter_per_netns", "sock_diag"}) {
    SCOPED_TRACE(name);
    auto d = MakeDestroyer(name);
    absl::Status probe = d->Probe();
    if (!probe.ok()) {
      ADD_FAILURE() << name << " unsupported on this kernel: " << probe;
      continue;
    }
    int verified = 0;
    DestroyExactlyAcrossRecreation(rig.get(), d.get(), kSockets, kTargets, &verified);
    EXPECT_EQ(verified, kRepetitions);
  }
}

TEST(Fleet, WorkersRunInTheGivenCgroupAndGoAway) {
  auto cg = ScopedCgroup::Create("test");
  ASSERT_TRUE(cg.ok()) << cg.status();
  ScenarioSpec s;
  s.namespaces = 2;
  s.sockets = 10;
  s.targets_per_netns = 1;
  s.target_namespaces = 1;
  auto plan = FleetPlan::Make(s, FleetLimits::OfThisMachine());
  auto netns = NetnsSet::Create(2, plan->netns_options());
  ASSERT_TRUE(netns.ok());
  std::vector<pid_t> pids;
  {
    auto fleet = Fleet::Build(*plan, *netns, cg->path());
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    pids = (*fleet)->worker_pids();
    std::ifstream procs(cg->path() + "/cgroup.procs");
    std::vector<pid_t> in;
    pid_t p;
    while (procs >> p) in.push_back(p);
    std::sort(in.begin(), in.end());
    std::sort(pids.begin(), pids.end());
    EXPECT_EQ(in, pids);
  }
  for (pid_t p : pids) EXPECT_NE(kill(p, 0), 0) << "worker " << p << " survived";
}

}  // namespace
}  // namespace sockbench
