// spawn-init: the first process of every Spawnpoint container.
//
// In a PID namespace the kernel ignores, for process 1, every signal it has
// no handler for (SIGKILL excepted). A service's own program as PID 1 would
// therefore ignore `stop`'s SIGTERM and only die by SIGKILL after the grace
// period, and nothing would reap orphaned grandchildren. spawn-init runs the
// service as its child, forwards termination signals to it, reaps every
// zombie, and exits with the service's status (128+signal when it was killed
// by a signal, like a shell). Built statically so it runs in any root
// filesystem; it uses no C++ runtime beyond what libc provides.
//
// Usage: spawn-init PROGRAM [ARGS...]
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

int Run(char** argv) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0) {
    perror("spawn-init: fork");
    return 126;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    execvp(argv[0], argv);
    fprintf(stderr, "spawn-init: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  for (;;) {
    int sig = 0;
    sigwait(&all, &sig);
    if (sig != SIGCHLD) {
      for (int f : kForwarded)
        if (sig == f) kill(child, sig);
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;  // an orphan we adopted: just reaped
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: spawn-init PROGRAM [ARGS...]\n");
    return 2;
  }
  return Run(argv + 1);
}
