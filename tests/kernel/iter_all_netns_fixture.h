// What the iter_all_netns kernel tests share (iter_all_netns_test.cc,
// iter_all_netns_access_test.cc, iter_all_netns_resume_test.cc): loading
// tests/bpf/all_netns_dump.bpf.c's programs, reading their records, and
// the fixture that skips on a kernel without the targets.
#pragma once

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "all_netns_dump.skel.h"
#include "harness/bpf_skeleton.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "tests/bpf/all_netns_dump.h"
#include "tests/kernel/all_netns_sockets.h"
#include "tests/kernel/nsid_events.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif


namespace sockbench {
namespace all_netns_test {

constexpr uint8_t kTcpEstablished = 1;
constexpr uint8_t kTcpTimeWait = 6;
constexpr uint8_t kTcpListen = 10;
constexpr uint8_t kTcpNewSynRecv = 12;

// ---------------------------------------------------------------------------
// Kernel BTF: does the running kernel have a function (an iterator target's
// bpf_iter_* stub, a kfunc)?

class KernelBtf {
 public:
  KernelBtf() : btf_(btf__load_vmlinux_btf()) {}
  ~KernelBtf() { btf__free(btf_); }
  bool ok() const { return btf_ != nullptr; }
  int FuncId(const char* name) const { return btf__find_by_name_kind(btf_, name, BTF_KIND_FUNC); }

 private:
  btf* btf_;
};

using Record = dump_record;  // what the dump program writes per socket
static_assert(sizeof(Record) == 24, "record layout");
using DestroyRecord = destroy_record;

enum class Target { kTcpAllNetns, kUdpAllNetns, kTcp, kUdp };
inline const char* IterFunc(Target t) {
  switch (t) {
    case Target::kTcpAllNetns: return "bpf_iter_tcp_all_netns";
    case Target::kUdpAllNetns: return "bpf_iter_udp_all_netns";
    case Target::kTcp: return "bpf_iter_tcp";
    case Target::kUdp: return "bpf_iter_udp";
  }
  return "";
}
inline bool IsUdp(Target t) { return t == Target::kUdpAllNetns || t == Target::kUdp; }

enum class Prog { kDump, kDestroy };

inline bpf_program* ProgramOf(all_netns_dump_bpf* s, Target t, Prog p) {
  if (p == Prog::kDestroy) {
    if (t == Target::kTcpAllNetns) return s->progs.destroy_tcp_all;
    if (t == Target::kUdpAllNetns) return s->progs.destroy_udp_all;
    return nullptr;
  }
  switch (t) {
    case Target::kTcpAllNetns: return s->progs.dump_tcp_all;
    case Target::kUdpAllNetns: return s->progs.dump_udp_all;
    case Target::kTcp: return s->progs.dump_tcp;
    case Target::kUdp: return s->progs.dump_udp;
  }
  return nullptr;
}

// Loads program `p` for target `t` alone (destroy: with `cookies_map` as its
// sb_cookies) and returns its fd, which keeps it loaded; -1 with the
// verifier's reason in `log`.
inline int LoadProg(Target t, Prog p, int cookies_map, std::string* log) {
  auto fail = [log](const absl::Status& st) {
    if (log) *log = std::string(st.message());
    return -1;
  };
  absl::StatusOr<BpfSkeleton<all_netns_dump_bpf>> skel = BpfSkeleton<all_netns_dump_bpf>::Open();
  if (!skel.ok()) return fail(skel.status());
  bpf_program* want = ProgramOf(skel->get(), t, p);
  if (!want) return fail(absl::InvalidArgumentError("no such program"));
  bpf_program* prog;
  bpf_object__for_each_program(prog, (*skel)->obj) bpf_program__set_autoload(prog, prog == want);
  if (cookies_map >= 0 && bpf_map__reuse_fd((*skel)->maps.sb_cookies, cookies_map) < 0)
    return fail(absl::ErrnoToStatus(errno, "reuse the cookie map"));
  absl::Status st = skel->Load();
  if (!st.ok()) return fail(st);
  return fcntl(bpf_program__fd(want), F_DUPFD_CLOEXEC, 0);
}

// ---------------------------------------------------------------------------
// Iterators.

struct Link {
  UniqueFd prog, link;
};

template <typename Rec>
std::vector<Rec> ReadAll(int iter_fd, size_t chunk = 1 << 16) {
  std::vector<Rec> out;
  std::vector<char> buf(chunk);
  std::string acc;
  for (;;) {
    ssize_t n = read(iter_fd, buf.data(), buf.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    EXPECT_GE(n, 0) << strerror(errno);
    if (n <= 0) break;
    acc.append(buf.data(), n);
  }
  EXPECT_EQ(acc.size() % sizeof(Rec), 0u);
  out.resize(acc.size() / sizeof(Rec));
  memcpy(out.data(), acc.data(), out.size() * sizeof(Rec));
  return out;
}

// Reads exactly one record; false at the end of the pass.
inline bool ReadOne(int iter_fd, Record* r) {
  ssize_t n = read(iter_fd, r, sizeof(*r));
  EXPECT_TRUE(n == 0 || n == sizeof(*r)) << n << " " << strerror(errno);
  return n == sizeof(*r);
}

class IterAllNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!kbtf_.ok()) GTEST_SKIP() << "no kernel BTF";
    if (kbtf_.FuncId("bpf_iter_tcp_all_netns") < 0 || kbtf_.FuncId("bpf_iter_udp_all_netns") < 0)
      GTEST_SKIP() << "kernel without the tcp_all_netns/udp_all_netns iterator targets "
                      "(sockbench kernel/patches not applied)";
    init_cookie_ = SockOpt64(UniqueFd(socket(AF_INET, SOCK_DGRAM, 0)).get(), SO_NETNS_COOKIE);
  }

