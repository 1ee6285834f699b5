// The overlayfs root of an image-based service (see image_rootfs.h).
#include "runtime/image_rootfs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/host_rootfs.h"
#include "util/fs.h"

namespace sp {
namespace {

// Mount data must fit in one page, including the terminating NUL.
constexpr size_t kMaxMountData = 4096 - 1;

Status CheckOverlayPath(const std::string& p, std::string_view what) {
  if (p.empty() || p[0] != '/') return Status::InvalidArgument(std::string(what) + " must be an absolute path: " + p);
  if (p.find_first_of(",:\\") != std::string::npos)
    return Status::InvalidArgument(std::string(what) + " \"" + p + "\" contains ',', ':' or '\\', which overlayfs cannot take");
  return Status::Ok();
}

std::string Parent(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::string Base(const std::string& p) { return p.substr(p.rfind('/') + 1); }

// Mounts from a child whose cwd is `dir`, so `data` may name the lower layers relative to it.
Status MountFromDir(const std::string& dir, const std::string& target, const std::string& data) {
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork for overlay mount", errno);
  if (pid == 0) {
    // Only async-signal-safe calls here: the daemon is multi-threaded.
    if (::chdir(dir.c_str()) != 0) ::_exit(errno & 0xff);
    if (::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) != 0) ::_exit(errno & 0xff);
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno("wait for overlay mount", errno);
  }
  if (!WIFEXITED(status)) return Status::Internal("overlay mount helper died");
  int err = WEXITSTATUS(status);
  if (err != 0) return Status::FromErrno("mount overlay at " + target, err);
  return Status::Ok();
}

}  // namespace

Status MountOverlay(const std::vector<std::string>& lower_dirs, const std::string& upper, const std::string& work,
                    const std::string& target) {
  if (lower_dirs.empty()) return Status::InvalidArgument("overlay: no layers");
  if (lower_dirs.size() > kMaxImageLayers)
    return Status::InvalidArgument("image has " + std::to_string(lower_dirs.size()) + " layers; at most " +
                                   std::to_string(kMaxImageLayers) + " are supported");
  for (const std::string& l : lower_dirs) SP_RETURN_IF_ERROR(CheckOverlayPath(l, "layer directory"));
  SP_RETURN_IF_ERROR(CheckOverlayPath(upper, "upper directory"));
  SP_RETURN_IF_ERROR(CheckOverlayPath(work, "work directory"));
  SP_RETURN_IF_ERROR(CheckOverlayPath(target, "mount point"));

  std::string tail = ",upperdir=" + upper + ",workdir=" + work;
  std::string absolute = "lowerdir=";
  for (size_t i = 0; i < lower_dirs.size(); ++i) absolute += (i ? ":" : "") + lower_dirs[i];
  absolute += tail;
  if (absolute.size() <= kMaxMountData) {
    if (::mount("overlay", target.c_str(), "overlay", 0, absolute.c_str()) != 0)
      return Status::FromErrno("mount overlay at " + target, errno);
    return Status::Ok();
  }
  std::string parent = Parent(lower_dirs[0]);
  std::string relative = "lowerdir=";
  for (size_t i = 0; i < lower_dirs.size(); ++i) {
    if (Parent(lower_dirs[i]) != parent)
      return Status::InvalidArgument("overlay: too many layers for one mount and they do not share a directory");
    relative += (i ? ":" : "") + Base(lower_dirs[i]);
  }
  relative += tail;
  if (relative.size() > kMaxMountData) return Status::InvalidArgument("overlay: layer list too long for one mount");
  return MountFromDir(parent, target, relative);
}

bool IsMountPoint(const std::string& path) {
  struct stat self, parent;
  if (::lstat(path.c_str(), &self) != 0 || !S_ISDIR(self.st_mode)) return false;
  if (::stat((path + "/..").c_str(), &parent) != 0) return false;
  if (self.st_dev != parent.st_dev) return true;
  // A bind mount of a directory of the same filesystem keeps the device: consult mountinfo.
  auto info = ReadFileCapped("/proc/self/mountinfo", 64 << 20);
  if (!info) return false;
  std::string needle = " " + path + " ";
  return info->find(needle) != std::string::npos;
}

Status UnmountIfMounted(const std::string& path) {
  if (!IsMountPoint(path)) return Status::Ok();
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return Status::FromErrno("unmount " + path, errno);
  return Status::Ok();
}

Result<std::vector<Mount>> PrepareImageRootfs(const std::string& service_dir, std::string_view hostname,
                                              const std::vector<std::string>& lower_dirs) {
  SP_RETURN_IF_ERROR(CheckRootfsRequest(service_dir, hostname));
  std::string rootfs = JoinPath(service_dir, "rootfs");
  std::string upper = JoinPath(service_dir, "upper");
  std::string work = JoinPath(service_dir, "work");
  std::string etc = JoinPath(service_dir, "etc");
  for (const std::string& d : {rootfs, upper, work, etc}) SP_RETURN_IF_ERROR(MakeDirs(d, 0755).Annotate("image root"));
  if (!IsMountPoint(rootfs)) SP_RETURN_IF_ERROR(MountOverlay(lower_dirs, upper, work, rootfs).Annotate("image root"));
  SP_RETURN_IF_ERROR(WriteNameFiles(etc, hostname).Annotate("image root"));
  std::vector<Mount> mounts;
  for (const char* f : {"hostname", "hosts", "resolv.conf"}) {
    mounts.push_back(Mount{std::string("/etc/") + f, "bind", JoinPath(etc, f), {"bind", "ro", "nosuid", "nodev"}});
  }
  return mounts;
}

Status ReleaseImageRootfs(const std::string& service_dir) { return UnmountIfMounted(JoinPath(service_dir, "rootfs")); }

}  // namespace sp
