// Network namespace files: unshare on a throwaway thread, bind-mount its nsfs file, bring up lo.
#include "net/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>
#include <thread>

#include "net/link.h"
#include "util/fs.h"

namespace sp {
namespace {

std::mutex& DirSetupMutex() {
  static std::mutex mu;
  return mu;
}

Status ValidateNetnsName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos)
    return Status::InvalidArgument("invalid network namespace name \"" + name +
                                   "\": must be a plain file name (no '/', not \".\" or \"..\")");
  return Status::Ok();
}

// Makes dir a shared mount point: mark it shared; if it is not a mount point yet (EINVAL), bind it onto
// itself first. Mounts of namespace files below it then propagate to (and unmounts from) peers.
Status MakeSharedMountPoint(const std::string& dir) {
  std::lock_guard<std::mutex> lock(DirSetupMutex());
  if (::mount("", dir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) == 0) return Status::Ok();
  if (errno != EINVAL) return Status::FromErrno("make " + dir + " a shared mount", errno);
  if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return Status::FromErrno("bind-mount " + dir + " onto itself", errno);
  if (::mount("", dir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) != 0)
    return Status::FromErrno("make " + dir + " a shared mount", errno);
  return Status::Ok();
}

// Creates the empty file the namespace is mounted on; replaces a stale file (not a mounted namespace).
Status CreateMountTarget(const std::string& path) {
  if (IsNetnsPath(path)) return Status::AlreadyExists("network namespace already exists at " + path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("remove stale " + path, errno);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("create " + path, errno);
  ::close(fd);
  return Status::Ok();
}

// Body of the throwaway thread: new namespace, lo up, pin it at path.
Status UnshareAndPin(const std::string& path) {
  if (::unshare(CLONE_NEWNET) != 0) return Status::FromErrno("unshare network namespace", errno);
  SP_RETURN_IF_ERROR(SetLinkUp("lo", true).Annotate("in the new network namespace"));
  if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return Status::FromErrno("bind-mount network namespace at " + path, errno);
  return Status::Ok();
}

// Runs fn on a fresh thread and returns its status; namespace changes die with the thread.
Status OnThrowawayThread(const std::function<Status()>& fn) {
  Status result;
  try {
    std::thread t([&] { result = fn(); });
    t.join();
  } catch (const std::system_error& e) {  // thread creation failed (e.g. thread limit reached)
    return Status::ResourceExhausted(std::string("start a thread for a network namespace change: ") +
                                     e.what());
  }
  return result;
}

}  // namespace

bool IsNetnsPath(const std::string& path) {
  struct statfs fs;
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == static_cast<decltype(fs.f_type)>(NSFS_MAGIC);
}

Result<std::string> CreateNetns(const std::string& dir, const std::string& name) {
  SP_RETURN_IF_ERROR(ValidateNetnsName(name));
  if (dir.empty() || dir.front() != '/')
    return Err(
        Status::InvalidArgument("network namespace directory must be an absolute path: \"" + dir + "\""));
  SP_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  SP_RETURN_IF_ERROR(MakeSharedMountPoint(dir));
  std::string path = JoinPath(dir, name);
  SP_RETURN_IF_ERROR(CreateMountTarget(path));
  Status st = OnThrowawayThread([&] { return UnshareAndPin(path); });
  if (!st.ok()) {
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
    return Err(st.Annotate("create network namespace " + name));
  }
  return path;
}

Status DeleteNetns(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("empty network namespace path");
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return Status::FromErrno("unmount network namespace " + path, errno);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Status::FromErrno("remove network namespace file " + path, errno);
  return Status::Ok();
}

Status ReleaseNetnsDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(DirSetupMutex());
  if (::umount2(dir.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return Status::FromErrno("unmount " + dir, errno);
  return Status::Ok();
}

Status RunInNetns(const std::string& path, const std::function<Status()>& fn) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open network namespace " + path, errno);
  Status st = OnThrowawayThread([&]() -> Status {
    if (::setns(fd, CLONE_NEWNET) != 0) return Status::FromErrno("enter network namespace " + path, errno);
    return fn();
  });
  ::close(fd);
  return st;
}

}  // namespace sp
