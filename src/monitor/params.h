// The parameters of one spawn-monitor, as the JSON file it is started with (monitor.json):
//   {"id": "...", "bundle": "...", "runtimeBinary": "runc", "runtimeRoot": "...", "cgroupsPath": "...",
//    "logDir": "...", "logMaxBytes": 10485760, "logMaxFiles": 5, "exitFile": ".../exit.json",
//    "pidFile": ".../container.pid"}
// spawnd writes it; the monitor reads it. Reading is defensive: a missing or mistyped field is an
// InvalidArgument naming the field. Pure functions over files; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace sp {

struct MonitorParams {
  std::string id;      // container id for the runtime
  std::string bundle;  // absolute bundle directory holding config.json
  std::string runtime_binary = "runc";
  std::string runtime_root;  // --root of the runtime; empty = its default
  std::string cgroups_path;  // as in config.json; empty = no OOM accounting
  std::string log_dir;       // absolute; segments NNNNNNNN.log
  int64_t log_max_bytes = 10 << 20;
  int64_t log_max_files = 5;
  std::string exit_file;  // absolute; written when the container is gone
  std::string pid_file;   // absolute; the runtime writes the container's pid here
};

// Checks the fields (absolute paths, positive limits). Writes atomically.
Status WriteMonitorParams(const std::string& path, const MonitorParams& params);
Result<MonitorParams> ReadMonitorParams(const std::string& path);
Result<MonitorParams> ParseMonitorParams(const std::string& json_text);

}  // namespace sp
