// Entry-by-entry creation of an image layer: types, metadata, whiteouts and the path rules.
#include "layer/layer_extractor.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sp::layer_internal {
namespace {

using archive_internal::DescribeBytes;
using fstree::FileTypeName;
using fstree::kDirFlags;

constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";
constexpr char kWhiteoutPrefix[] = ".wh.";
constexpr char kWhiteoutMetaPrefix[] = ".wh..wh.";
constexpr char kOpaqueMarker[] = ".wh..wh..opq";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// overlayfs' whiteout: a character device with device number 0/0.
bool IsWhiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == 0; }

std::string TypeName(struct archive_entry* entry) {
  if (archive_entry_hardlink(entry)) return "hard link";
  return FileTypeName(archive_entry_filetype(entry));
}

Status SetOpaque(int dir_fd, const std::string& shown) {
  if (::fsetxattr(dir_fd, kOpaqueXattr, "y", 1, 0) != 0) {
    return Status::FromErrno("mark directory " + ShowPath(shown) + " opaque (" + kOpaqueXattr + ")", errno);
  }
  return Status::Ok();
}

Status SetOpaqueAt(int parent_fd, const std::string& name, const std::string& shown) {
  Fd fd(::openat(parent_fd, name.c_str(), kDirFlags));
  if (!fd.valid()) return Status::FromErrno("open directory " + ShowPath(shown), errno);
  return SetOpaque(fd.get(), shown);
}

Status XattrError(const std::string& name, const std::string& value, const std::string& path) {
  int e = errno;
  std::string what = "xattr " + name + " (" + std::to_string(value.size()) + " bytes) on " + ShowPath(path);
  if (e == EINVAL || e == E2BIG || e == ERANGE) {
    return Status::InvalidArgument(what + " is refused by the kernel: " + std::strerror(e));
  }
  if (e == ENOTSUP) {
    return Status::FailedPrecondition(what + ": the filesystem holding the layer does not support it");
  }
  return Status::FromErrno("set " + what, e);
}

// Owner, mode, xattrs, then times: chown clears setuid bits and capabilities, and every change but
// the last would move the ctime only.
Status ApplyToFd(int fd, const Metadata& m, const std::string& path, bool is_dir) {
  if (::fchown(fd, m.uid, m.gid) != 0) return Status::FromErrno("chown " + ShowPath(path), errno);
  if (::fchmod(fd, m.perm) != 0) return Status::FromErrno("chmod " + ShowPath(path), errno);
  for (const auto& [name, value] : m.xattrs) {
    if (is_dir && !StartsWith(name, "user.")) continue;  // capabilities mean nothing on a directory
    if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0)
      return XattrError(name, value, path);
  }
  if (::futimens(fd, m.times) != 0) return Status::FromErrno("set the times of " + ShowPath(path), errno);
  return Status::Ok();
}

