// Rules and small helpers shared by the packer and the unpacker of include archives.
//
// Both sides apply the same rules, so that what PackIncludes produces is exactly what UnpackIncludes
// accepts: which modes are stored, how names and sizes are shown. The path and symlink rules they
// share with the layer unpacker live in fstree/paths.h. Also holds owning libarchive handles.
// Internal to the archive module.
//
// Everything here is thread-safe (no shared state). The archive handles own what they hold and
// release it when destroyed; they are movable, not copyable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

struct archive;

namespace sp::archive_internal {

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const;
};
struct ArchiveWriteDeleter {
  void operator()(struct archive* a) const;
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadDeleter>;
using ArchiveWriter = std::unique_ptr<struct archive, ArchiveWriteDeleter>;

// The last component of a path, ignoring trailing slashes ("a/b/" -> "b"); "" for "/" or "".
std::string BaseName(std::string_view path);

// The mode stored and extracted: 0755 for directories and for files with any executable bit,
// 0644 for other files.
mode_t NormalizedMode(mode_t mode, bool is_dir);

// "1.5 MiB (1572864 bytes)" for messages about sizes.
std::string DescribeBytes(uint64_t bytes);

// The libarchive error of `a`, or `fallback` if it has none.
std::string ArchiveError(struct archive* a, std::string_view fallback);

}  // namespace sp::archive_internal
