// SpawnProgram: posix_spawn with the file actions and attributes of a SpawnSpec.
#include "util/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

extern char** environ;

namespace sp {

Result<pid_t> SpawnProgram(const SpawnSpec& spec) {
  SP_CHECK(!spec.argv.empty());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (const auto& [target, source] : spec.fds) {
    if (source == kDevNull) {
      posix_spawn_file_actions_addopen(&fa, target, "/dev/null", O_RDWR, 0);
    } else {
      posix_spawn_file_actions_adddup2(&fa, source, target);
    }
  }
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  if (spec.reset_all_signals) {
    sigfillset(&defaults);
  } else {
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (spec.new_process_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);

  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> env;
  if (spec.env) {
    for (const auto& e : *spec.env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
  }
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, spec.path.c_str(), &fa, &attr, argv.data(), spec.env ? env.data() : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Err(Status::FromErrno("start " + spec.path, rc));
  return pid;
}

}  // namespace sp
