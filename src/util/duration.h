// Durations as users write them: "5s", "2m", "1h30m", "250ms", "1.5s", "30d".
// A bare number is seconds. Used for -t/--timeout, --expires and config fields.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

using Millis = std::chrono::milliseconds;

Result<Millis> ParseDuration(std::string_view text);
// Shortest readable form: "830ms", "20.2s", "49m9s", "2h3m", "3d4h".
std::string FormatDuration(Millis d);

}  // namespace sp
