// The user an image's processes run as: the image config's `User` ("name", "uid", "name:group",
// "uid:gid"), resolved against the image's own /etc/passwd and /etc/group.
//
// The files are read from inside the mounted image root with openat2(RESOLVE_IN_ROOT), so a
// hostile image whose /etc/passwd is a symlink to a host path reads its own root's file (or
// nothing), never the host's. Each file is capped at 1 MiB. Like docker: a numeric uid that has no
// passwd entry runs with gid 0; supplementary groups are those of /etc/group that list the user.
//
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp {

struct ProcessUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home;  // from passwd, empty if unknown
};

// NotFound if a named user or group does not exist in the image; InvalidArgument for a malformed spec.
Result<ProcessUser> ResolveImageUser(const std::string& rootfs, std::string_view user);

// Reads `path` (absolute inside the root, e.g. "/etc/passwd") resolving every component inside
// `rootfs`; NotFound if absent, InvalidArgument if larger than `max_bytes`.
Result<std::string> ReadFileInRoot(const std::string& rootfs, const std::string& path, size_t max_bytes);

}  // namespace sp
