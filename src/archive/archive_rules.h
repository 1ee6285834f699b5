// Rules and small helpers shared by the packer and the unpacker of include archives.
//
// Both sides apply the same rules, so that what PackIncludes produces is exactly what UnpackIncludes
// accepts: which paths are allowed, where a symlink may point, which modes are stored. Also holds
// an owning file descriptor and owning libarchive handles. Internal to the archive module.
//
// Everything here is thread-safe (no shared state). Fd and the archive handles own what they hold
// and release it when destroyed; they are movable, not copyable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

struct archive;

namespace sp::archive_internal {

// Owns one file descriptor (-1 for none) and closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();

 private:
  int fd_ = -1;
};

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const;
};
struct ArchiveWriteDeleter {
  void operator()(struct archive* a) const;
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadDeleter>;
using ArchiveWriter = std::unique_ptr<struct archive, ArchiveWriteDeleter>;

// Splits an entry path into its components, dropping empty and "." components ("./a//b/" -> a, b).
// Refuses absolute paths and ".." components. An entry naming the root itself ("./") gives an
// empty list.
Result<std::vector<std::string>> SplitEntryPath(std::string_view path);

// Checks, without looking at any file, that a symlink located in directory `parent` (components
// below the destination) with this target stays inside the destination: the target must be
// relative and its ".." components may not climb above the destination.
Status CheckSymlinkTargetLexically(const std::vector<std::string>& parent, std::string_view target);

// The last component of a path, ignoring trailing slashes ("a/b/" -> "b"); "" for "/" or "".
std::string BaseName(std::string_view path);

// The mode stored and extracted: 0755 for directories and for files with any executable bit,
// 0644 for other files.
mode_t NormalizedMode(mode_t mode, bool is_dir);

// "socket", "FIFO", "character device", ... for messages about refused file types.
std::string FileTypeName(mode_t type);

// "1.5 MiB (1572864 bytes)" for messages about sizes.
std::string DescribeBytes(uint64_t bytes);

// Entry names in the directory open as `dir_fd`, sorted, without "." and ".."; `shown` names it
// in errors. Leaves `dir_fd` open (its read position moves).
Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::string& shown);

// The libarchive error of `a`, or `fallback` if it has none.
std::string ArchiveError(struct archive* a, std::string_view fallback);

}  // namespace sp::archive_internal
