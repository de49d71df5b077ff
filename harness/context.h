// What every timing carries: which kernel, config, patch set, VM mode and
// machine produced it, and what the fleet cost in kernel memory.
#pragma once

#include <map>
#include <string>

#include "nlohmann/json.hpp"

namespace sockbench {

struct RunContext {
  std::string kernel_release;
  std::string kernel_config_sha256;  // of the uncompressed /proc/config.gz
  std::string kernel_source;         // Debian package + version, tree revision, or "running kernel"
  std::string preempt_model;         // preempt-lazy, preempt-voluntary, ... from /proc/config.gz
  std::string patchset;              // "none" on a stock kernel
  std::string vm;                    // none | kvm | tcg
  std::string cpu_model;
  std::string host_name;
  int num_cpus = 0;
  long mem_total_kib = 0;
  std::string sockbench_git_revision;  // git describe --always --dirty, at build time
  // The build's tree had uncommitted changes to tracked files (or no git
  // checkout): sockbench_git_revision alone does not say what ran.
  bool sockbench_git_dirty = true;
  // When dirty: sha256 of `git diff --no-ext-diff --no-color --binary HEAD`
  // at build time (cmake/GitRevision.cmake); "" when clean.
  std::string sockbench_git_diff_sha256;

  static RunContext Collect();
  nlohmann::json ToJson() const;
};

// Socket counters and memory, as the kernel reports them: /proc/net/sockstat
// and sockstat6 ("tcp_inuse", "udp_mem_pages", ...) plus the slab bytes of
// the socket caches (/proc/slabinfo, "slab_TCP_bytes", ...). Read from the
// initial namespace: the memory figures are global.
std::map<std::string, long> SocketMemory();

std::string Sha256Hex(const std::string& data);
// sha256 of the kernel's config: /proc/config.gz uncompressed, else
// $SOCKBENCH_KERNEL_CONFIG_SHA256 (set by the VM runner), else "unavailable".
std::string KernelConfigSha256();

}  // namespace sockbench
