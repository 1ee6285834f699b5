// Reading an OCI image layout directory (image-spec "image-layout"): the local counterpart of a
// registry, as `skopeo copy ... oci:DIR:tag` or `umoci` write it.
//
//   DIR/oci-layout            {"imageLayoutVersion": "1.0.0"}
//   DIR/index.json            an image index; tags are org.opencontainers.image.ref.name annotations
//   DIR/blobs/sha256/<hex>    content-addressed blobs
//
// Blob paths are derived only from validated sha256 digests, so no layout content can make us
// read outside DIR/blobs. Every blob read is checked against its descriptor's size and digest.
// The layout itself is trusted as far as the operator who named it (oci: references need
// allowLocalSources), but its content is parsed as defensively as a registry's.
//
// Pure functions over the filesystem: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "registry/digest.h"
#include "registry/manifest.h"
#include "util/status.h"

namespace sp {

inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

// The index.json entry tagged `tag`. An empty tag picks the only entry when there is exactly one.
// Errors: FailedPrecondition when DIR is not an OCI layout (no or wrong oci-layout file),
// NotFound listing the available tags, InvalidArgument for malformed files.
Result<Descriptor> ResolveLayoutTag(const std::string& dir, std::string_view tag);

// DIR/blobs/sha256/<hex>.
std::string LayoutBlobPath(const std::string& dir, const Digest& digest);

// The blob `d` names, at most `max_bytes`, verified against d.size (unless -1) and d.digest.
Result<std::string> ReadLayoutBlob(const std::string& dir, const Descriptor& d, size_t max_bytes);

}  // namespace sp
