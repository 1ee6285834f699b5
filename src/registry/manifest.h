// Image manifests, indexes and configs: the JSON documents that describe an image, parsed
// defensively into the few fields a pull needs.
//
// A registry (or OCI layout) serves either an *index* (OCI image index or Docker manifest list:
// one manifest per platform) or a *manifest* (OCI or Docker schema 2: a config blob and the layer
// blobs, bottom first). The *config* holds what the service runs (entrypoint, cmd, env, user, ...)
// and the diff_ids (digests of the uncompressed layers).
//
// Parsing trusts nothing: documents are capped (4 MiB, 1000 layers, 1000 index entries), every
// field's type is checked, digests must be sha256, sizes non-negative. Docker schema 1 manifests,
// artifacts that are not container images, and layers of media types we cannot unpack
// (foreign/non-distributable layers, unknown compressions) are refused with a message naming what
// was found. JSON nulls are read as empty values.
//
// All functions are pure and thread-safe; the structs are plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "registry/digest.h"
#include "util/status.h"

namespace sp {

// OCI image-spec media types.
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
// Docker image manifest v2 media types.
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerTarGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// The Accept header value for a manifest request: every index and manifest type we can parse.
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

// Limits on what a registry may make us parse.
inline constexpr size_t kManifestSizeLimit = 4 << 20;
inline constexpr size_t kConfigSizeLimit = 4 << 20;
inline constexpr size_t kManifestLayerLimit = 1000;
inline constexpr size_t kIndexEntryLimit = 1000;

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64", "arm", ... (GOARCH names)
  std::string variant;       // "v8", "v7", or empty
  // "linux/arm64/v8", "linux/amd64".
  std::string String() const;
};

// The platform of this machine (from uname), in the names images use: x86_64 -> amd64,
// aarch64 -> arm64 (variant v8), armv7l -> arm (v7), i686 -> 386, ...
Platform HostPlatform();
// Maps kernel or distribution architecture names onto the names images use; others unchanged.
std::string NormalizeArchitecture(std::string_view arch);

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = -1;  // -1: unknown (only for descriptors made by hand from a bare digest)
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

struct ImageIndex {
  std::string media_type;  // kOciIndex or kDockerManifestList
  std::vector<Descriptor> manifests;
};

struct ImageManifest {
  std::string media_type;  // kOciManifest or kDockerManifest
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom layer first
  std::map<std::string, std::string> annotations;
};

// Parses a manifest or index. `content_type` is what the server said (parameters such as
// "; charset=utf-8" are ignored); when it is empty or generic ("application/json",
// "application/octet-stream", "text/plain") the document's mediaType field decides, or failing
// that its shape. A known content type that contradicts the document's mediaType is refused.
Result<std::variant<ImageIndex, ImageManifest>> ParseManifest(std::string_view bytes,
                                                              std::string_view content_type);

// The manifest for `want` in an index: same os and architecture; when `want` has a variant, that
// variant (an entry without a variant is taken for arm64/v8, and an arm image of a lower variant
// runs on a higher one); when it has none, an entry without a variant (or arm64's v8) is preferred.
// NotFound listing the platforms the index offers when none fits.
Result<Descriptor> ChoosePlatform(const ImageIndex& index, const Platform& want);

struct ImageConfig {
  std::string os, architecture, variant;
  std::vector<std::string> env, entrypoint, cmd;
  std::string working_dir, user;
  std::vector<std::string> exposed_ports;  // "80/tcp", sorted
  std::vector<Digest> diff_ids;            // bottom layer first
  std::map<std::string, std::string> labels;
  std::string stop_signal;
};

Result<ImageConfig> ParseImageConfig(std::string_view bytes);

// Whether a layer media type is one we can unpack.
bool IsSupportedLayerType(std::string_view media_type);
bool IsIndexType(std::string_view media_type);
bool IsManifestType(std::string_view media_type);

}  // namespace sp
