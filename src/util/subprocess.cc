// Subprocess execution with pipes, poll-based capture and a kill deadline.
#include "util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "util/spawn.h"

extern char** environ;

namespace sp {
namespace {

constexpr size_t kCaptureCap = 4u << 20;

std::vector<std::string> BuildEnv(const CommandOptions& opts) {
  std::map<std::string, std::string> merged;
  if (!opts.clear_env) {
    for (char** e = environ; e && *e; ++e) {
      std::string kv = *e;
      auto eq = kv.find('=');
      if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  for (const auto& [k, v] : opts.env) merged[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Result<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return Err(Status::NotFound("program not found or not executable: " + name));
  }
  const char* path = ::getenv("PATH");
  std::string p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string cand = p.substr(start, end - start) + "/" + name;
    struct stat st;
    if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(cand.c_str(), X_OK) == 0) return cand;
    start = end + 1;
  }
  return Err(Status::NotFound("program not found in PATH: " + name));
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const CommandOptions& opts) {
  SP_CHECK(!argv.empty());
  SP_ASSIGN_OR_RETURN(std::string prog, FindProgram(argv[0]));
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC))
    return Err(Status::FromErrno("pipe", errno));

  SpawnSpec spec;
  spec.path = prog;
  spec.argv = argv;
  spec.env = BuildEnv(opts);
  spec.fds = {{0, in[0]}, {1, out[1]}, {2, err[1]}};
  auto spawned = SpawnProgram(spec);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!spawned) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return Err(spawned.error());
  }
  pid_t pid = *spawned;

  // A child that exits without reading its stdin must not kill us with SIGPIPE: block it in this
  // thread while we write, and consume a SIGPIPE raised meanwhile.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  CommandResult res;
  size_t in_off = 0;
  int in_fd = in[1];
  if (opts.input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0 || in_fd >= 0) {
    struct pollfd pf[3];
    int n = 0;
    if (out[0] >= 0) pf[n++] = {out[0], POLLIN, 0};
    if (err[0] >= 0) pf[n++] = {err[0], POLLIN, 0};
    if (in_fd >= 0) pf[n++] = {in_fd, POLLOUT, 0};
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int pr = ::poll(pf, n, static_cast<int>(left));
    if (pr < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      if (!pf[i].revents) continue;
      if (pf[i].fd == in_fd) {
        ssize_t w = ::write(in_fd, opts.input.data() + in_off, opts.input.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) in_off = opts.input.size();
        if (in_off >= opts.input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t r = ::read(pf[i].fd, buf, sizeof buf);
      std::string& dst = pf[i].fd == out[0] ? res.out : res.err;
      if (r > 0) {
        if (dst.size() < kCaptureCap) dst.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        int& fd = pf[i].fd == out[0] ? out[0] : err[0];
        ::close(fd);
        fd = -1;
        --open_fds;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (out[0] >= 0) ::close(out[0]);
  if (err[0] >= 0) ::close(err[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return Err(Status::DeadlineExceeded(argv[0] + " did not finish within " + FormatDuration(opts.timeout)));
  if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
  }
  return res;
}

Result<CommandResult> RunChecked(const std::vector<std::string>& argv, const CommandOptions& opts) {
  SP_ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv, opts));
  if (!r.ok()) {
    std::string why = Trim(r.err.empty() ? r.out : r.err);
    std::string what = r.signal ? "killed by signal " + std::to_string(r.signal)
                                : "exit status " + std::to_string(r.exit_code);
    return Err(Status::Internal(argv[0] + " failed (" + what + ")" + (why.empty() ? "" : ": " + why)));
  }
  return r;
}

}  // namespace sp
