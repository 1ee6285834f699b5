// Starting and stopping the nats-server process by PID.
//
// SpawnChild forks and execs a program as a child of this process, in its
// own process group (terminal Ctrl-C does not reach it), with stdin on
// /dev/null, stdout and stderr appended to a log file, no other inherited
// file descriptors, and PR_SET_PDEATHSIG=SIGTERM so it dies with its parent.
// Linux delivers that signal when the *thread* that forked exits, so call it
// from a thread that lives as long as the process (the main thread).
//
// Functions are thread-safe. Child-reaping functions assume nobody else in the
// process reaps this child (waitpid(-1), or SIGCHLD set to SIG_IGN).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/duration.h"
#include "util/status.h"

namespace sp {

// REQUIRES: argv[0] is an absolute path to the program.
Result<pid_t> SpawnChild(const std::vector<std::string>& argv, const std::string& log_path);

// Non-blocking: true while the child runs; reaps it once it has exited.
bool ChildAlive(pid_t pid);

// SIGTERM, waits up to `grace`, then SIGKILL; reaps the child.
Status StopChild(pid_t pid, Millis grace);

// Whether a process (any parent) exists and is not a zombie.
bool ProcessRunning(pid_t pid);

// Stops a server left behind by an earlier daemon: if `pid_file` names a
// running process whose executable is `binary` and whose command line holds
// `config_path`, sends SIGTERM, then SIGKILL after `grace`, and waits for it
// to be gone. Anything else (no file, a dead or unrelated process) is OK and
// left alone.
Status StopStaleServer(const std::string& pid_file, const std::string& binary, const std::string& config_path,
                       Millis grace);

}  // namespace sp
