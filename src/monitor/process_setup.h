// Process plumbing for spawn-monitor: descriptor hygiene, signal setup and spawning a child with
// chosen stdio. Internal to the monitor module; these functions change process-wide state and are
// meant for the single-threaded monitor process.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace sp {

// Closes every descriptor above 2 except `keep` (-1 = keep none).
void CloseFdsExcept(int keep);

// stdin from /dev/null; stdout and stderr appended to `log_path`.
Status RedirectStdio(const std::string& log_path);

// Ignores SIGHUP, SIGPIPE and SIGINT, blocks SIGCHLD and SIGTERM and returns a non-blocking,
// close-on-exec signalfd that reports them.
Result<int> SetUpMonitorSignals();

// Starts argv[0] (an absolute path, or searched in PATH) with stdin/stdout/stderr = in/out/err, an
// empty signal mask and default signal dispositions. Other descriptors must be close-on-exec.
Result<pid_t> SpawnWithStdio(const std::vector<std::string>& argv, int in, int out, int err);

// Reads whatever is available on a descriptor without blocking (at most `max` bytes).
std::string ReadAvailable(int fd, size_t max = 64 << 10);

}  // namespace sp
