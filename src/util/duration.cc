// Parsing and printing of human durations (Go-style units plus days).
#include "util/duration.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sp {

Result<Millis> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Err(Status::InvalidArgument("invalid duration \"" + std::string(text) +
                                       "\" (examples: 500ms, 5s, 2m, 1h30m, 30d)"));
  };
  if (text.empty()) return bad();
  double total_ms = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return bad();
    std::string num(text.substr(start, i - start));
    char* end = nullptr;
    double v = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size()) return bad();
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double mult;
    if (unit.empty()) {
      if (any || i != text.size()) return bad();
      mult = 1000;  // bare number: seconds
    } else if (unit == "ms") {
      mult = 1;
    } else if (unit == "s") {
      mult = 1000;
    } else if (unit == "m") {
      mult = 60e3;
    } else if (unit == "h") {
      mult = 3600e3;
    } else if (unit == "d") {
      mult = 86400e3;
    } else {
      return bad();
    }
    total_ms += v * mult;
    any = true;
  }
  if (!std::isfinite(total_ms) || total_ms > 1e15) return bad();
  return Millis(static_cast<int64_t>(std::llround(total_ms)));
}

std::string FormatDuration(Millis d) {
  int64_t ms = d.count();
  char buf[64];
  const char* sign = ms < 0 ? "-" : "";
  if (ms < 0) ms = -ms;
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%s%lldms", sign, static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%s%.3gs", sign, ms / 1000.0);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%s%lldm%llds", sign, static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms % 60'000 / 1000));
  } else if (ms < 86'400'000) {
    std::snprintf(buf, sizeof buf, "%s%lldh%lldm", sign, static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms % 3'600'000 / 60'000));
  } else {
    std::snprintf(buf, sizeof buf, "%s%lldd%lldh", sign, static_cast<long long>(ms / 86'400'000),
                  static_cast<long long>(ms % 86'400'000 / 3'600'000));
  }
  return buf;
}

}  // namespace sp
