// Tests of VisitDirAt, RemoveTreeAt, RemoveTree and ChownTree.
#include "fstree/tree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fstree/dir.h"
#include "fstree/fstree_testing.h"

namespace sp::fstree {
namespace {

using fstree_testing::IsSymlink;
using fstree_testing::TempDir;

// a/b/c/.../ `depth` levels deep with a file in the deepest one.
std::string MakeDeepTree(const std::string& root, int depth) {
  std::string path = root;
  for (int i = 0; i < depth; ++i) {
    path += "/d";
    EXPECT_EQ(::mkdir(path.c_str(), 0755), 0);
  }
  EXPECT_TRUE(WriteFileAtomic(path + "/f", "x").ok());
  return path;
}

size_t OpenDescriptors() {
  auto names = ListDirFd(Fd(::open("/proc/self/fd", kDirFlags)).get(), "/proc/self/fd");
  return names ? names->size() : 0;
}

TEST(VisitDirAtTest, EntersBeforeAndLeavesAfterTheChildren) {
  TempDir tmp;
  ASSERT_EQ(::mkdir((tmp / "top").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((tmp / "top/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((tmp / "top/a/b").c_str(), 0755), 0);
  for (const char* f : {"top/a/b/f", "top/a/g", "top/h"}) ASSERT_TRUE(WriteFileAtomic(tmp / f, "x").ok());
  std::vector<std::string> events;
  TreeVisitor visitor;
  visitor.enter = [&](int, const std::string& shown) {
    events.push_back("enter " + shown);
    return Status::Ok();
  };
  visitor.entry = [&](int, const std::string& name, const struct stat& st, const std::string& shown) {
    EXPECT_TRUE(S_ISREG(st.st_mode));
    events.push_back("entry " + shown);
    return Status::Ok();
  };
  visitor.leave = [&](int, const std::string& name, const std::string& shown) {
    events.push_back("leave " + shown);
    return Status::Ok();
  };
  Fd dir(::open(tmp.path().c_str(), kDirFlags));
  struct stat st;
  ASSERT_EQ(::fstat(dir.get(), &st), 0);
  ASSERT_TRUE(VisitDirAt(dir.get(), "top", st.st_dev, "T", visitor).ok());
  EXPECT_EQ(events,
            (std::vector<std::string>{"enter T", "entry T/h", "enter T/a", "entry T/a/g", "enter T/a/b",
                                      "entry T/a/b/f", "leave T/a/b", "leave T/a", "leave T"}));
}

TEST(VisitDirAtTest, HoldsOneDirectoryOpenAtATimeAndStopsAtAnError) {
  TempDir tmp;
  ASSERT_EQ(::mkdir((tmp / "top").c_str(), 0755), 0);
  MakeDeepTree(tmp / "top", 200);
  size_t before = OpenDescriptors(), most = 0;
  TreeVisitor visitor;
  visitor.entry = [&](int, const std::string&, const struct stat&, const std::string&) {
    most = OpenDescriptors();
    return Status::Internal("stop here");
  };
  Fd dir(::open(tmp.path().c_str(), kDirFlags));
  struct stat st;
  ASSERT_EQ(::fstat(dir.get(), &st), 0);
  Status s = VisitDirAt(dir.get(), "top", st.st_dev, "top", visitor);
  EXPECT_EQ(s.message(), "stop here");
  EXPECT_LE(most, before + 3);  // the current directory, the listing's duplicate, /proc/self/fd
}

TEST(RemoveTreeTest, RemovesADeepTreeWithoutFollowingSymlinks) {
  TempDir tmp, outside;
  ASSERT_TRUE(WriteFileAtomic(outside / "keep", "precious").ok());
  ASSERT_EQ(::mkdir((tmp / "tree").c_str(), 0755), 0);
  MakeDeepTree(tmp / "tree", 300);
  ASSERT_EQ(::symlink(outside.path().c_str(), (tmp / "tree/d/link").c_str()), 0);
  ASSERT_TRUE(RemoveTree(tmp / "tree/").ok());
  EXPECT_FALSE(PathExists(tmp / "tree"));
  EXPECT_EQ(*ReadFile(outside / "keep"), "precious");
}

TEST(RemoveTreeTest, MissingIsOkAndRootIsRefused) {
  TempDir tmp;
  EXPECT_TRUE(RemoveTree(tmp / "absent").ok());
  EXPECT_EQ(RemoveTree("/").code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveTree("").code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveTree(tmp / "..").code(), Code::kInvalidArgument);
}

TEST(RemoveTreeAtTest, RemovesAFileOrAnEmptyDirectory) {
  TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "f", "x").ok());
  ASSERT_EQ(::mkdir((tmp / "d").c_str(), 0755), 0);
  Fd dir(::open(tmp.path().c_str(), kDirFlags));
  struct stat st;
  ASSERT_EQ(::fstat(dir.get(), &st), 0);
  EXPECT_TRUE(RemoveTreeAt(dir.get(), "f", st.st_dev, "f").ok());
  EXPECT_TRUE(RemoveTreeAt(dir.get(), "d", st.st_dev, "d").ok());
  EXPECT_TRUE(*ListDirFd(dir.get(), "tmp") == std::vector<std::string>{});
}

TEST(RemoveTreeAtTest, RefusesADirectoryOnAnotherDevice) {
  TempDir tmp;
  ASSERT_EQ(::mkdir((tmp / "d").c_str(), 0755), 0);
  Fd dir(::open(tmp.path().c_str(), kDirFlags));
  struct stat st;
  ASSERT_EQ(::fstat(dir.get(), &st), 0);
  Status s = RemoveTreeAt(dir.get(), "d", st.st_dev + 1, "d");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_TRUE(fstree_testing::IsDir(tmp / "d"));
}

TEST(ChownTreeTest, ChangesEveryEntryAndSymlinksThemselves) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give files away";
  TempDir tmp, outside;
  ASSERT_TRUE(WriteFileAtomic(outside / "victim", "x").ok());
  std::string top = tmp / "top";
  ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
  std::string deepest = MakeDeepTree(top, 40);
  ASSERT_EQ(::symlink((outside / "victim").c_str(), (top + "/d/link").c_str()), 0);
  ASSERT_EQ(::symlink(outside.path().c_str(), (top + "/d/dirlink").c_str()), 0);
  ASSERT_TRUE(ChownTree(top, 1234, 5678).ok());
  for (std::string path : {top, top + "/d", deepest, deepest + "/f", top + "/d/link", top + "/d/dirlink"}) {
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_uid, 1234u) << path;
    EXPECT_EQ(st.st_gid, 5678u) << path;
  }
  EXPECT_TRUE(IsSymlink(top + "/d/link"));
  struct stat victim;
  ASSERT_EQ(::lstat((outside / "victim").c_str(), &victim), 0);
  EXPECT_EQ(victim.st_uid, 0u);
  ASSERT_EQ(::lstat(outside.path().c_str(), &victim), 0);
  EXPECT_EQ(victim.st_uid, 0u);
}

TEST(ChownTreeTest, AFileOrASymlinkAloneIsChangedItself) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give files away";
  TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "f", "x").ok());
  ASSERT_EQ(::symlink((tmp / "f").c_str(), (tmp / "l").c_str()), 0);
  ASSERT_TRUE(ChownTree(tmp / "l", 42, 43).ok());
  struct stat st;
  ASSERT_EQ(::lstat((tmp / "l").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 42u);
  ASSERT_EQ(::lstat((tmp / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_TRUE(ChownTree(tmp / "f", 44, 45).ok());
  ASSERT_EQ(::lstat((tmp / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 44u);
}

TEST(ChownTreeTest, LeavesOtherFilesystemsAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount and give files away";
  TempDir tmp;
  std::string top = tmp / "top", mnt = tmp / "top/mnt";
  ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) GTEST_SKIP() << "cannot mount tmpfs here";
  Status written = WriteFileAtomic(mnt + "/inside", "x");
  Status s = ChownTree(top, 1234, 5678);
  struct stat mount_root, inside;
  int stats = ::lstat(mnt.c_str(), &mount_root) | ::lstat((mnt + "/inside").c_str(), &inside);
  ASSERT_EQ(::umount(mnt.c_str()), 0);
  ASSERT_TRUE(written.ok()) << written.ToString();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(stats, 0);
  EXPECT_EQ(mount_root.st_uid, 0u);
  EXPECT_EQ(inside.st_uid, 0u);
  struct stat st;
  ASSERT_EQ(::lstat(top.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
}

TEST(ChownTreeTest, AMissingPathIsAnError) {
  TempDir tmp;
  EXPECT_EQ(ChownTree(tmp / "absent", 1, 1).code(), Code::kNotFound);
}

}  // namespace
}  // namespace sp::fstree
