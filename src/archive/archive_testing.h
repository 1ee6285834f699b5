// Test helpers for the archive module: building arbitrary (also hostile) tar.gz archives with
// libarchive's writer, taking snapshots of directory trees to prove nothing changed, and mutating
// tar bytes for the fuzz tests (here and in the layer module's).
//
// Header-only on purpose: the module's build takes every non-test .cc file into the library, and
// these helpers belong to the tests only. They abort the test (gtest ADD_FAILURE) rather than
// returning errors. Not thread-safe beyond what each call touches.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "util/fs.h"

namespace sp::archive_testing {

// One entry to write. `zeros` > 0 streams that many zero bytes as the data instead of `data`.
struct TestEntry {
  std::string path = {};
  unsigned type = AE_IFREG;
  unsigned perm = 0644;
  std::string data = {};
  std::string symlink = {};
  std::string hardlink = {};
  dev_t rdev = 0;
  uint64_t zeros = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  std::string xattr_value = {};  // if set, stored as the pax extended attribute user.big
};

inline la_ssize_t AppendToString(struct archive*, void* out, const void* buf, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

// Writes entries as a pax tar, gzip-compressed unless `gzip` is false.
inline std::string BuildTar(const std::vector<TestEntry>& entries, bool gzip = true) {
  std::string out;
  struct archive* a = archive_write_new();
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, &AppendToString, nullptr, nullptr), ARCHIVE_OK);
  for (const auto& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, t.path.c_str());
    archive_entry_set_filetype(e, t.type);
    archive_entry_set_perm(e, t.perm);
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (!t.symlink.empty()) archive_entry_copy_symlink(e, t.symlink.c_str());
    if (!t.hardlink.empty()) archive_entry_copy_hardlink(e, t.hardlink.c_str());
    if (t.rdev) archive_entry_set_rdev(e, t.rdev);
    if (!t.xattr_value.empty()) {
      archive_entry_xattr_add_entry(e, "user.big", t.xattr_value.data(), t.xattr_value.size());
    }
    uint64_t size = t.type == AE_IFREG && t.hardlink.empty() ? (t.zeros ? t.zeros : t.data.size()) : 0;
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    EXPECT_GE(archive_write_header(a, e), ARCHIVE_WARN) << archive_error_string(a);
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

// Gzip-compresses arbitrary bytes (e.g. a mutated tar).
inline std::string Gzip(std::string_view data) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, &AppendToString, nullptr, nullptr), ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, e);
  archive_entry_free(e);
  if (!data.empty()) archive_write_data(a, data.data(), data.size());
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Every path below `root` (relative) mapped to "type mode content-or-target", symlinks not followed.
inline void SnapshotInto(const std::string& root, const std::string& rel,
                         std::map<std::string, std::string>& out) {
  auto names = ListDir(rel.empty() ? root : JoinPath(root, rel));
  if (!names) return;
  for (const auto& n : *names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    std::string full = JoinPath(root, r);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) continue;
    std::string desc = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + " ";
    if (S_ISREG(st.st_mode)) {
      desc += ReadFile(full).value_or("<unreadable>");
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t len = ::readlink(full.c_str(), buf, sizeof buf);
      desc += std::string(buf, len > 0 ? static_cast<size_t>(len) : 0);
    }
    out[r] = desc;
    if (S_ISDIR(st.st_mode)) SnapshotInto(root, r, out);
  }
}

inline std::map<std::string, std::string> Snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  SnapshotInto(root, "", out);
  return out;
}

// ---- for the fuzz tests: mutating tar bytes -------------------------------------------------------

inline constexpr size_t kTarBlock = 512;

// Whether the 512-byte block at `off` is a tar header with a valid checksum.
inline bool HeaderChecksumValid(const std::string& tar, size_t off) {
  unsigned sum = 0;
  for (size_t i = 0; i < kTarBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(tar[off + i]);
  }
  return sum == std::strtoul(tar.substr(off + 148, 8).c_str(), nullptr, 8) && sum != 8 * ' ';
}

// Rewrites the checksum of the header at `off` (if the block is still there), so a mutated header
// reaches the parser's other checks.
inline void FixHeaderChecksum(std::string& tar, size_t off) {
  if (off + kTarBlock > tar.size()) return;
  unsigned sum = 0;
  for (size_t i = 0; i < kTarBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(tar[off + i]);
  }
  char field[9];
  std::snprintf(field, sizeof field, "%06o", sum & 0777777);
  std::memcpy(&tar[off + 148], field, 7);
  tar[off + 155] = ' ';
}

// 1 to 8 random changes: bit flips, random bytes, bytes from `alphabet` (the characters that
// matter to the format under test), insertions, deletions and truncations.
inline void Mutate(std::string& bytes, std::mt19937& rng, std::string_view alphabet) {
  int changes = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < changes && !bytes.empty(); ++i) {
    size_t pos = rng() % bytes.size();
    switch (rng() % 6) {
      case 0:
        bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (rng() % 8)));
        break;
      case 1:
        bytes[pos] = static_cast<char>(rng());
        break;
      case 2:
        bytes[pos] = alphabet[rng() % alphabet.size()];
        break;
      case 3:
        bytes.insert(pos, 1, static_cast<char>(rng()));
        break;
      case 4:
        bytes.erase(pos, 1);
        break;
      default:
        if (rng() % 4 == 0) bytes.resize(pos);
        break;
    }
  }
}

// The first 2 KiB of `bytes` in hex, to reproduce a failing case from the test's output.
inline std::string Hex(const std::string& bytes) {
  std::string out;
  char buf[4];
  for (unsigned char c : bytes.substr(0, 2048)) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

}  // namespace sp::archive_testing
