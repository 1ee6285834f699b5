// One descriptor-relative depth-first walk, and tree removal and chown built on it.
#include "fstree/tree.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "fstree/dir.h"
#include "util/fd.h"

namespace sp::fstree {
namespace {

// Calls the visitor for the directory `dir_fd` and its non-directory entries; returns the names of
// its subdirectories on device `dev`, which the walk enters next.
Result<std::vector<std::string>> VisitEntries(int dir_fd, dev_t dev, const std::string& shown,
                                              const TreeVisitor& visitor) {
  if (visitor.enter) SP_RETURN_IF_ERROR(visitor.enter(dir_fd, shown));
  SP_ASSIGN_OR_RETURN(auto names, ListDirFd(dir_fd, shown));
  std::vector<std::string> subdirs;
  for (const auto& n : names) {
    std::string entry_shown = shown + "/" + n;
    struct stat st;
    if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return Err(Status::FromErrno("stat " + entry_shown, errno));
    }
    if (!S_ISDIR(st.st_mode)) {
      if (visitor.entry) SP_RETURN_IF_ERROR(visitor.entry(dir_fd, n, st, entry_shown));
    } else if (st.st_dev == dev) {
      subdirs.push_back(n);
    } else if (visitor.other_device) {
      SP_RETURN_IF_ERROR(visitor.other_device(entry_shown));
    }
  }
  return subdirs;
}

// One directory being walked: its name in its parent and the subdirectories left.
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

// Done with the top frame: climbs to its parent (through "..", or back to `top_parent_fd` for
// the top directory) and calls visitor.leave there.
Status Leave(std::vector<Frame>& stack, Fd& current, int top_parent_fd, const std::string& shown,
             const TreeVisitor& visitor) {
  std::string done_shown = FramePath(shown, stack);  // before the name moves out of the stack
  std::string done = std::move(stack.back().name);
  stack.pop_back();
  if (stack.empty()) {
    current = Fd();
    return visitor.leave ? visitor.leave(top_parent_fd, done, done_shown) : Status::Ok();
  }
  Fd up(::openat(current.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!up.valid()) return Status::FromErrno("open the parent of " + done_shown, errno);
  current = std::move(up);
  return visitor.leave ? visitor.leave(current.get(), done, done_shown) : Status::Ok();
}

Status Unlink(int dir_fd, const std::string& name, int flags, const std::string& shown) {
  if (::unlinkat(dir_fd, name.c_str(), flags) != 0 && errno != ENOENT) {
    return Status::FromErrno("remove " + shown, errno);
  }
  return Status::Ok();
}

Status RefuseMountPoint(const std::string& shown) {
  return Status::FailedPrecondition("refusing to remove across a mount point: " + shown);
}

Status Chown(int dir_fd, const std::string& name, uid_t uid, gid_t gid, const std::string& shown) {
  if (::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno("chown " + shown, errno);
  }
  return Status::Ok();
}

}  // namespace

Status VisitDirAt(int parent_fd, const std::string& name, dev_t dev, const std::string& shown,
                  const TreeVisitor& visitor) {
  Fd current(::openat(parent_fd, name.c_str(), kDirFlags));
  if (!current.valid()) return Status::FromErrno("open " + shown, errno);
  std::vector<Frame> stack;
  SP_ASSIGN_OR_RETURN(auto top_subdirs, VisitEntries(current.get(), dev, shown, visitor));
  stack.push_back(Frame{name, std::move(top_subdirs)});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.subdirs.size()) {
      SP_RETURN_IF_ERROR(Leave(stack, current, parent_fd, shown, visitor));
      continue;
    }
    std::string child = top.subdirs[top.next++];
    std::string child_shown = FramePath(shown, stack) + "/" + child;
    Fd next(::openat(current.get(), child.c_str(), kDirFlags));
    if (!next.valid()) {
      if (errno == ENOENT) continue;
      return Status::FromErrno("open " + child_shown, errno);
    }
    SP_ASSIGN_OR_RETURN(auto subdirs, VisitEntries(next.get(), dev, child_shown, visitor));
    current = std::move(next);
    stack.push_back(Frame{std::move(child), std::move(subdirs)});
  }
  return Status::Ok();
}

Status RemoveTreeAt(int parent_fd, const std::string& name, dev_t dev, const std::string& shown) {
  struct stat st;
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::Ok() : Status::FromErrno("stat " + shown, errno);
  }
  if (!S_ISDIR(st.st_mode)) return Unlink(parent_fd, name, 0, shown);
  if (st.st_dev != dev) return RefuseMountPoint(shown);
  TreeVisitor remove;
  remove.entry = [](int dir_fd, const std::string& n, const struct stat&, const std::string& entry_shown) {
    return Unlink(dir_fd, n, 0, entry_shown);
  };
  remove.other_device = RefuseMountPoint;
  remove.leave = [](int dir_fd, const std::string& n, const std::string& dir_shown) {
    return Unlink(dir_fd, n, AT_REMOVEDIR, dir_shown);
  };
  return VisitDirAt(parent_fd, name, dev, shown, remove);
}

Status RemoveTree(const std::string& path_in) {
  std::string path = path_in;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto refuse = [&] { return Status::InvalidArgument("refusing to remove '" + path_in + "'"); };
  if (path.empty() || path == "/") return refuse();
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::Ok() : Status::FromErrno("stat " + path, errno);
  }
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  Fd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid()) return Status::FromErrno("open " + parent, errno);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name == "." || name == "..") return refuse();
  return RemoveTreeAt(parent_fd.get(), name, st.st_dev, path);
}

Status ChownTree(const std::string& path, uid_t uid, gid_t gid) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Status::FromErrno("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return Chown(AT_FDCWD, path, uid, gid, path);
  Fd top(::open(path.c_str(), kDirFlags));  // VisitDirAt walks "." in it: the directory itself
  if (!top.valid()) return Status::FromErrno("open " + path, errno);
  TreeVisitor chown;
  chown.enter = [uid, gid](int dir_fd, const std::string& shown) {
    return ::fchown(dir_fd, uid, gid) == 0 ? Status::Ok() : Status::FromErrno("chown " + shown, errno);
  };
  chown.entry = [uid, gid, dev = st.st_dev](int dir_fd, const std::string& name, const struct stat& entry_st,
                                            const std::string& shown) {
    return entry_st.st_dev == dev ? Chown(dir_fd, name, uid, gid, shown) : Status::Ok();
  };
  return VisitDirAt(top.get(), ".", st.st_dev, path, chown);
}

}  // namespace sp::fstree
