// Fd: the one owning file-descriptor type, and pipes made of two of them.
//
// Code that opens a descriptor holds it in an Fd, so every return path closes it exactly once and
// an error path cannot leak it. Where the moment of closing matters (a pipe's write end that must
// be closed before reading to end of file, a readiness pipe closed to signal the other side), call
// reset() at that point; the destructor closes only what is still open.
//
// An Fd is movable, not copyable; it owns its descriptor (-1 for none). Not thread-safe: one owner
// at a time, like any value.
#pragma once

#include <fcntl.h>

#include "util/status.h"

namespace sp {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes the descriptor returned (-1 if none).
  int release();
  // Closes the descriptor held (if any) and takes `fd` instead.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Both ends of a pipe.
struct Pipe {
  Fd read;
  Fd write;
};

// pipe2(flags); O_CLOEXEC unless told otherwise.
Result<Pipe> OpenPipe(int flags = O_CLOEXEC);

}  // namespace sp
