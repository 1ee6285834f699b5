// fork/exec with PR_SET_PDEATHSIG (posix_spawn cannot set it), and stopping
// by PID after checking /proc that the PID is still the process we mean.
#include "router/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <thread>

#include "util/fs.h"

extern char** environ;

namespace sp {
namespace {

constexpr Millis kPollInterval(10);

// Makes `fd` the descriptor `target`, without close-on-exec. Async-signal-safe.
void MoveFd(int fd, int target) {
  if (fd == target) {
    ::fcntl(fd, F_SETFD, 0);
  } else {
    ::dup2(fd, target);
  }
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void ExecChild(pid_t parent, int null_fd, int log_fd, long max_fd, char* const* argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  ::setpgid(0, 0);
  MoveFd(null_fd, 0);
  MoveFd(log_fd, 1);
  MoveFd(log_fd, 2);
  if (::close_range(3, UINT_MAX, 0) != 0) {
    for (long fd = 3; fd < max_fd; ++fd) ::close(static_cast<int>(fd));
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
    ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], argv, environ);
  ::_exit(127);
}

// Waits until `done()` or the deadline; true if done.
template <typename F>
bool PollUntil(Millis timeout, F done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

// /proc/<pid>/exe without the " (deleted)" suffix of an upgraded binary.
std::string ExePath(pid_t pid) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) path.resize(path.size() - kDeleted.size());
  return path;
}

bool CmdlineHas(pid_t pid, const std::string& arg) {
  auto cmdline = ReadFileCapped("/proc/" + std::to_string(pid) + "/cmdline", 1 << 16);
  if (!cmdline) return false;
  size_t start = 0;
  while (start < cmdline->size()) {
    size_t end = cmdline->find('\0', start);
    if (end == std::string::npos) end = cmdline->size();
    if (cmdline->compare(start, end - start, arg) == 0) return true;
    start = end + 1;
  }
  return false;
}

std::string RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return path;
  std::string out = resolved;
  std::free(resolved);
  return out;
}

Result<pid_t> ReadPidFile(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 64));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || end != text.data() + text.size() || pid <= 1)
    return Err(Status::InvalidArgument(path + ": not a process id"));
  return pid;
}

}  // namespace

Result<pid_t> SpawnChild(const std::vector<std::string>& argv, const std::string& log_path) {
  SP_CHECK(!argv.empty() && argv[0].starts_with("/"));
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return Err(Status::FromErrno("open " + log_path, errno));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    int e = errno;
    ::close(log_fd);
    return Err(Status::FromErrno("open /dev/null", e));
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  // Block signals across fork so the child runs no handler of ours before exec.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const long max_fd = ::sysconf(_SC_OPEN_MAX);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) ExecChild(parent, null_fd, log_fd, max_fd, cargv.data());
  int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) return Err(Status::FromErrno("fork for " + argv[0], fork_errno));
  return pid;
}

bool ChildAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == 0) return true;
  if (r < 0 && errno == EINTR) return true;
  return false;  // exited and reaped now, or already reaped (ECHILD)
}

Status StopChild(pid_t pid, Millis grace) {
  if (!ChildAlive(pid)) return Status::Ok();
  ::kill(pid, SIGTERM);
  if (PollUntil(grace, [&] { return !ChildAlive(pid); })) return Status::Ok();
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  return Status::Ok();
}

bool ProcessRunning(pid_t pid) {
  auto stat = ReadFileCapped("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return false;
  // "<pid> (<comm>) <state> ...": comm may hold spaces and ')', so use the last ')'.
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return false;
  char state = (*stat)[paren + 2];
  return state != 'Z' && state != 'X';
}

Status StopStaleServer(const std::string& pid_file, const std::string& binary, const std::string& config_path,
                       Millis grace) {
  if (!PathExists(pid_file)) return Status::Ok();
  auto pid = ReadPidFile(pid_file);
  if (!pid || !ProcessRunning(*pid)) return Status::Ok();
  if (ExePath(*pid) != RealPath(binary) || !CmdlineHas(*pid, config_path)) return Status::Ok();
  ::kill(*pid, SIGTERM);
  if (PollUntil(grace, [&] { return !ProcessRunning(*pid); })) return Status::Ok();
  ::kill(*pid, SIGKILL);
  if (PollUntil(Millis(2000), [&] { return !ProcessRunning(*pid); })) return Status::Ok();
  return Status::Unavailable("a nats-server left by an earlier daemon (pid " + std::to_string(*pid) + ", " +
                             pid_file + ") does not stop; kill it by hand");
}

}  // namespace sp