// For symlinks (no mode) and FIFOs/devices, which are not opened. The name was just created by us
// as a non-symlink (or is a symlink we never follow), so fchmodat following it is safe.
Status ApplyAt(int parent_fd, const std::string& name, const Metadata& m, const std::string& path,
               bool set_mode) {
  if (::fchownat(parent_fd, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno("chown " + ShowPath(path), errno);
  }
  if (set_mode && ::fchmodat(parent_fd, name.c_str(), m.perm, 0) != 0) {
    return Status::FromErrno("chmod " + ShowPath(path), errno);
  }
  if (::utimensat(parent_fd, name.c_str(), m.times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno("set the times of " + ShowPath(path), errno);
  }
  return Status::Ok();
}

struct timespec EntryTime(time_t sec, long nsec) {
  struct timespec ts;
  ts.tv_sec = sec;
  ts.tv_nsec = nsec >= 0 && nsec < 1000000000 ? nsec : 0;
  return ts;
}

}  // namespace

bool KeepXattr(std::string_view name) {
  if (StartsWith(name, "user.")) return !StartsWith(name, "user.overlay.");
  return name == "security.capability";
}

Result<Metadata> ReadMetadata(struct archive_entry* entry, const std::string& path) {
  constexpr int64_t kMaxId = 0xfffffffeLL;  // (uid_t)-1 means "unchanged" to chown
  int64_t uid = archive_entry_uid(entry), gid = archive_entry_gid(entry);
  if (uid < 0 || uid > kMaxId || gid < 0 || gid > kMaxId) {
    return Err(Status::InvalidArgument("entry " + ShowPath(path) + " has owner " + std::to_string(uid) + ":" +
                                       std::to_string(gid) + ", outside 0.." + std::to_string(kMaxId)));
  }
  Metadata m;
  m.uid = static_cast<uid_t>(uid);
  m.gid = static_cast<gid_t>(gid);
  m.perm = archive_entry_perm(entry) & 07777;
  if (archive_entry_mtime_is_set(entry)) {
    m.times[1] = EntryTime(archive_entry_mtime(entry), archive_entry_mtime_nsec(entry));
    m.times[0] = archive_entry_atime_is_set(entry)
                     ? EntryTime(archive_entry_atime(entry), archive_entry_atime_nsec(entry))
                     : m.times[1];
  }
  archive_entry_xattr_reset(entry);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    if (name && KeepXattr(name))
      m.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  return m;
}

Status LayerExtractor::Extract(TarStream& stream, struct archive_entry* entry) {
  if (++entries_ > options_.max_entries) {
    return Status::InvalidArgument("the layer has more than " + std::to_string(options_.max_entries) +
                                   " entries, the limit");
  }
  const char* raw_path = archive_entry_pathname(entry);
  if (!raw_path || !*raw_path) {
    return Status::InvalidArgument("entry number " + std::to_string(entries_) + " has an empty path");
  }
  std::string path = raw_path;
  SP_ASSIGN_OR_RETURN(auto parts, SplitLayerPath(path));
  mode_t type = archive_entry_filetype(entry);
  bool is_link = archive_entry_hardlink(entry) != nullptr;
  if ((is_link || type != AE_IFREG) && archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
    return Status::InvalidArgument("entry " + ShowPath(path) + " is a " + TypeName(entry) + " carrying " +
                                   std::to_string(archive_entry_size(entry)) + " bytes of data");
  }
  if (parts.empty()) return ExtractRoot(entry, path);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (StartsWith(parts[i], kWhiteoutPrefix)) {
      return Status::InvalidArgument("entry " + ShowPath(path) + " lies inside " +
                                     ShowPath(JoinParts(parts, i + 1)) +
                                     ", whose name has the reserved whiteout prefix .wh.");
    }
  }
  if (StartsWith(parts.back(), kWhiteoutPrefix)) {
    if (archive_entry_size(entry) > 0) {
      return Status::InvalidArgument("whiteout " + ShowPath(path) + " carries data; whiteouts are empty");
    }
    return ExtractWhiteout(parts, path);
  }
  if (is_link) return ExtractHardlink(entry, parts, path);
  switch (type) {
    case AE_IFREG:
      return ExtractFile(stream, entry, parts, path);
    case AE_IFDIR:
      return ExtractDir(entry, parts, path);
    case AE_IFLNK:
      return ExtractSymlink(entry, parts, path);
    case AE_IFIFO:
    case AE_IFCHR:
    case AE_IFBLK:
      return ExtractNode(entry, parts, path);
    default:
      return Status::InvalidArgument("entry " + ShowPath(path) + " is a " + FileTypeName(type) +
                                     ", which an image layer may not hold");
  }
}

Status LayerExtractor::ExtractRoot(struct archive_entry* entry, const std::string& path) {
  if (archive_entry_filetype(entry) != AE_IFDIR || archive_entry_hardlink(entry)) {
    return Status::InvalidArgument("entry " + ShowPath(path) + " names the layer root but is a " +
                                   TypeName(entry));
  }
  SP_ASSIGN_OR_RETURN(root_metadata_, ReadMetadata(entry, path));
  return Status::Ok();
}

