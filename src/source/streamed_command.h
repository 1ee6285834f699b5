// Running a program whose output is shown while it runs (git clone), line by line.
//
// util/subprocess.h captures a program's output and hands it over when the program ends, and kills
// only the program itself on timeout. Fetching a source needs two things it does not do: each line
// of output passed on as soon as it is written (so a deploy can show "Receiving objects: 45%"), and
// the whole process group killed on timeout (git clone runs helpers such as git-remote-https and
// index-pack, which must not outlive it). This is that minimal helper; it is local to the source
// module until another module needs it.
//
// The program runs in a new process group with stdin from /dev/null and stdout and stderr joined
// into one pipe (so lines arrive in the order they were written), with exactly the environment
// given (nothing inherited). Lines end at '\n' or '\r' (progress meters redraw with '\r'); a line
// longer than 4 KiB is passed on in pieces. The callback is called on the calling thread.
//
// Thread-safe: no shared state; the caller owns the callback and must not throw from it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct StreamedCommand {
  std::vector<std::string> argv;  // argv[0] is searched in the PATH of the calling process
  std::vector<std::string> env;   // the complete environment, "KEY=value" entries
  Millis timeout{30000};          // after this the process group is killed
};

struct StreamedResult {
  int exit_code = -1;      // exit status, or -1 if killed by a signal
  int signal = 0;          // terminating signal, 0 if exited
  bool timed_out = false;  // the deadline passed and the process group was killed
  // The last few complete ('\n'-terminated), non-empty lines of output, oldest first. Lines ended by
  // '\r' are transient progress and are not kept here (they are passed to the callback).
  std::vector<std::string> tail;
  bool ok() const { return exit_code == 0 && !timed_out; }
};

// Number of lines StreamedResult::tail keeps.
inline constexpr size_t kStreamedTailLines = 8;

// Runs the command, calling on_line (if set) with each line without its terminator, and waits for
// it. Fails only when the program cannot be found or started; a non-zero exit or a timeout is
// reported in the result.
// REQUIRES: !cmd.argv.empty().
Result<StreamedResult> RunStreamed(const StreamedCommand& cmd,
                                   const std::function<void(std::string_view line)>& on_line);

}  // namespace sp
