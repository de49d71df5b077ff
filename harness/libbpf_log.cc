#include "harness/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

std::string LibbpfReason() { return VerifierReason(t_log); }

std::string VerifierReason(const std::string& log) {
  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipWhitespace());
  // Verifiers since 7.x follow their one-line complaint with a block that
  // starts "Verification failed: <category>" and ends in a wrapped
  // suggestion: the complaint is the last line before the block that is not
  // an instruction ("N: (op) ...") or a source line ("; ...").
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!absl::StartsWith(lines[i], "Verification failed: ")) continue;
    std::string category(absl::StripPrefix(lines[i], "Verification failed: "));
    for (size_t j = i; j-- > 0;) {
      const std::string& l = lines[j];
      bool insn = !l.empty() && absl::ascii_isdigit(l[0]) && absl::StrContains(l, ": (");
      if (insn || absl::StartsWith(l, ";")) break;
      return absl::StrCat(l, " (", category, ")");
    }
    return category;
  }
  // Older verifiers: the last word comes just before "processed N insns".
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
