// Launch of spawn-monitor (posix_spawn; the monitor detaches itself) and the readiness handshake.
#include "monitor/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "monitor/monitor.h"
#include "util/spawn.h"

extern char** environ;

namespace sp {
namespace {

constexpr int kReadyFd = 3;   // where the monitor finds the readiness pipe
constexpr int kDetachFd = 4;  // where it writes the detached monitor's pid

// The monitor's argv and the caller's environment with the two descriptor variables set to the fixed
// numbers above.
struct ExecImage {
  std::string path;
  std::vector<std::string> args, env;

  ExecImage(std::string binary, std::string params) : path(std::move(binary)) {
    args = {path, std::move(params)};
    std::string ready = std::string(kMonitorReadyFdEnv) + "=";
    std::string detach = std::string(kMonitorDetachFdEnv) + "=";
    for (char** e = environ; e && *e; ++e)
      if (std::strncmp(*e, ready.c_str(), ready.size()) != 0 && std::strncmp(*e, detach.c_str(), detach.size()) != 0)
        env.emplace_back(*e);
    env.push_back(ready + std::to_string(kReadyFd));
    env.push_back(detach + std::to_string(kDetachFd));
  }
};

// The monitor with the readiness pipe at fd 3, the detach pipe at fd 4, /dev/null as stdio, "/" as
// working directory and every signal at its default (see util/spawn.h: no copy of this large
// process's page tables). The pipes' other descriptors are close-on-exec, so the monitor inherits
// nothing else of ours.
Result<pid_t> SpawnMonitor(const ExecImage& image, int ready_w, int detach_w) {
  SpawnSpec spec;
  spec.path = image.path;
  spec.argv = image.args;
  spec.env = image.env;
  // The pipes are above 4 (HighPipe), so each dup2 copies and clears close-on-exec.
  spec.fds = {{kReadyFd, ready_w}, {kDetachFd, detach_w}, {0, kDevNull}, {1, 0}, {2, 0}};
  spec.cwd = "/";
  spec.reset_all_signals = true;
  return SpawnProgram(spec);
}

// A pipe whose both ends are above the descriptors the monitor gets (so dup2 always copies and
// clears close-on-exec), close-on-exec in this process.
bool HighPipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  for (int i = 0; i < 2; ++i) {
    if (fds[i] > kDetachFd) continue;
    int high = ::fcntl(fds[i], F_DUPFD_CLOEXEC, kDetachFd + 1);
    ::close(fds[i]);
    fds[i] = high;
  }
  if (fds[0] >= 0 && fds[1] >= 0) return true;
  if (fds[0] >= 0) ::close(fds[0]);
  if (fds[1] >= 0) ::close(fds[1]);
  return false;
}

// Reads `n` bytes, or until end of file or the deadline, into `out`. Returns false on timeout.
bool ReadExactly(int fd, size_t n, std::chrono::steady_clock::time_point deadline, std::string& out) {
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready <= 0) continue;  // EINTR or timeout: the loop checks the deadline
    char buf[16];
    ssize_t r = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;  // end of file: whatever was read
    out.append(buf, static_cast<size_t>(r));
  }
  return true;
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
  if (!HighPipe(ready)) return Err(Status::FromErrno("pipe", errno));
  if (!HighPipe(pidp)) {
    int e = errno;
    ::close(ready[0]);
    ::close(ready[1]);
    return Err(Status::FromErrno("pipe", e));
  }
  // The spawned process forks the real monitor into a session of its own, writes that pid on the
  // detach pipe and exits at once; we reap it here, so the monitor is nobody's child but init's.
  auto child = SpawnMonitor(image, ready[1], pidp[1]);
  ::close(ready[1]);
  ::close(pidp[1]);
  pid_t monitor_pid = 0;
  bool timed_out = false;
  if (child) {
    // Bounded like the readiness wait: a binary that is not a monitor may never write nor exit.
    std::string bytes;
    timed_out = !ReadExactly(pidp[0], sizeof monitor_pid, deadline, bytes);
    if (bytes.size() == sizeof monitor_pid) std::memcpy(&monitor_pid, bytes.data(), sizeof monitor_pid);
    if (timed_out) ::kill(*child, SIGKILL);
    while (::waitpid(*child, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  ::close(pidp[0]);
  if (monitor_pid <= 0) {
    ::close(ready[0]);
    if (!child) return Err(child.error());
    if (timed_out)
      return Err(Status::DeadlineExceeded("spawn-monitor (pid " + std::to_string(*child) +
                                          ") did not detach within " + FormatDuration(timeout)));
    std::string dir = std::string(real).substr(0, std::string(real).rfind('/'));
    return Err(Status::Unavailable("spawn-monitor (pid " + std::to_string(*child) +
                                   ") exited before detaching; see " + dir + "/monitor.log"));
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
