#include "leak/churn.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "leak/lab.h"
#include "leak/settle.h"
#include "leak/strategy.h"
#include "harness/status.h"

namespace sockbench {
namespace {

constexpr int kChurnGroup = 0;
constexpr int kLiveGroup = 1;

absl::StatusOr<uint64_t> Occupancy(LeakStrategy& s) {
  SB_ASSIGN_OR_RETURN(ReverseState st, s.State());
  return st.total();
}

}  // namespace

absl::StatusOr<ChurnSeries> RunChurn(const std::string& name, Destroyer& destroyer,
                                     const ChurnOptions& opts) {
  ChurnSeries series;
  series.strategy = name;
  series.approach = destroyer.name();
  series.options = opts;
  SB_ASSIGN_OR_RETURN(auto lab, LeakLab::Create("churn"));
  StrategyOptions so;
  so.reverse_entries = opts.lru_size;
  so.netns_cookie = lab->netns_cookie();
  SB_ASSIGN_OR_RETURN(auto strategy, SetUpStrategy(name, so, lab->cgroup_fd()));

  // The long-lived sockets, opened before any churn: their entries are the
  // oldest in the LRU.
  int live_tcp = opts.live_sockets / 2;
  int live_udp = opts.live_sockets - live_tcp;
  SB_ASSIGN_OR_RETURN(LeakReply lt, lab->Open(kLiveGroup, SockKind::kTcp, Family::kIpv4, kLiveService, live_tcp));
  SB_ASSIGN_OR_RETURN(LeakReply lu, lab->Open(kLiveGroup, SockKind::kUdpConnected, Family::kIpv4,
                                              kLiveService, live_udp));
  if (lt.translated + lu.translated != opts.live_sockets)
    return absl::InternalError(absl::StrCat(name, ": only ", lt.translated + lu.translated, " of ",
                                            opts.live_sockets, " live sockets translated at open"));
  SB_ASSIGN_OR_RETURN(std::vector<uint64_t> live_cookies, lab->Cookies(kLiveGroup));
  const Endpoint live_backend = ServiceBackend(kLiveService, Family::kIpv4);
  const Target dying = lab->BackendTarget(kDyingService, Family::kIpv4, SockKind::kUdpConnected);

  std::vector<int64_t> wrong_by_cohort(std::max(opts.check_every, 1), 0);
  for (int cycle = 0; cycle <= opts.cycles; ++cycle) {
    ChurnPoint p;
    p.cycle = cycle;
    if (cycle > 0) {
      SB_ASSIGN_OR_RETURN(LeakReply o, lab->Open(kChurnGroup, SockKind::kUdpConnected, Family::kIpv4,
                                                 kDyingService, opts.churn_sockets));
      (void)o;
      absl::StatusOr<DestroyStats> d = destroyer.Destroy(dying);
      if (!d.ok()) return d.status();
      p.destroyed = d->destroyed;
      SB_ASSIGN_OR_RETURN(LeakReply c, lab->Close(kChurnGroup));
      (void)c;
    }
    if (strategy->freed_after_rcu()) {
      SB_ASSIGN_OR_RETURN(Settled s, SettleCount([&]() { return Occupancy(*strategy); },
                                                 static_cast<uint64_t>(opts.live_sockets)));
      (void)s;
    }
    SB_ASSIGN_OR_RETURN(p.occupancy, Occupancy(*strategy));
    // Userspace lookups do not refresh LRU order: counting cannot protect
    // an entry from eviction.
    int64_t present = 0;
    bool lookups = true;
    for (uint64_t cookie : live_cookies) {
      absl::StatusOr<bool> has = strategy->HasReverse(cookie, live_backend);
      if (absl::IsUnimplemented(has.status())) {
        lookups = false;
        break;
      }
      if (!has.ok()) return has.status();
      present += *has ? 1 : 0;
    }
    if (lookups) {
      p.live_present = present;
      p.live_evicted = static_cast<int64_t>(live_cookies.size()) - present;
    }
    if (cycle > 0 && opts.check_every > 0) {
      int cohort = cycle % opts.check_every;
      SB_ASSIGN_OR_RETURN(LeakReply chk, lab->Check(kLiveGroup, opts.check_every, cohort));
      p.checked = chk.sockets;
      p.live_translated = chk.translated;
      p.live_wrong = chk.untranslated;
      p.live_errors = chk.errors;
      wrong_by_cohort[cohort] = chk.untranslated;
    }
    for (int64_t w : wrong_by_cohort) p.live_wrong_known += w;
    StrategyCounters c = strategy->Counters();
    p.inserted = c.inserted;
    p.deleted = c.deleted;
    series.points.push_back(p);
  }
  SB_ASSIGN_OR_RETURN(LeakReply final_check, lab->Check(kLiveGroup));
  series.final_translated = final_check.translated;
  series.final_wrong = final_check.untranslated;
  series.final_errors = final_check.errors;
  SB_ASSIGN_OR_RETURN(LeakReply done, lab->Close(kLiveGroup));
  (void)done;
  return series;
}

}  // namespace sockbench
