#include "harness/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sockbench {
namespace {

thread_local std::string t_log;
bool g_echo = false;

int Collect(enum libbpf_print_level level, const char* fmt, va_list args) {
  // The verifier log arrives as one string of any length.
  va_list copy, sized;
  va_copy(copy, args);
  va_copy(sized, args);
  int n = vsnprintf(nullptr, 0, fmt, sized);
  va_end(sized);
  if (n > 0) {
    std::string buf(static_cast<size_t>(n) + 1, '\0');
    vsnprintf(buf.data(), buf.size(), fmt, args);
    buf.resize(n);
    t_log += buf;
  }
  if (g_echo || (level == LIBBPF_WARN && getenv("SOCKBENCH_LIBBPF_WARN")))
    vfprintf(stderr, fmt, copy);
  va_end(copy);
  return 0;
}

}  // namespace

void InstallLibbpfLogger() {
  g_echo = getenv("SOCKBENCH_LIBBPF_DEBUG") != nullptr;
  libbpf_set_print(Collect);
}

void ClearLibbpfLog() {
  // Every capture starts here, so whoever loads BPF gets the logger.
  static std::once_flag once;
  std::call_once(once, InstallLibbpfLogger);
  t_log.clear();
}
std::string LibbpfLog() { return t_log; }

std::string LibbpfReason() {
  std::vector<std::string> lines = absl::StrSplit(t_log, '\n', absl::SkipWhitespace());
  // The verifier's last word comes just before its "processed N insns" line.
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!absl::StartsWith(lines[i], "processed ")) continue;
    // Nothing verified: the kernel turned the program down up front (its
    // type, attach target or a policy), and the log has no complaint.
    if (absl::StartsWith(lines[i], "processed 0 insns"))
      return "the kernel refused the program before verifying it (program type or attach target "
             "not allowed here)";
    if (i > 0) return lines[i - 1];
  }
  // Otherwise libbpf's own first complaint, without the "libbpf: " prefix.
  for (const auto& l : lines)
    if (absl::StrContains(l, "not found") || absl::StrContains(l, "failed to find"))
      return std::string(absl::StripPrefix(l, "libbpf: "));
  for (const auto& l : lines)
    if (absl::StrContains(l, "failed") || absl::StrContains(l, "error"))
      return std::string(absl::StripPrefix(l, "libbpf: "));
  return lines.empty() ? "no libbpf output" : std::string(absl::StripPrefix(lines.back(), "libbpf: "));
}

}  // namespace sockbench
