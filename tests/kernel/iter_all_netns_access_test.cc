// Who may use the all-netns iterator targets and how (see
// iter_all_netns_test.cc): CAP_NET_ADMIN in the initial user namespace, from
// any namespace; link info they do not know is refused, not ignored.
#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/cleanup/cleanup.h"

#include "tests/kernel/iter_all_netns_fixture.h"

namespace sockbench {
namespace {

using namespace all_netns_test;  // NOLINT: the tests' shared vocabulary

// Capabilities are per thread: drop CAP_NET_ADMIN in a thread of our own.
bool DropCapNetAdmin() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) < 0) return false;
  data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
  data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_NET_ADMIN);
  return syscall(SYS_capset, &hdr, data) == 0;
}

TEST_F(IterAllNetnsTest, RefusedWithoutCapNetAdminEvenWithCapSysAdmin) {
  UniqueFd all_tcp = LoadDump(Target::kTcpAllNetns), all_udp = LoadDump(Target::kUdpAllNetns);
  UniqueFd tcp = LoadDump(Target::kTcp);
  Link priv_link = AttachDump(Target::kTcpAllNetns);
  ASSERT_TRUE(all_tcp.valid() && all_udp.valid() && tcp.valid() && priv_link.link.valid());

  // A pinned link is opened by whoever reads the pin. bpffs is mounted
  // first if it is not (the project's scripts/ensure-bpffs.sh), so that the
  // pin is checked on every machine.
  const std::string helper = std::string("bash ") + SOCKBENCH_SOURCE_DIR "/scripts/ensure-bpffs.sh";
  ASSERT_EQ(system(helper.c_str()), 0) << helper;
  struct statfs sfs;
  ASSERT_EQ(statfs("/sys/fs/bpf", &sfs), 0) << strerror(errno);
  ASSERT_EQ(static_cast<unsigned long>(sfs.f_type), static_cast<unsigned long>(BPF_FS_MAGIC))
      << "/sys/fs/bpf is not bpffs after " << helper;
  const std::string pin = "/sys/fs/bpf/sb_iter_all_netns_test_" + std::to_string(getpid());
  ASSERT_EQ(bpf_obj_pin(priv_link.link.get(), pin.c_str()), 0) << pin << ": " << strerror(errno);
  absl::Cleanup unpin = [&pin] { unlink(pin.c_str()); };
  // With CAP_NET_ADMIN, reading the pin is a pass (the control): it shows
  // a listener of ours.
  {
    Sockets mine;
    const uint64_t listener = Cookie(mine.Keep(mine.TcpListener(AF_INET), "tcp listener v4"));
    UniqueFd it(open(pin.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(it.valid()) << "opening the pin with CAP_NET_ADMIN: " << strerror(errno);
    int shown = 0;
    for (const Record& r : ReadAll<Record>(it.get())) shown += r.cookie == listener;
    EXPECT_EQ(shown, 1) << "a pass from the pin shows our listener once";
  }

  int link_tcp_errno = -1, link_udp_errno = -1, control_errno = -1, iter_errno = -1, pin_errno = -1;
  std::thread([&] {
    if (!DropCapNetAdmin()) return;
    auto err_of = [](int fd) {
      int e = fd < 0 ? errno : 0;
      if (fd >= 0) close(fd);
      return e;
    };
    link_tcp_errno = err_of(bpf_link_create(all_tcp.get(), 0, BPF_TRACE_ITER, nullptr));
    link_udp_errno = err_of(bpf_link_create(all_udp.get(), 0, BPF_TRACE_ITER, nullptr));
    control_errno = err_of(bpf_link_create(tcp.get(), 0, BPF_TRACE_ITER, nullptr));
    iter_errno = err_of(bpf_iter_create(priv_link.link.get()));
    pin_errno = err_of(open(pin.c_str(), O_RDONLY | O_CLOEXEC));
  }).join();
  ASSERT_NE(link_tcp_errno, -1) << "could not drop CAP_NET_ADMIN";
  EXPECT_EQ(link_tcp_errno, EPERM) << "tcp_all_netns link without CAP_NET_ADMIN";
  EXPECT_EQ(link_udp_errno, EPERM) << "udp_all_netns link without CAP_NET_ADMIN";
  EXPECT_EQ(control_errno, 0) << "the per-netns tcp target needs no CAP_NET_ADMIN";
  EXPECT_EQ(iter_errno, EPERM) << "iterator from a privileged link, created without CAP_NET_ADMIN";
  EXPECT_EQ(pin_errno, EPERM) << "reading a pinned all-netns link";
}

// The pass starts at init_net's (the global) tables whatever namespace the
// link and the iterator are created in: from a child namespace, it still
// shows the sockets of every namespace, the caller's and init_net's.
TEST_F(IterAllNetnsTest, FromAChildNamespaceThePassStillCoversEveryNamespace) {
  Sockets host, mine;
  host.Mix("init_net");
  auto child = NetnsSet::CreateOne(NetnsOptions{});
  ASSERT_TRUE(child.ok()) << child.status();
  auto in = ScopedNetns::Enter(child->get());
  ASSERT_TRUE(in.ok());
  mine.Mix("child");
  for (Target t : {Target::kTcpAllNetns, Target::kUdpAllNetns}) {
    std::vector<Record> recs = Dump(t);
    int type = IsUdp(t) ? SOCK_DGRAM : SOCK_STREAM;
    ExpectSeenOnce(recs, host, init_cookie_, type);
    ExpectSeenOnce(recs, mine, CookieOf(child->get()), type);
  }
}

TEST_F(IterAllNetnsTest, NonZeroLinkInfoIsRefusedNotIgnored) {
  UniqueFd all_tcp = LoadDump(Target::kTcpAllNetns), tcp = LoadDump(Target::kTcp);
  ASSERT_TRUE(all_tcp.valid() && tcp.valid());
  bpf_iter_link_info linfo{};
  linfo.map.map_fd = 1;  // any non-zero field
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.iter_info = &linfo;
  opts.iter_info_len = sizeof(linfo);
  int fd = bpf_link_create(all_tcp.get(), 0, BPF_TRACE_ITER, &opts);
  EXPECT_LT(fd, 0);
  EXPECT_EQ(errno, EINVAL);
  if (fd >= 0) close(fd);
  // What the new target avoids: the tcp target ignores link info it does not
  // know, so a flag there would be dropped silently by older kernels.
  UniqueFd ignored(bpf_link_create(tcp.get(), 0, BPF_TRACE_ITER, &opts));
  EXPECT_TRUE(ignored.valid()) << strerror(errno);
}

}  // namespace
}  // namespace sockbench
