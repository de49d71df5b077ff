#pragma once

#include <optional>
#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, workload);
ABSL_DECLARE_FLAG(std::string, approach);
ABSL_DECLARE_FLAG(int, repetitions);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(long, socket_cap);
ABSL_DECLARE_FLAG(std::string, hold_at);
ABSL_DECLARE_FLAG(std::optional<int>, sockets);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(std::string, in);
ABSL_DECLARE_FLAG(int, datapath_packets);
