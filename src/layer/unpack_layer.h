// Unpacking OCI image layers, once each, into directories overlayfs can stack.
//
// Spawnpoint runs an image-based service on an overlayfs whose lower directories are the image's
// layers, each unpacked into its own directory. UnpackLayer turns one layer blob (a tar, plain or
// gzip/zstd-compressed) into such a directory:
//  - It decompresses once, hashing the uncompressed stream as it goes: the result carries the
//    layer's diff_id (SHA-256 of the whole uncompressed tar), checked against the expected one from
//    the image config when given.
//  - OCI whiteouts become overlayfs whiteouts: `dir/.wh.name` a 0/0 character device `dir/name`,
//    `dir/.wh..wh..opq` the xattr trusted.overlay.opaque=y on `dir`. Other `.wh..wh.` names (aufs
//    metadata) are ignored. When a whiteout's target exists in the same layer, the layer's own entry
//    stays (the spec makes whiteouts apply to lower layers only); if it is a directory it is made
//    opaque.
//  - Regular files, directories, symlinks, hard links and FIFOs are created with their mode
//    (setuid/setgid/sticky included), numeric owner, mtime and the xattrs user.* and
//    security.capability on files and directories (security.*, trusted.*, system.* and
//    user.overlay.* from an archive are dropped). Device nodes only with `allow_devices`.
//  - The layer is untrusted. Absolute paths, ".." components, entries reached through a symlink,
//    relative symlinks climbing above the layer root, hard links to anything but an earlier
//    non-directory of the same layer, a non-directory replacing a directory, paths over 4095 bytes
//    or 256 levels, and layers over `max_bytes` of file data or `max_entries` entries are refused,
//    with the entry and the reason in the message. Absolute symlink targets are kept: they resolve
//    inside the container.
//  - It is atomic: everything is written into a fresh `<dest_dir>.tmp-XXXXXX` and renamed to
//    `dest_dir` only after the last check passed (the temporary directory is removed on any
//    failure), so a directory at `dest_dir` is always a complete, verified layer.
//
// Must run as root (it sets owners, creates whiteout devices and trusted.* xattrs). The functions are
// thread-safe as long as concurrent calls use different destinations; two calls racing for the same
// `dest_dir` are safe too (one gets AlreadyExists).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "registry/digest.h"
#include "util/status.h"

namespace sp {

struct UnpackOptions {
  bool allow_devices = false;       // character and block devices (never 0/0, that is a whiteout)
  int64_t max_bytes = 32LL << 30;   // sum of the regular files' sizes
  int64_t max_entries = 2'000'000;  // tar entries, whiteouts included
};

struct UnpackedLayer {
  Digest diff_id;       // sha256 of the uncompressed tar stream
  int64_t bytes = 0;    // sum of the regular files' sizes
  int64_t entries = 0;  // tar entries read
};

// Unpacks the layer blob at `blob_path` into `dest_dir`, which must not exist (AlreadyExists) and
// whose parent must. InvalidArgument for a corrupt, hostile or over-limit layer and for a diff_id
// other than `expected_diff_id`; in every failure `dest_dir` is left absent.
Result<UnpackedLayer> UnpackLayer(const std::string& blob_path, const std::string& dest_dir,
                                  const std::optional<Digest>& expected_diff_id,
                                  const UnpackOptions& options = {});

// Removes an unpacked layer directory (or any directory tree) without following symlinks, without
// crossing into other mounts and without one open descriptor per level. A missing path is OK.
Status RemoveLayerDir(const std::string& dir);

}  // namespace sp
