// Wall-clock time as Spawnpoint records and shows it: milliseconds since the
// epoch, and RFC 3339 UTC text with milliseconds ("2026-11-23T11:52:08.822Z").
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace sp {

int64_t WallClockMs();
// Empty for ms <= 0 (a time that was never set).
std::string Rfc3339Millis(int64_t ms);

}  // namespace sp
