// Manifest, index and config parsing, and platform choice (see manifest.h).
#include "registry/manifest.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "registry/json_fields.h"

namespace sp {
namespace {

using registry_internal::Json;
using registry_internal::ReadArray;
using registry_internal::ReadObject;
using registry_internal::ReadSize;
using registry_internal::ReadString;
using registry_internal::ReadStringArray;
using registry_internal::ReadStringMap;

constexpr size_t kMaxAnnotations = 256;
constexpr size_t kMaxConfigListItems = 10000;  // Env, Cmd, Entrypoint, ExposedPorts, Labels

constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view kDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

const std::string kSchema1Refusal =
    "Docker schema 1 manifests are deprecated and not supported; push the image again with a current "
    "tool (docker, podman, skopeo) so that the registry stores a schema 2 or OCI manifest";

std::string Shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 120)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return "\"" + out + (s.size() > 120 ? "...\"" : "\"");
}

// "Application/JSON; charset=utf-8" -> "application/json".
std::string NormalizeContentType(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.front()))) ct.remove_prefix(1);
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.back()))) ct.remove_suffix(1);
  std::string out(ct);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsGenericContentType(std::string_view ct) {
  return ct.empty() || ct == "application/json" || ct == "text/plain" || ct == "application/octet-stream" ||
         ct == "binary/octet-stream";
}

bool IsSchema1(std::string_view t) { return t == kDockerSchema1 || t == kDockerSchema1Signed; }

std::string DescribeUnsupportedLayer(std::string_view t) {
  if (t.find("foreign") != std::string_view::npos || t.find("nondistributable") != std::string_view::npos)
    return "media type " + Shown(t) +
           " (a foreign, non-distributable layer that registries do not serve); images with such layers "
           "(e.g. Windows base images) are not supported";
  return "media type " + Shown(t) +
         ", which is not a layer format we can unpack (supported: tar, tar+gzip, tar+zstd)";
}

Result<Platform> ParsePlatform(const Json& object, const std::string& path) {
  Platform p;
  SP_ASSIGN_OR_RETURN(p.os, ReadString(object, "os", path + ".os", true));
  SP_ASSIGN_OR_RETURN(p.architecture, ReadString(object, "architecture", path + ".architecture", true));
  SP_ASSIGN_OR_RETURN(p.variant, ReadString(object, "variant", path + ".variant"));
  return p;
}

Result<Descriptor> ParseDescriptor(const Json& value, const std::string& path) {
  if (!value.is_object())
    return Err(Status::InvalidArgument(path + ": expected an object, got " +
                                       std::string(registry_internal::JsonTypeName(value))));
  Descriptor d;
  SP_ASSIGN_OR_RETURN(d.media_type, ReadString(value, "mediaType", path + ".mediaType", true));
  SP_ASSIGN_OR_RETURN(std::string digest, ReadString(value, "digest", path + ".digest", true));
  auto parsed = Digest::Parse(digest);
  if (!parsed) return Err(parsed.error().Annotate(path + ".digest"));
  d.digest = *parsed;
  SP_ASSIGN_OR_RETURN(d.size, ReadSize(value, "size", path + ".size"));
  SP_ASSIGN_OR_RETURN(const Json* platform, ReadObject(value, "platform", path + ".platform"));
  if (platform) {
    SP_ASSIGN_OR_RETURN(Platform p, ParsePlatform(*platform, path + ".platform"));
    d.platform = std::move(p);
  }
  SP_ASSIGN_OR_RETURN(d.annotations,
                      ReadStringMap(value, "annotations", path + ".annotations", kMaxAnnotations));
  return d;
}

