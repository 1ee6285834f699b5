// Creates the entries of one image layer, one tar entry at a time, below a staging directory.
//
// This is the part of UnpackLayer that decides what each entry becomes: files, directories,
// symlinks, hard links, FIFOs and (if allowed) devices with their metadata, and OCI whiteouts
// converted to overlayfs whiteouts. Every path is reached through directory descriptors with
// O_NOFOLLOW (WalkDirs), every creation is an *at() call that does not follow the last component,
// and anything an earlier entry left at the same name is replaced only if it is not a directory.
// Directory metadata is applied in Finish(), after all children exist, so mtimes survive. The
// rules are described in unpack_layer.h. Internal to the layer module.
//
// A LayerExtractor borrows the root descriptor and the options (both must outlive it). Not
// thread-safe.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layer/layer_fs.h"
#include "layer/layer_stream.h"
#include "layer/unpack_layer.h"
#include "util/status.h"

struct archive_entry;

namespace sp::layer_internal {

// What a tar entry says about an inode besides its type and content. `xattrs` holds only the
// attributes that may be applied (see KeepXattr).
struct Metadata {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t perm = 0;
  struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};  // atime, mtime
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// Whether an xattr from an archive may be set: user.* (but not user.overlay.*) and
// security.capability. Everything else (trusted.*, other security.*, system.*) is dropped.
bool KeepXattr(std::string_view name);

// Owner, mode, times and xattrs of an entry; InvalidArgument for an owner outside 0..2^32-2.
Result<Metadata> ReadMetadata(struct archive_entry* entry, const std::string& path);

class LayerExtractor {
 public:
  LayerExtractor(int root_fd, const UnpackOptions& options) : root_fd_(root_fd), options_(options) {}

  // Creates the current entry of `stream` (whose data, if any, is read from it).
  Status Extract(TarStream& stream, struct archive_entry* entry);
  // Applies the metadata of the directories (and of the layer root). Call after the last entry.
  Status Finish();

  int64_t bytes() const { return bytes_; }
  int64_t entries() const { return entries_; }

 private:
  // What PrepareSlot found at an entry's name.
  enum class Slot { kEmpty, kDirectory, kWasWhiteout };
  struct DeferredDir {
    std::vector<std::string> parts;
    Metadata metadata;
  };

  Status ExtractRoot(struct archive_entry* entry, const std::string& path);
  Status ExtractWhiteout(const std::vector<std::string>& parts, const std::string& path);
  Status ExtractHardlink(struct archive_entry* entry, const std::vector<std::string>& parts,
                         const std::string& path);
  Status ExtractFile(TarStream& stream, struct archive_entry* entry, const std::vector<std::string>& parts,
                     const std::string& path);
  Status ExtractDir(struct archive_entry* entry, const std::vector<std::string>& parts,
                    const std::string& path);
  Status ExtractSymlink(struct archive_entry* entry, const std::vector<std::string>& parts,
                        const std::string& path);
  Status ExtractNode(struct archive_entry* entry, const std::vector<std::string>& parts,
                     const std::string& path);

  // Opens (creating as needed) the directory that will hold the entry.
  Result<Fd> OpenParent(const std::vector<std::string>& parts, const std::string& path);
  // Makes room for a new entry of type `type_name` at `name`: removes a non-directory left by an
  // earlier entry; refuses to replace a directory unless the new entry is one.
  Result<Slot> PrepareSlot(int parent_fd, const std::string& name, const std::string& path, bool new_is_dir,
                           const std::string& type_name);
  // PrepareSlot for a non-directory.
  Status ClearSlot(int parent_fd, const std::string& name, const std::string& path,
                   const std::string& type_name);
  // WalkDirs hook: a whiteout on the way to an entry becomes an opaque directory.
  Result<bool> ReplaceWhiteoutWithDir(int parent_fd, const std::string& name, const struct stat& st);

  int root_fd_;
  const UnpackOptions& options_;
  int64_t bytes_ = 0;
  int64_t entries_ = 0;
  std::map<std::string, DeferredDir> dirs_;
  std::optional<Metadata> root_metadata_;
};

}  // namespace sp::layer_internal
