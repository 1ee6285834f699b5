// Tests for the overlayfs root of image-based services, with real overlay mounts.
#include "runtime/image_rootfs.h"

#include <gtest/gtest.h>

#include "util/fs.h"

namespace sp {
namespace {

class ImageRootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = MakeTempDir("/tmp/sp-imgroot-XXXXXX");
    ASSERT_TRUE(d.has_value());
    dir_ = *d;
  }
  void TearDown() override {
    (void)ReleaseImageRootfs(dir_ + "/svc");
    (void)UnmountIfMounted(dir_ + "/m");
    (void)RemoveAll(dir_);
  }
  std::string Layer(const std::string& name, const std::string& file, const std::string& content) {
    std::string l = dir_ + "/layers/" + name;
    EXPECT_TRUE(MakeDirs(l + "/etc").ok());
    EXPECT_TRUE(WriteFileAtomic(l + "/" + file, content).ok());
    return l;
  }
  std::string dir_;
};

TEST_F(ImageRootfsTest, MergesLayersAndKeepsChangesInUpper) {
  std::string lower = Layer("a", "f", "lower");
  std::string top = Layer("b", "g", "top");
  ASSERT_TRUE(WriteFileAtomic(top + "/f", "shadowed").ok());
  auto mounts = PrepareImageRootfs(dir_ + "/svc", "web", {top, lower});
  ASSERT_TRUE(mounts.has_value()) << mounts.error().message();
  std::string root = dir_ + "/svc/rootfs";
  EXPECT_TRUE(IsMountPoint(root));
  EXPECT_EQ(*ReadFile(root + "/f"), "shadowed");  // the topmost layer wins
  EXPECT_EQ(*ReadFile(root + "/g"), "top");
  ASSERT_TRUE(WriteFileAtomic(root + "/new", "change").ok());
  EXPECT_EQ(*ReadFile(dir_ + "/svc/upper/new"), "change");
  EXPECT_FALSE(PathExists(lower + "/new"));
  // Generated name files are bound over the image's.
  ASSERT_EQ(mounts->size(), 3u);
  EXPECT_EQ((*mounts)[0].destination, "/etc/hostname");
  EXPECT_EQ(*ReadFile(dir_ + "/svc/etc/hostname"), "web\n");
  // Idempotent: a second call finds the mount and keeps the changes.
  ASSERT_TRUE(PrepareImageRootfs(dir_ + "/svc", "web", {top, lower}).has_value());
  EXPECT_EQ(*ReadFile(root + "/new"), "change");
  ASSERT_TRUE(ReleaseImageRootfs(dir_ + "/svc").ok());
  EXPECT_FALSE(IsMountPoint(root));
  EXPECT_FALSE(PathExists(root + "/g"));
}

TEST_F(ImageRootfsTest, ManyLayersWithLongPathsStillMount) {
  // 100 layers whose absolute paths alone exceed a page: mounted with relative names.
  std::string base = dir_ + "/layers/" + std::string(60, 'd');
  std::vector<std::string> lowers;
  for (int i = 0; i < 100; ++i) {
    std::string l = base + "/layer-number-" + std::to_string(i);
    ASSERT_TRUE(MakeDirs(l).ok());
    ASSERT_TRUE(WriteFileAtomic(l + "/f" + std::to_string(i), std::to_string(i)).ok());
    lowers.push_back(l);
  }
  ASSERT_TRUE(MakeDirs(dir_ + "/m").ok());
  ASSERT_TRUE(MakeDirs(dir_ + "/u").ok());
  ASSERT_TRUE(MakeDirs(dir_ + "/w").ok());
  Status st = MountOverlay(lowers, dir_ + "/u", dir_ + "/w", dir_ + "/m");
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(*ReadFile(dir_ + "/m/f0"), "0");
  EXPECT_EQ(*ReadFile(dir_ + "/m/f99"), "99");
}

TEST_F(ImageRootfsTest, RefusesPathsOverlayCannotTake) {
  std::string l = Layer("a", "f", "x");
  ASSERT_TRUE(MakeDirs(dir_ + "/m").ok());
  EXPECT_FALSE(MountOverlay({}, dir_ + "/u", dir_ + "/w", dir_ + "/m").ok());
  EXPECT_FALSE(MountOverlay({"relative/layer"}, dir_ + "/u", dir_ + "/w", dir_ + "/m").ok());
  EXPECT_FALSE(MountOverlay({l + ",upperdir=/etc"}, dir_ + "/u", dir_ + "/w", dir_ + "/m").ok());
  EXPECT_FALSE(MountOverlay({l + ":/"}, dir_ + "/u", dir_ + "/w", dir_ + "/m").ok());
  EXPECT_FALSE(IsMountPoint(dir_ + "/m"));
}

}  // namespace
}  // namespace sp
