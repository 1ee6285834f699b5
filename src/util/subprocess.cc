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

#include "util/fd.h"
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

// A started child and our ends of its stdin, stdout and stderr.
struct Child {
  pid_t pid = -1;
  Fd in, out, err;
};

// Starts the program with three fresh pipes as its stdio; the child's ends are closed here.
Result<Child> StartChild(const std::string& prog, const std::vector<std::string>& argv,
                         const CommandOptions& opts) {
  SP_ASSIGN_OR_RETURN(Pipe in, OpenPipe());
  SP_ASSIGN_OR_RETURN(Pipe out, OpenPipe());
  SP_ASSIGN_OR_RETURN(Pipe err, OpenPipe());
  SpawnSpec spec;
  spec.path = prog;
  spec.argv = argv;
  spec.env = BuildEnv(opts);
  spec.fds = {{0, in.read.get()}, {1, out.write.get()}, {2, err.write.get()}};
  auto spawned = SpawnProgram(spec);
  in.read.reset();
  out.write.reset();
  err.write.reset();
  if (!spawned) return Err(spawned.error());
  return Child{*spawned, std::move(in.write), std::move(out.read), std::move(err.read)};
}

// A child that exits without reading its stdin must not kill us with SIGPIPE: this blocks it in the
// calling thread for the object's lifetime, and consumes a SIGPIPE raised meanwhile.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_set_);
  }
  ~SigpipeBlock() {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_set_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_set_, old_set_;
};

// Feeds `input` to the child's stdin and captures its stdout and stderr (each up to kCaptureCap)
// until all three pipes are closed, closing each as it is done with.
class Exchange {
 public:
  Exchange(Child& child, const std::string& input, CommandResult& res)
      : child_(child), input_(input), res_(res) {
    if (input_.empty()) {
      child_.in.reset();
    } else {
      ::fcntl(child_.in.get(), F_SETFL, O_NONBLOCK);
    }
  }

  // False if `deadline` passed first.
  bool Run(std::chrono::steady_clock::time_point deadline) {
    while (child_.out.valid() || child_.err.valid() || child_.in.valid()) {
      auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      PollOnce(static_cast<int>(left));
    }
    return true;
  }

 private:
  void PollOnce(int timeout_ms) {
    struct pollfd pf[3];
    Fd* owner[3];
    int n = 0;
    auto watch = [&](Fd& fd, short events) {
      if (!fd.valid()) return;
      owner[n] = &fd;
      pf[n++] = {fd.get(), events, 0};
    };
    watch(child_.out, POLLIN);
    watch(child_.err, POLLIN);
    watch(child_.in, POLLOUT);
    int pr = ::poll(pf, static_cast<nfds_t>(n), timeout_ms);
    if (pr < 0 && errno == EINTR) return;
    for (int i = 0; i < n; ++i) {
      if (!pf[i].revents) continue;
      if (owner[i] == &child_.in) {
        WriteInput();
      } else {
        ReadOutput(*owner[i], owner[i] == &child_.out ? res_.out : res_.err);
      }
    }
  }

  void WriteInput() {
    ssize_t w = ::write(child_.in.get(), input_.data() + in_off_, input_.size() - in_off_);
    if (w > 0) in_off_ += static_cast<size_t>(w);
    if (w < 0 && errno != EAGAIN && errno != EINTR) in_off_ = input_.size();
    if (in_off_ >= input_.size()) child_.in.reset();
  }

  static void ReadOutput(Fd& fd, std::string& dst) {
    char buf[65536];
    ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r > 0) {
      if (dst.size() < kCaptureCap) dst.append(buf, static_cast<size_t>(r));
    } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
      fd.reset();
    }
  }

  Child& child_;
  const std::string& input_;
  CommandResult& res_;
  size_t in_off_ = 0;
};

// Waits for the child and returns its wait status.
int Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
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
  SP_ASSIGN_OR_RETURN(Child child, StartChild(prog, argv, opts));
  CommandResult res;
  bool finished;
  {
    SigpipeBlock block;  // while we write the child's stdin
    Exchange exchange(child, opts.input, res);
    finished = exchange.Run(std::chrono::steady_clock::now() + opts.timeout);
    child.in.reset();
  }
  child.out.reset();
  child.err.reset();
  if (!finished) ::kill(child.pid, SIGKILL);
  int status = Reap(child.pid);
  if (!finished)
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
