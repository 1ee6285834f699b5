// Running helper programs (runc, CNI plugins, nats-server, iptables).
//
// RunCommand runs a program to completion, feeding `input` on stdin and
// capturing stdout and stderr (each capped at 4 MiB), with a deadline after
// which the child is killed. The environment is the caller's plus `env`
// overrides unless `clear_env` is set. Thread-safe; does not touch signal
// dispositions of the calling process.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct CommandResult {
  int exit_code = -1;  // exit status, or -1 if killed by a signal
  int signal = 0;      // terminating signal, 0 if exited
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

struct CommandOptions {
  std::string input;
  std::map<std::string, std::string> env;  // added to (or replacing) the inherited environment
  bool clear_env = false;
  Millis timeout = Millis(30000);
};

// Runs argv[0] (searched in PATH) and waits. Fails only if the program could
// not be started or timed out; a non-zero exit is reported in the result.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const CommandOptions& opts = {});

// Like RunCommand but turns a non-zero exit into an error whose message holds
// the program name and its stderr (trimmed).
Result<CommandResult> RunChecked(const std::vector<std::string>& argv, const CommandOptions& opts = {});

// Finds a program in PATH (or checks an absolute path); NotFound if absent.
Result<std::string> FindProgram(const std::string& name);

}  // namespace sp