  UniqueFd LoadDump(Target t) {
    std::string log;
    UniqueFd fd(LoadProg(t, Prog::kDump, -1, &log));
    EXPECT_TRUE(fd.valid()) << IterFunc(t) << ": " << log;
    return fd;
  }

  Link AttachDump(Target t) {
    Link l;
    l.prog = LoadDump(t);
    if (!l.prog.valid()) return l;
    l.link.reset(bpf_link_create(l.prog.get(), 0, BPF_TRACE_ITER, nullptr));
    EXPECT_TRUE(l.link.valid()) << IterFunc(t) << ": " << strerror(errno);
    return l;
  }

  std::vector<Record> Dump(Target t) {
    Link l = AttachDump(t);
    if (!l.link.valid()) return {};
    UniqueFd it(bpf_iter_create(l.link.get()));
    EXPECT_TRUE(it.valid()) << strerror(errno);
    return it.valid() ? ReadAll<Record>(it.get()) : std::vector<Record>{};
  }

  // Every socket of `s` shows up exactly once, in namespace `netns_cookie`.
  void ExpectSeenOnce(const std::vector<Record>& recs, const Sockets& s, uint64_t netns_cookie,
                      int sock_type) {
    std::map<uint64_t, int> seen;
    std::map<uint64_t, uint64_t> ns;
    for (const Record& r : recs) {
      if (r.state == kTcpTimeWait || r.state == kTcpNewSynRecv) continue;
      seen[r.cookie]++;
      ns[r.cookie] = r.netns;
    }
    for (const auto& [cookie, desc] : s.what) {
      bool udp = desc.find(" udp ") != std::string::npos;
      if (udp != (sock_type == SOCK_DGRAM)) continue;
      EXPECT_EQ(seen[cookie], 1) << desc;
      if (seen[cookie]) {
        EXPECT_EQ(ns[cookie], netns_cookie) << desc << ": netns cookie read by the program";
      }
    }
  }

  KernelBtf kbtf_;
  uint64_t init_cookie_ = 0;
};

}  // namespace all_netns_test
}  // namespace sockbench