Result<Fd> LayerExtractor::OpenParent(const std::vector<std::string>& parts, const std::string& path) {
  return WalkDirs(root_fd_, parts, parts.size() - 1, /*create=*/true, path,
                  [this](int parent_fd, const std::string& name, const struct stat& st) {
                    return ReplaceWhiteoutWithDir(parent_fd, name, st);
                  });
}

// An entry below a name this layer whited out (`.wh.d` then `d/f`): the layer has its own `d`,
// which hides the lower layers' `d` entirely, so it becomes an opaque directory.
Result<bool> LayerExtractor::ReplaceWhiteoutWithDir(int parent_fd, const std::string& name,
                                                    const struct stat& st) {
  if (!IsWhiteout(st)) return false;
  if (::unlinkat(parent_fd, name.c_str(), 0) != 0)
    return Err(Status::FromErrno("remove whiteout " + name, errno));
  if (::mkdirat(parent_fd, name.c_str(), 0755) != 0)
    return Err(Status::FromErrno("create directory " + name, errno));
  Fd fd(::openat(parent_fd, name.c_str(), kDirFlags));
  if (!fd.valid() || ::fchmod(fd.get(), 0755) != 0)
    return Err(Status::FromErrno("open directory " + name, errno));
  SP_RETURN_IF_ERROR(SetOpaque(fd.get(), name));
  return true;
}

Result<LayerExtractor::Slot> LayerExtractor::PrepareSlot(int parent_fd, const std::string& name,
                                                         const std::string& path, bool new_is_dir,
                                                         const std::string& type_name) {
  struct stat st;
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Slot::kEmpty;
    return Err(Status::FromErrno("stat " + ShowPath(path), errno));
  }
  if (S_ISDIR(st.st_mode)) {
    if (new_is_dir) return Slot::kDirectory;
    return Err(Status::InvalidArgument("entry " + ShowPath(path) + " would replace the directory " +
                                       ShowPath(path) + " with a " + type_name +
                                       "; a layer may not replace its own directories"));
  }
  bool whiteout = IsWhiteout(st);
  if (::unlinkat(parent_fd, name.c_str(), 0) != 0) {
    return Err(Status::FromErrno("replace the earlier entry " + ShowPath(path), errno));
  }
  return whiteout ? Slot::kWasWhiteout : Slot::kEmpty;
}

Status LayerExtractor::ClearSlot(int parent_fd, const std::string& name, const std::string& path,
                                 const std::string& type_name) {
  auto slot = PrepareSlot(parent_fd, name, path, /*new_is_dir=*/false, type_name);
  return slot ? Status::Ok() : slot.error();
}

