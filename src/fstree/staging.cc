// Staging directories: made beside the destination, renamed or merged into it, removed otherwise.
#include "fstree/staging.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "fstree/dir.h"
#include "fstree/tree.h"
#include "util/fs.h"

namespace sp::fstree {

Result<std::unique_ptr<Staging>> Staging::NewDir(const std::string& dest_in) {
  std::string dest = dest_in;
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  if (dest.empty() || dest == "/") {
    return Err(Status::InvalidArgument("cannot unpack into '" + dest_in + "': not a new directory path"));
  }
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0) return Err(Status::AlreadyExists(dest + " already exists"));
  if (errno != ENOENT) return Err(Status::FromErrno("stat " + dest, errno));
  std::unique_ptr<Staging> s(new Staging());
  size_t slash = dest.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dest.substr(0, slash);
  s->dest_ = dest;
  s->dest_name_ = slash == std::string::npos ? dest : dest.substr(slash + 1);
  s->parent_fd_ = Fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!s->parent_fd_.valid()) return Err(Status::FromErrno("open the parent directory of " + dest, errno));
  SP_RETURN_IF_ERROR(s->CreateDir(dest + ".tmp-XXXXXX", "create a temporary directory beside " + dest));
  return s;
}

Result<std::unique_ptr<Staging>> Staging::Merge(const std::string& dest) {
  std::unique_ptr<Staging> s(new Staging());
  s->merge_ = true;
  s->dest_ = dest;
  s->dest_fd_ = Fd(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!s->dest_fd_.valid()) {
    return Err(Status::FailedPrecondition("unpack into " + dest + ": not an existing directory (" +
                                          std::strerror(errno) + ")"));
  }
  char* real = ::realpath(dest.c_str(), nullptr);
  if (!real) return Err(Status::FromErrno("resolve " + dest, errno));
  std::string resolved = real;
  ::free(real);
  if (resolved == "/") return Err(Status::FailedPrecondition("refusing to unpack into /"));
  size_t slash = resolved.rfind('/');
  std::string parent = slash == 0 ? "/" : resolved.substr(0, slash);
  s->parent_fd_ = Fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!s->parent_fd_.valid()) return Err(Status::FromErrno("open " + parent, errno));
  std::string pattern = JoinPath(parent, "." + resolved.substr(slash + 1) + ".unpack-XXXXXX");
  SP_RETURN_IF_ERROR(s->CreateDir(pattern, "create staging directory in " + parent));
  SP_RETURN_IF_ERROR(s->CreateMergeDirs());
  return s;
}

// Makes the staging directory from the mkdtemp `pattern` (in the directory parent_fd_ is open on)
// and opens it; `failed` says what failed if mkdtemp does.
Status Staging::CreateDir(const std::string& pattern, const std::string& failed) {
  std::string tmpl = pattern;
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::FromErrno(failed, errno);
  path_ = tmpl;
  name_ = tmpl.substr(tmpl.rfind('/') + 1);
  dir_fd_ = Fd(::openat(parent_fd_.get(), name_.c_str(), kDirFlags));
  struct stat st;
  if (!dir_fd_.valid() || ::fstat(dir_fd_.get(), &st) != 0) {
    Status open_failed = Status::FromErrno("open " + path_, errno);
    ::unlinkat(parent_fd_.get(), name_.c_str(), AT_REMOVEDIR);
    name_.clear();
    return open_failed;
  }
  dev_ = st.st_dev;
  return Status::Ok();
}

Status Staging::CreateMergeDirs() {
  for (const char* sub : {"new", "old"}) {
    if (::mkdirat(dir_fd_.get(), sub, 0700) != 0) return Status::FromErrno("mkdir in " + path_, errno);
  }
  new_fd_ = Fd(::openat(dir_fd_.get(), "new", kDirFlags));
  old_fd_ = Fd(::openat(dir_fd_.get(), "old", kDirFlags));
  if (!new_fd_.valid() || !old_fd_.valid()) return Status::FromErrno("open in " + path_, errno);
  return Status::Ok();
}

Status Staging::Commit() {
  if (name_.empty()) return Status::FailedPrecondition("staging directory for " + dest_ + " already gone");
  return merge_ ? MoveEntries() : RenameIntoPlace();
}

Status Staging::RenameIntoPlace() {
  if (::syncfs(dir_fd_.get()) != 0) return Status::FromErrno("sync " + path_, errno);
  int parent = parent_fd_.get();
  int r = ::renameat2(parent, name_.c_str(), parent, dest_name_.c_str(), RENAME_NOREPLACE);
  if (r != 0 && errno == EINVAL) {  // a filesystem without RENAME_NOREPLACE: check, then rename
    struct stat st;
    if (::fstatat(parent, dest_name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      errno = EEXIST;
    } else {
      r = ::renameat(parent, name_.c_str(), parent, dest_name_.c_str());
    }
  }
  if (r != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return Status::AlreadyExists(dest_ + " appeared while it was being unpacked");
    }
    return Status::FromErrno("rename " + path_ + " to " + dest_, errno);
  }
  dir_fd_ = Fd();
  name_.clear();
  if (::fsync(parent) != 0) return Status::FromErrno("sync the directory holding " + dest_, errno);
  return Status::Ok();
}

Status Staging::MoveEntries() {
  int new_fd = new_fd_.get(), old_fd = old_fd_.get(), dest_fd = dest_fd_.get();
  SP_ASSIGN_OR_RETURN(auto names, ListDirFd(new_fd, "staging directory"));
  std::vector<std::string> moved_out, moved_in;
  Status failure;
  for (const auto& name : names) {
    struct stat st;
    if (::fstatat(dest_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (::renameat(dest_fd, name.c_str(), old_fd, name.c_str()) != 0) {
        failure = Status::FromErrno("move old " + JoinPath(dest_, name) + " aside", errno);
        break;
      }
      moved_out.push_back(name);
    }
    if (::renameat(new_fd, name.c_str(), dest_fd, name.c_str()) != 0) {
      failure = Status::FromErrno("move " + name + " into " + dest_, errno);
      break;
    }
    moved_in.push_back(name);
  }
  if (failure.ok()) return failure;
  for (auto it = moved_in.rbegin(); it != moved_in.rend(); ++it) {
    (void)::renameat(dest_fd, it->c_str(), new_fd, it->c_str());
  }
  for (auto it = moved_out.rbegin(); it != moved_out.rend(); ++it) {
    (void)::renameat(old_fd, it->c_str(), dest_fd, it->c_str());
  }
  return failure;
}

Status Staging::Remove() {
  if (name_.empty()) return Status::Ok();
  new_fd_ = Fd();
  old_fd_ = Fd();
  dir_fd_ = Fd();
  Status s = RemoveTreeAt(parent_fd_.get(), name_, dev_, path_);
  if (s.ok()) name_.clear();
  return s;
}

Staging::~Staging() { (void)Remove(); }

Status BuildNewDir(const std::string& dest, const std::function<Status(int root_fd)>& fill) {
  SP_ASSIGN_OR_RETURN(auto staging, Staging::NewDir(dest));
  Status failure = fill(staging->root_fd());
  if (failure.ok()) failure = staging->Commit();
  if (failure.ok()) return failure;
  Status removed = staging->Remove();
  if (removed.ok()) return failure;
  return Status(failure.code(), failure.message() + " (and the temporary directory " + staging->path() +
                                    " could not be removed: " + removed.message() + ")");
}

}  // namespace sp::fstree
