// Filesystem helpers: whole-file reads, atomic writes, recursive mkdir/remove.
#include "util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/fd.h"

namespace sp {

Result<std::string> ReadFileCapped(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Err(Status::FromErrno("open " + path, errno));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(Status::FromErrno("read " + path, errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      return Err(Status::InvalidArgument(path + ": larger than " + std::to_string(max_bytes) + " bytes"));
    }
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path) { return ReadFileCapped(path, SIZE_MAX / 2); }

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode, Durability durability) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  // The directory may hold files written by someone else (a service's data dir): never follow a
  // symlink planted under the temporary name, never write into a file that was already there.
  ::unlink(tmp.c_str());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) return Status::FromErrno("create " + tmp, errno);
  ::fchmod(fd.get(), mode);  // umask must not widen or narrow what the caller asked for
  if (!WriteAll(fd.get(), data)) {
    int e = errno;
    fd.reset();
    ::unlink(tmp.c_str());
    return Status::FromErrno("write " + tmp, e);
  }
  // Closed by hand: a failing close() is a failed write.
  if ((durability == Durability::kDurable && ::fsync(fd.get()) != 0) || ::close(fd.release()) != 0) {
    int e = errno;
    fd.reset();
    ::unlink(tmp.c_str());
    return Status::FromErrno("sync " + tmp, e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Status::FromErrno("rename " + tmp, e);
  }
  return Status::Ok();
}

Status WriteFileIfChanged(const std::string& path, std::string_view data, mode_t mode) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode &&
      static_cast<size_t>(st.st_size) == data.size()) {
    auto current = ReadFileCapped(path, data.size());
    if (current && *current == data) return Status::Ok();
  }
  return WriteFileAtomic(path, data, mode, Durability::kVolatile);
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::Ok();
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + cur, errno);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return Status::FailedPrecondition(path + " exists and is not a directory");
  return Status::Ok();
}

namespace {
Status RemoveTree(const std::string& path, dev_t dev) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::FromErrno("lstat " + path, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev) return Status::FailedPrecondition("refusing to remove across a mount point: " + path);
    SP_ASSIGN_OR_RETURN(auto names, ListDir(path));
    for (const auto& n : names) SP_RETURN_IF_ERROR(RemoveTree(JoinPath(path, n), dev));
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("rmdir " + path, errno);
    return Status::Ok();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("unlink " + path, errno);
  return Status::Ok();
}
}  // namespace

Status RemoveAll(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Status::Ok() : Status::FromErrno("lstat " + path, errno);
  return RemoveTree(path, st.st_dev);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return Err(Status::FromErrno("opendir " + path, errno));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out += b;
  return out;
}

Result<std::string> MakeTempDir(std::string pattern) {
  if (::mkdtemp(pattern.data()) == nullptr) return Err(Status::FromErrno("create temporary directory " + pattern, errno));
  return pattern;
}

}  // namespace sp
