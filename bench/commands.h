// Subcommands of the sockbench binary. Each returns the process exit code
// (`leak` is the leak study's own: leak/leak_cmd.h).
#pragma once

namespace sockbench {

int ProbeCommand();
int RunCommand();
int ExportCommand();
int PriceCommand();
// `sockbench lazy` (bench/lazy_cmd.cc, lazy/).
int LazyCommand();

}  // namespace sockbench
