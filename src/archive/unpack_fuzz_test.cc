// Deterministic mutation fuzzing of UnpackIncludes.
//
// Starts from a valid archive (files, directories, symlinks) and unpacks a few thousand mutants of
// it: half mutate the tar bytes before compression (fixing the header checksums most of the time so
// the mutants get past the checksum test and reach the path, type and size handling), half mutate
// the compressed bytes. Whatever the outcome, the sandbox around the destination must be unchanged,
// no staging directory may be left behind, and whatever was accepted must be only regular files,
// directories and relative symlinks with normalised modes. The seed is fixed, so a failure
// reproduces; src/archive/fuzz/unpack_fuzzer.cc is the coverage-guided version of this test.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "archive/archive_testing.h"
#include "archive/include_archive.h"
#include "util/fs.h"

namespace sp {
namespace {

using archive_testing::BuildTar;
using archive_testing::FixHeaderChecksum;
using archive_testing::Gzip;
using archive_testing::HeaderChecksumValid;
using archive_testing::Hex;
using archive_testing::kTarBlock;
using archive_testing::Mutate;
using archive_testing::Snapshot;
using archive_testing::TestEntry;

constexpr int kIterations = 3000;

std::string SeedTar() {
  return BuildTar(
      {
          {.path = "config.yaml", .data = "port: 80\n"},
          {.path = "bin", .type = AE_IFDIR, .perm = 0755},
          {.path = "bin/run.sh", .perm = 0755, .data = "#!/bin/sh\nexec true\n"},
          {.path = "assets/img/logo.png", .data = std::string(700, 'L')},
          {.path = "assets/current", .type = AE_IFLNK, .perm = 0777, .symlink = "img/logo.png"},
          {.path = "assets/img/up", .type = AE_IFLNK, .perm = 0777, .symlink = "../../bin"},
          {.path = "a/very/long/path/" + std::string(120, 'n') + "/file", .data = "long"},
      },
      /*gzip=*/false);
}

// Characters that matter in paths, modes and octal sizes.
constexpr std::string_view kTarBytes("/.\0 7-09xLK12", 13);

// Everything an accepted archive left in dest must be a file, directory or relative symlink with a
// normalised mode.
void ExpectOnlySafeEntries(const std::string& dest, const std::string& archive_hex) {
  for (const auto& [path, desc] : Snapshot(dest)) {
    struct stat st;
    ASSERT_EQ(::lstat(JoinPath(dest, path).c_str(), &st), 0);
    mode_t perm = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(perm, 0755u) << path << " in " << archive_hex;
    } else if (S_ISREG(st.st_mode)) {
      EXPECT_TRUE(perm == 0644 || perm == 0755) << path << " in " << archive_hex;
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(JoinPath(dest, path).c_str(), target, sizeof target);
      ASSERT_GT(n, 0);
      EXPECT_NE(target[0], '/') << path << " in " << archive_hex;
    } else {
      ADD_FAILURE() << path << " has a refused type, mode " << st.st_mode;
    }
  }
}

class UnpackFuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // tmpfs when there is one: thousands of mkdir/rename/unlink calls are slow on a journaled disk.
    std::string tmpl =
        PathExists("/dev/shm") ? "/dev/shm/sp-archive-fuzz-XXXXXX" : "/tmp/sp-archive-fuzz-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(MakeDirs(root_ + "/parent/dest").ok());
    ASSERT_TRUE(MakeDirs(root_ + "/outside").ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/outside/secret", "do not touch\n").ok());
  }
  void TearDown() override { (void)RemoveAll(root_); }
  std::string root_;
};

TEST_F(UnpackFuzzTest, MutatedArchivesNeverEscapeTheSandbox) {
  const std::string root = root_, parent = root + "/parent", dest = parent + "/dest";
  const auto outside_before = Snapshot(root + "/outside");

  const std::string seed_tar = SeedTar();
  std::vector<size_t> headers;
  for (size_t off = 0; off + kTarBlock <= seed_tar.size(); off += kTarBlock) {
    if (HeaderChecksumValid(seed_tar, off)) headers.push_back(off);
  }
  ASSERT_GE(headers.size(), 7u);
  const std::string seed = Gzip(seed_tar);
  ASSERT_TRUE(UnpackIncludes(seed, dest).ok());

  ArchiveLimits limits;
  limits.max_unpacked_bytes = 1 << 20;
  limits.max_entries = 64;
  std::mt19937 rng(20261123);
  int accepted = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string archive;
    if (i % 2 == 0) {
      std::string tar = seed_tar;
      Mutate(tar, rng, kTarBytes);
      if (rng() % 4 != 0) {
        for (size_t off : headers) FixHeaderChecksum(tar, off);
      }
      archive = Gzip(tar);
    } else {
      archive = seed;
      Mutate(archive, rng, kTarBytes);
    }
    Status s = UnpackIncludes(archive, dest, limits);
    if (s.ok()) ++accepted;
    ASSERT_EQ(*ListDir(root), (std::vector<std::string>{"outside", "parent"})) << "iteration " << i;
    ASSERT_EQ(*ListDir(parent), std::vector<std::string>{"dest"}) << "iteration " << i;
    ASSERT_EQ(Snapshot(root + "/outside"), outside_before) << "iteration " << i;
    ExpectOnlySafeEntries(dest, Hex(archive));
    if (HasFailure()) break;
    auto names = ListDir(dest);
    ASSERT_TRUE(names);
    for (const auto& name : *names) ASSERT_TRUE(RemoveAll(JoinPath(dest, name)).ok());
  }
  // Some mutants must get through, or the test only exercised the earliest checks.
  EXPECT_GT(accepted, kIterations / 20);
}

}  // namespace
}  // namespace sp
