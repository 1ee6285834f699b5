// UnpackIncludes: extracts an untrusted include archive into a service's data directory.
//
// Runs as root in spawnd, on bytes anyone allowed to deploy can choose. Three layers keep it safe:
//  - Decompression is its own libarchive reader (gzip filter, raw format) that feeds the tar reader
//    through a callback counting every decompressed byte. Tar headers may take only a small budget
//    beyond the file data, so neither a bomb of zeros nor a giant header can make us decompress or
//    allocate much more than the limits allow.
//  - Every entry is created with *at() calls relative to directory descriptors, O_NOFOLLOW and
//    O_EXCL, inside a fresh staging directory only we write to; nothing is ever followed. After the
//    last entry each extracted symlink is resolved inside the staging tree (following the archive's
//    own symlinks) and refused if it leads outside.
//  - Only when everything passed are the staging directory's top-level entries renamed into the
//    destination (same-named old entries are moved aside first and put back if a rename fails);
//    then the staging directory, with the old entries, is removed without following symlinks
//    (fstree::Staging::Merge).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <memory>

#include "archive/archive_rules.h"
#include "archive/include_archive.h"
#include "fstree/dir.h"
#include "fstree/paths.h"
#include "fstree/staging.h"
#include "util/fd.h"

namespace sp {
namespace {

using archive_internal::ArchiveError;
using archive_internal::ArchiveReader;
using archive_internal::DescribeBytes;
using archive_internal::NormalizedMode;
using fstree::FileTypeName;
using fstree::JoinParts;

constexpr size_t kChunk = 64 * 1024;         // largest piece handed to the tar reader at once
constexpr uint64_t kStreamSlack = 1u << 20;  // read-ahead and end-of-archive blocks
constexpr uint64_t kHeaderAllowance = 4096;  // tar and pax header blocks and padding, per entry
constexpr int kMaxSymlinkHops = 40;          // as the kernel's MAXSYMLINKS

// What has been extracted so far; the decompression budget grows with it.
struct Counters {
  uint64_t entries = 0;
  uint64_t file_bytes = 0;
};

// The decompressed tar stream: pulls gzip output from `outer` and hands it to the tar reader.
struct Stream {
  struct archive* outer = nullptr;
  const ArchiveLimits* limits = nullptr;
  const Counters* counters = nullptr;
  const char* pending = nullptr;
  size_t pending_size = 0;
  uint64_t consumed = 0;
  Status failure;  // why the stream stopped, if it was our decision or the gzip layer's

