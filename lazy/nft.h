// nftables from inside sockbench (libnftables, the library the nft command
// is built on): one context per namespace, created and used inside it, so
// an agent's set update is one netlink transaction, not a fork and exec.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct nft_ctx;

namespace sockbench {

class Nft {
 public:
  // A context whose netlink socket lives in `netns_fd`.
  static absl::StatusOr<Nft> Open(int netns_fd);
  Nft(Nft&& o) noexcept : ctx_(o.ctx_), netns_fd_(o.netns_fd_) { o.ctx_ = nullptr; }
  Nft& operator=(Nft&&) = delete;
  ~Nft();

  // Runs nft commands (the nft language, several lines), in the namespace.
  // The error is nft's own message.
  absl::Status Run(const std::string& commands);

 private:
  Nft(nft_ctx* ctx, int netns_fd) : ctx_(ctx), netns_fd_(netns_fd) {}
  nft_ctx* ctx_;
  int netns_fd_;
};

}  // namespace sockbench
