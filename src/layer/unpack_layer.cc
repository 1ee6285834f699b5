// UnpackLayer: one layer blob -> one verified overlayfs lower directory, atomically.
//
// The steps are: a staging directory beside the destination (Staging), the blob's decompressed tar
// stream hashed as it is read (TarStream), each entry created by the LayerExtractor, directory
// metadata applied last, the rest of the stream drained into the hash, the diff_id compared, and
// only then the rename into place. Any failure removes the staging directory.
#include "layer/unpack_layer.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "layer/layer_extractor.h"
#include "layer/layer_fs.h"
#include "layer/layer_stream.h"

namespace sp {
namespace {

using layer_internal::Fd;
using layer_internal::LayerExtractor;
using layer_internal::Staging;
using layer_internal::TarStream;

Result<UnpackedLayer> ExtractInto(const std::string& blob_path, int root_fd,
                                  const std::optional<Digest>& expected_diff_id,
                                  const UnpackOptions& options) {
  SP_ASSIGN_OR_RETURN(auto stream, TarStream::Open(blob_path, "layer blob"));
  LayerExtractor extractor(root_fd, options);
  for (;;) {
    SP_ASSIGN_OR_RETURN(struct archive_entry * entry, stream->Next());
    if (!entry) break;
    SP_RETURN_IF_ERROR(extractor.Extract(*stream, entry));
  }
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
  auto staging = Staging::Create(dest_dir);
  if (!staging) return Err(staging.error().Annotate(context));
  auto layer = ExtractInto(blob_path, (*staging)->root_fd(), expected_diff_id, options);
  Status failure = layer ? (*staging)->Commit() : layer.error();
  if (failure.ok()) return layer;
  Status removed = (*staging)->Remove();
  if (!removed.ok()) {
    failure =
        Status(failure.code(), failure.message() + " (and the temporary directory " + (*staging)->path() +
                                   " could not be removed: " + removed.message() + ")");
  }
  return Err(failure.Annotate(context));
}

Status RemoveLayerDir(const std::string& dir_in) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty() || dir == "/") return Status::InvalidArgument("refusing to remove '" + dir_in + "'");
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0)
    return errno == ENOENT ? Status::Ok() : Status::FromErrno("stat " + dir, errno);
  size_t slash = dir.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  Fd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid()) return Status::FromErrno("open " + parent, errno);
  std::string name = slash == std::string::npos ? dir : dir.substr(slash + 1);
  if (name == "." || name == "..") return Status::InvalidArgument("refusing to remove '" + dir_in + "'");
  return layer_internal::RemoveTreeAt(parent_fd.get(), name, st.st_dev, dir);
}

}  // namespace sp
