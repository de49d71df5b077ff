// The run's summary and its exit status: a benchmark that failed exactly
// the way its approach's known defect says (cilium_term, cilium#48564) is
// reported as that finding, with the verification's counts in the result
// file, and does not fail the run; any other failure does.
#include "bench/summary.h"

#include <gtest/gtest.h>

#include <string>

namespace sockbench {
namespace {

constexpr char kDefect[] = "cilium#48564: destroys unconnected UDP sockets that sent to the dying backend";

Repetition Verified(long destroyed, long missed, long extra, long unconnected_extra) {
  Repetition r;
  r.verify.counts.targets = 8;
  r.verify.counts.destroyed = destroyed;
  r.verify.counts.missed = missed;
  r.verify.counts.extra = extra;
  r.verify.counts.unconnected = 4;
  r.verify.counts.unconnected_extra = unconnected_extra;
  if (missed || extra || destroyed != 8) {
    r.outcome = Outcome::kVerifyFailed;
    r.error = "verification failed: ...";
  }
  return r;
}

BenchmarkLog Log(std::string defect, std::vector<Repetition> reps) {
  BenchmarkLog log;
  log.run_name = "destroy/cilium_term/netns:4/sockets:512/targets:4x2/iterations:1/manual_time";
  log.targets = 8;
  log.known_defect = std::move(defect);
  log.repetitions = std::move(reps);
  return log;
}

TEST(Summary, OnlyTheSendersHitIsTheKnownDefectAndDoesNotFailTheRun) {
  BenchmarkLog shown = Log(kDefect, {Verified(8, 0, 4, 4)});
  EXPECT_EQ(KnownDefectShown(shown), kDefect);
  EXPECT_EQ(PrintSummary({shown}), 0);
  nlohmann::json d = NotTimedDetails(shown);
  EXPECT_EQ(d["known_defect"], kDefect);
  EXPECT_EQ(d["verification"]["targets"], 8);
  EXPECT_EQ(d["verification"]["destroyed"], 8);
  EXPECT_EQ(d["verification"]["missed"], 0);
  EXPECT_EQ(d["verification"]["extra"], 4);
  EXPECT_EQ(d["verification"]["unconnected"], 4);
  EXPECT_EQ(d["verification"]["unconnected_extra"], 4);
}

TEST(Summary, AnyOtherFailureFailsTheRunEvenWithAKnownDefect) {
  for (const Repetition& bad : {Verified(7, 1, 4, 4),    // a target missed too
                                Verified(8, 0, 5, 4),    // another socket hit too
                                Verified(8, 0, 0, 0)}) {  // no failure of its own...
    BenchmarkLog log = Log(kDefect, {Verified(8, 0, 4, 4), bad});
    if (bad.ok()) log.repetitions.back().outcome = Outcome::kDestroyFailed;  // ...but Destroy() failed
    EXPECT_EQ(KnownDefectShown(log), "");
    EXPECT_EQ(PrintSummary({log}), 1);
    EXPECT_FALSE(NotTimedDetails(log).contains("known_defect"));
  }
  // Without a known defect, the senders hit is a failure like any other.
  BenchmarkLog plain = Log("", {Verified(8, 0, 4, 4)});
  EXPECT_EQ(KnownDefectShown(plain), "");
  EXPECT_EQ(PrintSummary({plain}), 1);
  EXPECT_EQ(NotTimedDetails(plain)["verification"]["unconnected_extra"], 4);
  EXPECT_FALSE(NotTimedDetails(plain).contains("known_defect"));
  // A benchmark that verified has nothing to add.
  EXPECT_TRUE(NotTimedDetails(Log(kDefect, {Verified(8, 0, 0, 0)})).is_null());
  EXPECT_EQ(PrintSummary({Log(kDefect, {Verified(8, 0, 0, 0)})}), 0);
}

}  // namespace
}  // namespace sockbench
