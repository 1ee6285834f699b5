// Splits a byte stream (a container's stdout or stderr) into log lines.
//
// Bytes arrive in arbitrary chunks. Every complete line is emitted as full (without its newline);
// a line that grows past `max_line` bytes without a newline is emitted in max_line-sized partial
// pieces; at end of stream the remaining bytes, if any, are emitted as partial. Not thread-safe;
// one splitter per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sp {

class LineSplitter {
 public:
  using Emit = std::function<void(std::string_view text, bool partial)>;

  static constexpr size_t kDefaultMaxLine = 16 * 1024;
  explicit LineSplitter(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  void Feed(std::string_view data, const Emit& emit);
  // End of stream: emits what is buffered as a partial line.
  void Finish(const Emit& emit);

 private:
  size_t max_line_;
  std::string pending_;  // bytes of the current, unterminated line
};

}  // namespace sp
