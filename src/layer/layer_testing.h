// Test helpers for the layer module: building layer tars (also hostile ones) with libarchive's
// writer, compressing them with gzip or zstd, temporary directories and tree snapshots.
//
// Header-only on purpose: the module's build takes every non-test .cc file into the library, and
// these helpers belong to the tests only. They report problems as gtest failures rather than
// returning errors. Not thread-safe beyond what each call touches.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "archive/archive_testing.h"
#include "layer/unpack_layer.h"
#include "util/fs.h"

namespace sp::layer_testing {

// One tar entry. `zeros` > 0 streams that many zero bytes as the data instead of `data`.
struct Entry {
  std::string path = {};
  unsigned type = AE_IFREG;
  unsigned perm = 0644;
  std::string data = {};
  std::string symlink = {};
  std::string hardlink = {};
  unsigned dev_major = 0;
  unsigned dev_minor = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t mtime = 1700000000;
  long mtime_nsec = 0;
  std::vector<std::pair<std::string, std::string>> xattrs = {};
  uint64_t zeros = 0;
  std::vector<std::pair<int64_t, int64_t>> sparse =
      {};  // data regions (offset, length); `data` is the whole file
};

inline Entry File(std::string path, std::string data, unsigned perm = 0644) {
  return Entry{.path = std::move(path), .perm = perm, .data = std::move(data)};
}
inline Entry Dir(std::string path, unsigned perm = 0755) {
  return Entry{.path = std::move(path), .type = AE_IFDIR, .perm = perm};
}
inline Entry Symlink(std::string path, std::string target) {
  return Entry{.path = std::move(path), .type = AE_IFLNK, .perm = 0777, .symlink = std::move(target)};
}
inline Entry Hardlink(std::string path, std::string target) {
  return Entry{.path = std::move(path), .hardlink = std::move(target)};
}
inline Entry Node(std::string path, unsigned type, unsigned major = 0, unsigned minor = 0) {
  return Entry{.path = std::move(path), .type = type, .perm = 0644, .dev_major = major, .dev_minor = minor};
}

// Writes entries as an uncompressed pax tar (ending with the two zero blocks, no further padding).
inline std::string BuildTar(const std::vector<Entry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  bool sparse = std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return !e.sparse.empty(); });
  if (sparse) {
    archive_write_set_format_pax(a);  // the restricted variant does not write sparse maps
  } else {
    archive_write_set_format_pax_restricted(a);
  }
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, &archive_testing::AppendToString, nullptr, nullptr),
            ARCHIVE_OK);
  for (const auto& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, t.path.c_str());
    archive_entry_set_filetype(e, t.type);
    archive_entry_set_perm(e, t.perm);
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, t.mtime, t.mtime_nsec);
    if (!t.symlink.empty()) archive_entry_copy_symlink(e, t.symlink.c_str());
    if (!t.hardlink.empty()) archive_entry_copy_hardlink(e, t.hardlink.c_str());
    if (t.type == AE_IFCHR || t.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e, t.dev_major);
      archive_entry_set_rdevminor(e, t.dev_minor);
    }
    for (const auto& [name, value] : t.xattrs) {
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    }
    uint64_t size = t.type == AE_IFREG && t.hardlink.empty() ? (t.zeros ? t.zeros : t.data.size()) : 0;
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    for (const auto& [offset, length] : t.sparse) archive_entry_sparse_add_entry(e, offset, length);
    EXPECT_GE(archive_write_header(a, e), ARCHIVE_WARN) << t.path << ": " << archive_error_string(a);
    archive_entry_free(e);
    if (t.zeros) {
      std::string chunk(1 << 20, '\0');
      for (uint64_t done = 0; done < t.zeros; done += chunk.size()) {
        archive_write_data(a, chunk.data(), std::min<uint64_t>(chunk.size(), t.zeros - done));
      }
    } else if (size) {
      archive_write_data(a, t.data.data(), t.data.size());
    }
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
  return out;
}

enum class Compress { kNone, kGzip, kZstd };

inline const char* CompressName(Compress c) {
  return c == Compress::kGzip ? "gzip" : c == Compress::kZstd ? "zstd" : "none";
}

// Compresses arbitrary bytes (e.g. a mutated tar) as one gzip or zstd stream.
inline std::string Compressed(std::string_view data, Compress c) {
  if (c == Compress::kNone) return std::string(data);
  std::string out;
  struct archive* a = archive_write_new();
  EXPECT_EQ(c == Compress::kGzip ? archive_write_add_filter_gzip(a) : archive_write_add_filter_zstd(a),
            ARCHIVE_OK)
      << "libarchive lacks a built-in " << CompressName(c) << " compressor";
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, &archive_testing::AppendToString, nullptr, nullptr),
            ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, e);
  archive_entry_free(e);
  if (!data.empty()) archive_write_data(a, data.data(), data.size());
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
  return out;
}

// A temporary directory removed (with everything below it) when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& pattern = "/tmp/sp-layer-test-XXXXXX") {
    auto dir = MakeTempDir(pattern);
    EXPECT_TRUE(dir) << dir.error().ToString();
    path_ = dir.value_or("");
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (!path_.empty()) {
      EXPECT_TRUE(RemoveLayerDir(path_).ok());
    }
  }
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return JoinPath(path_, name); }

 private:
  std::string path_;
};

inline void WriteBlob(const std::string& path, std::string_view bytes) {
  ASSERT_TRUE(WriteFileAtomic(path, bytes, 0644).ok()) << path;
}

inline std::map<std::string, std::string> Snapshot(const std::string& root) {
  return archive_testing::Snapshot(root);
}

inline struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

// Mounts an overlayfs (`options` as for mount -t overlay) on construction and unmounts it on
// destruction.
class OverlayMount {
 public:
  OverlayMount(const std::string& target, const std::string& options) : target_(target) {
    mounted_ = ::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) == 0;
    error_ = mounted_ ? "" : std::strerror(errno);
  }
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;
  ~OverlayMount() {
    if (mounted_) {
      EXPECT_EQ(::umount2(target_.c_str(), 0), 0) << std::strerror(errno);
    }
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string target_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace sp::layer_testing
