// Tests of Staging (both kinds) and BuildNewDir.
#include "fstree/staging.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fstree/dir.h"
#include "fstree/fstree_testing.h"

namespace sp::fstree {
namespace {

using fstree_testing::IsDir;
using fstree_testing::TempDir;

Status WriteAt(int dir_fd, const char* name, std::string_view data) {
  Fd fd(::openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid() || !WriteAll(fd.get(), data)) return Status::FromErrno(name, errno);
  return Status::Ok();
}

TEST(StagingTest, NewDirIsRenamedIntoPlaceOnCommit) {
  TempDir tmp;
  auto staging = Staging::NewDir(tmp / "dest/");
  ASSERT_TRUE(staging) << staging.error().ToString();
  EXPECT_EQ((*staging)->path().rfind(tmp / "dest.tmp-", 0), 0u);
  ASSERT_TRUE(WriteAt((*staging)->root_fd(), "f", "data").ok());
  ASSERT_TRUE((*staging)->Commit().ok());
  EXPECT_EQ(*ReadFile(tmp / "dest/f"), "data");
  EXPECT_EQ(*ListDir(tmp.path()), std::vector<std::string>{"dest"});
}

TEST(StagingTest, NewDirRefusesAnExistingDestinationAndRoot) {
  TempDir tmp;
  ASSERT_EQ(::mkdir((tmp / "dest").c_str(), 0755), 0);
  auto existing = Staging::NewDir(tmp / "dest");
  ASSERT_FALSE(existing);
  EXPECT_EQ(existing.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(Staging::NewDir("/").error().code(), Code::kInvalidArgument);
}

TEST(StagingTest, NewDirCommitNeverReplacesADestinationThatAppeared) {
  TempDir tmp;
  auto staging = Staging::NewDir(tmp / "dest");
  ASSERT_TRUE(staging);
  ASSERT_EQ(::mkdir((tmp / "dest").c_str(), 0755), 0);
  ASSERT_TRUE(WriteAt((*staging)->root_fd(), "f", "data").ok());
  EXPECT_EQ((*staging)->Commit().code(), Code::kAlreadyExists);
  EXPECT_FALSE(PathExists(tmp / "dest/f"));
}

TEST(StagingTest, DestructionRemovesAnUncommittedDirectory) {
  TempDir tmp;
  {
    auto staging = Staging::NewDir(tmp / "dest");
    ASSERT_TRUE(staging);
    ASSERT_EQ(::mkdirat((*staging)->root_fd(), "sub", 0755), 0);
  }
  EXPECT_EQ(*ListDir(tmp.path()), std::vector<std::string>{});
}

TEST(StagingTest, MergeReplacesSameNamedEntriesAndKeepsTheOthers) {
  TempDir tmp;
  std::string dest = tmp / "data";
  ASSERT_EQ(::mkdir(dest.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomic(dest + "/keep", "mine").ok());
  ASSERT_TRUE(WriteFileAtomic(dest + "/replace", "old").ok());
  auto staging = Staging::Merge(dest);
  ASSERT_TRUE(staging) << staging.error().ToString();
  EXPECT_EQ((*staging)->path().rfind(tmp / ".data.unpack-", 0), 0u);
  ASSERT_TRUE(WriteAt((*staging)->root_fd(), "replace", "new").ok());
  ASSERT_TRUE(WriteAt((*staging)->root_fd(), "added", "new").ok());
  ASSERT_TRUE((*staging)->Commit().ok());
  ASSERT_TRUE((*staging)->Remove().ok());
  EXPECT_EQ(*ReadFile(dest + "/keep"), "mine");
  EXPECT_EQ(*ReadFile(dest + "/replace"), "new");
  EXPECT_EQ(*ReadFile(dest + "/added"), "new");
  EXPECT_EQ(*ListDir(tmp.path()), std::vector<std::string>{"data"});
}

TEST(StagingTest, MergeNeedsAnExistingDirectory) {
  TempDir tmp;
  EXPECT_EQ(Staging::Merge(tmp / "absent").error().code(), Code::kFailedPrecondition);
  ASSERT_EQ(::symlink(tmp.path().c_str(), (tmp / "link").c_str()), 0);
  EXPECT_EQ(Staging::Merge(tmp / "link").error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Staging::Merge("/").error().code(), Code::kFailedPrecondition);
}

TEST(BuildNewDirTest, CommitsWhatTheFillWrote) {
  TempDir tmp;
  Status s = BuildNewDir(tmp / "dest", [](int root_fd) { return WriteAt(root_fd, "f", "x"); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*ReadFile(tmp / "dest/f"), "x");
}

TEST(BuildNewDirTest, AFailedFillLeavesNothing) {
  TempDir tmp;
  Status s = BuildNewDir(tmp / "dest", [](int root_fd) {
    EXPECT_TRUE(WriteAt(root_fd, "f", "x").ok());
    return Status::InvalidArgument("bad archive");
  });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad archive");
  EXPECT_EQ(*ListDir(tmp.path()), std::vector<std::string>{});
}

}  // namespace
}  // namespace sp::fstree
