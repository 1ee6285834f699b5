// Staging: the private directory an untrusted archive is unpacked into before it reaches its
// destination, so the destination gets all of it or none of it.
//
// The staging directory is made with mkdtemp beside the destination (same filesystem, so a rename
// moves it), only we write to it, and unless it is committed, Remove() or the destructor deletes
// it with RemoveTreeAt (no symlink followed, no mount crossed). The two unpackers differ on
// purpose in what the destination is, so there are two kinds:
//  - NewDir (image layers, oci-archives): the destination must not exist. `<dest>.tmp-XXXXXX` is
//    synced and renamed to it in one step that never replaces anything (RENAME_NOREPLACE): a
//    layer directory is shared and immutable, so it is either complete and verified or absent.
//  - Merge (include archives): the destination is a service's existing data directory, holding
//    files the archive does not mention. `.<name>.unpack-XXXXXX` beside the destination's real
//    path holds `new/` (unpacked into) and `old/`. Commit moves each top-level entry of new/ into
//    the destination, moving a same-named old entry into old/ first, and puts everything back if
//    a rename fails; Remove() then deletes the old entries with the staging directory. Nothing is
//    synced: the data directory is rewritten at every deploy.
//
// A Staging owns its directory and descriptors. Not thread-safe; different destinations may be
// staged concurrently, and two NewDir stagings racing for one destination are safe (one commit
// gets AlreadyExists).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "util/fd.h"
#include "util/status.h"

namespace sp::fstree {

class Staging {
 public:
  // REQUIRES: `dest` does not exist (AlreadyExists otherwise) and its parent directory does.
  static Result<std::unique_ptr<Staging>> NewDir(const std::string& dest);
  // REQUIRES: `dest` is an existing directory other than "/" (FailedPrecondition otherwise).
  static Result<std::unique_ptr<Staging>> Merge(const std::string& dest);
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging();

  // The directory to unpack into, open O_DIRECTORY: the staging directory, or its new/ to merge.
  int root_fd() const { return merge_ ? new_fd_.get() : dir_fd_.get(); }
  // The staging directory.
  const std::string& path() const { return path_; }
  // NewDir: flushes the tree to disk and renames it to `dest`, never replacing an existing `dest`
  // (AlreadyExists if one appeared meanwhile); the staging directory is gone after success.
  // Merge: moves the entries into `dest` as described above; call Remove() afterwards.
  Status Commit();
  // Removes the staging directory (idempotent once it succeeded).
  Status Remove();

 private:
  Staging() = default;
  Status CreateDir(const std::string& parent, const std::string& pattern);
  Status CreateMergeDirs();
  Status RenameIntoPlace();
  Status MoveEntries();

  bool merge_ = false;
  std::string dest_, dest_name_, path_, name_;
  dev_t dev_ = 0;
  Fd parent_fd_, dir_fd_, new_fd_, old_fd_, dest_fd_;
};

// Creates the new directory `dest` from what `fill` writes below the descriptor it is given (a
// NewDir Staging): commits when `fill` succeeded, removes the staging directory otherwise (the
// error then says whether that failed too). `dest` exists afterwards only if this returned Ok.
Status BuildNewDir(const std::string& dest, const std::function<Status(int root_fd)>& fill);

}  // namespace sp::fstree
