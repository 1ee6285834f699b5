// Listing directories by descriptor and walking paths below a root without following anything.
#include "fstree/dir.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "fstree/paths.h"

namespace sp::fstree {
namespace {

// The result of opening one component: the directory, or why it could not be opened.
struct Opened {
  Fd fd;
  int err = 0;  // errno of the failed open when !fd.valid()
};

// Opens directory parts[i] in `parent_fd`, creating it first (0755 whatever the umask) when it is
// missing and `create` is set.
Result<Opened> OpenOrCreateDir(int parent_fd, const std::vector<std::string>& parts, size_t i, bool create) {
  const char* part = parts[i].c_str();
  Opened opened{Fd(::openat(parent_fd, part, kDirFlags)), errno};
  if (opened.fd.valid() || opened.err != ENOENT) return opened;
  if (!create) return Err(Status::NotFound("'" + JoinParts(parts, i + 1) + "' does not exist"));
  bool made = ::mkdirat(parent_fd, part, 0755) == 0;
  if (!made && errno != EEXIST) {
    return Err(Status::FromErrno("create directory '" + JoinParts(parts, i + 1) + "'", errno));
  }
  opened.fd = Fd(::openat(parent_fd, part, kDirFlags));
  opened.err = errno;
  if (opened.fd.valid() && made && ::fchmod(opened.fd.get(), 0755) != 0) {  // the umask must not narrow it
    return Err(Status::FromErrno("chmod '" + JoinParts(parts, i + 1) + "'", errno));
  }
  return opened;
}

// Opens component `i` below `current`, asking the hook once to replace a non-directory.
Result<Fd> OpenComponent(int current, const std::vector<std::string>& parts, size_t i,
                         const WalkOptions& options) {
  bool hooked = false;
  for (;;) {
    SP_ASSIGN_OR_RETURN(Opened opened, OpenOrCreateDir(current, parts, i, options.create));
    if (opened.fd.valid()) return std::move(opened.fd);
    if (opened.err != ELOOP && opened.err != ENOTDIR) {
      return Err(Status::FromErrno("open directory '" + JoinParts(parts, i + 1) + "'", opened.err));
    }
    struct stat st {};
    ::fstatat(current, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW);
    if (options.replace && !hooked) {
      hooked = true;
      SP_ASSIGN_OR_RETURN(bool replaced, options.replace(current, parts[i], st));
      if (replaced) continue;
    }
    return Err(options.refuse(JoinParts(parts, i + 1), st.st_mode));
  }
}

}  // namespace

Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::string& shown) {
  Fd fd(::dup(dir_fd));
  if (!fd.valid()) return Err(Status::FromErrno("dup " + shown, errno));
  DIR* d = ::fdopendir(fd.get());
  if (!d) return Err(Status::FromErrno("opendir " + shown, errno));
  fd.release();    // the DIR owns it now
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

Result<Fd> WalkDirs(int root_fd, const std::vector<std::string>& parts, size_t count,
                    const WalkOptions& options) {
  Fd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return Err(Status::FromErrno("dup", errno));
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    SP_ASSIGN_OR_RETURN(current, OpenComponent(current.get(), parts, i, options));
  }
  return current;
}

}  // namespace sp::fstree
