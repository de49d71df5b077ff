// `sockbench leak`: the reverse-NAT leak study's command. Its own flags
// (--strategy, --sockets, --churn, ...) are defined in leak_cmd.cc; the
// ones it shares with `run` are handed in.
#pragma once

#include <string>

namespace sockbench {

// `approach_list`: --approach ("all" or "a,b"); `out`: --out ("" for the
// default path). Returns the process exit code.
int LeakCommand(const std::string& approach_list, const std::string& out);

}  // namespace sockbench
