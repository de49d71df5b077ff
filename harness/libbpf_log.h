// libbpf prints through one global callback; sockbench collects those lines
// so a failed load becomes a one-line reason ("R1 must be referenced or
// trusted", "... not found in kernel BTF") instead of a wall of verifier log.
#pragma once

#include <string>

namespace sockbench {

// Installs the collecting callback (idempotent). SOCKBENCH_LIBBPF_DEBUG=1
// also echoes everything to stderr.
void InstallLibbpfLogger();
// Starts a new capture for the calling thread.
void ClearLibbpfLog();
// The captured text.
std::string LibbpfLog();
// The most telling line(s) of the captured log: the verifier's complaint
// (the line before "processed N insns") or libbpf's own error.
std::string LibbpfReason();
// The line of a libbpf/verifier log that says what was refused (what
// LibbpfReason() returns for the captured log).
std::string VerifierReason(const std::string& log);

}  // namespace sockbench
