// Path, symlink and mode rules shared by PackIncludes and UnpackIncludes, plus owning handles.
#include "archive/archive_rules.h"

#include <archive.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace sp::archive_internal {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void ArchiveReadDeleter::operator()(struct archive* a) const { archive_read_free(a); }
void ArchiveWriteDeleter::operator()(struct archive* a) const { archive_write_free(a); }

Result<std::vector<std::string>> SplitEntryPath(std::string_view path) {
  if (path.empty()) return Err(Status::InvalidArgument("entry with an empty path"));
  if (path.front() == '/') {
    return Err(Status::InvalidArgument("entry '" + std::string(path) + "' has an absolute path"));
  }
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      return Err(Status::InvalidArgument("entry '" + std::string(path) + "' has a '..' component"));
    }
    if (!part.empty() && part != ".") parts.emplace_back(part);
    pos = end + 1;
  }
  return parts;
}

Status CheckSymlinkTargetLexically(const std::vector<std::string>& parent, std::string_view target) {
  if (target.empty()) return Status::InvalidArgument("symlink with an empty target");
  if (target.front() == '/') {
    return Status::InvalidArgument("symlink target '" + std::string(target) +
                                   "' is absolute; only relative targets inside the directory are allowed");
  }
  size_t depth = parent.size();
  size_t pos = 0;
  while (pos <= target.size()) {
    size_t end = target.find('/', pos);
    if (end == std::string_view::npos) end = target.size();
    std::string_view part = target.substr(pos, end - pos);
    if (part == "..") {
      if (depth == 0) {
        return Status::InvalidArgument("symlink target '" + std::string(target) +
                                       "' points outside the directory it is unpacked into");
      }
      --depth;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    pos = end + 1;
  }
  return Status::Ok();
}

std::string BaseName(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

mode_t NormalizedMode(mode_t mode, bool is_dir) {
  if (is_dir || (mode & 0111) != 0) return 0755;
  return 0644;
}

std::string FileTypeName(mode_t type) {
  switch (type & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case S_IFSOCK:
      return "socket";
    case S_IFIFO:
      return "FIFO";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    default:
      return "file of unknown type";
  }
}

std::string DescribeBytes(uint64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB (%llu bytes)", static_cast<double>(bytes) / (1 << 20),
                static_cast<unsigned long long>(bytes));
  return buf;
}

std::string ArchiveError(struct archive* a, std::string_view fallback) {
  const char* msg = a ? archive_error_string(a) : nullptr;
  return msg && *msg ? std::string(msg) : std::string(fallback);
}

Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::string& shown) {
  int fd = ::dup(dir_fd);
  if (fd < 0) return Err(Status::FromErrno("dup " + shown, errno));
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int e = errno;
    ::close(fd);
    return Err(Status::FromErrno("opendir " + shown, e));
  }
  ::rewinddir(d);  // the duplicate shares its position with dir_fd, which may have been read before
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* ent = ::readdir(d)) {
    std::string n = ent->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  int e = errno;
  ::closedir(d);
  if (e != 0) return Err(Status::FromErrno("readdir " + shown, e));
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sp::archive_internal
