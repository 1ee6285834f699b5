// Image descriptions, lists and prune reports (see image_messages.h).
#include "protocol/image_messages.h"

#include "protocol/fields.h"

namespace sp::protocol {
namespace {

void ReadImage(FieldReader& f, ImageDescription* d) {
  f.Str("reference", &d->reference);
  f.Str("digest", &d->digest);
  f.Str("manifest", &d->manifest);
  f.Int("size", &d->size);
  f.Int("diskSize", &d->disk_size);
  f.Str("pulledAt", &d->pulled_at);
  f.StrList("usedBy", &d->used_by);
}

}  // namespace

nlohmann::json ToJson(const ImageDescription& d) {
  return {{"reference", d.reference}, {"digest", d.digest},     {"manifest", d.manifest}, {"size", d.size},
          {"diskSize", d.disk_size},  {"pulledAt", d.pulled_at}, {"usedBy", d.used_by}};
}

Result<ImageDescription> DecodeImageDescription(const nlohmann::json& j) {
  ImageDescription d;
  FieldReader f(j, "image description");
  ReadImage(f, &d);
  SP_RETURN_IF_ERROR(f.status());
  return d;
}

nlohmann::json ToJson(const ImageList& l) {
  nlohmann::json images = nlohmann::json::array();
  for (const ImageDescription& d : l.images) images.push_back(ToJson(d));
  return {{"images", images}, {"diskSize", l.disk_size}};
}

Result<ImageList> DecodeImageList(const nlohmann::json& j) {
  ImageList l;
  FieldReader f(j, "image list");
  f.Objects("images", [&](FieldReader& i) {
    ImageDescription d;
    ReadImage(i, &d);
    l.images.push_back(std::move(d));
  });
  f.Int("diskSize", &l.disk_size);
  SP_RETURN_IF_ERROR(f.status());
  return l;
}

nlohmann::json ToJson(const PruneReport& r) {
  return {{"images", r.images}, {"blobs", r.blobs}, {"layers", r.layers}, {"bytes", r.bytes}};
}

Result<PruneReport> DecodePruneReport(const nlohmann::json& j) {
  PruneReport r;
  FieldReader f(j, "prune report");
  f.StrList("images", &r.images);
  f.Int("blobs", &r.blobs);
  f.Int("layers", &r.layers);
  f.Int("bytes", &r.bytes);
  SP_RETURN_IF_ERROR(f.status());
  return r;
}

}  // namespace sp::protocol
