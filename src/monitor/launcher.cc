// Double-fork launch of spawn-monitor and the readiness handshake.
#include "monitor/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "monitor/monitor.h"

extern char** environ;

namespace sp {
namespace {

constexpr int kReadyFd = 3;  // where the monitor finds the readiness pipe

// Everything execve needs, built before fork so the children only make async-signal-safe calls.
struct ExecImage {
  std::string path;
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;

  ExecImage(std::string binary, std::string params) : path(std::move(binary)) {
    args = {path, std::move(params)};
    std::string prefix = std::string(kMonitorReadyFdEnv) + "=";
    for (char** e = environ; e && *e; ++e)
      if (std::strncmp(*e, prefix.c_str(), prefix.size()) != 0) env.emplace_back(*e);
    env.push_back(prefix + std::to_string(kReadyFd));
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

// In the grandchild: readiness pipe at fd 3, /dev/null as stdio, default signals, exec.
[[noreturn]] void ExecMonitor(int ready_w, const ExecImage& image) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP
  if (ready_w == kReadyFd) {
    ::fcntl(kReadyFd, F_SETFD, 0);
  } else if (::dup2(ready_w, kReadyFd) != kReadyFd) {
    ::_exit(126);
  }
  int null = ::open("/dev/null", O_RDWR);
  if (null < 0) ::_exit(126);
  for (int fd = 0; fd <= 2; ++fd)
    if (null != fd) ::dup2(null, fd);
  if (null > kReadyFd) ::close(null);
  if (::chdir("/") != 0) ::_exit(126);
  ::execve(image.path.c_str(), image.argv.data(), image.envp.data());
  ::_exit(127);
}

// In the intermediate child: a new session, fork the monitor, report its pid, exit.
[[noreturn]] void ForkMonitor(int ready_w, int pid_w, const ExecImage& image) {
  ::setsid();
  pid_t pid = ::fork();
  if (pid == 0) ExecMonitor(ready_w, image);
  if (pid > 0) (void)!::write(pid_w, &pid, sizeof pid);
  ::_exit(pid > 0 ? 0 : 1);
}

// Reads until '\n', end of file or the deadline. Returns false on timeout.
bool ReadLine(int fd, std::chrono::steady_clock::time_point deadline, std::string& line) {
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;  // end of file: whatever was read
    line.append(buf, static_cast<size_t>(r));
    size_t nl = line.find('\n');
    if (nl != std::string::npos) {
      line.resize(nl);
      return true;
    }
  }
}

Result<LaunchResult> ParseReadiness(const std::string& line, pid_t monitor_pid,
                                    const std::string& params_file) {
  if (line.rfind("ok ", 0) == 0) {
    long pid = std::strtol(line.c_str() + 3, nullptr, 10);
    if (pid > 0) return LaunchResult{monitor_pid, static_cast<pid_t>(pid)};
  }
  if (line.rfind("error ", 0) == 0) return Err(Status::Internal("spawn-monitor: " + line.substr(6)));
  std::string dir = params_file.substr(0, params_file.rfind('/'));
  if (line.empty())
    return Err(Status::Unavailable("spawn-monitor (pid " + std::to_string(monitor_pid) +
                                   ") exited before reporting readiness; see " + dir + "/monitor.log"));
  return Err(Status::Internal("spawn-monitor sent an unexpected readiness line: " + line.substr(0, 200)));
}

}  // namespace

Result<LaunchResult> LaunchMonitor(const std::string& monitor_binary, const std::string& params_file,
                                   Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (::access(monitor_binary.c_str(), X_OK) != 0)
    return Err(Status::NotFound("spawn-monitor binary not found or not executable: " + monitor_binary));
  char real[PATH_MAX];
  if (!::realpath(params_file.c_str(), real))
    return Err(Status::FromErrno("monitor params " + params_file, errno));
  ExecImage image(monitor_binary, real);

  int ready[2], pidp[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Err(Status::FromErrno("pipe", errno));
  if (::pipe2(pidp, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(ready[0]);
    ::close(ready[1]);
    return Err(Status::FromErrno("pipe", e));
  }
  pid_t child = ::fork();
  if (child == 0) ForkMonitor(ready[1], pidp[1], image);
  int fork_errno = errno;
  ::close(ready[1]);
  ::close(pidp[1]);
  pid_t monitor_pid = 0;
  if (child > 0) {
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (::read(pidp[0], &monitor_pid, sizeof monitor_pid) != static_cast<ssize_t>(sizeof monitor_pid))
      monitor_pid = 0;
  }
  ::close(pidp[0]);
  if (monitor_pid <= 0) {
    ::close(ready[0]);
    return Err(child < 0 ? Status::FromErrno("fork", fork_errno)
                         : Status::Internal("could not fork spawn-monitor"));
  }
  std::string line;
  bool complete = ReadLine(ready[0], deadline, line);
  ::close(ready[0]);
  if (!complete)
    return Err(Status::DeadlineExceeded("spawn-monitor (pid " + std::to_string(monitor_pid) +
                                        ") did not report readiness within " + FormatDuration(timeout)));
  return ParseReadiness(line, monitor_pid, real);
}

}  // namespace sp
