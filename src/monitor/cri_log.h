// The CRI log record format used for service logs, one record per line:
//   <RFC3339Nano UTC timestamp> <stdout|stderr> <F|P> <text>\n
// F marks a full line (its newline was seen); P a partial one: a chunk of a line longer than the
// splitter's maximum, or the last bytes of a stream that ended without a newline. A reader
// reassembles a long line by joining P records up to the next F record of the same stream.
//
// Timestamps always have nine fractional digits ("2026-11-23T11:24:00.012345678Z") so records sort
// as text. Pure functions; thread-safe.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

enum class LogStream { kStdout, kStderr };

std::string_view LogStreamName(LogStream s);

struct CriRecord {
  std::string time;  // as written
  LogStream stream = LogStream::kStdout;
  bool partial = false;
  std::string text;  // without the trailing newline
};

// "2026-11-23T11:24:00.012345678Z" for `ts` (CLOCK_REALTIME).
std::string FormatCriTime(const struct timespec& ts);
// The current time in that format.
std::string CriTimeNow();

// One record including its trailing '\n'. `text` must not contain '\n'.
std::string FormatCriRecord(std::string_view time, LogStream stream, bool partial, std::string_view text);

// Parses one line (with or without its '\n'); InvalidArgument for anything else.
Result<CriRecord> ParseCriRecord(std::string_view line);

}  // namespace sp
