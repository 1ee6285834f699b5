// PackIncludes: builds the gzip-compressed tar of a service's included files and directories.
//
// Runs on the user's machine (spawnctl). Directories are walked with openat() relative to directory
// descriptors and O_NOFOLLOW, so a symlink inside an included directory is stored as a symlink and
// never followed. Entries are written in sorted order with root ownership and normalised modes, so
// packing the same tree twice gives the same entries. The compressed output is collected in memory
// and the packer gives up as soon as it grows past the limit.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "archive/archive_rules.h"
#include "archive/include_archive.h"
#include "fstree/dir.h"
#include "fstree/paths.h"
#include "util/fd.h"
#include "util/fs.h"

namespace sp {
namespace {

using archive_internal::ArchiveError;
using archive_internal::ArchiveWriter;
using archive_internal::BaseName;
using archive_internal::DescribeBytes;
using archive_internal::NormalizedMode;
using fstree::FileTypeName;
using fstree::ListDirFd;

constexpr size_t kCopyBuffer = 64 * 1024;

// One tree to pack: a file or a directory named in deploy.yaml.
struct Source {
  std::string kind;  // "includedFiles" or "includedDirectories", for messages
  std::string spec;  // as written in deploy.yaml
  std::string path;  // resolved against base_dir
  std::string name;  // base name, the entry's name in the archive
  bool is_dir = false;
};

std::string Describe(const Source& s) { return s.kind + " '" + s.spec + "'"; }

Result<std::vector<Source>> ResolveSources(const std::vector<std::string>& files,
                                           const std::vector<std::string>& dirs,
                                           const std::string& base_dir) {
  std::vector<Source> sources;
  auto add = [&](const std::string& spec, bool is_dir) -> Status {
    Source s{is_dir ? "includedDirectories" : "includedFiles", spec, spec, BaseName(spec), is_dir};
    if (!spec.empty() && spec.front() != '/' && !base_dir.empty()) s.path = JoinPath(base_dir, spec);
    if (s.name.empty() || s.name == "." || s.name == "..") {
      return Status::InvalidArgument(Describe(s) +
                                     " has no base name to store it under; name it by its own name");
    }
    sources.push_back(std::move(s));
    return Status::Ok();
  };
  for (const auto& f : files) SP_RETURN_IF_ERROR(add(f, false));
  for (const auto& d : dirs) SP_RETURN_IF_ERROR(add(d, true));
  std::map<std::string, const Source*> by_name;
  for (const auto& s : sources) {
    auto [it, inserted] = by_name.emplace(s.name, &s);
    if (!inserted) {
      return Err(Status::InvalidArgument(Describe(*it->second) + " and " + Describe(s) +
                                         " would both unpack to '" + s.name +
                                         "' in /srv/spawnpoint; rename one of them"));
    }
  }
  return sources;
}

class Packer {
 public:
  explicit Packer(const ArchiveLimits& limits) : limits_(limits) {}

  Status Open();
  Status AddSource(const Source& source);
  Result<std::string> Finish();

 private:
  static la_ssize_t Write(struct archive* a, void* self, const void* buf, size_t size);
  Status Failed(std::string_view what);
  Status CountEntry(const std::string& archive_path, const std::string& shown);
  Status WriteHeader(const std::string& archive_path, mode_t type, mode_t mode, int64_t size, time_t mtime,
                     const std::string& symlink_target);
  Status AddFile(Fd fd, const std::string& archive_path, const std::string& shown);
  Status AddDir(Fd fd, const std::string& archive_path, std::vector<std::string>& components,
                const std::string& shown);
  Status AddDirChild(int dir_fd, const std::string& name, const std::string& archive_path,
                     std::vector<std::string>& components, const std::string& shown);

