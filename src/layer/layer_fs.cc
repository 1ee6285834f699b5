// Staging directories, descriptor-relative directory walks and tree removal for the layer module.
#include "layer/layer_fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace sp::layer_internal {
namespace {

using archive_internal::FileTypeName;
using archive_internal::ListDirFd;

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Unlinks every non-directory in `dir_fd` and returns the names of its subdirectories. Refuses a
// subdirectory on another device (a mount point).
Result<std::vector<std::string>> ClearFiles(int dir_fd, dev_t dev, const std::string& shown) {
  SP_ASSIGN_OR_RETURN(auto names, ListDirFd(dir_fd, shown));
  std::vector<std::string> subdirs;
  for (const auto& n : names) {
    struct stat st;
    if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return Err(Status::FromErrno("stat " + shown + "/" + n, errno));
    }
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev) {
        return Err(Status::FailedPrecondition("refusing to remove across a mount point: " + shown + "/" + n));
      }
      subdirs.push_back(n);
    } else if (::unlinkat(dir_fd, n.c_str(), 0) != 0 && errno != ENOENT) {
      return Err(Status::FromErrno("remove " + shown + "/" + n, errno));
    }
  }
  return subdirs;
}

// One directory being emptied by RemoveTreeAt: its name in its parent and the subdirectories left.
struct Frame {
  std::string name;
  std::vector<std::string> subdirs;
  size_t next = 0;
};

std::string FramePath(const std::string& shown, const std::vector<Frame>& stack) {
  std::string out = shown;
  for (size_t i = 1; i < stack.size(); ++i) out += "/" + stack[i].name;
  return out;
}

}  // namespace

