// OCI image layout reading (see oci_layout.h).
#include "registry/oci_layout.h"

#include <variant>

#include "registry/json_fields.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr size_t kMaxLayoutMarkerBytes = 4096;

Status CheckLayoutMarker(const std::string& dir) {
  std::string path = JoinPath(dir, "oci-layout");
  auto content = ReadFileCapped(path, kMaxLayoutMarkerBytes);
  if (!content) {
    if (content.error().code() == Code::kNotFound)
      return Status::FailedPrecondition(dir + " is not an OCI image layout (it has no oci-layout file)");
    return content.error();
  }
  SP_ASSIGN_OR_RETURN(registry_internal::Json doc,
                      registry_internal::ParseJson(*content, kMaxLayoutMarkerBytes, path));
  if (!doc.is_object()) return Status::InvalidArgument(path + ": expected a JSON object");
  SP_ASSIGN_OR_RETURN(
      std::string version,
      registry_internal::ReadString(doc, "imageLayoutVersion", path + ": imageLayoutVersion", true));
  if (version != "1.0.0")
    return Status::FailedPrecondition(path + ": image layout version \"" + version.substr(0, 40) +
                                      "\" is not supported (expected 1.0.0)");
  return Status::Ok();
}

Result<ImageIndex> ReadLayoutIndex(const std::string& dir) {
  std::string path = JoinPath(dir, "index.json");
  auto bytes = ReadFileCapped(path, kManifestSizeLimit);
  if (!bytes) return Err(bytes.error().Annotate("OCI layout " + dir));
  auto parsed = ParseManifest(*bytes, "");
  if (!parsed) return Err(parsed.error().Annotate(path));
  auto* index = std::get_if<ImageIndex>(&*parsed);
  if (!index) return Err(Status::InvalidArgument(path + ": is an image manifest, not an image index"));
  return std::move(*index);
}

std::string ListTags(const ImageIndex& index) {
  std::string out;
  for (const Descriptor& d : index.manifests) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it == d.annotations.end()) continue;
    out += (out.empty() ? "" : ", ") + it->second;
  }
  return out.empty() ? "no tagged images" : "tags: " + out;
}

}  // namespace

Result<Descriptor> ResolveLayoutTag(const std::string& dir, std::string_view tag) {
  SP_RETURN_IF_ERROR(CheckLayoutMarker(dir));
  SP_ASSIGN_OR_RETURN(ImageIndex index, ReadLayoutIndex(dir));
  if (tag.empty()) {
    if (index.manifests.size() == 1) return index.manifests.front();
    return Err(
        Status::InvalidArgument("OCI layout " + dir + " holds " + std::to_string(index.manifests.size()) +
                                " images; name one with oci:" + dir + ":<tag> (" + ListTags(index) + ")"));
  }
  for (const Descriptor& d : index.manifests) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it != d.annotations.end() && it->second == tag) return d;
  }
  return Err(Status::NotFound("OCI layout " + dir + " has no image tagged \"" + std::string(tag) + "\" (" +
                              ListTags(index) + ")"));
}

std::string LayoutBlobPath(const std::string& dir, const Digest& digest) {
  return JoinPath(JoinPath(dir, "blobs/sha256"), digest.hex());
}

Result<std::string> ReadLayoutBlob(const std::string& dir, const Descriptor& d, size_t max_bytes) {
  if (d.digest.empty())
    return Err(Status::InvalidArgument("OCI layout " + dir + ": a descriptor without a digest"));
  std::string what = "blob " + d.digest.str() + " in OCI layout " + dir;
  if (d.size > 0 && static_cast<uint64_t>(d.size) > max_bytes)
    return Err(Status::InvalidArgument(what + " is " + std::to_string(d.size) + " bytes (at most " +
                                       std::to_string(max_bytes) + " accepted here)"));
  auto bytes = ReadFileCapped(LayoutBlobPath(dir, d.digest), max_bytes);
  if (!bytes) {
    if (bytes.error().code() == Code::kNotFound) return Err(Status::NotFound(what + " is missing"));
    return Err(bytes.error().Annotate(what));
  }
  if (d.size >= 0 && bytes->size() != static_cast<uint64_t>(d.size))
    return Err(Status::InvalidArgument(what + " is " + std::to_string(bytes->size()) +
                                       " bytes, but its descriptor says " + std::to_string(d.size)));
  SP_RETURN_IF_ERROR(VerifyDigest(*bytes, d.digest, what));
  return std::move(*bytes);
}

}  // namespace sp
