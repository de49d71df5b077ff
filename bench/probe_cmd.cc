#include <sys/utsname.h>

#include <cstdio>

#include "absl/flags/flag.h"
#include "bench/commands.h"
#include "bench/flags.h"
#include "harness/registry.h"
#include "lazy/registry.h"
#include "nlohmann/json.hpp"

namespace sockbench {

int ProbeCommand() {
  utsname u{};
  uname(&u);
  nlohmann::json doc = {{"kernel_release", u.release}, {"approaches", nlohmann::json::array()}};
  for (const auto& name : ApproachNames()) {
    ProbeResult r = ProbeApproach(name);
    doc["approaches"].push_back({{"name", r.name}, {"supported", r.supported}, {"reason", r.reason}});
  }
  // The lazy approaches (sockbench lazy, docs/lazy.md): their own table.
  doc["lazy_approaches"] = nlohmann::json::array();
  for (const auto& name : LazyApproaches().names()) {
    LazyProbe r = ProbeLazyApproach(name);
    doc["lazy_approaches"].push_back({{"name", r.name}, {"supported", r.supported}, {"reason", r.reason}});
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", doc.dump(2).c_str());
    return 0;
  }
  std::printf("kernel %s\n", u.release);
  for (const auto& a : doc["approaches"])
    std::printf("  %-16s %s%s\n", a["name"].get<std::string>().c_str(),
                a["supported"].get<bool>() ? "supported" : "unsupported: ",
                a["reason"].get<std::string>().c_str());
  std::printf("lazy approaches (sockbench lazy)\n");
  for (const auto& a : doc["lazy_approaches"])
    std::printf("  %-24s %s%s\n", a["name"].get<std::string>().c_str(),
                a["supported"].get<bool>() ? "supported" : "unsupported: ",
                a["reason"].get<std::string>().c_str());
  return 0;
}

}  // namespace sockbench
