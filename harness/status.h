// Error plumbing: absl::Status everywhere, errno turned into a readable
// status at the syscall that failed, never an exception from deep inside.
#pragma once

#include <cerrno>
#include <cstring>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sockbench {

// `what` names the operation, e.g. "setns(netns 12)".
inline absl::Status ErrnoStatus(absl::string_view what, int err = errno) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat(what, ": ", std::strerror(err)));
}

}  // namespace sockbench

#define SB_RETURN_IF_ERROR(expr)               \
  do {                                         \
    absl::Status _sb_status = (expr);          \
    if (!_sb_status.ok()) return _sb_status;   \
  } while (0)

#define SB_CONCAT_INNER(a, b) a##b
#define SB_CONCAT(a, b) SB_CONCAT_INNER(a, b)
#define SB_ASSIGN_OR_RETURN(lhs, expr) \
  SB_ASSIGN_OR_RETURN_IMPL(SB_CONCAT(_sb_or_, __LINE__), lhs, expr)
#define SB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
