// The monitor's life: set up, run the container (runtime run --detach), copy its output into log segments
// until it exits, record how it ended, delete it.
#include "monitor/monitor.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "monitor/cri_log.h"
#include "monitor/exit_record.h"
#include "monitor/line_splitter.h"
#include "monitor/log_segments.h"
#include "monitor/params.h"
#include "monitor/process_setup.h"
#include "runtime/cgroups.h"
#include "runtime/oci_runtime.h"
#include "util/fd.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr Millis kRuntimeTimeout{60000};  // runtime run --detach
constexpr Millis kDrainTimeout{2000};     // pipes after the init exited
constexpr int kOrphanCheckMs = 500;       // when the pipes are closed but the init was not reaped

void Diag(const std::string& msg) {
  std::string line = CriTimeNow() + " spawn-monitor[" + std::to_string(::getpid()) + "]: " + msg + "\n";
  WriteAll(2, line);
}

std::string OneLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ';';
  return s;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

int FdFromEnv(const char* name) {
  const char* v = ::getenv(name);
  if (!v) return -1;
  char* end = nullptr;
  long fd = std::strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || fd < 3 || fd > 1 << 20 || ::fcntl(static_cast<int>(fd), F_GETFD) < 0)
    return -1;
  return static_cast<int>(fd);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

struct OutputPipe {
  Fd read;
  LogStream stream;
  LineSplitter splitter;
};

class Monitor {
 public:
  Monitor(MonitorParams p, OciRuntime rt, LogSegments logs, Fd ready, Fd signal_fd)
      : p_(std::move(p)),
        rt_(std::move(rt)),
        logs_(std::move(logs)),
        ready_(std::move(ready)),
        signal_fd_(std::move(signal_fd)) {
    pipes_[0].stream = LogStream::kStdout;
    pipes_[1].stream = LogStream::kStderr;
  }

  int Run() {
    Status s = RunContainer();
    if (!s.ok()) return Fail(s);
    ReportReady("ok " + std::to_string(container_pid_));
    // Setting up touched heap that is free now (the params, the runtime's argv, /proc/self/mountinfo
    // for the cgroup mounts, which grows with every container on the host): give those pages back,
    // since this process now idles for the container's whole life, once per container.
    ::malloc_trim(0);
    Loop();
    FinishOutput();
    Status w = WriteExitRecord(p_.exit_file, MakeExitRecord());
    if (!w.ok()) Diag(w.ToString());
    DeleteContainer();
    return w.ok() ? 0 : 1;
  }

