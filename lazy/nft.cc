#include "lazy/nft.h"

#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "harness/netns.h"
#include "harness/status.h"
#include "harness/unique_fd.h"

namespace sockbench {

absl::StatusOr<Nft> Nft::Open(int netns_fd) {
  SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(netns_fd));
  // nft_ctx_new() opens its NETLINK_NETFILTER socket at once and, when the
  // kernel has no nf_tables, prints to stderr and exit(3)s the whole
  // process (libnftables 1.0.6, netlink_init_error()). Asked first here, the
  // answer is an error the caller can report as `unsupported`.
  UniqueFd probe(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (!probe.valid())
    return absl::FailedPreconditionError(absl::StrCat(
        "nf_tables: no NETLINK_NETFILTER socket (", std::strerror(errno), "): this kernel has no nfnetlink"));
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return absl::InternalError("nft_ctx_new failed");
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return Nft(ctx, netns_fd);
}

Nft::~Nft() {
  if (ctx_) nft_ctx_free(ctx_);
}

absl::Status Nft::Run(const std::string& commands) {
  SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(netns_fd_));
  if (nft_run_cmd_from_buffer(ctx_, commands.c_str()) != 0) {
    const char* e = nft_ctx_get_error_buffer(ctx_);
    std::string msg = e ? e : "";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    // nft's first line is the reason; the rest repeats the command.
    size_t nl = msg.find('\n');
    return absl::FailedPreconditionError(absl::StrCat("nft: ", nl == std::string::npos ? msg : msg.substr(0, nl)));
  }
  nft_ctx_get_error_buffer(ctx_);   // drain warnings
  nft_ctx_get_output_buffer(ctx_);
  return absl::OkStatus();
}

}  // namespace sockbench
