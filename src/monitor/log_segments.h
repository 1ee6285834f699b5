// Size-rotated log segment files: logDir/NNNNNNNN.log (8 decimal digits).
//
// Writing continues in the highest-numbered existing segment (so a restarted service appends to
// its log), or 00000000.log in an empty directory. A record that would push the current segment
// past max_bytes goes to the next number instead (a record larger than max_bytes gets a segment of
// its own); after each rotation the oldest segments beyond max_files are deleted. Each record is
// written with one write() on an O_APPEND descriptor, so a concurrent reader sees whole records
// except possibly the last one while it is being written; readers stop at the last '\n'.
//
// A LogSegments owns its file descriptor; it is movable, not copyable, and not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd.h"
#include "util/status.h"

namespace sp {

class LogSegments {
 public:
  // Creates `dir` if needed and opens the segment to append to.
  // REQUIRES: max_bytes > 0, max_files >= 1.
  static Result<LogSegments> Open(const std::string& dir, uint64_t max_bytes, int max_files);

  LogSegments(LogSegments&& other) noexcept = default;
  LogSegments& operator=(LogSegments&& other) noexcept = default;
  LogSegments(const LogSegments&) = delete;
  LogSegments& operator=(const LogSegments&) = delete;
  ~LogSegments() = default;

  // Appends one whole record (normally ending in '\n'), rotating first if needed.
  Status Append(std::string_view record);

  uint32_t current_number() const { return number_; }

 private:
  LogSegments(std::string dir, uint64_t max_bytes, int max_files)
      : dir_(std::move(dir)), max_bytes_(max_bytes), max_files_(max_files) {}
  Status OpenSegment(uint32_t number);
  Status Rotate();
  Status Prune();

  std::string dir_;
  uint64_t max_bytes_;
  int max_files_;
  Fd fd_;  // the current segment
  uint32_t number_ = 0;
  uint64_t size_ = 0;
};

// Path of segment `number` in `dir`.
std::string SegmentPath(const std::string& dir, uint32_t number);
// Numbers of the segments in `dir`, ascending; other files are ignored.
Result<std::vector<uint32_t>> ListSegments(const std::string& dir);

}  // namespace sp
