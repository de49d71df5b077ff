// Proposed approaches whose destruction path arrives with their kernel
// patches: until then they exist so that `probe` and `run` say, from the
// kernel's own answer, why they cannot run here.
#pragma once

#include <memory>

#include "harness/destroyer.h"

namespace sockbench {

std::unique_ptr<Destroyer> MakeSkStorageIterDestroyer();

}  // namespace sockbench
