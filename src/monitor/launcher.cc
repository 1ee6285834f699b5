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
#include "util/fd.h"
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
Result<Pipe> HighPipe() {
  SP_ASSIGN_OR_RETURN(Pipe pipe, OpenPipe());
  for (Fd* end : {&pipe.read, &pipe.write}) {
    if (end->get() > kDetachFd) continue;
    int high = ::fcntl(end->get(), F_DUPFD_CLOEXEC, kDetachFd + 1);
    int e = errno;
    end->reset(high);
    if (high < 0) return Err(Status::FromErrno("pipe", e));
  }
  return pipe;
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

// What the detach step gave: the monitor's pid (0 if none came) and whether the deadline passed.
struct Detached {
  pid_t monitor_pid = 0;
  bool timed_out = false;
};

// Reads the monitor's pid from the detach pipe and reaps the spawned process `child`, which exits
// right after writing it. Bounded like the readiness wait: a binary that is not a monitor may
// never write nor exit, and is killed at the deadline.
Detached AwaitDetach(pid_t child, int detach_fd, std::chrono::steady_clock::time_point deadline) {
  Detached d;
  std::string bytes;
  d.timed_out = !ReadExactly(detach_fd, sizeof d.monitor_pid, deadline, bytes);
  if (bytes.size() == sizeof d.monitor_pid) std::memcpy(&d.monitor_pid, bytes.data(), sizeof d.monitor_pid);
  if (d.timed_out) ::kill(child, SIGKILL);
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  return d;
}

// Why no monitor pid came from `child`; `params_file` is the resolved parameters file.
Status DetachFailure(pid_t child, const Detached& d, Millis timeout, const std::string& params_file) {
  if (d.timed_out)
    return Status::DeadlineExceeded("spawn-monitor (pid " + std::to_string(child) +
                                    ") did not detach within " + FormatDuration(timeout));
  std::string dir = params_file.substr(0, params_file.rfind('/'));
  return Status::Unavailable("spawn-monitor (pid " + std::to_string(child) +
                             ") exited before detaching; see " + dir + "/monitor.log");
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

  SP_ASSIGN_OR_RETURN(Pipe ready, HighPipe());
  SP_ASSIGN_OR_RETURN(Pipe detach, HighPipe());
  // The spawned process forks the real monitor into a session of its own, writes that pid on the
  // detach pipe and exits at once; we reap it here, so the monitor is nobody's child but init's.
  auto child = SpawnMonitor(image, ready.write.get(), detach.write.get());
  ready.write.reset();  // our write ends go before reading: end of file must come when they exit
  detach.write.reset();
  if (!child) return Err(child.error());
  Detached detached = AwaitDetach(*child, detach.read.get(), deadline);
  detach.read.reset();
  if (detached.monitor_pid <= 0) return Err(DetachFailure(*child, detached, timeout, real));
  pid_t monitor_pid = detached.monitor_pid;
  std::string line;
  bool complete = ReadLine(ready.read.get(), deadline, line);
  ready.read.reset();
  if (!complete)
    return Err(Status::DeadlineExceeded("spawn-monitor (pid " + std::to_string(monitor_pid) +
                                        ") did not report readiness within " + FormatDuration(timeout)));
  return ParseReadiness(line, monitor_pid, real);
}

}  // namespace sp