Result<ImageIndex> ParseIndex(const Json& doc, std::string media_type) {
  ImageIndex index;
  index.media_type = std::move(media_type);
  SP_ASSIGN_OR_RETURN(const Json* manifests,
                      ReadArray(doc, "manifests", "image index: manifests", kIndexEntryLimit, true));
  for (size_t i = 0; i < manifests->size(); ++i) {
    SP_ASSIGN_OR_RETURN(
        Descriptor d, ParseDescriptor((*manifests)[i], "image index: manifests[" + std::to_string(i) + "]"));
    index.manifests.push_back(std::move(d));
  }
  return index;
}

Result<ImageManifest> ParseImageManifest(const Json& doc, std::string media_type) {
  ImageManifest m;
  m.media_type = std::move(media_type);
  SP_ASSIGN_OR_RETURN(const Json* config, ReadObject(doc, "config", "manifest: config", true));
  SP_ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config, "manifest: config"));
  if (m.config.media_type != kOciConfig && m.config.media_type != kDockerConfig)
    return Err(
        Status::InvalidArgument("manifest: config has media type " + Shown(m.config.media_type) +
                                ": this is not a container image (other OCI artifacts are not supported)"));
  SP_ASSIGN_OR_RETURN(const Json* layers,
                      ReadArray(doc, "layers", "manifest: layers", kManifestLayerLimit, true));
  for (size_t i = 0; i < layers->size(); ++i) {
    std::string path = "manifest: layers[" + std::to_string(i) + "]";
    SP_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor((*layers)[i], path));
    if (!IsSupportedLayerType(d.media_type))
      return Err(Status::InvalidArgument(path + " (" + d.digest.Short() + ") has " +
                                         DescribeUnsupportedLayer(d.media_type)));
    m.layers.push_back(std::move(d));
  }
  SP_ASSIGN_OR_RETURN(m.annotations,
                      ReadStringMap(doc, "annotations", "manifest: annotations", kMaxAnnotations));
  return m;
}

Status CheckSchemaVersion(const Json& doc) {
  auto it = doc.find("schemaVersion");
  if (it == doc.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer())
    return Status::InvalidArgument("manifest: schemaVersion: expected an integer");
  int64_t v = it->get<int64_t>();
  if (v == 1) return Status::InvalidArgument(kSchema1Refusal);
  if (v != 2)
    return Status::InvalidArgument("manifest: schemaVersion " + std::to_string(v) +
                                   " is not supported (expected 2)");
  return Status::Ok();
}

// Decides what kind of document this is from the content type, its mediaType field and its shape.
Result<std::string> DocumentType(const Json& doc, const std::string& content_type) {
  SP_ASSIGN_OR_RETURN(std::string declared, ReadString(doc, "mediaType", "manifest: mediaType"));
  if (IsSchema1(content_type) || IsSchema1(declared) || doc.contains("fsLayers"))
    return Err(Status::InvalidArgument(kSchema1Refusal));
  if (IsIndexType(content_type) || IsManifestType(content_type)) {
    if (!declared.empty() && declared != content_type)
      return Err(Status::InvalidArgument("manifest: served as " + Shown(content_type) +
                                         " but its mediaType says " + Shown(declared) +
                                         "; refusing the ambiguous document"));
    return content_type;
  }
  if (!IsGenericContentType(content_type))
    return Err(Status::InvalidArgument("manifest: content type " + Shown(content_type) +
                                       " is not an image manifest or index we support"));
  if (!declared.empty()) {
    if (IsIndexType(declared) || IsManifestType(declared)) return declared;
    return Err(Status::InvalidArgument("manifest: mediaType " + Shown(declared) +
                                       " is not an image manifest or index we support"));
  }
  if (doc.contains("manifests")) return std::string(kOciIndex);
  if (doc.contains("config") || doc.contains("layers")) return std::string(kOciManifest);
  return Err(
      Status::InvalidArgument("manifest: neither an image index (no \"manifests\") nor an image manifest "
                              "(no \"config\" and \"layers\")"));
}

