// Subcommands of the sockbench binary. Each returns the process exit code.
#pragma once

namespace sockbench {

int ProbeCommand();
int RunCommand();
int LeakCommand();

}  // namespace sockbench
