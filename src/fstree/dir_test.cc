// Tests of ListDirFd, FileTypeName and WalkDirs.
#include "fstree/dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fstree/fstree_testing.h"

namespace sp::fstree {
namespace {

using fstree_testing::IsDir;
using fstree_testing::TempDir;
using Parts = std::vector<std::string>;

WalkOptions Refusing(bool create) {
  WalkOptions options;
  options.create = create;
  options.refuse = [](const std::string& through, mode_t type) {
    return Status::InvalidArgument("through " + through + " (" + FileTypeName(type) + ")");
  };
  return options;
}

TEST(ListDirFdTest, ListsSortedFromTheStartEvenAfterAnEarlierRead) {
  TempDir tmp;
  for (const char* name : {"b", "a", "c"}) ASSERT_TRUE(WriteFileAtomic(tmp / name, "x").ok());
  Fd dir(::open(tmp.path().c_str(), kDirFlags));
  ASSERT_EQ(*ListDirFd(dir.get(), "tmp"), (Parts{"a", "b", "c"}));
  EXPECT_EQ(*ListDirFd(dir.get(), "tmp"), (Parts{"a", "b", "c"}));
}

TEST(FileTypeNameTest, NamesTypes) {
  EXPECT_EQ(FileTypeName(S_IFIFO), "FIFO");
  EXPECT_EQ(FileTypeName(S_IFLNK | 0777), "symlink");
  EXPECT_EQ(FileTypeName(S_IFDIR), "directory");
}

TEST(WalkDirsTest, CreatesMissingDirectoriesWith0755) {
  TempDir tmp;
  Fd root(::open(tmp.path().c_str(), kDirFlags));
  mode_t old_mask = ::umask(077);
  auto fd = WalkDirs(root.get(), {"a", "b", "file"}, 2, Refusing(true));
  ::umask(old_mask);
  ASSERT_TRUE(fd) << fd.error().ToString();
  EXPECT_TRUE(IsDir(tmp / "a/b"));
  EXPECT_FALSE(PathExists(tmp / "a/b/file"));
  struct stat st;
  ASSERT_EQ(::stat((tmp / "a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
}

TEST(WalkDirsTest, WithoutCreateAMissingDirectoryIsNotFound) {
  TempDir tmp;
  Fd root(::open(tmp.path().c_str(), kDirFlags));
  auto fd = WalkDirs(root.get(), {"a", "b"}, 2, Refusing(false));
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), Code::kNotFound);
  EXPECT_FALSE(PathExists(tmp / "a"));
}

TEST(WalkDirsTest, NeverFollowsASymlink) {
  TempDir tmp, outside;
  ASSERT_EQ(::symlink(outside.path().c_str(), (tmp / "link").c_str()), 0);
  Fd root(::open(tmp.path().c_str(), kDirFlags));
  auto fd = WalkDirs(root.get(), {"link", "x", "f"}, 2, Refusing(true));
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().message(), "through link (symlink)");
  EXPECT_FALSE(PathExists(outside / "x"));
}

TEST(WalkDirsTest, TheHookMayReplaceANonDirectory) {
  TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "a", "x").ok());
  Fd root(::open(tmp.path().c_str(), kDirFlags));
  WalkOptions options = Refusing(true);
  int calls = 0;
  options.replace = [&](int parent_fd, const std::string& name, const struct stat& st) -> Result<bool> {
    ++calls;
    EXPECT_TRUE(S_ISREG(st.st_mode));
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0 || ::mkdirat(parent_fd, name.c_str(), 0700) != 0) {
      return Err(Status::FromErrno("replace", errno));
    }
    return true;
  };
  auto fd = WalkDirs(root.get(), {"a", "f"}, 1, options);
  ASSERT_TRUE(fd) << fd.error().ToString();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(IsDir(tmp / "a"));
}

TEST(WalkDirsTest, AHookThatDeclinesLeadsToTheRefusal) {
  TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "a", "x").ok());
  Fd root(::open(tmp.path().c_str(), kDirFlags));
  WalkOptions options = Refusing(true);
  options.replace = [](int, const std::string&, const struct stat&) -> Result<bool> { return false; };
  auto fd = WalkDirs(root.get(), {"a", "f"}, 1, options);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().message(), "through a (regular file)");
}

}  // namespace
}  // namespace sp::fstree
