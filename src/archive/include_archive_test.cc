// Tests of PackIncludes and UnpackIncludes: a round trip through a real source tree, the packer's
// refusals, and one test per kind of hostile archive. Hostile archives are written in the test with
// libarchive's writer. Every refusal must leave the whole sandbox (destination, its parent and a
// sibling "outside" directory) exactly as it was, with no staging directory left behind.
#include "archive/include_archive.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <random>

#include "archive/archive_testing.h"
#include "util/fs.h"

namespace sp {
namespace {

using archive_testing::BuildTar;
using archive_testing::Snapshot;
using archive_testing::TestEntry;
using ::testing::HasSubstr;

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sp-archive-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    outside_ = root_ + "/outside";
    parent_ = root_ + "/parent";
    dest_ = parent_ + "/dest";
    ASSERT_TRUE(MakeDirs(outside_).ok());
    ASSERT_TRUE(MakeDirs(dest_ + "/replace").ok());
    ASSERT_TRUE(WriteFileAtomic(outside_ + "/secret", "do not touch\n").ok());
    ASSERT_TRUE(WriteFileAtomic(dest_ + "/keep.txt", "kept\n").ok());
    ASSERT_TRUE(WriteFileAtomic(dest_ + "/replace/old.txt", "old\n").ok());
  }
  void TearDown() override { (void)RemoveAll(root_); }

  // Unpacks `archive` and expects a refusal whose message holds `expected`, with the sandbox unchanged.
  void ExpectRefused(const std::string& archive, const std::string& expected,
                     const ArchiveLimits& limits = {}) {
    auto before = Snapshot(root_);
    Status s = UnpackIncludes(archive, dest_, limits);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(expected));
    EXPECT_EQ(Snapshot(root_), before) << "the refused archive changed the sandbox";
    EXPECT_EQ(*ListDir(parent_), std::vector<std::string>{"dest"}) << "staging directory left behind";
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode;
  }

  std::string root_, outside_, parent_, dest_;
};

// A source tree with files, an executable, nested and empty directories and a relative symlink.
class PackTest : public ArchiveTest {
 protected:
  void SetUp() override {
    ArchiveTest::SetUp();
    src_ = root_ + "/src";
    ASSERT_TRUE(MakeDirs(src_ + "/assets/img").ok());
    ASSERT_TRUE(MakeDirs(src_ + "/assets/empty").ok());
    ASSERT_TRUE(MakeDirs(src_ + "/bin").ok());
    ASSERT_TRUE(WriteFileAtomic(src_ + "/config.yaml", "port: 80\n").ok());
    ASSERT_TRUE(WriteFileAtomic(src_ + "/bin/run.sh", "#!/bin/sh\necho hi\n", 04775).ok());
    ASSERT_TRUE(WriteFileAtomic(src_ + "/assets/img/logo.png", std::string("\x89PNG\0\1\2", 7)).ok());
    ASSERT_EQ(::symlink("img/logo.png", (src_ + "/assets/current").c_str()), 0);
    ASSERT_EQ(::symlink("../../assets", (src_ + "/assets/img/up").c_str()), 0);
  }
  std::string src_;
};

