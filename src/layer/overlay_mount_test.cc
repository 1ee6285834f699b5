// Mounts a real overlayfs over unpacked layers: the converted whiteouts and opaque directories must
// hide what the OCI layers deleted, exactly as a container runtime would see it. Runs as root.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "layer/layer_testing.h"
#include "layer/unpack_layer.h"
#include "util/fs.h"

namespace sp {
namespace {

using layer_testing::Compress;
using layer_testing::Compressed;
using layer_testing::Dir;
using layer_testing::Entry;
using layer_testing::File;
using layer_testing::OverlayMount;
using layer_testing::TempDir;

class OverlayMountTest : public ::testing::Test {
 protected:
  void Unpack(const std::vector<Entry>& entries, const std::string& name) {
    std::string blob = tmp_ / (name + ".tar.gz");
    layer_testing::WriteBlob(blob, Compressed(layer_testing::BuildTar(entries), Compress::kGzip));
    auto layer = UnpackLayer(blob, tmp_ / name, std::nullopt, {});
    ASSERT_TRUE(layer) << layer.error().ToString();
  }

  TempDir tmp_;
};

TEST_F(OverlayMountTest, MergedViewHidesWhatTheUpperLayerDeleted) {
  Unpack({Dir("a"), File("a/x", "lower x"), File("a/y", "lower y"), Dir("d"), File("d/old1", "1"),
          File("d/sub/old2", "2"), File("e/stale", "stale"), File("keep", "keep")},
         "lower");
  Unpack({File("a/.wh.x", ""), File("d/.wh..wh..opq", ""), File("d/new", "new"), File(".wh.e", ""),
          File("e/fresh", "fresh")},
         "upper");
  for (const char* dir : {"rw", "work", "merged"}) ASSERT_TRUE(MakeDirs(tmp_ / dir).ok());
  // Sanity: the lower layer on its own still has everything.
  ASSERT_TRUE(PathExists(tmp_ / "lower/a/x"));
  ASSERT_TRUE(PathExists(tmp_ / "lower/d/old1"));

  std::string merged = tmp_ / "merged";
  OverlayMount mount(merged, "lowerdir=" + (tmp_ / "upper") + ":" + (tmp_ / "lower") +
                                 ",upperdir=" + (tmp_ / "rw") + ",workdir=" + (tmp_ / "work"));
  ASSERT_TRUE(mount.mounted()) << "mount -t overlay: " << mount.error();

  EXPECT_EQ(*ListDir(merged + "/a"), std::vector<std::string>{"y"});
  EXPECT_FALSE(PathExists(merged + "/a/x"));
  EXPECT_EQ(*ReadFile(merged + "/a/y"), "lower y");
  EXPECT_EQ(*ListDir(merged + "/d"), std::vector<std::string>{"new"});
  EXPECT_EQ(*ReadFile(merged + "/d/new"), "new");
  EXPECT_FALSE(PathExists(merged + "/d/sub"));
  EXPECT_EQ(*ListDir(merged + "/e"), std::vector<std::string>{"fresh"});
  EXPECT_EQ(*ListDir(merged), (std::vector<std::string>{"a", "d", "e", "keep"}));
  EXPECT_EQ(*ReadFile(merged + "/keep"), "keep");
}

}  // namespace
}  // namespace sp