Status LayerExtractor::ExtractWhiteout(const std::vector<std::string>& parts, const std::string& path) {
  const std::string& name = parts.back();
  if (name == kOpaqueMarker) {
    SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
    return SetOpaque(parent.get(), parts.size() > 1 ? JoinParts(parts, parts.size() - 1) : ".");
  }
  if (StartsWith(name, kWhiteoutMetaPrefix)) return Status::Ok();  // aufs metadata (.wh..wh.plnk, ...)
  std::string target = name.substr(std::strlen(kWhiteoutPrefix));
  if (target.empty() || target == "." || target == "..") {
    return Status::InvalidArgument("whiteout " + ShowPath(path) + " does not name a file");
  }
  SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
  struct stat st;
  if (::fstatat(parent.get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // The layer has its own entry there: it already hides the lower layers' one, and as a directory
    // it must also hide their children.
    if (S_ISDIR(st.st_mode)) return SetOpaqueAt(parent.get(), target, path);
    return Status::Ok();
  }
  if (errno != ENOENT) return Status::FromErrno("stat the target of whiteout " + ShowPath(path), errno);
  if (::mknodat(parent.get(), target.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
    return Status::FromErrno("create the overlayfs whiteout for " + ShowPath(path), errno);
  }
  return Status::Ok();
}

Status LayerExtractor::ExtractHardlink(struct archive_entry* entry, const std::vector<std::string>& parts,
                                       const std::string& path) {
  std::string target = archive_entry_hardlink(entry);
  std::string shown = "hard link " + ShowPath(path) + " -> " + ShowPath(target);
  auto target_parts = SplitLayerPath(target);
  if (!target_parts) return target_parts.error().Annotate(shown);
  if (target_parts->empty()) return Status::InvalidArgument(shown + " links to the layer root");
  for (const auto& part : *target_parts) {
    if (StartsWith(part, kWhiteoutPrefix)) return Status::InvalidArgument(shown + " links to a whiteout");
  }
  if (*target_parts == parts) return Status::InvalidArgument(shown + " links to itself");
  auto not_earlier = [&] {
    return Status::InvalidArgument(shown + ": the target is not an earlier file of this layer");
  };
  auto target_parent = WalkDirs(root_fd_, *target_parts, target_parts->size() - 1, /*create=*/false, path);
  if (!target_parent) {
    if (target_parent.error().code() == Code::kNotFound) return not_earlier();
    return target_parent.error().Annotate(shown);
  }
  const std::string& target_name = target_parts->back();
  struct stat st;
  if (::fstatat(target_parent->get(), target_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return not_earlier();
    return Status::FromErrno("stat the target of " + shown, errno);
  }
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(shown + ": the target is a directory");
  if (IsWhiteout(st)) return Status::InvalidArgument(shown + ": the target was whited out");
  SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
  SP_RETURN_IF_ERROR(ClearSlot(parent.get(), parts.back(), path, "hard link"));
  if (::linkat(target_parent->get(), target_name.c_str(), parent.get(), parts.back().c_str(), 0) != 0) {
    return Status::FromErrno("create " + shown, errno);
  }
  return Status::Ok();
}

Status LayerExtractor::ExtractFile(TarStream& stream, struct archive_entry* entry,
                                   const std::vector<std::string>& parts, const std::string& path) {
  int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
  if (size < 0) return Status::InvalidArgument("entry " + ShowPath(path) + " has a negative size");
  if (size > options_.max_bytes - bytes_) {
    return Status::InvalidArgument("the layer's files add up to more than the limit of " +
                                   DescribeBytes(static_cast<uint64_t>(options_.max_bytes)) +
                                   " (reached at entry " + ShowPath(path) + " of " +
                                   DescribeBytes(static_cast<uint64_t>(size)) + ")");
  }
  bytes_ += size;
  stream.AddDeclaredBytes(static_cast<uint64_t>(size));
  SP_ASSIGN_OR_RETURN(Metadata metadata, ReadMetadata(entry, path));
  SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
  SP_RETURN_IF_ERROR(ClearSlot(parent.get(), parts.back(), path, "regular file"));
  Fd fd(::openat(parent.get(), parts.back().c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd.valid()) return Status::FromErrno("create " + ShowPath(path), errno);
  SP_RETURN_IF_ERROR(stream.CopyData(fd.get(), size, path));
  return ApplyToFd(fd.get(), metadata, path, /*is_dir=*/false);
}

Status LayerExtractor::ExtractDir(struct archive_entry* entry, const std::vector<std::string>& parts,
                                  const std::string& path) {
  SP_ASSIGN_OR_RETURN(Metadata metadata, ReadMetadata(entry, path));
  SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
  SP_ASSIGN_OR_RETURN(Slot slot, PrepareSlot(parent.get(), parts.back(), path, true, "directory"));
  if (slot != Slot::kDirectory && ::mkdirat(parent.get(), parts.back().c_str(), 0700) != 0) {
    return Status::FromErrno("create directory " + ShowPath(path), errno);
  }
  if (slot == Slot::kWasWhiteout) SP_RETURN_IF_ERROR(SetOpaqueAt(parent.get(), parts.back(), path));
  dirs_.insert_or_assign(JoinParts(parts, parts.size()), DeferredDir{parts, std::move(metadata)});
  return Status::Ok();
}

Status LayerExtractor::ExtractSymlink(struct archive_entry* entry, const std::vector<std::string>& parts,
                                      const std::string& path) {
  const char* raw_target = archive_entry_symlink(entry);
  if (!raw_target || !*raw_target)
    return Status::InvalidArgument("symlink " + ShowPath(path) + " has no target");
  std::string target = raw_target;
  if (target.size() > kMaxPathBytes) {
    return Status::InvalidArgument("symlink " + ShowPath(path) + " has a target of " +
                                   std::to_string(target.size()) + " bytes; the limit is " +
                                   std::to_string(kMaxPathBytes));
  }
  std::vector<std::string> dir(parts.begin(), parts.end() - 1);
  if (target.front() != '/' && !fstree::CheckSymlinkTargetLexically(dir, target).ok()) {
    return Status::InvalidArgument("symlink " + ShowPath(path) + " -> " + ShowPath(target) +
                                   " climbs above the layer root");
  }
  SP_ASSIGN_OR_RETURN(Metadata metadata, ReadMetadata(entry, path));
  SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
  SP_RETURN_IF_ERROR(ClearSlot(parent.get(), parts.back(), path, "symlink"));
  if (::symlinkat(target.c_str(), parent.get(), parts.back().c_str()) != 0) {
    return Status::FromErrno("create symlink " + ShowPath(path), errno);
  }
  return ApplyAt(parent.get(), parts.back(), metadata, path, /*set_mode=*/false);
}

Status LayerExtractor::ExtractNode(struct archive_entry* entry, const std::vector<std::string>& parts,
                                   const std::string& path) {
  mode_t type = archive_entry_filetype(entry);
  dev_t dev = 0;
  if (type != AE_IFIFO) {
    unsigned major = archive_entry_rdevmajor(entry), minor = archive_entry_rdevminor(entry);
    std::string shown = "entry " + ShowPath(path) + " is a " + FileTypeName(type) + " (" +
                        std::to_string(major) + ":" + std::to_string(minor) + ")";
    if (!options_.allow_devices) {
      return Status::InvalidArgument(shown + "; device nodes are not allowed in image layers here");
    }
    if (type == AE_IFCHR && major == 0 && minor == 0) {
      return Status::InvalidArgument(shown + "; 0:0 is reserved for overlayfs whiteouts (use .wh. entries)");
    }
    dev = makedev(major, minor);
  }
  SP_ASSIGN_OR_RETURN(Metadata metadata, ReadMetadata(entry, path));
  SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
  SP_RETURN_IF_ERROR(ClearSlot(parent.get(), parts.back(), path, FileTypeName(type)));
  if (::mknodat(parent.get(), parts.back().c_str(), type | 0600, dev) != 0) {
    return Status::FromErrno("create " + FileTypeName(type) + " " + ShowPath(path), errno);
  }
  return ApplyAt(parent.get(), parts.back(), metadata, path, /*set_mode=*/true);
}

Status LayerExtractor::Finish() {
  for (const auto& [path, dir] : dirs_) {
    SP_ASSIGN_OR_RETURN(Fd fd, WalkDirs(root_fd_, dir.parts, dir.parts.size(), /*create=*/false, path));
    SP_RETURN_IF_ERROR(ApplyToFd(fd.get(), dir.metadata, path, /*is_dir=*/true));
  }
  if (root_metadata_) return ApplyToFd(root_fd_, *root_metadata_, ".", /*is_dir=*/true);
  if (::fchmod(root_fd_, 0755) != 0) return Status::FromErrno("chmod the layer root", errno);
  return Status::Ok();
}

}  // namespace sp::layer_internal
