// Starting a program with posix_spawn, the one way Spawnpoint starts other programs.
//
// posix_spawn is a vfork-style clone followed by exec: nothing of the caller runs in the child, so
// it is safe from a multi-threaded process and costs no copy of a large process's page tables
// (spawnd is ~80 MB with a dozen threads). SpawnProgram sets up, in the child: the descriptors
// listed in `fds`, in order (each dup2'd from the caller's; kDevNull opens /dev/null read-write);
// an empty signal mask; the default disposition for SIGPIPE and SIGCHLD, or for every signal with
// `reset_all_signals` (signals the caller ignores stay ignored otherwise, as exec leaves them); a
// process group of its own with `new_process_group`; and `cwd` when set. Every other descriptor
// the child gets is one the caller left without close-on-exec: keep yours close-on-exec. A source
// descriptor equal to its target keeps its close-on-exec flag on older C libraries: pass
// descriptors above the targets. Thread-safe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace sp {

inline constexpr int kDevNull = -1;  // as the source of a descriptor in SpawnSpec::fds

struct SpawnSpec {
  std::string path;  // the program; not searched in PATH (see FindProgram)
  std::vector<std::string> argv;
  std::optional<std::vector<std::string>> env;  // "NAME=value" entries; unset = the caller's environ
  std::vector<std::pair<int, int>> fds;         // {target in the child, source in the caller}
  bool reset_all_signals = false;
  bool new_process_group = false;
  std::string cwd;  // empty: the caller's
};

// Starts the program; its pid, or the error posix_spawn reported (e.g. NotFound, PermissionDenied).
Result<pid_t> SpawnProgram(const SpawnSpec& spec);

}  // namespace sp
