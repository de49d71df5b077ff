#include "harness/context.h"

#include <openssl/evp.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "git_revision.h"

namespace sockbench {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto pos = line.find(':');
      if (pos != std::string::npos) return std::string(absl::StripAsciiWhitespace(line.substr(pos + 1)));
    }
  return "unknown";
}

long MemTotalKib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long v = 0;
  while (in >> key >> v)
    if (key == "MemTotal:") return v;
  return 0;
}

// "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1" -> tcp_inuse=5, ... tcp_mem_pages=1
void ParseSockstat(const char* path, std::map<std::string, long>* out) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 3) continue;
    std::string proto = absl::AsciiStrToLower(absl::StripSuffix(f[0], ":"));
    for (size_t i = 1; i + 1 < f.size(); i += 2) {
      long v;
      if (!absl::SimpleAtoi(f[i + 1], &v)) continue;
      std::string key = absl::StrCat(proto, "_", f[i]);
      if (f[i] == "mem") key += "_pages";
      (*out)[key] = v;
    }
  }
}

void ParseSlabinfo(std::map<std::string, long>* out) {
  std::ifstream in("/proc/slabinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 4) continue;
    const std::string& name = f[0];
    if (name != "TCP" && name != "TCPv6" && name != "UDP" && name != "UDPv6" &&
        name != "sock_inode_cache")
      continue;
    long active, objsize;
    if (absl::SimpleAtoi(f[1], &active) && absl::SimpleAtoi(f[3], &objsize))
      (*out)[absl::StrCat("slab_", name, "_bytes")] = active * objsize;
  }
}

}  // namespace

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// The running kernel's configuration (CONFIG_IKCONFIG_PROC), or "".
std::string KernelConfigText() {
  std::string text;
  gzFile gz = gzopen("/proc/config.gz", "rb");
  if (gz) {
    char buf[65536];
    int n;
    while ((n = gzread(gz, buf, sizeof(buf))) > 0) text.append(buf, n);
    gzclose(gz);
  }
  return text;
}

// The preemption model the kernel was built with: results of two models
// are not comparable timing for timing.
std::string PreemptModel(const std::string& config) {
  for (const char* m : {"PREEMPT_RT", "PREEMPT_LAZY", "PREEMPT", "PREEMPT_VOLUNTARY", "PREEMPT_NONE"}) {
    if (config.find(absl::StrCat("\nCONFIG_", m, "=y\n")) != std::string::npos) {
      std::string name = absl::AsciiStrToLower(m);
      std::replace(name.begin(), name.end(), '_', '-');
      return name;
    }
  }
  return EnvOr("SOCKBENCH_KERNEL_PREEMPT", "unknown");
}

RunContext RunContext::Collect() {
  RunContext c;
  utsname u{};
  uname(&u);
  c.kernel_release = u.release;
  const std::string config = KernelConfigText();
  c.kernel_config_sha256 =
      config.empty() ? EnvOr("SOCKBENCH_KERNEL_CONFIG_SHA256", "unavailable") : Sha256Hex(config);
  c.preempt_model = PreemptModel(config);
  c.patchset = EnvOr("SOCKBENCH_PATCHSET", "none");
  // Debian package and version (or a --tree revision) of a sockbench-built
  // kernel; the running kernel of the machine otherwise.
  c.kernel_source = EnvOr("SOCKBENCH_KERNEL_SOURCE", "running kernel");
  c.vm = EnvOr("SOCKBENCH_VM", "none");
  c.cpu_model = CpuModel();
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  c.host_name = host;
  c.num_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  c.mem_total_kib = MemTotalKib();
  c.sockbench_git_revision = SOCKBENCH_GIT_REVISION;
  c.sockbench_git_dirty = SOCKBENCH_GIT_DIRTY != 0;
  c.sockbench_git_diff_sha256 = SOCKBENCH_GIT_DIFF_SHA256;
  return c;
}

nlohmann::json RunContext::ToJson() const {
  nlohmann::json j = {{"kernel_release", kernel_release},
                      {"kernel_config_sha256", kernel_config_sha256},
                      {"kernel_source", kernel_source},
                      {"preempt_model", preempt_model},
                      {"patchset", patchset},
                      {"vm", vm},
                      {"cpu_model", cpu_model},
                      {"host_name", host_name},
                      {"num_cpus", num_cpus},
                      {"mem_total_kib", mem_total_kib},
                      {"machine", absl::StrCat(cpu_model, ", ", num_cpus, " CPUs, ", mem_total_kib / 1024, " MiB")},
                      {"sockbench_git_revision", sockbench_git_revision},
                      {"sockbench_git_dirty", sockbench_git_dirty}};
  if (sockbench_git_dirty) j["sockbench_git_diff_sha256"] = sockbench_git_diff_sha256;
  return j;
}

std::map<std::string, long> SocketMemory() {
  std::map<std::string, long> out;
  ParseSockstat("/proc/net/sockstat", &out);
  ParseSockstat("/proc/net/sockstat6", &out);
  ParseSlabinfo(&out);
  return out;
}

}  // namespace sockbench
