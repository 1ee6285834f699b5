// Tests for resolving an image's User against its own /etc/passwd and /etc/group.
#include "runtime/image_user.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "util/fs.h"

namespace sp {
namespace {

class ImageUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = MakeTempDir("/tmp/sp-imguser-XXXXXX");
    ASSERT_TRUE(d.has_value());
    dir_ = *d;
    root_ = dir_ + "/root";
    ASSERT_TRUE(MakeDirs(root_ + "/etc").ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/passwd",
                                "root:x:0:0:root:/root:/bin/sh\n"
                                "garbage line\n"
                                "app:x:1000:1000:App:/home/app:/bin/sh\n")
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app,other\nwheel:x:10:other\n").ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_, root_;
};

TEST_F(ImageUserTest, EmptyIsRoot) {
  auto u = ResolveImageUser(root_, "");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
}

TEST_F(ImageUserTest, NamedUserGetsItsGroupAndSupplementaryGroups) {
  auto u = ResolveImageUser(root_, "app");
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->additional_gids, std::vector<uint32_t>{50});
}

TEST_F(ImageUserTest, NumericForms) {
  auto u = ResolveImageUser(root_, "1000:50");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 50u);
  auto unknown = ResolveImageUser(root_, "4242");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->uid, 4242u);
  EXPECT_EQ(unknown->gid, 0u);  // like docker: no passwd entry, group 0
  auto named_group = ResolveImageUser(root_, "app:staff");
  ASSERT_TRUE(named_group.has_value());
  EXPECT_EQ(named_group->gid, 50u);
}

TEST_F(ImageUserTest, UnknownNamesAndBadSpecsAreRefused) {
  auto missing = ResolveImageUser(root_, "nobody-here");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_FALSE(ResolveImageUser(root_, "app:nogroup").has_value());
  EXPECT_FALSE(ResolveImageUser(root_, ":1").has_value());
  EXPECT_FALSE(ResolveImageUser(root_, "a:b:c").has_value());
  EXPECT_FALSE(ResolveImageUser(root_, "99999999999").has_value());  // not a uid, and no such name
}

TEST_F(ImageUserTest, SymlinkedPasswdResolvesInsideTheImageNotOnTheHost) {
  // A host file naming user "evil"; the image's /etc/passwd points at its absolute host path.
  std::string outside = dir_ + "/outside-passwd";
  ASSERT_TRUE(WriteFileAtomic(outside, "evil:x:0:0::/:/bin/sh\n").ok());
  ASSERT_EQ(::unlink((root_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink(outside.c_str(), (root_ + "/etc/passwd").c_str()), 0);
  auto u = ResolveImageUser(root_, "evil");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code(), Code::kNotFound);
  // The same link climbing with ".." stays in the root too.
  ASSERT_EQ(::unlink((root_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink(("../../../../../../.." + outside).c_str(), (root_ + "/etc/passwd").c_str()), 0);
  EXPECT_FALSE(ResolveImageUser(root_, "evil").has_value());
}

TEST_F(ImageUserTest, OversizedDatabaseIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/passwd", std::string(2 << 20, 'x')).ok());
  auto u = ResolveImageUser(root_, "app");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sp
