// Deterministic mutation fuzzing of UnpackLayer.
//
// Starts from a valid layer (files with owners and setuid bits, directories, relative and absolute
// symlinks, a hard link, a FIFO, whiteouts, an opaque marker, xattrs) and unpacks a few thousand
// mutants of it: half mutate the tar before compression (fixing the header checksums most of the
// time, so mutants reach the path, type and size handling), half mutate the gzip bytes. Whatever
// the outcome, nothing outside the destination may change, no temporary directory may be left, a
// refused layer leaves no destination, and an accepted one holds only what the rules allow: no
// device but whiteouts, no .wh. names, no relative symlink climbing above the root. The seed is
// fixed, so a failure reproduces.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "archive/archive_rules.h"
#include "fstree/dir.h"
#include "fstree/paths.h"
#include "layer/layer_testing.h"
#include "layer/unpack_layer.h"
#include "util/fs.h"

namespace sp {
namespace {

using archive_testing::FixHeaderChecksum;
using archive_testing::HeaderChecksumValid;
using archive_testing::Hex;
using archive_testing::kTarBlock;
using archive_testing::Mutate;
using layer_testing::Compress;
using layer_testing::Compressed;
using layer_testing::Dir;
using layer_testing::Entry;
using layer_testing::File;
using layer_testing::Hardlink;
using layer_testing::Node;
using layer_testing::Symlink;

constexpr int kIterations = 3000;

std::string SeedTar() {
  Entry sh = File("bin/sh", "#!ELF\n", 04755);
  sh.uid = 0;
  sh.gid = 50;
  sh.xattrs = {{"user.note", "n"}};
  Entry home = Dir("home/u", 0700);
  home.uid = home.gid = 1000;
  return layer_testing::BuildTar({
      Dir("etc"),
      File("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
      sh,
      Symlink("bin/bash", "sh"),
      Symlink("usr/lib/abs", "/lib"),
      Symlink("usr/lib/up", "../../etc"),
      Hardlink("bin/sh2", "bin/sh"),
      Node("run/fifo", AE_IFIFO),
      home,
      File("home/u/.profile", std::string(700, 'p')),
      File("a/.wh.gone", ""),
      File("d/.wh..wh..opq", ""),
      File("d/f", "f"),
  });
}

// Characters that matter in paths, type flags, modes and octal sizes.
constexpr std::string_view kTarBytes("/.\0 7-09xLK1234563w", 20);

// Checks every entry below the directory `dir_fd` (at `rel`, `depth` levels below the root) against
// what an accepted layer may hold. Descriptor-relative: accepted paths may exceed PATH_MAX here.
void ExpectOnlyAllowedEntries(int dir_fd, const std::string& rel, size_t depth) {
  auto names = fstree::ListDirFd(dir_fd, rel);
  ASSERT_TRUE(names) << names.error().ToString();
  for (const auto& name : *names) {
    std::string path = rel.empty() ? name : rel + "/" + name;
    EXPECT_NE(name.rfind(".wh.", 0), 0u) << path;
    struct stat st;
    ASSERT_EQ(::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0) << path;
    if (S_ISDIR(st.st_mode)) {
      int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      ASSERT_GE(fd, 0) << path;
      ExpectOnlyAllowedEntries(fd, path, depth + 1);
      ::close(fd);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), target, sizeof target);
      ASSERT_GT(n, 0) << path;
      std::string t(target, static_cast<size_t>(n));
      if (t[0] != '/') {
        std::vector<std::string> parent(depth, "x");
        EXPECT_TRUE(fstree::CheckSymlinkTargetLexically(parent, t).ok()) << path << " -> " << t;
      }
    } else if (S_ISCHR(st.st_mode)) {
      EXPECT_EQ(st.st_rdev, 0u) << path << " is a device that is not a whiteout";
    } else {
      EXPECT_TRUE(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) << path << " has mode " << st.st_mode;
    }
  }
}

TEST(UnpackLayerFuzzTest, MutatedLayersNeverEscapeOrLeaveDebris) {
  // tmpfs when there is one: thousands of mkdir/rename/unlink calls are slow on a journaled disk.
  layer_testing::TempDir tmp(PathExists("/dev/shm") ? "/dev/shm/sp-layer-fuzz-XXXXXX"
                                                    : "/tmp/sp-layer-fuzz-XXXXXX");
  const std::string root = tmp.path(), layers = root + "/layers", dest = layers + "/layer",
                    blob = root + "/blob";
  ASSERT_TRUE(MakeDirs(layers).ok());
  ASSERT_TRUE(MakeDirs(root + "/outside/etc").ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/outside/etc/passwd", "do not touch\n").ok());
  const auto outside_before = layer_testing::Snapshot(root + "/outside");
  const std::string passwd_before = ReadFile("/etc/passwd").value_or("");

  const std::string seed_tar = SeedTar();
  std::vector<size_t> headers;
  for (size_t off = 0; off + kTarBlock <= seed_tar.size(); off += kTarBlock) {
    if (HeaderChecksumValid(seed_tar, off)) headers.push_back(off);
  }
  ASSERT_GE(headers.size(), 13u);
  const std::string seed = Compressed(seed_tar, Compress::kGzip);
  layer_testing::WriteBlob(blob, seed);
  ASSERT_TRUE(UnpackLayer(blob, dest, std::nullopt, {}));
  ASSERT_TRUE(RemoveLayerDir(dest).ok());

  UnpackOptions options;
  options.max_bytes = 1 << 20;
  options.max_entries = 64;
  std::mt19937 rng(20261124);
  int accepted = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string layer;
    if (i % 2 == 0) {
      std::string tar = seed_tar;
      Mutate(tar, rng, kTarBytes);
      if (rng() % 4 != 0) {
        for (size_t off : headers) FixHeaderChecksum(tar, off);
      }
      layer = rng() % 2 ? Compressed(tar, Compress::kGzip) : tar;
    } else {
      layer = seed;
      Mutate(layer, rng, kTarBytes);
    }
    layer_testing::WriteBlob(blob, layer);
    auto result = UnpackLayer(blob, dest, std::nullopt, options);
    SCOPED_TRACE("iteration " + std::to_string(i) + ": " + (result ? "accepted" : result.error().ToString()));
    ASSERT_EQ(*ListDir(root), (std::vector<std::string>{"blob", "layers", "outside"}));
    ASSERT_EQ(*ListDir(layers), result ? std::vector<std::string>{"layer"} : std::vector<std::string>{});
    ASSERT_EQ(layer_testing::Snapshot(root + "/outside"), outside_before);
    if (result) {
      ++accepted;
      int fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      ExpectOnlyAllowedEntries(fd, "", 0);
      ::close(fd);
      if (HasFailure()) ADD_FAILURE() << "layer: " << Hex(layer);
      ASSERT_TRUE(RemoveLayerDir(dest).ok());
    }
    if (HasFailure()) break;
  }
  EXPECT_EQ(ReadFile("/etc/passwd").value_or(""), passwd_before);
  RecordProperty("accepted", accepted);
  // Some mutants must get through, or the test only exercised the earliest checks.
  EXPECT_GT(accepted, kIterations / 20);
}

}  // namespace
}  // namespace sp
