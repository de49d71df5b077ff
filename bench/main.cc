// sockbench: how fast, and how cleanly, can Linux destroy the sockets a load
// balancer wants gone? See README.md.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/commands.h"
#include "bench/flags.h"
#include "harness/cleanup.h"
#include "harness/libbpf_log.h"

ABSL_FLAG(bool, json, false, "probe: print JSON instead of a table");
ABSL_FLAG(std::string, workload, "", "run: workload file (workloads/*.json)");
ABSL_FLAG(std::string, approach, "all",
          "run: comma-separated approaches, or 'all' (sock_diag, iter_per_netns, iter_all_netns, "
          "sockhash_bucket, sk_storage_iter, sleepable_kfunc)");
ABSL_FLAG(int, repetitions, 0, "run: timed repetitions per approach and scenario (0: the workload's)");
ABSL_FLAG(std::string, out, "",
          "run: result JSON path (default results/<kernel_release>-<UTC timestamp>.json)");
ABSL_FLAG(long, socket_cap, 0,
          "run: skip (and report as skipped) scenarios with more sockets than this; 0 = no cap. "
          "For scaled-down runs, e.g. in an emulated VM");

namespace {

constexpr char kUsage[] =
    "sockbench <command> [flags]\n"
    "  probe [--json]                 which destruction approaches this kernel supports, and why not\n"
    "  run --workload FILE [--approach LIST] [--repetitions N] [--out FILE] [--socket_cap N]\n"
    "                                 build the fleet, time and verify each approach\n"
    "Needs root. See README.md and docs/.";

// One worker holds as many sockets as the descriptor limit allows; the hard
// limit cannot be raised here, so use all of it.
void RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
      std::puts(kUsage);
      return 0;
    }
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<char*> rest = {argv[0]};
  for (int i = 2; i < argc; ++i) rest.push_back(argv[i]);
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());
  if (positional.size() > 1) {
    std::fprintf(stderr, "sockbench %s: unexpected argument '%s'\n", cmd.c_str(), positional[1]);
    return 2;
  }
  if (cmd != "probe" && cmd != "run") {
    std::fprintf(stderr, "sockbench: unknown command '%s' (commands: probe, run; see sockbench --help)\n",
                 cmd.c_str());
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "sockbench %s: needs root (namespaces, BPF, SOCK_DESTROY)\n", cmd.c_str());
    return 2;
  }
  RaiseFdLimit();
  sockbench::InstallCleanupHandlers();
  sockbench::InstallLibbpfLogger();
  if (cmd == "probe") return sockbench::ProbeCommand();
  return sockbench::RunCommand();
}
