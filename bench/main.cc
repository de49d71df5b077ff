// sockbench: how fast, and how cleanly, can Linux destroy the sockets a load
// balancer wants gone? See README.md.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/commands.h"
#include "absl/strings/str_cat.h"
#include "bench/flags.h"
#include "harness/cleanup.h"
#include "harness/libbpf_log.h"
#include "harness/registry.h"
#include "leak/leak_cmd.h"

ABSL_FLAG(bool, json, false, "probe: print JSON instead of a table");
ABSL_FLAG(std::string, workload, "", "run: workload file (workloads/*.json)");
ABSL_FLAG(std::string, approach, "all",
          absl::StrCat(sockbench::Approaches().Help("run, leak, price: comma-separated approaches"),
                       "; leak aborts sockets with each one the kernel supports; price takes those that "
                       "record sockets at connect time ('all': every one of them), or 'none' for its "
                       "baseline alone"));
ABSL_FLAG(int, repetitions, 0, "run: timed repetitions per approach and scenario (0: the workload's)");
ABSL_FLAG(std::string, out, "",
          "run, leak, price, export: result JSON path (default results/<kernel_release>-<UTC timestamp>.json, "
          "leak: results/leak[-churn]-<kernel_release>.json, price: results/price-<kernel_release>.json, "
          "export: standard output)");
ABSL_FLAG(std::string, format, "",
          "export: bmf (Bencher Metric Format) or gab (github-action-benchmark, customSmallerIsBetter)");
ABSL_FLAG(std::string, in, "", "export: a result file of sockbench run (either schema version)");
ABSL_FLAG(int, datapath_packets, 20000,
          "lazy: datagrams per sample of the reject table's datapath cost (0: do not measure it)");
// Unset means the command's own default (leak: 64, price: 8000), so that an
// explicit --sockets 0 is an error, not a default.
ABSL_FLAG(std::optional<int>, sockets, std::nullopt,
          "leak: sockets per matrix cell (default 64); price: connect()s per approach, protocol "
          "and family (default 8000)");
ABSL_FLAG(std::string, hold_at, "",
          "run, for the signal tests: hold once at PHASE (namespaces, prepare, fleet, timed), print "
          "'holding at PHASE' and go on at SIGUSR1");
ABSL_FLAG(long, socket_cap, 0,
          "run: skip (and report as skipped) scenarios with more sockets than this; 0 = no cap. "
          "For scaled-down runs, e.g. in an emulated VM");
namespace {

constexpr char kUsage[] =
    "sockbench <command> [flags]\n"
    "  probe [--json]                 which destruction approaches this kernel supports, and why not\n"
    "  run --workload FILE [--approach LIST] [--repetitions N] [--out FILE] [--socket_cap N]\n"
    "                                 build the fleet, time and verify each approach\n"
    "  vm [--kernel PATH | --build] [--debug] [--series NAME | --tree DIR] [--cpus N] [--memory M]\n"
    "     [--timeout S] -- <command> [flags]\n"
    "                                 boot sockbench's kernel in qemu and run a sockbench command there\n"
    "  leak [--strategy LIST] [--approach LIST] [--sockets N] [--out FILE]\n"
    "                                 reverse-NAT leak matrix (cilium#42649) and cost per strategy\n"
    "  leak --churn N [--lru_size N] [--churn_sockets N] [--live_sockets N] [--out FILE]\n"
    "                                 LRU harm when a backend keeps dying\n"
    "  price [--approach LIST] [--sockets N] [--out FILE]\n"
    "                                 what connect() pays for approaches that record sockets at connect\n"
    "                                 time (UDP, TCP; IPv4, IPv6), against no programs\n"
    "  lazy --workload FILE [--approach LIST] [--repetitions N] [--datapath_packets N] [--out FILE]\n"
    "                                 lazy alternatives (ICMP unreachable, RTO timeout): when each socket\n"
    "                                 notices its backend is gone, beside a destroy pass (docs/lazy.md)\n"
    "  export --format bmf|gab --in FILE [--out FILE]\n"
    "                                 a run result for Bencher (bmf) or github-action-benchmark (gab)\n"
    "Needs root, except export. See README.md and docs/.";

// `sockbench vm [vm flags] -- <sockbench command>`: hand over to the VM
// runner (kernel/vm.sh), which boots the kernel with this machine's root
// shared read-only and runs this very binary inside.
int VmCommand(int argc, char** argv) {
  std::vector<std::string> args = {"bash", SOCKBENCH_SOURCE_DIR "/kernel/vm.sh"};
  int i = 2;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) args.push_back(argv[i]);
  if (i == argc || i + 1 == argc) {
    std::fprintf(stderr,
                 "sockbench vm: give the command to run after '--', e.g. "
                 "sockbench vm -- run --workload workloads/smoke.json\n");
    return 2;
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) {
    std::perror("sockbench vm: readlink /proc/self/exe");
    return 1;
  }
  exe[n] = '\0';
  args.push_back("--");
  args.push_back(exe);
  for (++i; i < argc; ++i) args.push_back(argv[i]);
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // vm.sh stops its guest from traps on SIGHUP, SIGINT and SIGTERM, but bash
  // cannot trap a signal that was ignored when it started, and a script's
  // background job (`sockbench vm ... &`) starts with SIGINT ignored: a
  // Ctrl-C or kill -INT would then leave the guest running to its timeout.
  for (int sig : {SIGHUP, SIGINT, SIGTERM}) std::signal(sig, SIG_DFL);
  execvp("bash", cargv.data());
  std::perror("sockbench vm: exec kernel/vm.sh");
  return 1;
}

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
  if (cmd == "vm") return VmCommand(argc, argv);
  std::vector<char*> rest = {argv[0]};
  for (int i = 2; i < argc; ++i) rest.push_back(argv[i]);
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());
  if (positional.size() > 1) {
    std::fprintf(stderr, "sockbench %s: unexpected argument '%s'\n", cmd.c_str(), positional[1]);
    return 2;
  }
  if (cmd != "probe" && cmd != "run" && cmd != "leak" && cmd != "price" && cmd != "export" &&
      cmd != "lazy") {
    std::fprintf(stderr,
                 "sockbench: unknown command '%s' (commands: probe, run, leak, price, lazy, export; see sockbench "
                 "--help)\n",
                 cmd.c_str());
    return 2;
  }
  if (cmd == "export") return sockbench::ExportCommand();  // reads a file: no root
  if (geteuid() != 0) {
    std::fprintf(stderr, "sockbench %s: needs root (namespaces, BPF, SOCK_DESTROY)\n", cmd.c_str());
    return 2;
  }
  RaiseFdLimit();
  sockbench::InstallCleanupHandlers();
  sockbench::InstallLibbpfLogger();
  if (cmd == "probe") return sockbench::ProbeCommand();
  if (cmd == "price") return sockbench::PriceCommand();
  if (cmd == "lazy") return sockbench::LazyCommand();
  if (cmd == "leak")
    return sockbench::LeakCommand(absl::GetFlag(FLAGS_approach), absl::GetFlag(FLAGS_out),
                                  absl::GetFlag(FLAGS_sockets).value_or(64));
  return sockbench::RunCommand();
}