TEST_F(PackTest, RoundTripKeepsFilesDirectoriesAndSymlinks) {
  auto archive = PackIncludes({"config.yaml", src_ + "/bin/run.sh"}, {"assets/"}, src_);
  ASSERT_TRUE(archive) << archive.error().ToString();
  ASSERT_TRUE(UnpackIncludes(*archive, dest_).ok());

  EXPECT_EQ(*ReadFile(dest_ + "/config.yaml"), "port: 80\n");
  EXPECT_EQ(*ReadFile(dest_ + "/run.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(ModeOf(dest_ + "/run.sh") & 07777, 0755u);
  EXPECT_EQ(ModeOf(dest_ + "/config.yaml") & 07777, 0644u);
  EXPECT_EQ(*ReadFile(dest_ + "/assets/img/logo.png"), std::string("\x89PNG\0\1\2", 7));
  EXPECT_TRUE(S_ISDIR(ModeOf(dest_ + "/assets/empty")));
  EXPECT_EQ(ModeOf(dest_ + "/assets") & 07777, 0755u);
  ASSERT_TRUE(S_ISLNK(ModeOf(dest_ + "/assets/current")));
  char target[64] = {};
  ASSERT_GT(::readlink((dest_ + "/assets/current").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "img/logo.png");
  EXPECT_EQ(*ReadFile(dest_ + "/assets/current"), std::string("\x89PNG\0\1\2", 7));
  EXPECT_TRUE(S_ISLNK(ModeOf(dest_ + "/assets/img/up")));
  // Entries not in the archive stay; nothing else appears next to dest.
  EXPECT_EQ(*ReadFile(dest_ + "/keep.txt"), "kept\n");
  EXPECT_EQ(*ListDir(parent_), std::vector<std::string>{"dest"});
  EXPECT_EQ(*ListDir(dest_),
            (std::vector<std::string>{"assets", "config.yaml", "keep.txt", "replace", "run.sh"}));
}

TEST_F(PackTest, SecondUnpackReplacesSameNamedEntries) {
  auto first = PackIncludes({}, {"assets"}, src_);
  ASSERT_TRUE(first);
  ASSERT_TRUE(UnpackIncludes(*first, dest_).ok());
  ASSERT_TRUE(RemoveAll(src_ + "/assets/img").ok());
  ASSERT_TRUE(WriteFileAtomic(src_ + "/assets/new.txt", "new\n").ok());
  auto second = PackIncludes({}, {"assets"}, src_);
  ASSERT_TRUE(second);
  ASSERT_TRUE(UnpackIncludes(*second, dest_).ok());
  EXPECT_EQ(*ReadFile(dest_ + "/assets/new.txt"), "new\n");
  EXPECT_FALSE(PathExists(dest_ + "/assets/img"));
  EXPECT_EQ(*ListDir(parent_), std::vector<std::string>{"dest"});
}

TEST_F(PackTest, MissingFileIsNamed) {
  auto archive = PackIncludes({"config.yaml", "nope.txt"}, {}, src_);
  ASSERT_FALSE(archive);
  EXPECT_EQ(archive.error().code(), Code::kNotFound);
  EXPECT_THAT(archive.error().message(), HasSubstr("includedFiles 'nope.txt'"));
  EXPECT_THAT(archive.error().message(), HasSubstr(src_ + "/nope.txt"));
}

TEST_F(PackTest, DuplicateBaseNamesNameBoth) {
  ASSERT_TRUE(MakeDirs(src_ + "/other/config.yaml").ok());
  auto archive = PackIncludes({"config.yaml"}, {"other/config.yaml"}, src_);
  ASSERT_FALSE(archive);
  EXPECT_EQ(archive.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(archive.error().message(), HasSubstr("includedFiles 'config.yaml'"));
  EXPECT_THAT(archive.error().message(), HasSubstr("includedDirectories 'other/config.yaml'"));
}

TEST_F(PackTest, OversizeArchiveStatesSizeAndLimit) {
  std::mt19937 rng(7);
  std::string noise(64 * 1024, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  ASSERT_TRUE(WriteFileAtomic(src_ + "/noise.bin", noise).ok());
  ArchiveLimits limits;
  limits.max_compressed_bytes = 16 * 1024;
  auto archive = PackIncludes({"noise.bin"}, {}, src_, limits);
  ASSERT_FALSE(archive);
  EXPECT_EQ(archive.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(archive.error().message(), HasSubstr("more than 0.0 MiB (16384 bytes)"));
}

TEST_F(PackTest, UnpackedSizeAndEntryLimitsApplyWhenPacking) {
  ArchiveLimits small;
  small.max_unpacked_bytes = 4;
  auto too_big = PackIncludes({"config.yaml"}, {}, src_, small);
  ASSERT_FALSE(too_big);
  EXPECT_THAT(too_big.error().message(), HasSubstr("add up to more than"));
  ArchiveLimits few;
  few.max_entries = 3;
  auto too_many = PackIncludes({}, {"assets"}, src_, few);
  ASSERT_FALSE(too_many);
  EXPECT_THAT(too_many.error().message(), HasSubstr("more than 3 entries"));
}

TEST_F(PackTest, RefusesSpecialFilesAndEscapingSymlinks) {
  ASSERT_EQ(::mkfifo((src_ + "/assets/pipe").c_str(), 0644), 0);
  auto fifo = PackIncludes({}, {"assets"}, src_);
  ASSERT_FALSE(fifo);
  EXPECT_THAT(fifo.error().message(), HasSubstr(src_ + "/assets/pipe is a FIFO"));
  ASSERT_EQ(::unlink((src_ + "/assets/pipe").c_str()), 0);

  ASSERT_EQ(::symlink("/usr/bin/python3", (src_ + "/assets/python").c_str()), 0);
  auto absolute = PackIncludes({}, {"assets"}, src_);
  ASSERT_FALSE(absolute);
  EXPECT_THAT(absolute.error().message(), HasSubstr("is absolute"));
  ASSERT_EQ(::unlink((src_ + "/assets/python").c_str()), 0);

  ASSERT_EQ(::symlink("../../../etc", (src_ + "/assets/img/etc").c_str()), 0);
  auto escaping = PackIncludes({}, {"assets"}, src_);
  ASSERT_FALSE(escaping);
  EXPECT_THAT(escaping.error().message(), HasSubstr("points outside"));
}

TEST_F(PackTest, RefusesWrongKindOfSource) {
  auto dir_as_file = PackIncludes({"assets"}, {}, src_);
  ASSERT_FALSE(dir_as_file);
  EXPECT_THAT(dir_as_file.error().message(), HasSubstr("list it under includedDirectories"));
  auto file_as_dir = PackIncludes({}, {"config.yaml"}, src_);
  ASSERT_FALSE(file_as_dir);
  EXPECT_THAT(file_as_dir.error().message(), HasSubstr("not a directory"));
  auto no_name = PackIncludes({"/"}, {}, src_);
  ASSERT_FALSE(no_name);
  EXPECT_THAT(no_name.error().message(), HasSubstr("no base name"));
}

TEST_F(ArchiveTest, EmptyArchivesUnpackNothing) {
  auto before = Snapshot(root_);
  EXPECT_TRUE(UnpackIncludes("", dest_).ok());
  EXPECT_TRUE(UnpackIncludes(BuildTar({}), dest_).ok());
  auto packed = PackIncludes({}, {}, root_);
  ASSERT_TRUE(packed);
  EXPECT_EQ(*packed, "");  // nothing travels, nothing is unpacked
  EXPECT_TRUE(UnpackIncludes(*packed, dest_).ok());
  EXPECT_EQ(Snapshot(root_), before);
  EXPECT_EQ(*ListDir(parent_), std::vector<std::string>{"dest"});
}

TEST_F(ArchiveTest, ModesAreMaskedAndOwnersIgnored) {
  std::vector<TestEntry> entries = {
      {.path = "suid", .perm = 04755, .data = "x", .uid = 1234, .gid = 1234},
      {.path = "sgid", .perm = 02666, .data = "y"},
      {.path = "sticky", .type = AE_IFDIR, .perm = 01777},
      {.path = "private", .perm = 0600, .data = "z"},
  };
  ASSERT_TRUE(UnpackIncludes(BuildTar(entries), dest_).ok());
  EXPECT_EQ(ModeOf(dest_ + "/suid") & 07777, 0755u);
  EXPECT_EQ(ModeOf(dest_ + "/sgid") & 07777, 0644u);
  EXPECT_EQ(ModeOf(dest_ + "/sticky") & 07777, 0755u);
  EXPECT_EQ(ModeOf(dest_ + "/private") & 07777, 0644u);
  struct stat st;
  ASSERT_EQ(::stat((dest_ + "/suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_gid, ::getegid());
}

TEST_F(ArchiveTest, ImplicitParentDirectoriesAreCreated) {
  ASSERT_TRUE(UnpackIncludes(BuildTar({{.path = "./a/b/c.txt", .data = "c"}}), dest_).ok());
  EXPECT_EQ(*ReadFile(dest_ + "/a/b/c.txt"), "c");
  EXPECT_EQ(ModeOf(dest_ + "/a/b") & 07777, 0755u);
}

TEST_F(ArchiveTest, RefusesAbsolutePath) {
  ExpectRefused(BuildTar({{.path = "ok.txt", .data = "fine"}, {.path = outside_ + "/abs", .data = "x"}}),
                "absolute path");
}

TEST_F(ArchiveTest, RefusesDotDot) {
  ExpectRefused(BuildTar({{.path = "../x", .data = "x"}}), "'..' component");
  ExpectRefused(BuildTar({{.path = "a/b.txt", .data = "b"}, {.path = "a/../../x", .data = "x"}}),
                "'..' component");
}

TEST_F(ArchiveTest, RefusesAbsoluteSymlinkAndWritingThroughIt) {
  ExpectRefused(BuildTar({{.path = "evil", .type = AE_IFLNK, .symlink = outside_},
                          {.path = "evil/secret", .data = "overwritten"}}),
                "is absolute");
  EXPECT_EQ(*ReadFile(outside_ + "/secret"), "do not touch\n");
}

TEST_F(ArchiveTest, RefusesEntriesThroughSymlinks) {
  ExpectRefused(BuildTar({{.path = "sub", .type = AE_IFDIR, .perm = 0755},
                          {.path = "link", .type = AE_IFLNK, .symlink = "sub"},
                          {.path = "link/x", .data = "x"}}),
                "goes through 'link', which is a symlink");
  ExpectRefused(BuildTar({{.path = "file", .data = "f"}, {.path = "file/x", .data = "x"}}),
                "goes through 'file', which is a regular file");
}

TEST_F(ArchiveTest, RefusesSymlinksPointingOutside) {
  ExpectRefused(BuildTar({{.path = "up", .type = AE_IFLNK, .symlink = "../outside"}}), "points outside");
  ExpectRefused(BuildTar({{.path = "a/b/up", .type = AE_IFLNK, .symlink = "../../../parent"}}),
                "points outside");
  // Each link alone stays inside; followed through each other they leave.
  ExpectRefused(BuildTar({{.path = "s", .type = AE_IFLNK, .symlink = "."},
                          {.path = "t", .type = AE_IFLNK, .symlink = "s/.."}}),
                "resolves outside");
  ExpectRefused(BuildTar({{.path = "a/s", .type = AE_IFLNK, .symlink = ".."},
                          {.path = "t", .type = AE_IFLNK, .symlink = "a/s/../outside"}}),
                "resolves outside");
}

TEST_F(ArchiveTest, AcceptsSymlinksChainedInside) {
  ASSERT_TRUE(UnpackIncludes(BuildTar({{.path = "a/s", .type = AE_IFLNK, .symlink = ".."},
                                       {.path = "a/t", .type = AE_IFLNK, .symlink = "s/a"},
                                       {.path = "loop", .type = AE_IFLNK, .symlink = "dangling/../x"}}),
                             dest_)
                  .ok());
  EXPECT_TRUE(S_ISLNK(ModeOf(dest_ + "/a/t")));
}

TEST_F(ArchiveTest, RefusesSymlinkLoops) {
  ExpectRefused(BuildTar({{.path = "x", .type = AE_IFLNK, .symlink = "y"},
                          {.path = "y", .type = AE_IFLNK, .symlink = "x"}}),
                "loops");
}

TEST_F(ArchiveTest, RefusesHardLink) {
  ExpectRefused(BuildTar({{.path = "a", .data = "a"}, {.path = "b", .hardlink = "a"}}), "is a hard link");
  ExpectRefused(BuildTar({{.path = "b", .hardlink = outside_ + "/secret"}}), "is a hard link");
}

TEST_F(ArchiveTest, RefusesDevicesFifosAndSockets) {
  ExpectRefused(BuildTar({{.path = "null", .type = AE_IFCHR, .perm = 0666, .rdev = makedev(1, 3)}}),
                "is a character device");
  ExpectRefused(BuildTar({{.path = "disk", .type = AE_IFBLK, .perm = 0660, .rdev = makedev(8, 0)}}),
                "is a block device");
  ExpectRefused(BuildTar({{.path = "pipe", .type = AE_IFIFO}}), "is a FIFO");
}

TEST_F(ArchiveTest, RefusesDuplicateEntries) {
  ExpectRefused(BuildTar({{.path = "a", .data = "1"}, {.path = "a", .data = "2"}}), "more than once");
  ExpectRefused(BuildTar({{.path = "a", .data = "1"}, {.path = "a", .type = AE_IFDIR, .perm = 0755}}),
                "already created it as something else");
}

TEST_F(ArchiveTest, RefusesTooManyEntries) {
  ArchiveLimits limits;
  limits.max_entries = 3;
  ExpectRefused(BuildTar({{.path = "a"}, {.path = "b"}, {.path = "c"}, {.path = "d"}}), "more than 3 entries",
                limits);
}

TEST_F(ArchiveTest, RefusesLongPaths) {
  ArchiveLimits limits;
  limits.max_path_length = 16;
  ExpectRefused(BuildTar({{.path = std::string(17, 'p')}}), "longer than the limit of 16", limits);
  ExpectRefused(BuildTar({{.path = "l", .type = AE_IFLNK, .symlink = std::string(17, 'p')}}),
                "longer than the limit of 16", limits);
}

TEST_F(ArchiveTest, StopsGzipBombAtTheLimit) {
  ArchiveLimits limits;
  limits.max_unpacked_bytes = 1 << 20;
  std::string bomb = BuildTar({{.path = "zeros", .zeros = 64u << 20}});
  ASSERT_LT(bomb.size(), 256u * 1024);
  ExpectRefused(bomb, "add up to more than 1.0 MiB", limits);
  // Several files each under the limit are refused once their sum passes it.
  ExpectRefused(BuildTar({{.path = "a", .zeros = 600 << 10}, {.path = "b", .zeros = 600 << 10}}),
                "reached at 'b'", limits);
}

TEST_F(ArchiveTest, StopsHugeHeadersWhileDecompressing) {
  // libarchive itself refuses one pax header over 1 MiB (32 MiB here compresses to a few KiB).
  ExpectRefused(BuildTar({{.path = "a", .data = "a", .xattr_value = std::string(32u << 20, 'A')}}),
                "too large");
  // Headers each under that size but together far beyond what the entries need hit our budget.
  std::string header(300u << 10, 'A');
  ExpectRefused(BuildTar({{.path = "a", .xattr_value = header},
                          {.path = "b", .xattr_value = header},
                          {.path = "c", .xattr_value = header}}),
                "decompression bomb");
}

TEST_F(ArchiveTest, RefusesOversizedCompressedArchive) {
  ArchiveLimits limits;
  limits.max_compressed_bytes = 100;
  std::string archive = BuildTar({{.path = "a", .data = std::string(1000, 'a')}, {.path = "b", .data = "b"}});
  ASSERT_GT(archive.size(), 100u);
  ExpectRefused(archive, "more than the limit of", limits);
}

TEST_F(ArchiveTest, RefusesTruncatedCorruptAndForeignInput) {
  std::string good = BuildTar({{.path = "a", .data = std::string(5000, 'a')}, {.path = "b/c", .data = "c"}});
  ExpectRefused(good.substr(0, good.size() / 2), "truncated");
  ExpectRefused(good.substr(0, good.size() - 4), "");
  std::string corrupt = good;
  for (size_t i = 20; i < 40 && i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  ExpectRefused(corrupt, "");
  ExpectRefused("this is not an archive", "not a gzip-compressed tar archive");
  ExpectRefused(BuildTar({{.path = "a", .data = "a"}}, /*gzip=*/false), "not a gzip-compressed tar archive");
  ExpectRefused(archive_testing::Gzip("plain text, not tar"), "tar");
}

TEST_F(ArchiveTest, RefusesDestinationThatIsNotADirectory) {
  ASSERT_EQ(::symlink(outside_.c_str(), (parent_ + "/link").c_str()), 0);
  Status s = UnpackIncludes(BuildTar({{.path = "a", .data = "a"}}), parent_ + "/link");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_FALSE(PathExists(outside_ + "/a"));
  s = UnpackIncludes(BuildTar({{.path = "a", .data = "a"}}), parent_ + "/missing");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
}

TEST_F(ArchiveTest, ReplacesTopLevelEntriesOnlyOnSuccess) {
  ASSERT_TRUE(UnpackIncludes(BuildTar({{.path = "replace/new.txt", .data = "new"}}), dest_).ok());
  EXPECT_EQ(*ReadFile(dest_ + "/replace/new.txt"), "new");
  EXPECT_FALSE(PathExists(dest_ + "/replace/old.txt"));
  EXPECT_EQ(*ReadFile(dest_ + "/keep.txt"), "kept\n");
  // A refused archive that would also replace keep.txt leaves it alone.
  ExpectRefused(BuildTar({{.path = "keep.txt", .data = "lost"}, {.path = "../x", .data = "x"}}), "'..'");
  EXPECT_EQ(*ReadFile(dest_ + "/keep.txt"), "kept\n");
}

TEST_F(ArchiveTest, ReplacesASymlinkInDestWithoutFollowingIt) {
  // A service may have left a symlink in its data directory pointing anywhere.
  ASSERT_EQ(::symlink(outside_.c_str(), (dest_ + "/cfg").c_str()), 0);
  ASSERT_TRUE(UnpackIncludes(BuildTar({{.path = "cfg/secret", .data = "mine"}}), dest_).ok());
  EXPECT_TRUE(S_ISDIR(ModeOf(dest_ + "/cfg")));
  EXPECT_EQ(*ReadFile(dest_ + "/cfg/secret"), "mine");
  EXPECT_EQ(*ReadFile(outside_ + "/secret"), "do not touch\n");
}

}  // namespace
}  // namespace sp
