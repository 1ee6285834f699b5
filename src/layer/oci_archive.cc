// ExtractOciArchive: an untrusted oci-archive tarball -> an OCI image layout directory, atomically.
#include "layer/oci_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fstree/staging.h"
#include "layer/layer_fs.h"
#include "layer/layer_stream.h"

namespace sp {
namespace {

using archive_internal::DescribeBytes;
using fstree::FileTypeName;
using layer_internal::ShowPath;
using layer_internal::TarStream;

constexpr int64_t kMaxEntries = 100'000;  // a layout holds a handful of files per image

// Creates the entries of an oci-archive below `root_fd`: regular files and directories only.
class LayoutExtractor {
 public:
  LayoutExtractor(int root_fd, int64_t max_bytes) : root_fd_(root_fd), max_bytes_(max_bytes) {}

  Status Extract(TarStream& stream, struct archive_entry* entry);
  // Checks the result looks like an OCI image layout and opens up the root directory.
  Status Finish();

 private:
  Status MakeDir(const std::vector<std::string>& parts, const std::string& path);
  Status WriteFile(TarStream& stream, struct archive_entry* entry, const std::vector<std::string>& parts,
                   const std::string& path);

  int root_fd_;
  int64_t max_bytes_;
  int64_t bytes_ = 0;
  int64_t entries_ = 0;
};

Status LayoutExtractor::Extract(TarStream& stream, struct archive_entry* entry) {
  if (++entries_ > kMaxEntries) {
    return Status::InvalidArgument("the archive has more than " + std::to_string(kMaxEntries) +
                                   " entries, the limit for an image layout");
  }
  const char* raw_path = archive_entry_pathname(entry);
  if (!raw_path || !*raw_path) {
    return Status::InvalidArgument("entry number " + std::to_string(entries_) + " has an empty path");
  }
  std::string path = raw_path;
  SP_ASSIGN_OR_RETURN(auto parts, layer_internal::SplitLayerPath(path));
  mode_t type = archive_entry_filetype(entry);
  if (archive_entry_hardlink(entry) || (type != AE_IFREG && type != AE_IFDIR)) {
    std::string kind = archive_entry_hardlink(entry) ? "hard link" : FileTypeName(type);
    return Status::InvalidArgument("entry " + ShowPath(path) + " is a " + kind +
                                   "; an oci-archive may hold only regular files and directories");
  }
  if (type == AE_IFDIR) {
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
      return Status::InvalidArgument("directory entry " + ShowPath(path) + " carries data");
    }
    return parts.empty() ? Status::Ok() : MakeDir(parts, path);
  }
  if (parts.empty())
    return Status::InvalidArgument("entry " + ShowPath(path) + " is a file at the root itself");
  return WriteFile(stream, entry, parts, path);
}

Status LayoutExtractor::MakeDir(const std::vector<std::string>& parts, const std::string& path) {
  SP_ASSIGN_OR_RETURN(Fd parent, layer_internal::WalkDirs(root_fd_, parts, parts.size() - 1, true, path));
  bool made = ::mkdirat(parent.get(), parts.back().c_str(), 0755) == 0;
  if (!made && errno != EEXIST) return Status::FromErrno("create directory " + ShowPath(path), errno);
  Fd fd(::openat(parent.get(), parts.back().c_str(), fstree::kDirFlags));
  if (!fd.valid() && (errno == ENOTDIR || errno == ELOOP)) {
    return Status::InvalidArgument("directory entry " + ShowPath(path) + " names an earlier file");
  }
  if (!fd.valid()) return Status::FromErrno("open directory " + ShowPath(path), errno);
  if (made && ::fchmod(fd.get(), 0755) != 0) return Status::FromErrno("chmod " + ShowPath(path), errno);
  return Status::Ok();
}

Status LayoutExtractor::WriteFile(TarStream& stream, struct archive_entry* entry,
                                  const std::vector<std::string>& parts, const std::string& path) {
  int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
  if (size < 0) return Status::InvalidArgument("entry " + ShowPath(path) + " has a negative size");
  if (size > max_bytes_ - bytes_) {
    return Status::InvalidArgument("the archive's files add up to more than the limit of " +
                                   DescribeBytes(static_cast<uint64_t>(max_bytes_)) + " (reached at entry " +
                                   ShowPath(path) + " of " + DescribeBytes(static_cast<uint64_t>(size)) +
                                   ")");
  }
  bytes_ += size;
  stream.AddDeclaredBytes(static_cast<uint64_t>(size));
  SP_ASSIGN_OR_RETURN(Fd parent, layer_internal::WalkDirs(root_fd_, parts, parts.size() - 1, true, path));
  Fd fd(::openat(parent.get(), parts.back().c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd.valid() && errno == EEXIST) {
    return Status::InvalidArgument("entry " + ShowPath(path) + " appears more than once in the archive");
  }
  if (!fd.valid()) return Status::FromErrno("create " + ShowPath(path), errno);
  SP_RETURN_IF_ERROR(stream.CopyData(fd.get(), size, path));
  if (::fchmod(fd.get(), 0644) != 0) return Status::FromErrno("chmod " + ShowPath(path), errno);
  return Status::Ok();
}

Status LayoutExtractor::Finish() {
  for (const char* required : {"oci-layout", "index.json"}) {
    struct stat st;
    if (::fstatat(root_fd_, required, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      return Status::InvalidArgument(std::string("not an OCI image layout: the archive has no ") + required +
                                     " file at its root");
    }
  }
  if (::fchmod(root_fd_, 0755) != 0) return Status::FromErrno("chmod the layout directory", errno);
  return Status::Ok();
}

Status ExtractLayout(const std::string& tar_path, int root_fd, int64_t max_bytes) {
  SP_ASSIGN_OR_RETURN(auto stream, TarStream::Open(tar_path, "oci-archive"));
  LayoutExtractor extractor(root_fd, max_bytes);
  SP_RETURN_IF_ERROR(
      stream->ForEachEntry([&](struct archive_entry* entry) { return extractor.Extract(*stream, entry); }));
  auto digest = stream->Finish();  // drains the stream: trailing corruption is still an error
  if (!digest) return digest.error();
  return extractor.Finish();
}

}  // namespace

Status ExtractOciArchive(const std::string& tar_path, const std::string& dest_dir, int64_t max_bytes) {
  std::string context = "extract oci-archive " + tar_path + " into " + dest_dir;
  if (max_bytes < 0) return Status::InvalidArgument(context + ": negative max_bytes");
  Status s =
      fstree::BuildNewDir(dest_dir, [&](int root_fd) { return ExtractLayout(tar_path, root_fd, max_bytes); });
  return s.Annotate(context);
}

}  // namespace sp
