// `sockbench leak`: the reverse-NAT leak study's command. Its own flags
// (--strategy, --churn, ...) are defined in leak_cmd.cc; the ones it
// shares with other commands (--approach, --out, --sockets) are handed in.
#pragma once

#include <string>

namespace sockbench {

// `approach_list`: --approach ("all" or "a,b"); `out`: --out ("" for the
// default path); `sockets`: --sockets, sockets per matrix cell. Returns the
// process exit code.
int LeakCommand(const std::string& approach_list, const std::string& out, int sockets);

}  // namespace sockbench