  const ArchiveLimits& limits_;
  std::string out_;
  bool too_big_ = false;
  uint64_t entries_ = 0;
  uint64_t file_bytes_ = 0;
  // Last, so it is destroyed first: freeing an unclosed writer flushes into out_.
  ArchiveWriter writer_;
};

la_ssize_t Packer::Write(struct archive* a, void* self, const void* buf, size_t size) {
  auto* p = static_cast<Packer*>(self);
  if (p->out_.size() + size > p->limits_.max_compressed_bytes) {
    p->too_big_ = true;
    archive_set_error(a, EFBIG, "archive larger than the limit");
    return -1;
  }
  p->out_.append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

Status Packer::Failed(std::string_view what) {
  if (too_big_) {
    return Status::InvalidArgument("the included files compress to more than " +
                                   DescribeBytes(limits_.max_compressed_bytes) +
                                   ", the most a deploy request may carry; include fewer or smaller files");
  }
  return Status::Internal(std::string(what) + ": " + ArchiveError(writer_.get(), "libarchive failed"));
}

Status Packer::Open() {
  writer_.reset(archive_write_new());
  if (!writer_) return Status::Internal("archive_write_new: out of memory");
  struct archive* a = writer_.get();
  if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
    return Failed("set up tar.gz writer");
  }
  if (archive_write_open2(a, this, nullptr, &Packer::Write, nullptr, nullptr) != ARCHIVE_OK) {
    return Failed("open tar.gz writer");
  }
  return Status::Ok();
}

Status Packer::CountEntry(const std::string& archive_path, const std::string& shown) {
  if (++entries_ > limits_.max_entries) {
    return Status::InvalidArgument("the included files and directories hold more than " +
                                   std::to_string(limits_.max_entries) + " entries (reached at " + shown +
                                   "); include fewer files");
  }
  if (archive_path.size() > limits_.max_path_length) {
    return Status::InvalidArgument(
        shown + ": path inside the archive is " + std::to_string(archive_path.size()) +
        " bytes long, more than the limit of " + std::to_string(limits_.max_path_length));
  }
  return Status::Ok();
}

Status Packer::WriteHeader(const std::string& archive_path, mode_t type, mode_t mode, int64_t size,
                           time_t mtime, const std::string& symlink_target) {
  struct archive_entry* e = archive_entry_new();
  if (!e) return Status::Internal("archive_entry_new: out of memory");
  archive_entry_copy_pathname(e, archive_path.c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, mode);
  archive_entry_set_size(e, size);
  archive_entry_set_mtime(e, mtime, 0);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  if (type == AE_IFLNK) archive_entry_copy_symlink(e, symlink_target.c_str());
  int r = archive_write_header(writer_.get(), e);
  archive_entry_free(e);
  if (r < ARCHIVE_WARN) return Failed("write header of " + archive_path);
  return Status::Ok();
}

Status Packer::AddFile(Fd fd, const std::string& archive_path, const std::string& shown) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + shown, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(shown + " is a " + FileTypeName(st.st_mode) + ", not a regular file");
  }
  SP_RETURN_IF_ERROR(CountEntry(archive_path, shown));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (file_bytes_ + size > limits_.max_unpacked_bytes) {
    return Status::InvalidArgument("the included files add up to more than " +
                                   DescribeBytes(limits_.max_unpacked_bytes) + " (reached at " + shown +
                                   ", " + DescribeBytes(size) + "); include fewer or smaller files");
  }
  file_bytes_ += size;
  SP_RETURN_IF_ERROR(
      WriteHeader(archive_path, AE_IFREG, NormalizedMode(st.st_mode, false), st.st_size, st.st_mtime, ""));
  std::string buf(kCopyBuffer, '\0');
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd.get(), buf.data(), std::min<uint64_t>(buf.size(), size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read " + shown, errno);
    if (n == 0) return Status::FailedPrecondition(shown + " shrank while it was being packed; try again");
    if (archive_write_data(writer_.get(), buf.data(), static_cast<size_t>(n)) < 0) {
      return Failed("write data of " + archive_path);
    }
    done += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status Packer::AddDir(Fd fd, const std::string& archive_path, std::vector<std::string>& components,
                      const std::string& shown) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + shown, errno);
  SP_RETURN_IF_ERROR(CountEntry(archive_path, shown));
  SP_RETURN_IF_ERROR(WriteHeader(archive_path, AE_IFDIR, 0755, 0, st.st_mtime, ""));
  SP_ASSIGN_OR_RETURN(auto names, ListDirFd(fd.get(), shown));
  for (const auto& name : names) {
    SP_RETURN_IF_ERROR(
        AddDirChild(fd.get(), name, archive_path + "/" + name, components, JoinPath(shown, name)));
  }
  return Status::Ok();
}