 private:
  // `<runtime> run --detach` with the pipes as stdout/stderr; the container's init inherits them.
  // The runtime exits once the init runs; being a child subreaper, this process becomes its parent.
  // (One runtime process instead of create + start: the second Go start cost ~9 ms per launch.)
  Status RunContainer() {
    SP_ASSIGN_OR_RETURN(Pipe out, OpenPipe());
    SP_ASSIGN_OR_RETURN(Pipe err, OpenPipe());
    pipes_[0].read = std::move(out.read);
    pipes_[1].read = std::move(err.read);
    Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devnull.valid()) return Status::FromErrno("open /dev/null", errno);
    ::unlink(p_.pid_file.c_str());  // a stale pid must not be mistaken for this container's
    auto pid = SpawnWithStdio(rt_.RunDetachedArgv(p_.id, p_.bundle, p_.pid_file), devnull.get(),
                              out.write.get(), err.write.get());
    // Our write ends go now: the pipes must reach end of file once the container's side is gone.
    devnull.reset();
    out.write.reset();
    err.write.reset();
    if (!pid) return pid.error().Annotate("runtime run");
    SP_ASSIGN_OR_RETURN(int status, WaitForChild(*pid, kRuntimeTimeout));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string why = OneLine(ReadAvailable(pipes_[1].read.get()) + ReadAvailable(pipes_[0].read.get()));
      return Status::Internal(rt_.binary_path() + " run " + p_.id + " failed (" +
                              DescribeWaitStatus(status) + ")" + (why.empty() ? "" : ": " + why));
    }
    SP_ASSIGN_OR_RETURN(std::string pid_text, ReadFileCapped(p_.pid_file, 64));
    container_pid_ = static_cast<pid_t>(std::atol(pid_text.c_str()));
    if (container_pid_ <= 0) return Status::Internal("runtime wrote no valid pid to " + p_.pid_file);
    if (!p_.cgroups_path.empty()) oom_kills_at_start_ = ReadOomKillCount(p_.cgroups_path).value_or(0);
    started_at_ = CriTimeNow();
    return Status::Ok();
  }

  // Waits for one specific child (the runtime) while queueing any SIGTERM for later.
  Result<int> WaitForChild(pid_t pid, Millis timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) return status;
      if (r < 0 && errno != EINTR) return Err(Status::FromErrno("waitpid runtime", errno));
      auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
      if (left <= 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return Err(
            Status::DeadlineExceeded("runtime run did not finish within " + FormatDuration(timeout)));
      }
      struct pollfd pfd = {signal_fd_.get(), POLLIN, 0};
      ::poll(&pfd, 1, static_cast<int>(std::min<long>(left, 100)));
      ReadSignals();
    }
  }

  void ReadSignals() {
    struct signalfd_siginfo si;
    while (::read(signal_fd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if (si.ssi_signo == SIGTERM) term_pending_ = true;
    }
  }

  void Loop() {
    ReapChildren();  // the init may have exited already (during start)
    for (;;) {
      ForwardTerm();
      bool pipes_open = pipes_[0].read.valid() || pipes_[1].read.valid();
      if (exited_ && !pipes_open) return;
      int timeout = -1;
      if (exited_) {
        auto left = std::chrono::duration_cast<Millis>(drain_deadline_ - Clock::now()).count();
        if (left <= 0) return;  // a leaked descendant holds the pipes open
        timeout = static_cast<int>(left);
      } else if (!pipes_open) {
        timeout = kOrphanCheckMs;
      }
      struct pollfd pfds[3] = {{signal_fd_.get(), POLLIN, 0},
                               {pipes_[0].read.get(), POLLIN, 0},
                               {pipes_[1].read.get(), POLLIN, 0}};
      int n = ::poll(pfds, 3, timeout);
      if (n < 0 && errno != EINTR) {
        Diag("poll: " + std::string(strerror(errno)));
        return;
      }
      if (pfds[0].revents) {
        ReadSignals();
        ReapChildren();
      }
      for (int i = 0; i < 2; ++i)
        if (pfds[i + 1].revents) ReadPipe(pipes_[i]);
      if (n == 0 && !exited_ && !pipes_open) CheckInitStillExists();
    }
  }

  void ForwardTerm() {
    if (!term_pending_) return;
    term_pending_ = false;
    if (!exited_ && ::kill(container_pid_, SIGTERM) != 0)
      Diag("forward SIGTERM: " + std::string(strerror(errno)));
  }

  void ReapChildren() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != container_pid_ || exited_) continue;  // runtime helpers and orphaned descendants
      exited_ = true;
      exit_status_ = status;
      finished_at_ = CriTimeNow();
      drain_deadline_ = Clock::now() + kDrainTimeout;
    }
  }

  // Not reparented to us (no subreaper?): notice the init's end without its status.
  void CheckInitStillExists() {
    if (::kill(container_pid_, 0) == 0 || errno != ESRCH) return;
    Diag("container init " + std::to_string(container_pid_) + " vanished without being reaped");
    exited_ = true;
    exit_status_ = -1;
    finished_at_ = CriTimeNow();
  }

  void ReadPipe(OutputPipe& pipe) {
    char buf[65536];
    ssize_t n = ::read(pipe.read.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n > 0) {
      pipe.splitter.Feed(std::string_view(buf, static_cast<size_t>(n)),
                         [&](std::string_view text, bool partial) { WriteLog(pipe.stream, text, partial); });
      return;
    }
    ClosePipe(pipe);
  }

  void ClosePipe(OutputPipe& pipe) {
    pipe.splitter.Finish([&](std::string_view text, bool partial) { WriteLog(pipe.stream, text, partial); });
    pipe.read.reset();
  }

  void FinishOutput() {
    for (auto& pipe : pipes_) {
      if (!pipe.read.valid()) continue;
      std::string rest = ReadAvailable(pipe.read.get(), 1 << 20);
      pipe.splitter.Feed(rest,
                         [&](std::string_view text, bool partial) { WriteLog(pipe.stream, text, partial); });
      ClosePipe(pipe);
    }
  }

  void WriteLog(LogStream stream, std::string_view text, bool partial) {
    Status s = logs_.Append(FormatCriRecord(CriTimeNow(), stream, partial, text));
    if (!s.ok() && !log_error_reported_) {
      Diag("log lines are being lost: " + s.ToString());
      log_error_reported_ = true;
    }
  }

  ExitRecord MakeExitRecord() {
    ExitRecord r;
    r.started_at = started_at_;
    r.finished_at = finished_at_.empty() ? CriTimeNow() : finished_at_;
    if (exit_status_ >= 0 && WIFEXITED(exit_status_)) {
      r.exit_code = WEXITSTATUS(exit_status_);
    } else if (exit_status_ >= 0 && WIFSIGNALED(exit_status_)) {
      r.signal = WTERMSIG(exit_status_);
      r.exit_code = 128 + r.signal;
    }
    if (!p_.cgroups_path.empty()) {
      auto kills = ReadOomKillCount(p_.cgroups_path);  // before the runtime deletes the cgroup
      if (kills) {
        r.oom_killed = *kills > oom_kills_at_start_;
      } else {
        Diag("OOM kill count: " + kills.error().ToString());
      }
    }
    return r;
  }

  void ReportReady(const std::string& line) {
    if (!ready_.valid()) return;
    WriteAll(ready_.get(), line + "\n");
    ready_.reset();
  }

  int Fail(const Status& s) {
    std::string msg = OneLine(s.message());
    Diag("failed: " + msg);
    for (auto& pipe : pipes_) pipe.read.reset();
    // exit.json first, so a launcher that got the error finds the record too.
    ExitRecord r;
    r.error = msg;
    r.finished_at = CriTimeNow();
    Status w = WriteExitRecord(p_.exit_file, r);
    if (!w.ok()) Diag(w.ToString());
    ReportReady("error " + msg);
    DeleteContainer();
    return 1;
  }

  void DeleteContainer() {
    Status s = rt_.Delete(p_.id, /*force=*/true);
    if (!s.ok()) Diag("delete: " + s.ToString());
    ReapChildren();
  }

  MonitorParams p_;
  OciRuntime rt_;
  LogSegments logs_;
  Fd ready_;  // the readiness pipe, until the one line is written
  Fd signal_fd_;
  OutputPipe pipes_[2];
  pid_t container_pid_ = 0;
  uint64_t oom_kills_at_start_ = 0;
  std::string started_at_, finished_at_;
  bool exited_ = false;
  int exit_status_ = -1;
  Clock::time_point drain_deadline_;
  bool term_pending_ = false;
  bool log_error_reported_ = false;
};

