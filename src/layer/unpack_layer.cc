// UnpackLayer: one layer blob -> one verified overlayfs lower directory, atomically.
//
// The steps are: a staging directory beside the destination (fstree::BuildNewDir), the blob's
// decompressed tar stream hashed as it is read (TarStream), each entry created by the
// LayerExtractor, directory metadata applied last, the rest of the stream drained into the hash,
// the diff_id compared, and only then the rename into place. Any failure removes the staging
// directory.
#include "layer/unpack_layer.h"

#include "fstree/staging.h"
#include "fstree/tree.h"
#include "layer/layer_extractor.h"
#include "layer/layer_stream.h"

namespace sp {
namespace {

using layer_internal::LayerExtractor;
using layer_internal::TarStream;

Result<UnpackedLayer> ExtractInto(const std::string& blob_path, int root_fd,
                                  const std::optional<Digest>& expected_diff_id,
                                  const UnpackOptions& options) {
  SP_ASSIGN_OR_RETURN(auto stream, TarStream::Open(blob_path, "layer blob"));
  LayerExtractor extractor(root_fd, options);
  SP_RETURN_IF_ERROR(
      stream->ForEachEntry([&](struct archive_entry* entry) { return extractor.Extract(*stream, entry); }));
  SP_RETURN_IF_ERROR(extractor.Finish());
  SP_ASSIGN_OR_RETURN(Digest diff_id, stream->Finish());
  if (expected_diff_id && !(diff_id == *expected_diff_id)) {
    return Err(Status::InvalidArgument("diff_id mismatch: the uncompressed layer hashes to " + diff_id.str() +
                                       ", but the image config expects " + expected_diff_id->str()));
  }
  return UnpackedLayer{diff_id, extractor.bytes(), extractor.entries()};
}

}  // namespace

Result<UnpackedLayer> UnpackLayer(const std::string& blob_path, const std::string& dest_dir,
                                  const std::optional<Digest>& expected_diff_id,
                                  const UnpackOptions& options) {
  if (options.max_bytes < 0 || options.max_entries < 0) {
    return Err(Status::InvalidArgument("unpack layer: negative limits (max_bytes " +
                                       std::to_string(options.max_bytes) + ", max_entries " +
                                       std::to_string(options.max_entries) + ")"));
  }
  std::string context = "unpack layer " + blob_path + " into " + dest_dir;
  UnpackedLayer layer;
  Status s = fstree::BuildNewDir(dest_dir, [&](int root_fd) -> Status {
    SP_ASSIGN_OR_RETURN(layer, ExtractInto(blob_path, root_fd, expected_diff_id, options));
    return Status::Ok();
  });
  if (!s.ok()) return Err(s.Annotate(context));
  return layer;
}

Status RemoveLayerDir(const std::string& dir) { return fstree::RemoveTree(dir); }

}  // namespace sp
