// Formatting and parsing CRI log records.
#include "monitor/cri_log.h"

#include <cstdio>

namespace sp {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Checks the shape YYYY-MM-DDTHH:MM:SS[.frac]Z (the pattern, not the calendar).
bool LooksLikeRfc3339Utc(std::string_view t) {
  static constexpr std::string_view kShape = "0000-00-00T00:00:00";
  if (t.size() < kShape.size() + 1 || t.back() != 'Z') return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == '0' ? !IsDigit(t[i]) : t[i] != kShape[i]) return false;
  }
  std::string_view frac = t.substr(kShape.size(), t.size() - kShape.size() - 1);
  if (frac.empty()) return true;
  if (frac[0] != '.' || frac.size() < 2) return false;
  for (char c : frac.substr(1))
    if (!IsDigit(c)) return false;
  return true;
}

}  // namespace

std::string_view LogStreamName(LogStream s) { return s == LogStream::kStdout ? "stdout" : "stderr"; }

std::string FormatCriTime(const struct timespec& ts) {
  struct tm tm;
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(ts.tv_nsec));
  return buf;
}

std::string CriTimeNow() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return FormatCriTime(ts);
}

std::string FormatCriRecord(std::string_view time, LogStream stream, bool partial, std::string_view text) {
  std::string out;
  out.reserve(time.size() + text.size() + 12);
  out.append(time);
  out += ' ';
  out.append(LogStreamName(stream));
  out += partial ? " P " : " F ";
  out.append(text);
  out += '\n';
  return out;
}

Result<CriRecord> ParseCriRecord(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto bad = [&](const char* why) {
    return Err(Status::InvalidArgument(std::string("not a CRI log record (") + why +
                                       "): " + std::string(line.substr(0, 80))));
  };
  size_t s1 = line.find(' ');
  if (s1 == std::string_view::npos) return bad("no stream");
  size_t s2 = line.find(' ', s1 + 1);
  if (s2 == std::string_view::npos || s2 + 2 > line.size()) return bad("no tag");
  CriRecord r;
  r.time = std::string(line.substr(0, s1));
  if (!LooksLikeRfc3339Utc(r.time)) return bad("bad timestamp");
  std::string_view stream = line.substr(s1 + 1, s2 - s1 - 1);
  if (stream == "stdout") {
    r.stream = LogStream::kStdout;
  } else if (stream == "stderr") {
    r.stream = LogStream::kStderr;
  } else {
    return bad("bad stream");
  }
  char tag = line[s2 + 1];
  if ((tag != 'F' && tag != 'P') || (s2 + 2 < line.size() && line[s2 + 2] != ' ')) return bad("bad tag");
  r.partial = tag == 'P';
  if (s2 + 3 <= line.size()) r.text = std::string(line.substr(s2 + 3));
  return r;
}

}  // namespace sp