// Everything before the container exists; failures are reported on the readiness pipe.
int SetUpAndRun(const std::string& params_path, int ready_fd) {
  auto params = ReadMonitorParams(params_path);
  auto fail = [&](const Status& s) {
    Diag("failed: " + s.ToString());
    if (params) {  // the exit record can be written once we know where
      ExitRecord r;
      r.error = OneLine(s.message());
      r.finished_at = CriTimeNow();
      Status w = WriteExitRecord(params->exit_file, r);
      if (!w.ok()) Diag(w.ToString());
    }
    if (ready_fd >= 0) WriteAll(ready_fd, "error " + OneLine(s.message()) + "\n");
    return 1;
  };
  if (!params) return fail(params.error());
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    return fail(Status::FromErrno("prctl(PR_SET_CHILD_SUBREAPER)", errno));
  auto signal_fd = SetUpMonitorSignals();
  if (!signal_fd) return fail(signal_fd.error());
  Status pid_written = WriteFileAtomic(JoinPath(DirName(params_path), "monitor.pid"),
                                       std::to_string(::getpid()) + "\n", 0644, Durability::kVolatile);
  if (!pid_written.ok()) return fail(pid_written);
  RuntimeOptions ro;
  ro.binary = params->runtime_binary;
  ro.root = params->runtime_root;
  ro.check_version = false;  // spawnd checked it; every millisecond counts at start
  ro.timeout = kRuntimeTimeout;
  auto rt = OciRuntime::Open(ro);
  if (!rt) return fail(rt.error());
  auto logs = LogSegments::Open(params->log_dir, static_cast<uint64_t>(params->log_max_bytes),
                                static_cast<int>(params->log_max_files));
  if (!logs) return fail(logs.error());
  Monitor m(std::move(*params), std::move(*rt), std::move(*logs), Fd(ready_fd), Fd(*signal_fd));
  return m.Run();
}

// See "Detaching" in monitor.h. Returns false in the parent (which must exit) or on failure.
bool Detach(int detach_fd) {
  if (::setsid() < 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid > 0) {
    (void)!::write(detach_fd, &pid, sizeof pid);
    return false;
  }
  ::close(detach_fd);
  return true;
}

}  // namespace

int RunMonitor(const std::string& params_path) {
  int ready_fd = FdFromEnv(kMonitorReadyFdEnv);
  int detach_fd = FdFromEnv(kMonitorDetachFdEnv);
  ::unsetenv(kMonitorReadyFdEnv);  // the runtime and the container must not see them
  ::unsetenv(kMonitorDetachFdEnv);
  if (detach_fd >= 0 && !Detach(detach_fd)) ::_exit(0);  // the launcher reaps us; no pid: it reports
  CloseFdsExcept(ready_fd);
  if (ready_fd >= 0) ::fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
  Status s = RedirectStdio(JoinPath(DirName(params_path), "monitor.log"));
  if (!s.ok() && ready_fd >= 0) {
    WriteAll(ready_fd, "error " + OneLine(s.message()) + "\n");
    return 1;
  }
  return SetUpAndRun(params_path, ready_fd);
}

}  // namespace sp
