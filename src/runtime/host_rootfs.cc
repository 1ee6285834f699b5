// Building the `image: host` root: the skeleton directory, the generated /etc and the list of
// read-only binds of the host's system directories.
#include "runtime/host_rootfs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/fs.h"

namespace sp {
namespace {

// Top-level directories that hold programs and libraries; on merged-/usr hosts they are symlinks.
const std::vector<std::string> kSystemDirs = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
// Empty mount points and directories every container expects.
const std::vector<std::string> kSkeletonDirs = {"usr", "etc", "proc", "dev",           "sys",
                                                "tmp", "run", "root", "srv/spawnpoint"};
// Host /etc entries programs need and that hold nothing private.
const std::vector<std::string> kHostEtcEntries = {"ssl/certs", "ld.so.cache", "alternatives", "localtime"};

const std::vector<std::string> kReadOnlyBind = {"bind", "ro", "nosuid", "nodev"};

bool ValidHostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

Mount ReadOnlyBind(const std::string& source, const std::string& destination) {
  return Mount{destination, "bind", source, kReadOnlyBind};
}

// Makes `link` a symlink to `target`, replacing a different symlink left by an earlier layout.
Status EnsureSymlink(const std::string& target, const std::string& link) {
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n >= 0 && std::string_view(buf, static_cast<size_t>(n)) == target) return Status::Ok();
  if (n >= 0 && ::unlink(link.c_str()) != 0) return Status::FromErrno("replace symlink " + link, errno);
  if (n < 0 && errno != ENOENT)
    return Status::FromErrno("rootfs skeleton: " + link + " exists and is not a symlink", errno);
  if (::symlink(target.c_str(), link.c_str()) != 0) return Status::FromErrno("symlink " + link, errno);
  return Status::Ok();
}

// Creates an empty regular file to serve as a bind mount point, unless something is there already.
Status EnsureFile(const std::string& path) {
  if (PathExists(path)) return Status::Ok();
  return WriteFileAtomic(path, "", 0644);
}

// Mirrors /bin, /sbin, /lib... into the skeleton: a symlink stays a symlink, a real directory
// becomes an empty mount point plus a read-only bind.
Status MirrorSystemDirs(const std::string& rootfs, std::vector<Mount>& mounts) {
  for (const auto& name : kSystemDirs) {
    std::string host = "/" + name;
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) continue;
    std::string inside = JoinPath(rootfs, name);
    if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlink(host.c_str(), buf, sizeof buf - 1);
      if (n < 0) return Status::FromErrno("readlink " + host, errno);
      SP_RETURN_IF_ERROR(EnsureSymlink(std::string(buf, static_cast<size_t>(n)), inside));
    } else if (S_ISDIR(st.st_mode)) {
      SP_RETURN_IF_ERROR(MakeDirs(inside));
      mounts.push_back(ReadOnlyBind(host, host));
    }
  }
  return Status::Ok();
}

Status WriteGeneratedEtc(const std::string& etc, std::string_view hostname) {
  SP_RETURN_IF_ERROR(WriteFileIfChanged(JoinPath(etc, "passwd"),
                                     "root:x:0:0:root:/root:/bin/sh\n"
                                     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"));
  SP_RETURN_IF_ERROR(WriteFileIfChanged(JoinPath(etc, "group"), "root:x:0:\nnogroup:x:65534:\n"));
  SP_RETURN_IF_ERROR(WriteFileIfChanged(JoinPath(etc, "nsswitch.conf"),
                                     "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
                                     "networks: files\nprotocols: files\nservices: files\n"));
  return WriteNameFiles(etc, hostname);
}

// Read-only binds of the host /etc entries that exist, with their mount points in `etc`.
Status BindHostEtcEntries(const std::string& etc, std::vector<Mount>& mounts) {
  for (const auto& entry : kHostEtcEntries) {
    std::string host = JoinPath("/etc", entry);
    struct stat st;
    if (::stat(host.c_str(), &st) != 0) continue;  // absent or a dangling symlink
    std::string point = JoinPath(etc, entry);
    if (S_ISDIR(st.st_mode)) {
      SP_RETURN_IF_ERROR(MakeDirs(point));
    } else {
      SP_RETURN_IF_ERROR(MakeDirs(point.substr(0, point.rfind('/'))));
      SP_RETURN_IF_ERROR(EnsureFile(point));
    }
    mounts.push_back(ReadOnlyBind(host, host));
  }
  return Status::Ok();
}

}  // namespace

Status CheckRootfsRequest(const std::string& service_dir, std::string_view hostname) {
  if (service_dir.empty() || service_dir[0] != '/')
    return Status::InvalidArgument("service directory must be absolute, got '" + service_dir + "'");
  if (!ValidHostname(hostname))
    return Status::InvalidArgument("hostname '" + std::string(hostname) +
                                   "' must be 1-253 letters, digits, '-', '.' or '_'");
  return Status::Ok();
}

Status WriteNameFiles(const std::string& etc, std::string_view hostname) {
  std::string h(hostname);
  SP_RETURN_IF_ERROR(WriteFileIfChanged(JoinPath(etc, "hostname"), h + "\n"));
  SP_RETURN_IF_ERROR(WriteFileIfChanged(JoinPath(etc, "hosts"),
                                     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                     "127.0.1.1\t" +
                                         h + "\n"));
  auto resolv = ReadFileCapped("/etc/resolv.conf", 64 << 10);
  SP_RETURN_IF_ERROR(WriteFileIfChanged(JoinPath(etc, "resolv.conf"), resolv ? *resolv : ""));
  return Status::Ok();
}

Result<std::vector<Mount>> PrepareHostRootfs(const std::string& service_dir, std::string_view hostname) {
  SP_RETURN_IF_ERROR(CheckRootfsRequest(service_dir, hostname));
  std::string rootfs = JoinPath(service_dir, "rootfs");
  std::string etc = JoinPath(service_dir, "etc");
  for (const auto& d : kSkeletonDirs)
    SP_RETURN_IF_ERROR(MakeDirs(JoinPath(rootfs, d)).Annotate("rootfs skeleton"));
  SP_RETURN_IF_ERROR(MakeDirs(etc).Annotate("generated /etc"));

  std::vector<Mount> mounts = {ReadOnlyBind("/usr", "/usr")};
  SP_RETURN_IF_ERROR(MirrorSystemDirs(rootfs, mounts).Annotate("rootfs skeleton"));
  SP_RETURN_IF_ERROR(WriteGeneratedEtc(etc, hostname).Annotate("generated /etc"));
  mounts.push_back(ReadOnlyBind(etc, "/etc"));
  SP_RETURN_IF_ERROR(BindHostEtcEntries(etc, mounts).Annotate("generated /etc"));
  return mounts;
}

}  // namespace sp
