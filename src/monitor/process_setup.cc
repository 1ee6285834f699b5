// Descriptor, signal and spawn helpers for spawn-monitor.
#include "monitor/process_setup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "util/fd.h"
#include "util/spawn.h"
#include "util/subprocess.h"

namespace sp {

void CloseFdsExcept(int keep) {
  if (keep > 3) ::close_range(3, static_cast<unsigned>(keep - 1), 0);
  if (keep >= 3) {
    ::close_range(static_cast<unsigned>(keep + 1), ~0U, 0);
  } else {
    ::close_range(3, ~0U, 0);
  }
}

Status RedirectStdio(const std::string& log_path) {
  Fd in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Status::FromErrno("open /dev/null", errno);
  Fd out(::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!out.valid()) return Status::FromErrno("open " + log_path, errno);
  bool ok = ::dup2(in.get(), 0) == 0 && ::dup2(out.get(), 1) == 1 && ::dup2(out.get(), 2) == 2;
  return ok ? Status::Ok() : Status::FromErrno("redirect stdio", errno);
}

Result<int> SetUpMonitorSignals() {
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  for (int sig : {SIGHUP, SIGPIPE, SIGINT}) ::sigaction(sig, &ign, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Err(Status::FromErrno("sigprocmask", errno));
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return Err(Status::FromErrno("signalfd", errno));
  return fd;
}

Result<pid_t> SpawnWithStdio(const std::vector<std::string>& argv, int in, int out, int err) {
  SP_CHECK(!argv.empty());
  SpawnSpec spec;
  SP_ASSIGN_OR_RETURN(spec.path, FindProgram(argv[0]));
  spec.argv = argv;
  spec.fds = {{0, in}, {1, out}, {2, err}};
  spec.reset_all_signals = true;
  return SpawnProgram(spec);
}

std::string ReadAvailable(int fd, size_t max) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::fcntl(fd, F_SETFL, flags);
  return out;
}

}  // namespace sp