Status Packer::AddDirChild(int dir_fd, const std::string& name, const std::string& archive_path,
                           std::vector<std::string>& components, const std::string& shown) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno("stat " + shown, errno);
  }
  if (S_ISREG(st.st_mode)) {
    Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) return Status::FromErrno("open " + shown, errno);
    return AddFile(std::move(fd), archive_path, shown);
  }
  if (S_ISDIR(st.st_mode)) {
    if (archive_path.size() > limits_.max_path_length) return CountEntry(archive_path, shown);
    Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno("open " + shown, errno);
    components.push_back(name);
    Status s = AddDir(std::move(fd), archive_path, components, shown);
    components.pop_back();
    return s;
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(limits_.max_path_length + 1, '\0');
    ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
    if (n < 0) return Status::FromErrno("readlink " + shown, errno);
    if (static_cast<size_t>(n) > limits_.max_path_length) {
      return Status::InvalidArgument(shown + ": symlink target is longer than the limit of " +
                                     std::to_string(limits_.max_path_length) + " bytes");
    }
    target.resize(static_cast<size_t>(n));
    SP_RETURN_IF_ERROR(fstree::CheckSymlinkTargetLexically(components, target).Annotate(shown));
    SP_RETURN_IF_ERROR(CountEntry(archive_path, shown));
    return WriteHeader(archive_path, AE_IFLNK, 0777, 0, st.st_mtime, target);
  }
  return Status::InvalidArgument(shown + " is a " + FileTypeName(st.st_mode) +
                                 "; only regular files, directories and symlinks can be included");
}

Status Packer::AddSource(const Source& source) {
  std::string shown = Describe(source) + " (" + source.path + ")";
  struct stat st;
  if (::stat(source.path.c_str(), &st) != 0) return Status::FromErrno(shown, errno);
  if (source.is_dir) {
    if (!S_ISDIR(st.st_mode))
      return Status::InvalidArgument(shown + " is a " + FileTypeName(st.st_mode) +
                                     ", not a directory; list it under includedFiles");
    Fd fd(::open(source.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno("open " + shown, errno);
    std::vector<std::string> components{source.name};
    return AddDir(std::move(fd), source.name, components, source.path);
  }
  if (S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(shown + " is a directory; list it under includedDirectories");
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(shown + " is a " + FileTypeName(st.st_mode) +
                                   "; only regular files can be included");
  }
  Fd fd(::open(source.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return Status::FromErrno("open " + shown, errno);
  return AddFile(std::move(fd), source.name, shown);
}

Result<std::string> Packer::Finish() {
  if (archive_write_close(writer_.get()) != ARCHIVE_OK) return Err(Failed("finish tar.gz"));
  if (out_.size() > limits_.max_compressed_bytes) {
    too_big_ = true;
    return Err(Failed("finish tar.gz"));
  }
  return std::move(out_);
}

}  // namespace

Result<std::string> PackIncludes(const std::vector<std::string>& files, const std::vector<std::string>& dirs,
                                 const std::string& base_dir, const ArchiveLimits& limits) {
  if (files.empty() && dirs.empty()) return std::string();  // nothing to carry (nor to unpack)
  SP_ASSIGN_OR_RETURN(auto sources, ResolveSources(files, dirs, base_dir));
  Packer packer(limits);
  SP_RETURN_IF_ERROR(packer.Open());
  for (const auto& source : sources) SP_RETURN_IF_ERROR(packer.AddSource(source));
  return packer.Finish();
}

}  // namespace sp
