// Path rules of image layers and the descriptor walk worded for them.
//
// The layer unpacker and the oci-archive extractor write an untrusted tar into a staging directory
// (fstree/staging.h) and reach every entry through directory descriptors, one component at a time,
// with O_NOFOLLOW (fstree/dir.h): nothing an archive created is ever followed. This file adds what
// is particular to layers: the limits on their paths, how an entry path is shown in messages, and
// WalkDirs with the layer's wording of its refusals. Internal to the layer module.
//
// Everything here is thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fstree/dir.h"
#include "fstree/paths.h"
#include "util/fd.h"
#include "util/status.h"

namespace sp::layer_internal {

using fstree::JoinParts;

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

// Opens the directory parts[0..count) below `root_fd` (fstree::WalkDirs). Missing directories are
// created (0755, owned by the caller) when `create`, otherwise NotFound. A component that is a
// symlink or another non-directory is refused (InvalidArgument naming `shown`, the entry the walk
// is for), unless `hook` replaces it.
Result<Fd> WalkDirs(int root_fd, const std::vector<std::string>& parts, size_t count, bool create,
                    const std::string& shown, const fstree::NonDirHook& hook = nullptr);

}  // namespace sp::layer_internal
