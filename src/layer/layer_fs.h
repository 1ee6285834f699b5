// Filesystem pieces shared by the layer unpacker and the oci-archive extractor.
//
// Both write an untrusted tar into a fresh private directory next to the destination and rename it
// into place only when everything succeeded (Staging). Inside that directory every entry is reached
// through directory descriptors, one component at a time, with O_NOFOLLOW (WalkDirs): nothing an
// archive created is ever followed. Trees are removed the same way (RemoveTreeAt), without following
// symlinks, without crossing into other mounts and without holding one descriptor per level, so a
// deep hostile tree cannot exhaust descriptors. Internal to the layer module.
//
// Everything here is thread-safe (no shared state). A Staging owns its temporary directory: unless
// committed, destroying it removes the directory.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "archive/archive_rules.h"
#include "util/status.h"

namespace sp::layer_internal {

using archive_internal::Fd;

// Limits on the paths an archive may use. Paths are relative to the layer root and become absolute
// paths in the container, so they must fit PATH_MAX there.
inline constexpr size_t kMaxPathBytes = 4095;
inline constexpr size_t kMaxNameBytes = 255;  // NAME_MAX
inline constexpr size_t kMaxDepth = 256;      // components in one path

// An entry path quoted for error messages: control characters, quotes and backslashes escaped as
// \xNN, cut after 160 bytes.
std::string ShowPath(std::string_view path);

// SplitEntryPath (no absolute paths, no "..", "./" prefixes dropped) plus the limits above. Errors
// name the entry.
Result<std::vector<std::string>> SplitLayerPath(std::string_view path);

// The first `count` components joined with '/'.
std::string JoinParts(const std::vector<std::string>& parts, size_t count);

// Called when WalkDirs meets a component that exists but is not a directory (`st` is its lstat).
// Returns true after replacing it with a directory (the walk then opens it), false to refuse.
using NonDirHook = std::function<Result<bool>(int parent_fd, const std::string& name, const struct stat& st)>;

// Opens the directory parts[0..count) below `root_fd`, one component at a time with O_NOFOLLOW.
// Missing directories are created (0755, owned by the caller) when `create`, otherwise NotFound.
// A component that is a symlink or another non-directory is refused (InvalidArgument naming
// `shown`, the entry the walk is for), unless `hook` replaces it.
Result<Fd> WalkDirs(int root_fd, const std::vector<std::string>& parts, size_t count, bool create,
                    const std::string& shown, const NonDirHook& hook = nullptr);

// Removes `name` in `parent_fd` and everything below it. Never follows symlinks; refuses to enter a
// directory on another device than `dev`. `shown` names the tree in errors. A missing `name` is OK.
Status RemoveTreeAt(int parent_fd, const std::string& name, dev_t dev, const std::string& shown);

// A private temporary directory `<dest>.tmp-XXXXXX` beside `dest`, renamed to `dest` on Commit().
class Staging {
 public:
  // REQUIRES: `dest` does not exist (AlreadyExists otherwise) and its parent directory does.
  static Result<std::unique_ptr<Staging>> Create(const std::string& dest);
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging();

  // The temporary directory, open O_DIRECTORY.
  int root_fd() const { return root_fd_.get(); }
  const std::string& path() const { return path_; }
  // Flushes the temporary tree to disk and renames it to `dest`, never replacing an existing `dest`
  // (AlreadyExists if one appeared meanwhile). After success the temporary directory is gone.
  Status Commit();
  // Removes the temporary directory (idempotent).
  Status Remove();

 private:
  Staging() = default;

  std::string dest_, dest_name_, path_, name_;
  dev_t dev_ = 0;
  Fd parent_fd_, root_fd_;
};

}  // namespace sp::layer_internal
