// One factory per strategy file; leak/strategy_registry.cc names them.
#pragma once

#include <memory>

#include "leak/strategy.h"

namespace sockbench {

std::unique_ptr<LeakStrategy> MakeAddrKeyedStrategy();
std::unique_ptr<LeakStrategy> MakeSkStorageStrategy();
std::unique_ptr<LeakStrategy> MakeCookieIndexStrategy();

}  // namespace sockbench