  uint64_t Budget() const {
    return counters->file_bytes + counters->entries * (kHeaderAllowance + 2 * limits->max_path_length) +
           kStreamSlack;
  }
};

la_ssize_t ReadDecompressed(struct archive* inner, void* client, const void** buf) {
  auto* s = static_cast<Stream*>(client);
  if (s->pending_size == 0) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(s->outer, &block, &size, &offset);
    if (r == ARCHIVE_EOF) return 0;
    if (r < ARCHIVE_WARN) {
      s->failure = Status::InvalidArgument("corrupt or truncated gzip data: " +
                                           ArchiveError(s->outer, "decompression failed"));
      archive_set_error(inner, EINVAL, "%s", s->failure.message().c_str());
      return -1;
    }
    s->pending = static_cast<const char*>(block);
    s->pending_size = size;
  }
  size_t n = std::min(s->pending_size, kChunk);
  *buf = s->pending;
  s->pending += n;
  s->pending_size -= n;
  s->consumed += n;
  if (s->consumed > s->Budget()) {
    s->failure = Status::InvalidArgument("the archive's tar headers decompress to far more data than its " +
                                         std::to_string(s->counters->entries) + " entries need (" +
                                         DescribeBytes(s->consumed - s->counters->file_bytes) +
                                         "); refusing it as a likely decompression bomb");
    archive_set_error(inner, EFBIG, "%s", s->failure.message().c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

// Creates the entries of the archive below the directory `root_fd`, one at a time.
class Extractor {
 public:
  Extractor(int root_fd, const ArchiveLimits& limits) : root_fd_(root_fd), limits_(limits) {}

  const Counters& counters() const { return counters_; }
  Status Extract(struct archive* reader, struct archive_entry* entry);
  // Refuses any extracted symlink that resolves outside the root.
  Status CheckSymlinks() const;

 private:
  Status CheckEntry(struct archive_entry* entry, const char* path) const;
  Result<Fd> OpenParent(const std::vector<std::string>& parts, const std::string& path);
  Status MakeDir(int parent_fd, const std::string& name, const std::string& path);
  Status WriteFile(struct archive* reader, struct archive_entry* entry, int parent_fd,
                   const std::string& name, const std::string& path);
  Status MakeSymlink(struct archive_entry* entry, int parent_fd, const std::vector<std::string>& parts,
                     const std::string& path);
  Status CheckSymlink(const std::vector<std::string>& link) const;

  int root_fd_;
  const ArchiveLimits& limits_;
  Counters counters_;
  std::vector<std::vector<std::string>> symlinks_;
};

Status Extractor::CheckEntry(struct archive_entry* entry, const char* path) const {
  std::string shown = path ? path : "(undecodable path)";
  if (const char* target = archive_entry_hardlink(entry)) {
    return Status::InvalidArgument("entry '" + shown + "' is a hard link to '" + target +
                                   "'; only regular files, directories and symlinks may be included");
  }
  mode_t type = archive_entry_filetype(entry);
  if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
    return Status::InvalidArgument("entry '" + shown + "' is a " + FileTypeName(type) +
                                   "; only regular files, directories and symlinks may be included");
  }
  if (type != AE_IFREG && archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
    return Status::InvalidArgument("entry '" + shown + "' is a " + FileTypeName(type) + " carrying data");
  }
  if (!path) return Status::InvalidArgument("an entry's path cannot be decoded");
  if (std::strlen(path) > limits_.max_path_length) {
    return Status::InvalidArgument("entry path '" + shown.substr(0, 64) +
                                   "...' is longer than the limit of " +
                                   std::to_string(limits_.max_path_length) + " bytes");
  }
  return Status::Ok();
}

Status Extractor::Extract(struct archive* reader, struct archive_entry* entry) {
  if (++counters_.entries > limits_.max_entries) {
    return Status::InvalidArgument("the archive has more than " + std::to_string(limits_.max_entries) +
                                   " entries, the limit");
  }
  const char* raw_path = archive_entry_pathname(entry);
  SP_RETURN_IF_ERROR(CheckEntry(entry, raw_path));
  std::string path = raw_path;
  SP_ASSIGN_OR_RETURN(auto parts, fstree::SplitEntryPath(path));
  mode_t type = archive_entry_filetype(entry);
  if (parts.empty()) {
    if (type == AE_IFDIR) return Status::Ok();  // "./": the destination itself
    return Status::InvalidArgument("entry '" + path + "' names the destination directory itself");
  }
  SP_ASSIGN_OR_RETURN(Fd parent, OpenParent(parts, path));
  const std::string& name = parts.back();
  if (type == AE_IFDIR) return MakeDir(parent.get(), name, path);
  if (type == AE_IFLNK) return MakeSymlink(entry, parent.get(), parts, path);
  return WriteFile(reader, entry, parent.get(), name, path);
}

// Opens the directory that will hold the entry, creating missing directories on the way. Refuses
// to pass through anything but a real directory.
Result<Fd> Extractor::OpenParent(const std::vector<std::string>& parts, const std::string& path) {
  fstree::WalkOptions options;
  options.create = true;
  options.refuse = [&path](const std::string& through, mode_t type) {
    return Status::InvalidArgument("entry '" + path + "' goes through '" + through + "', which is a " +
                                   FileTypeName(type) + "; entries may only be placed inside directories");
  };
  return fstree::WalkDirs(root_fd_, parts, parts.size() - 1, options);
}

Status Extractor::MakeDir(int parent_fd, const std::string& name, const std::string& path) {
  if (::mkdirat(parent_fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno("create directory '" + path + "'", errno);
  }
  Fd fd(::openat(parent_fd, name.c_str(), fstree::kDirFlags));
  if (!fd.valid() && (errno == ELOOP || errno == ENOTDIR)) {
    return Status::InvalidArgument(
        "entry '" + path + "' is a directory, but the archive already created it " + "as something else");
  }
  if (!fd.valid()) return Status::FromErrno("open directory '" + path + "'", errno);
  if (::fchmod(fd.get(), 0755) != 0) return Status::FromErrno("chmod '" + path + "'", errno);
  return Status::Ok();
}

Status Extractor::WriteFile(struct archive* reader, struct archive_entry* entry, int parent_fd,
                            const std::string& name, const std::string& path) {
  uint64_t declared = archive_entry_size_is_set(entry) ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
  auto over_limit = [&](uint64_t bytes) {
    return Status::InvalidArgument("the archive's files add up to more than " +
                                   DescribeBytes(limits_.max_unpacked_bytes) + " (reached at '" + path +
                                   "', " + DescribeBytes(bytes) + ")");
  };
  if (declared > limits_.max_unpacked_bytes - counters_.file_bytes) return over_limit(declared);
  Fd fd(::openat(parent_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                 0600));
  if (!fd.valid() && errno == EEXIST) {
    return Status::InvalidArgument("entry '" + path + "' appears more than once in the archive");
  }
  if (!fd.valid()) return Status::FromErrno("create '" + path + "'", errno);
  std::string buf(kChunk, '\0');
  uint64_t written = 0;
  for (;;) {
    la_ssize_t n = archive_read_data(reader, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) return Status::InvalidArgument("read '" + path + "': " + ArchiveError(reader, "corrupt data"));
    written += static_cast<uint64_t>(n);
    counters_.file_bytes += static_cast<uint64_t>(n);
    if (counters_.file_bytes > limits_.max_unpacked_bytes) return over_limit(written);
    for (la_ssize_t off = 0; off < n;) {
      ssize_t w = ::write(fd.get(), buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Status::FromErrno("write '" + path + "'", errno);
      off += w;
    }
  }
  if (::fchmod(fd.get(), NormalizedMode(archive_entry_perm(entry), false)) != 0) {
    return Status::FromErrno("chmod '" + path + "'", errno);
  }
  return Status::Ok();
}

Status Extractor::MakeSymlink(struct archive_entry* entry, int parent_fd,
                              const std::vector<std::string>& parts, const std::string& path) {
  const char* raw_target = archive_entry_symlink(entry);
  if (!raw_target) return Status::InvalidArgument("symlink '" + path + "' has no target");
  std::string target = raw_target;
  if (target.size() > limits_.max_path_length) {
    return Status::InvalidArgument("symlink '" + path + "' has a target longer than the limit of " +
                                   std::to_string(limits_.max_path_length) + " bytes");
  }
  std::vector<std::string> parent(parts.begin(), parts.end() - 1);
  SP_RETURN_IF_ERROR(fstree::CheckSymlinkTargetLexically(parent, target).Annotate("symlink '" + path + "'"));
  if (::symlinkat(target.c_str(), parent_fd, parts.back().c_str()) != 0) {
    if (errno == EEXIST)
      return Status::InvalidArgument("entry '" + path + "' appears more than once in the archive");
    return Status::FromErrno("create symlink '" + path + "'", errno);
  }
  symlinks_.push_back(parts);
  return Status::Ok();
}

Status Extractor::CheckSymlinks() const {
  for (const auto& link : symlinks_) SP_RETURN_IF_ERROR(CheckSymlink(link));
  return Status::Ok();
}

// Resolves the symlink `link` the way the kernel would, but inside the root and one component at a
// time. `resolved` only ever holds components that are not symlinks, so the fstatat() calls on it
// follow nothing. A component that does not exist (or is not a directory) is taken lexically: the
// kernel would stop there, so it cannot lead anywhere.
Status Extractor::CheckSymlink(const std::vector<std::string>& link) const {
  std::string shown = JoinParts(link, link.size());
  std::vector<std::string> resolved;
  std::deque<std::string> todo(link.begin(), link.end());
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (resolved.empty()) {
        return Status::InvalidArgument("symlink '" + shown +
                                       "' resolves outside the directory it is unpacked into");
      }
      resolved.pop_back();
      continue;
    }
    resolved.push_back(std::move(part));
    std::string at = JoinParts(resolved, resolved.size());
    struct stat st;
    if (::fstatat(root_fd_, at.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) continue;
    if (++hops > kMaxSymlinkHops) return Status::InvalidArgument("symlink '" + shown + "' loops");
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlinkat(root_fd_, at.c_str(), target.data(), target.size());
    if (n < 0) return Status::FromErrno("readlink '" + at + "'", errno);
    target.resize(static_cast<size_t>(n));
    if (!target.empty() && target.front() == '/') {
      return Status::InvalidArgument("symlink '" + shown + "' resolves through an absolute symlink '" + at +
                                     "'");
    }
    resolved.pop_back();
    auto pieces = fstree::SplitComponents(target);
    todo.insert(todo.begin(), pieces.begin(), pieces.end());
  }
  return Status::Ok();
}

// Reads the whole archive and extracts it below `root_fd`.
Status ExtractAll(std::string_view data, int root_fd, const ArchiveLimits& limits) {
  ArchiveReader outer(archive_read_new());
  if (!outer) return Status::Internal("archive_read_new: out of memory");
  archive_read_support_filter_gzip(outer.get());
  archive_read_support_format_raw(outer.get());
  struct archive_entry* entry = nullptr;
  if (archive_read_open_memory(outer.get(), data.data(), data.size()) != ARCHIVE_OK ||
      archive_read_next_header(outer.get(), &entry) < ARCHIVE_WARN ||
      archive_filter_code(outer.get(), 0) != ARCHIVE_FILTER_GZIP) {
    return Status::InvalidArgument("not a gzip-compressed tar archive: " +
                                   ArchiveError(outer.get(), "no gzip header"));
  }
  Extractor extractor(root_fd, limits);
  Stream stream;
  stream.outer = outer.get();
  stream.limits = &limits;
  stream.counters = &extractor.counters();
  ArchiveReader inner(archive_read_new());
  if (!inner) return Status::Internal("archive_read_new: out of memory");
  archive_read_support_format_tar(inner.get());
  archive_read_support_format_empty(inner.get());
  auto stream_error = [&](std::string_view what) {
    if (!stream.failure.ok()) return stream.failure;
    return Status::InvalidArgument(std::string(what) + ": " + ArchiveError(inner.get(), "corrupt archive"));
  };
  if (archive_read_open(inner.get(), &stream, nullptr, &ReadDecompressed, nullptr) != ARCHIVE_OK) {
    return stream_error("not a tar archive");
  }
  for (;;) {
    int r = archive_read_next_header(inner.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return stream_error("corrupt or truncated tar archive");
    Status s = extractor.Extract(inner.get(), entry);
    if (!s.ok()) return stream.failure.ok() ? s : stream.failure;
  }
  return extractor.CheckSymlinks();
}

}  // namespace

Status UnpackIncludes(std::string_view archive, const std::string& dest, const ArchiveLimits& limits) {
  if (archive.empty()) return Status::Ok();
  if (archive.size() > limits.max_compressed_bytes) {
    return Status::InvalidArgument("the archive is " + DescribeBytes(archive.size()) +
                                   ", more than the limit of " + DescribeBytes(limits.max_compressed_bytes));
  }
  SP_ASSIGN_OR_RETURN(auto staging, fstree::Staging::Merge(dest));
  Status s = ExtractAll(archive, staging->root_fd(), limits);
  if (s.ok()) s = staging->Commit();
  Status removed = staging->Remove();
  if (!s.ok()) return s.Annotate("unpack into " + dest);
  return removed.Annotate("unpacked into " + dest + ", but could not remove the staging directory");
}

}  // namespace sp
