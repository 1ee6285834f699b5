// Starting a spawn-monitor from spawnd.
//
// LaunchMonitor starts the monitor with posix_spawn and lets it detach itself (a new session and a
// fork, see monitor.h), so the monitor is not a child of the caller and outlives it; it hands the
// monitor a readiness pipe as its only inherited descriptor (besides the detach pipe and /dev/null
// as stdio), and waits, up to a deadline, for the line the monitor writes once the container
// started. It writes no file itself: the params file must already exist (see WriteMonitorParams).
// Safe to call from a multi-threaded process (posix_spawn runs nothing of ours in the child).
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <string>

#include "monitor/exit_record.h"
#include "monitor/params.h"
#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct LaunchResult {
  pid_t monitor_pid = 0;
  pid_t container_pid = 0;  // host pid of the container's init
};

// Returns the pids once the container is running, or the monitor's error (e.g. the runtime's
// stderr) as a Status. On DeadlineExceeded the monitor is left running (its pid is in
// <dir of params_file>/monitor.pid); it will still write exit.json.
Result<LaunchResult> LaunchMonitor(const std::string& monitor_binary, const std::string& params_file,
                                   Millis timeout);

}  // namespace sp
