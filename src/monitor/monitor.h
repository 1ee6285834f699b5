// spawn-monitor: the small process that owns one running container (like conmon).
//
// It makes itself a child subreaper, runs `<runtime> run --detach` with two pipes as the
// container's stdout and stderr (stdin is /dev/null); the runtime exits once the container runs and
// the container's init is reparented to the monitor. The monitor then copies both pipes into
// size-rotated CRI-format log segments, reaps its children, and when the init exits it drains the
// pipes (at most 2 s), reads the cgroup's OOM-kill counter, writes exit.json, force-deletes the
// container from the runtime and exits 0. If the runtime fails it reports the error, writes
// exit.json with the error, cleans up and exits 1.
//
// Readiness: when the environment variable SPAWN_MONITOR_READY_FD names an open descriptor (the
// launcher passes a pipe), the monitor writes one line to it once the container started,
// "ok <container host pid>\n", or "error <message>\n", and closes it.
//
// Detaching: when SPAWN_MONITOR_DETACH_FD names an open descriptor, the process first starts a new
// session and forks; the parent writes the child's pid (a raw pid_t) to that descriptor and exits
// 0, and the child carries on as the monitor. The launcher reaps the parent, so the monitor is not
// the launcher's child and outlives it. Forking here, in this small static process, costs a
// fraction of a fork of spawnd.
//
// Signals: SIGHUP, SIGPIPE and SIGINT are ignored; SIGTERM is forwarded to the container's init.
// The monitor writes its pid to <dir of the params file>/monitor.pid and its own diagnostics to
// <dir of the params file>/monitor.log.
//
// RunMonitor takes over the process (descriptors, signal dispositions, subreaper status); call it
// only from spawn-monitor's main.
#pragma once

#include <string>

namespace sp {

inline constexpr const char* kMonitorReadyFdEnv = "SPAWN_MONITOR_READY_FD";
inline constexpr const char* kMonitorDetachFdEnv = "SPAWN_MONITOR_DETACH_FD";

// Runs the monitor for the parameters in `params_path`; returns the process exit status.
int RunMonitor(const std::string& params_path);

}  // namespace sp