// Parses "v7" into 7; -1 for anything else.
int VariantNumber(std::string_view v) {
  if (v.size() < 2 || v.size() > 4 || v[0] != 'v') return -1;
  int n = 0;
  for (char c : v.substr(1)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// How well an entry's variant suits the wanted one: (rank, variant number); rank 0 = unusable.
std::pair<int, int> VariantFit(const std::string& arch, std::string entry, std::string want) {
  if (arch == "arm64") {
    if (entry.empty()) entry = "v8";
    if (want.empty()) want = "v8";
  }
  if (entry == want) return {3, VariantNumber(entry)};
  if (want.empty()) return {1, VariantNumber(entry)};
  if (arch == "arm") {
    int e = VariantNumber(entry), w = VariantNumber(want);
    if (entry.empty()) return {1, 0};
    if (e > 0 && w > 0 && e < w) return {2, e};  // older ARM code runs on newer cores
  }
  return {0, 0};
}

}  // namespace

std::string Platform::String() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

std::string NormalizeArchitecture(std::string_view arch) {
  if (arch == "x86_64" || arch == "x86-64") return "amd64";
  if (arch == "aarch64") return "arm64";
  if (arch == "i386" || arch == "i486" || arch == "i586" || arch == "i686") return "386";
  if (arch.substr(0, 3) == "arm" && arch != "arm64") return "arm";
  return std::string(arch);
}

Platform HostPlatform() {
  struct utsname u {};
  std::string machine = ::uname(&u) == 0 ? u.machine : "";
  Platform p{"linux", NormalizeArchitecture(machine), ""};
  if (p.architecture == "arm64") {
    p.variant = "v8";
  } else if (machine.substr(0, 5) == "armv7") {
    p.variant = "v7";
  } else if (machine.substr(0, 5) == "armv6") {
    p.variant = "v6";
  } else if (machine.substr(0, 5) == "armv5") {
    p.variant = "v5";
  }
  return p;
}

bool IsSupportedLayerType(std::string_view t) {
  return t == kOciLayerTar || t == kOciLayerTarGzip || t == kOciLayerTarZstd || t == kDockerLayerTarGzip;
}
bool IsIndexType(std::string_view t) { return t == kOciIndex || t == kDockerManifestList; }
bool IsManifestType(std::string_view t) { return t == kOciManifest || t == kDockerManifest; }

Result<std::variant<ImageIndex, ImageManifest>> ParseManifest(std::string_view bytes,
                                                              std::string_view content_type) {
  SP_ASSIGN_OR_RETURN(Json doc, registry_internal::ParseJson(bytes, kManifestSizeLimit, "manifest"));
  if (!doc.is_object())
    return Err(Status::InvalidArgument("manifest: expected a JSON object, got " +
                                       std::string(registry_internal::JsonTypeName(doc))));
  SP_ASSIGN_OR_RETURN(std::string type, DocumentType(doc, NormalizeContentType(content_type)));
  SP_RETURN_IF_ERROR(CheckSchemaVersion(doc));
  if (IsIndexType(type)) {
    SP_ASSIGN_OR_RETURN(ImageIndex index, ParseIndex(doc, type));
    return index;
  }
  SP_ASSIGN_OR_RETURN(ImageManifest m, ParseImageManifest(doc, type));
  return m;
}

Result<Descriptor> ChoosePlatform(const ImageIndex& index, const Platform& want) {
  std::string arch = NormalizeArchitecture(want.architecture);
  const Descriptor* best = nullptr;
  std::pair<int, int> best_fit{0, 0};
  std::vector<std::string> available;
  for (const Descriptor& d : index.manifests) {
    if (!d.platform || !(d.media_type.empty() || IsManifestType(d.media_type))) continue;
    const Platform& p = *d.platform;
    if (p.os == "unknown" || p.architecture == "unknown") continue;  // attestations and other non-images
    available.push_back(p.String());
    if (p.os != want.os || NormalizeArchitecture(p.architecture) != arch) continue;
    std::pair<int, int> fit = VariantFit(arch, p.variant, want.variant);
    if (fit.first > 0 && fit > best_fit) {
      best = &d;
      best_fit = fit;
    }
  }
  if (best) return *best;
  std::string list;
  for (const std::string& a : available) list += (list.empty() ? "" : ", ") + a;
  return Err(Status::NotFound(
      "the image has no manifest for " + want.String() +
      (list.empty() ? "; its index lists no image manifests" : "; it is available for " + list)));
}

Result<ImageConfig> ParseImageConfig(std::string_view bytes) {
  SP_ASSIGN_OR_RETURN(Json doc, registry_internal::ParseJson(bytes, kConfigSizeLimit, "image config"));
  if (!doc.is_object())
    return Err(Status::InvalidArgument("image config: expected a JSON object, got " +
                                       std::string(registry_internal::JsonTypeName(doc))));
  ImageConfig c;
  SP_ASSIGN_OR_RETURN(c.os, ReadString(doc, "os", "image config: os"));
  SP_ASSIGN_OR_RETURN(c.architecture, ReadString(doc, "architecture", "image config: architecture"));
  SP_ASSIGN_OR_RETURN(c.variant, ReadString(doc, "variant", "image config: variant"));
  SP_ASSIGN_OR_RETURN(const Json* config, ReadObject(doc, "config", "image config: config"));
  if (config) {
    const Json& cfg = *config;
    SP_ASSIGN_OR_RETURN(c.env, ReadStringArray(cfg, "Env", "image config: config.Env", kMaxConfigListItems));
    SP_ASSIGN_OR_RETURN(c.entrypoint, ReadStringArray(cfg, "Entrypoint", "image config: config.Entrypoint",
                                                      kMaxConfigListItems));
    SP_ASSIGN_OR_RETURN(c.cmd, ReadStringArray(cfg, "Cmd", "image config: config.Cmd", kMaxConfigListItems));
    SP_ASSIGN_OR_RETURN(c.working_dir, ReadString(cfg, "WorkingDir", "image config: config.WorkingDir"));
    SP_ASSIGN_OR_RETURN(c.user, ReadString(cfg, "User", "image config: config.User"));
    SP_ASSIGN_OR_RETURN(c.stop_signal, ReadString(cfg, "StopSignal", "image config: config.StopSignal"));
    SP_ASSIGN_OR_RETURN(c.labels,
                        ReadStringMap(cfg, "Labels", "image config: config.Labels", kMaxConfigListItems));
    SP_ASSIGN_OR_RETURN(const Json* ports,
                        ReadObject(cfg, "ExposedPorts", "image config: config.ExposedPorts"));
    if (ports) {
      if (ports->size() > kMaxConfigListItems)
        return Err(Status::InvalidArgument("image config: config.ExposedPorts: too many entries"));
      for (const auto& [port, value] : ports->items()) c.exposed_ports.push_back(port);
      std::sort(c.exposed_ports.begin(), c.exposed_ports.end());
    }
  }
  SP_ASSIGN_OR_RETURN(const Json* rootfs, ReadObject(doc, "rootfs", "image config: rootfs", true));
  SP_ASSIGN_OR_RETURN(std::string type, ReadString(*rootfs, "type", "image config: rootfs.type", true));
  if (type != "layers")
    return Err(
        Status::InvalidArgument("image config: rootfs.type is " + Shown(type) + " (expected \"layers\")"));
  SP_ASSIGN_OR_RETURN(
      std::vector<std::string> diff_ids,
      ReadStringArray(*rootfs, "diff_ids", "image config: rootfs.diff_ids", kManifestLayerLimit));
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    auto d = Digest::Parse(diff_ids[i]);
    if (!d) return Err(d.error().Annotate("image config: rootfs.diff_ids[" + std::to_string(i) + "]"));
    c.diff_ids.push_back(*d);
  }
  return c;
}

}  // namespace sp
