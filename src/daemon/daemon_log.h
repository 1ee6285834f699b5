// spawnd's own log: one line per event on stderr, "<RFC 3339 time> spawnd: <line>".
// Thread-safe (one write(2) per line).
#pragma once

#include <unistd.h>

#include <string>

#include "util/clock.h"

namespace sp {

inline void DaemonLog(const std::string& line) {
  std::string out = Rfc3339Millis(WallClockMs()) + " spawnd: " + line + "\n";
  (void)!::write(2, out.data(), out.size());
}

}  // namespace sp
