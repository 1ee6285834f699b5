// Directories reached by descriptor: listing one, and walking down a path one component at a time
// with O_NOFOLLOW, creating what is missing.
//
// The unpackers create an untrusted archive inside a private directory. They never hand a path to
// the kernel: each component is opened relative to its parent's descriptor with O_NOFOLLOW, so
// nothing an archive created (a symlink to /etc, say) is ever followed, the way RESOLVE_BENEATH
// would do it but portable to kernels without openat2.
//
// All functions are thread-safe (no shared state); the descriptors they return are owned by the
// caller, the descriptors passed in stay the caller's.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/status.h"

namespace sp::fstree {

// How every directory below an unpack root is opened.
inline constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Entry names in the directory open as `dir_fd`, sorted, without "." and ".."; `shown` names it
// in errors. Leaves `dir_fd` open (its read position moves).
Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::string& shown);

// "socket", "FIFO", "character device", ... for messages about file types.
std::string FileTypeName(mode_t type);

// Called when WalkDirs meets a component that exists but is not a directory (`st` is its lstat).
// Returns true after replacing it with a directory (the walk then opens it), false to refuse.
using NonDirHook = std::function<Result<bool>(int parent_fd, const std::string& name, const struct stat& st)>;

// Builds the error for a component that is not a directory: `through` is the path up to and
// including it, `type` its lstat mode. Each unpacker words it for its own users.
using NonDirError = std::function<Status(const std::string& through, mode_t type)>;

struct WalkOptions {
  bool create = false;  // create missing directories (0755, owned by the caller)
  NonDirHook replace;   // optional: may replace a non-directory with a directory
  NonDirError refuse;   // REQUIRES: set
};

// Opens the directory parts[0..count) below `root_fd`, one component at a time with O_NOFOLLOW.
// Missing directories are created when `options.create`, otherwise NotFound. A component that is
// a symlink or another non-directory is refused with options.refuse(...), unless options.replace
// replaces it (it is asked once per component).
Result<Fd> WalkDirs(int root_fd, const std::vector<std::string>& parts, size_t count,
                    const WalkOptions& options);

}  // namespace sp::fstree
