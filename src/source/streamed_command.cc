// Runs a program in its own process group and passes its output on line by line (see the header).
#include "source/streamed_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <deque>

#include "util/fd.h"
#include "util/spawn.h"
#include "util/subprocess.h"

namespace sp {
namespace {

constexpr size_t kMaxLine = 4096;
constexpr int kPollSliceMs = 100;
constexpr int kExitPollMs = 5;

// Splits a byte stream into lines, calls the callback for each and keeps the tail.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(std::string_view)>& on_line) : on_line_(on_line) {}

  void Feed(const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      char c = data[i];
      if (c == '\n' || c == '\r') {
        Emit(/*complete=*/c == '\n');
      } else {
        partial_ += c;
        if (partial_.size() >= kMaxLine) Emit(/*complete=*/false);
      }
    }
  }
  void Finish() { Emit(/*complete=*/true); }
  std::vector<std::string> Tail() const { return {tail_.begin(), tail_.end()}; }

 private:
  void Emit(bool complete) {
    if (partial_.empty()) return;
    if (on_line_) on_line_(partial_);
    if (complete) {
      tail_.push_back(partial_);
      if (tail_.size() > kStreamedTailLines) tail_.pop_front();
    }
    partial_.clear();
  }

  const std::function<void(std::string_view)>& on_line_;
  std::string partial_;
  std::deque<std::string> tail_;
};

// The program runs in a new process group, with /dev/null as stdin and `out_fd` as stdout and
// stderr, default signal handling and an empty signal mask.
Result<pid_t> Spawn(const std::string& prog, const StreamedCommand& cmd, int out_fd) {
  SpawnSpec spec;
  spec.path = prog;
  spec.argv = cmd.argv;
  spec.env = cmd.env;
  spec.fds = {{0, kDevNull}, {1, out_fd}, {2, out_fd}};
  spec.new_process_group = true;
  return SpawnProgram(spec);
}

// True once the child has exited; it is left unreaped so its process group id stays reserved.
bool LeaderExited(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;
  return info.si_pid == pid;
}

// Reads everything available now; true at end of file (or on a read error, which ends the stream).
bool Drain(int fd, LineSplitter& splitter) {
  char buf[16384];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r > 0) {
      splitter.Feed(buf, static_cast<size_t>(r));
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    return !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
}

void Reap(pid_t pid, StreamedResult& res) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
  }
}

}  // namespace

Result<StreamedResult> RunStreamed(const StreamedCommand& cmd,
                                   const std::function<void(std::string_view line)>& on_line) {
  SP_CHECK(!cmd.argv.empty());
  SP_ASSIGN_OR_RETURN(std::string prog, FindProgram(cmd.argv[0]));
  SP_ASSIGN_OR_RETURN(Pipe pipe, OpenPipe());
  Result<pid_t> spawned = Spawn(prog, cmd, pipe.write.get());
  pipe.write.reset();  // before reading: end of file must come when the group's writers are gone
  if (!spawned) return Err(spawned.error());
  pid_t pid = *spawned;
  int fd = pipe.read.get();
  ::fcntl(fd, F_SETFL, O_NONBLOCK);

  LineSplitter splitter(on_line);
  StreamedResult res;
  auto deadline = std::chrono::steady_clock::now() + cmd.timeout;
  bool eof = false;
  for (;;) {
    bool exited = LeaderExited(pid);  // checked before draining: all it wrote is in the pipe
    if (!eof) eof = Drain(fd, splitter);
    if (exited) break;
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      res.timed_out = true;
      break;
    }
    struct pollfd pf = {fd, POLLIN, 0};
    // Once the output is closed only the exit is awaited, in short steps.
    int slice = static_cast<int>(std::min<int64_t>(left, eof ? kExitPollMs : kPollSliceMs));
    ::poll(eof ? nullptr : &pf, eof ? 0 : 1, slice);
  }
  // On timeout the whole group goes; after a normal exit, so do helpers still holding the pipe.
  // The leader is not reaped yet, so the group id cannot have been reused.
  if (res.timed_out || !eof) ::kill(-pid, SIGKILL);
  pipe.read.reset();
  Reap(pid, res);
  splitter.Finish();
  res.tail = splitter.Tail();
  return res;
}

}  // namespace sp
