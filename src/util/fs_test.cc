#include "util/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sp {
namespace {

TEST(Fs, WriteFileAtomicNeverFollowsPlantedSymlinks) {
  char tmpl[] = "/tmp/sp-fs-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string victim = dir + "/victim";
  ASSERT_TRUE(WriteFileAtomic(victim, "precious", 0644).ok());
  std::string target = dir + "/entity.key";
  // Symlinks at the temporary name and at the target itself.
  ASSERT_EQ(::symlink(victim.c_str(), (target + ".tmp." + std::to_string(::getpid())).c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), target.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(target, "secret", 0600).ok());
  EXPECT_EQ(*ReadFile(victim), "precious");
  EXPECT_EQ(*ReadFile(target), "secret");
  struct stat st;
  ASSERT_EQ(::lstat(target.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  (void)RemoveAll(dir);
}

TEST(Fs, MakeDirsRemoveAllListDir) {
  char tmpl[] = "/tmp/sp-fs-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(MakeDirs(dir + "/a/b/c").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/a/b/c/f", "x").ok());
  EXPECT_EQ(*ListDir(dir + "/a"), std::vector<std::string>{"b"});
  ASSERT_TRUE(RemoveAll(dir + "/a").ok());
  EXPECT_FALSE(PathExists(dir + "/a"));
  EXPECT_TRUE(RemoveAll(dir + "/missing").ok());
  EXPECT_EQ(JoinPath("/x/", "/y"), "/x/y");
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace sp
