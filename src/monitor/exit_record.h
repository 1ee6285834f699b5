// exit.json: how a container ended, written by its monitor when the container is gone:
//   {"exitCode": 137, "signal": 9, "oomKilled": true, "startedAt": "...", "finishedAt": "..."}
// plus "error": "..." when the container could not be created or started (exitCode is then -1).
//
// When the container's init was killed by a signal, signal is that signal and exitCode 128 + signal
// (the shell convention). Note that a container's init is process 1 of its pid namespace: the
// kernel drops signals it has no handler for, SIGKILL excepted, so a plain SIGTERM only ends a
// container whose init handles it; such an init usually exits with code 143 (signal stays 0).
//
// The file is read by spawnd, possibly after a crash, and maybe truncated or hand-edited: reading
// is defensive and never throws. Pure functions over files; thread-safe.
#pragma once

#include <string>

#include "util/status.h"

namespace sp {

struct ExitRecord {
  int exit_code = -1;
  int signal = 0;
  bool oom_killed = false;
  std::string started_at, finished_at;  // RFC3339Nano UTC; started_at empty if it never started
  std::string error;                    // set when create/start failed
};

std::string ExitRecordJson(const ExitRecord& r);
Status WriteExitRecord(const std::string& path, const ExitRecord& r);  // atomically
Result<ExitRecord> ParseExitRecord(const std::string& json_text);
Result<ExitRecord> ReadExitRecord(const std::string& path);  // NotFound if there is no file yet

}  // namespace sp
