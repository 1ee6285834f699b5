// The owning descriptor: closing on reset and destruction, handing over on move and release.
#include "util/fd.h"

#include <unistd.h>

#include <cerrno>

namespace sp {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<Pipe> OpenPipe(int flags) {
  int fds[2];
  if (::pipe2(fds, flags) != 0) return Err(Status::FromErrno("pipe", errno));
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

}  // namespace sp
