// Extracting an `oci-archive` tarball (an OCI image layout in one tar) for local image sources.
//
// An oci-archive, as skopeo and podman write it, is a tar of an OCI image layout: `oci-layout`,
// `index.json` and `blobs/sha256/<hex>`. ExtractOciArchive unpacks one into a fresh directory so
// the layout can be read like any other. The tarball is untrusted: it may hold only regular files
// and directories (symlinks, hard links, devices and the like are refused), paths follow the layer
// rules (relative, no "..", at most 4095 bytes and 256 levels), no file may appear twice, and the
// files' sizes together may not exceed `max_bytes`. Files are written 0644 and directories 0755,
// owned by the caller, whatever the tar says. The tarball may be plain or gzip/zstd-compressed.
//
// Like UnpackLayer it writes into a temporary `<dest_dir>.tmp-XXXXXX` and renames it to `dest_dir`
// only on success, so `dest_dir` either does not exist or holds the whole layout (with `oci-layout`
// and `index.json`; blobs are not verified here, the image code checks each against its digest).
// Thread-safe for distinct destinations.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace sp {

// REQUIRES: `dest_dir` does not exist (AlreadyExists otherwise); its parent does.
Status ExtractOciArchive(const std::string& tar_path, const std::string& dest_dir, int64_t max_bytes);

}  // namespace sp
