// The archive of a service's included files and directories.
//
// A service's deploy.yaml lists `includedFiles` and `includedDirectories`. spawnctl packs them, on the
// user's machine, into one gzip-compressed tar (PackIncludes) that travels inside the deploy request;
// spawnd, running as root, unpacks it into the service's data directory (UnpackIncludes), which the
// container sees as /srv/spawnpoint. Every included file and directory lands there under its base name.
//
// The archive is untrusted on the daemon side: anyone allowed to deploy can send a hostile one. The
// unpacker therefore accepts only regular files, directories and relative symlinks that stay inside
// the destination; it never follows a symlink while extracting (every step is an openat() relative to
// a directory descriptor with O_NOFOLLOW); it ignores the archive's owners and normalises modes; it
// enforces the size and count limits while decompressing, so a gzip bomb stops at the limit; and it
// extracts into a private staging directory first, so a refused archive leaves the destination as it
// was. PackIncludes applies the same rules to what it packs, so a user learns about an absolute
// symlink or a FIFO on their own machine rather than from the daemon.
//
// Both functions are thread-safe (no shared state). Concurrent UnpackIncludes calls into the same
// destination are not coordinated with each other: the caller serialises deploys of one service.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp {

struct ArchiveLimits {
  uint64_t max_compressed_bytes = 6u << 20;  // the archive as it travels on the bus
  uint64_t max_unpacked_bytes = 256u << 20;  // sum of the sizes of all regular files
  uint64_t max_entries = 10000;              // files, directories and symlinks together
  uint64_t max_path_length = 1024;           // bytes, of an entry's path and of a symlink's target
};

// Packs `files` and `dirs` into a gzip-compressed tar. Each file is stored under its base name (a
// symlink named in `files` is followed: its content is packed); each directory is stored under its
// base name with everything below it, symlinks inside kept as symlinks. Relative paths are taken
// from `base_dir` (the directory holding deploy.yaml). Regular files keep only their executable
// bit (stored 0755 or 0644), directories are 0755, owners are root.
//
// Errors (InvalidArgument unless the OS says otherwise) name the offending path: a missing or
// unreadable path, a file that is not a regular file, a directory that is not a directory, a
// socket/FIFO/device inside a directory, a symlink whose target is absolute or leaves the
// destination, two entries with the same base name (both are named), and any limit exceeded
// (the size and the limit are stated). With no files and no directories the result is empty (zero
// bytes), which the daemon does not unpack at all.
Result<std::string> PackIncludes(const std::vector<std::string>& files, const std::vector<std::string>& dirs,
                                 const std::string& base_dir, const ArchiveLimits& limits = {});

// Unpacks an archive made by PackIncludes into `dest`, replacing top-level entries of the same name
// and leaving other entries of `dest` alone. An empty `archive` (zero bytes) unpacks nothing.
//
// Refused with InvalidArgument, leaving `dest` unchanged and no temporary directory behind: anything
// but a regular file, directory or symlink (hard links, devices, FIFOs, sockets); absolute paths and
// ".." components; an entry whose path goes through a symlink or a file; a path that appears twice
// (directories excepted); symlinks whose target is absolute or resolves outside `dest` (following
// the archive's own symlinks); any limit exceeded; a truncated or corrupt archive; input that is
// not gzip-compressed tar.
//
// Extracted regular files are 0755 if the archive gave them any executable bit, else 0644;
// directories 0755 (no setuid, setgid or sticky bits). Owners are the caller (root in spawnd); the
// archive's uid/gid are ignored.
//
// REQUIRES: `dest` is an existing directory (not a symlink) on the same filesystem as its parent,
//           where a staging directory `.<name>.unpack-XXXXXX` is created and removed again.
// Symlink targets are checked against the archive's own tree; a target that passes through an entry
// already in `dest` and not replaced by the archive is not resolved.
Status UnpackIncludes(std::string_view archive, const std::string& dest, const ArchiveLimits& limits = {});

}  // namespace sp