std::string ShowPath(std::string_view path) {
  constexpr size_t kShown = 160;
  std::string out = "'";
  for (size_t i = 0; i < path.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (path.size() > kShown) out += "...";
  return out + "'";
}

Result<std::vector<std::string>> SplitLayerPath(std::string_view path) {
  if (path.empty()) return Err(Status::InvalidArgument("an entry has an empty path"));
  if (path.size() > kMaxPathBytes) {
    return Err(Status::InvalidArgument("entry " + ShowPath(path) + " has a path of " +
                                       std::to_string(path.size()) + " bytes; the limit is " +
                                       std::to_string(kMaxPathBytes)));
  }
  // "/" alone names the layer's root, as "./" does (umoci writes it so); any other absolute path is refused.
  if (path.find_first_not_of('/') == std::string_view::npos) return std::vector<std::string>{};
  if (path.front() == '/') {
    return Err(Status::InvalidArgument(
        "entry " + ShowPath(path) + " has an absolute path; paths in a layer must be relative to its root"));
  }
  auto parts = archive_internal::SplitEntryPath(path);
  if (!parts) {
    return Err(Status::InvalidArgument("entry " + ShowPath(path) +
                                       " has a '..' component; entries may not leave the layer"));
  }
  if (parts->size() > kMaxDepth) {
    return Err(Status::InvalidArgument("entry " + ShowPath(path) + " is " + std::to_string(parts->size()) +
                                       " directories deep; the limit is " + std::to_string(kMaxDepth)));
  }
  for (const auto& part : *parts) {
    if (part.size() > kMaxNameBytes) {
      return Err(Status::InvalidArgument("entry " + ShowPath(path) + " has a name of " +
                                         std::to_string(part.size()) + " bytes; the limit is " +
                                         std::to_string(kMaxNameBytes)));
    }
  }
  return parts;
}

std::string JoinParts(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

Result<Fd> WalkDirs(int root_fd, const std::vector<std::string>& parts, size_t count, bool create,
                    const std::string& shown, const NonDirHook& hook) {
  Fd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return Err(Status::FromErrno("dup", errno));
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    const char* part = parts[i].c_str();
    bool hooked = false;
    for (;;) {
      int fd = ::openat(current.get(), part, kDirFlags);
      int err = errno;
      if (fd < 0 && err == ENOENT) {
        if (!create) {
          return Err(Status::NotFound("'" + JoinParts(parts, i + 1) + "' does not exist in the layer"));
        }
        bool made = ::mkdirat(current.get(), part, 0755) == 0;
        if (!made && errno != EEXIST) {
          return Err(Status::FromErrno("create directory '" + JoinParts(parts, i + 1) + "'", errno));
        }
        fd = ::openat(current.get(), part, kDirFlags);
        err = errno;
        if (fd >= 0 && made && ::fchmod(fd, 0755) != 0) {  // the umask must not narrow it
          err = errno;
          ::close(fd);
          return Err(Status::FromErrno("chmod '" + JoinParts(parts, i + 1) + "'", err));
        }
      }
      if (fd >= 0) {
        current = Fd(fd);
        break;
      }
      if (err != ELOOP && err != ENOTDIR) {
        return Err(Status::FromErrno("open directory '" + JoinParts(parts, i + 1) + "'", err));
      }
      struct stat st {};
      ::fstatat(current.get(), part, &st, AT_SYMLINK_NOFOLLOW);
      if (hook && !hooked) {
        hooked = true;
        SP_ASSIGN_OR_RETURN(bool replaced, hook(current.get(), parts[i], st));
        if (replaced) continue;
      }
      return Err(Status::InvalidArgument("entry " + ShowPath(shown) + " goes through " +
                                         ShowPath(JoinParts(parts, i + 1)) + ", which is a " +
                                         FileTypeName(st.st_mode) + ", not a directory"));
    }
  }
  return current;
}

Status RemoveTreeAt(int parent_fd, const std::string& name, dev_t dev, const std::string& shown) {
  struct stat st;
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : Status::FromErrno("stat " + shown, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return Status::FromErrno("remove " + shown, errno);
    }
    return Status::Ok();
  }
  if (st.st_dev != dev)
    return Status::FailedPrecondition("refusing to remove across a mount point: " + shown);
  Fd current(::openat(parent_fd, name.c_str(), kDirFlags));
  if (!current.valid()) return Status::FromErrno("open " + shown, errno);
  // Depth-first with a stack of names rather than of descriptors: only the current directory is
  // open, and ".." leads back up (nothing else renames directories inside the tree meanwhile).
  std::vector<Frame> stack;
  SP_ASSIGN_OR_RETURN(auto top_subdirs, ClearFiles(current.get(), dev, shown));
  stack.push_back(Frame{name, std::move(top_subdirs)});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next < top.subdirs.size()) {
      std::string child = top.subdirs[top.next++];
      std::string child_shown = FramePath(shown, stack) + "/" + child;
      Fd next(::openat(current.get(), child.c_str(), kDirFlags));
      if (!next.valid()) {
        if (errno == ENOENT) continue;
        return Status::FromErrno("open " + child_shown, errno);
      }
      SP_ASSIGN_OR_RETURN(auto subdirs, ClearFiles(next.get(), dev, child_shown));
      current = std::move(next);
      stack.push_back(Frame{std::move(child), std::move(subdirs)});
      continue;
    }
    std::string done = std::move(top.name);
    std::string done_shown = FramePath(shown, stack);
    stack.pop_back();
    if (stack.empty()) {
      current = Fd();
      if (::unlinkat(parent_fd, done.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return Status::FromErrno("remove " + done_shown, errno);
      }
      break;
    }
    Fd up(::openat(current.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!up.valid()) return Status::FromErrno("open the parent of " + done_shown, errno);
    current = std::move(up);
    if (::unlinkat(current.get(), done.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Status::FromErrno("remove " + done_shown, errno);
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Staging>> Staging::Create(const std::string& dest_in) {
  std::string dest = dest_in;
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  if (dest.empty() || dest == "/") {
    return Err(Status::InvalidArgument("cannot unpack into '" + dest_in + "': not a new directory path"));
  }
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0) return Err(Status::AlreadyExists(dest + " already exists"));
  if (errno != ENOENT) return Err(Status::FromErrno("stat " + dest, errno));
  std::unique_ptr<Staging> staging(new Staging());
  Staging& s = *staging;
  size_t slash = dest.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dest.substr(0, slash);
  s.dest_ = dest;
  s.dest_name_ = slash == std::string::npos ? dest : dest.substr(slash + 1);
  s.parent_fd_ = Fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!s.parent_fd_.valid()) return Err(Status::FromErrno("open the parent directory of " + dest, errno));
  std::string tmpl = dest + ".tmp-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Err(Status::FromErrno("create a temporary directory beside " + dest, errno));
  }
  s.path_ = tmpl;
  s.name_ = tmpl.substr(slash == std::string::npos ? 0 : slash + 1);
  s.root_fd_ = Fd(::openat(s.parent_fd_.get(), s.name_.c_str(), kDirFlags));
  if (!s.root_fd_.valid() || ::fstat(s.root_fd_.get(), &st) != 0) {
    Status failed = Status::FromErrno("open " + s.path_, errno);
    ::unlinkat(s.parent_fd_.get(), s.name_.c_str(), AT_REMOVEDIR);
    s.name_.clear();
    return Err(failed);
  }
  s.dev_ = st.st_dev;
  return staging;
}

Status Staging::Commit() {
  if (name_.empty()) return Status::FailedPrecondition("staging directory for " + dest_ + " already gone");
  if (::syncfs(root_fd_.get()) != 0) return Status::FromErrno("sync " + path_, errno);
  int r =
      ::renameat2(parent_fd_.get(), name_.c_str(), parent_fd_.get(), dest_name_.c_str(), RENAME_NOREPLACE);
  if (r != 0 && errno == EINVAL) {  // a filesystem without RENAME_NOREPLACE: check, then rename
    struct stat st;
    if (::fstatat(parent_fd_.get(), dest_name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      errno = EEXIST;
    } else {
      r = ::renameat(parent_fd_.get(), name_.c_str(), parent_fd_.get(), dest_name_.c_str());
    }
  }
  if (r != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return Status::AlreadyExists(dest_ + " appeared while it was being unpacked");
    }
    return Status::FromErrno("rename " + path_ + " to " + dest_, errno);
  }
  root_fd_ = Fd();
  name_.clear();
  if (::fsync(parent_fd_.get()) != 0) return Status::FromErrno("sync the directory holding " + dest_, errno);
  return Status::Ok();
}

Status Staging::Remove() {
  if (name_.empty()) return Status::Ok();
  root_fd_ = Fd();
  Status s = RemoveTreeAt(parent_fd_.get(), name_, dev_, path_);
  if (s.ok()) name_.clear();
  return s;
}

Staging::~Staging() { (void)Remove(); }

}  // namespace sp::layer_internal
