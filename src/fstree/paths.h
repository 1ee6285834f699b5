// Lexical rules for the paths of untrusted archive entries, shared by the include-archive
// unpacker (archive/) and the image-layer unpacker (layer/).
//
// Nothing here looks at a file: these functions only split, join and check path text, so that an
// entry can later be created one component at a time below a directory descriptor (see dir.h).
// All functions are thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp::fstree {

// The components of `path` between '/' separators, empty ones included ("a//b/" -> a, "", b, "").
std::vector<std::string_view> SplitComponents(std::string_view path);

// Splits an entry path into its components, dropping empty and "." components ("./a//b/" -> a, b).
// Refuses absolute paths and ".." components. An entry naming the root itself ("./") gives an
// empty list.
Result<std::vector<std::string>> SplitEntryPath(std::string_view path);

// Checks, without looking at any file, that a symlink located in directory `parent` (components
// below the destination) with this target stays inside the destination: the target must be
// relative and its ".." components may not climb above the destination.
Status CheckSymlinkTargetLexically(const std::vector<std::string>& parent, std::string_view target);

// The first `count` components joined with '/' (all of them if there are fewer).
std::string JoinParts(const std::vector<std::string>& parts, size_t count);

}  // namespace sp::fstree
