// Whole trees by descriptor: removing one and giving one to a user, without following symlinks,
// without crossing into other mounts, and with only one directory open at a time.
//
// Both are the same depth-first walk (VisitDirAt): each directory is opened relative to its
// parent with O_NOFOLLOW, its entries are looked at with lstat semantics, and the walk climbs
// back up through "..", so a deep hostile tree cannot exhaust descriptors and no path is ever
// resolved by the kernel from the top. This assumes nothing renames directories inside the tree
// while it is walked (the trees walked here are private staging directories, unpacked layers and
// a stopped service's directories).
//
// All functions are thread-safe (no shared state, unlike nftw's callback globals).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <string>

#include "util/status.h"

namespace sp::fstree {

// What VisitDirAt calls; unset members are skipped. `shown` is the entry's path for messages.
struct TreeVisitor {
  // A directory (the top one included), just opened, before its entries are looked at.
  std::function<Status(int dir_fd, const std::string& shown)> enter;
  // An entry that is not a directory (`st` is its lstat), in the directory `dir_fd`.
  std::function<Status(int dir_fd, const std::string& name, const struct stat& st, const std::string& shown)>
      entry;
  // A subdirectory on another device than the top (a mount point): an error ends the walk; Ok
  // skips it (it is never entered).
  std::function<Status(const std::string& shown)> other_device;
  // A directory whose entries are all done, as `name` in `parent_fd` (the top one included).
  std::function<Status(int parent_fd, const std::string& name, const std::string& shown)> leave;
};

// Walks the directory `name` in `parent_fd` and everything below it, depth first, calling
// `visitor`. `dev` is the device of the top directory. Entries that vanish meanwhile are skipped.
// REQUIRES: `name` is a directory on device `dev`.
Status VisitDirAt(int parent_fd, const std::string& name, dev_t dev, const std::string& shown,
                  const TreeVisitor& visitor);

// Removes `name` in `parent_fd` and everything below it. Never follows symlinks; refuses to enter a
// directory on another device than `dev`. `shown` names the tree in errors. A missing `name` is OK.
Status RemoveTreeAt(int parent_fd, const std::string& name, dev_t dev, const std::string& shown);

// RemoveTreeAt for a path: its last component in its parent directory, on the device it is on.
// Refuses "/", "" and paths ending in "." or ".."; a missing path is OK.
Status RemoveTree(const std::string& path);

// Gives `path` and everything below it to uid:gid, as lchown would: symlinks are changed
// themselves, never followed. Entries on other filesystems than `path` (mount points) are left
// alone and not entered, as nftw(FTW_PHYS | FTW_MOUNT) does.
Status ChownTree(const std::string& path, uid_t uid, gid_t gid);

}  // namespace sp::fstree
