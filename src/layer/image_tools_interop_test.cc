// End to end with the image tools installed on the machine: GNU tar writes two layers (the second
// with OCI whiteouts), umoci builds an image from them, skopeo saves it as an oci-archive (gzip or
// zstd layers, as Go's compressors write them). ExtractOciArchive reads the archive, every layer is
// unpacked against the diff_id its image config names, and a real overlayfs over the result shows
// the image as a container would see it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>

#include "layer/layer_testing.h"
#include "layer/oci_archive.h"
#include "layer/unpack_layer.h"
#include "registry/digest.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

using layer_testing::Lstat;
using layer_testing::OverlayMount;
using layer_testing::TempDir;

void RunTool(const std::vector<std::string>& argv) {
  CommandOptions options;
  options.timeout = Millis(120000);
  auto r = RunChecked(argv, options);
  ASSERT_TRUE(r) << r.error().ToString();
}

nlohmann::json ReadJson(const std::string& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text) << path;
  return nlohmann::json::parse(text.value_or("{}"), nullptr, /*allow_exceptions=*/false);
}

// Writes `files` (path -> content; a content starting with "->" makes a symlink) below `dir`.
void WriteTree(const std::string& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [path, content] : files) {
    std::string full = JoinPath(dir, path);
    ASSERT_TRUE(MakeDirs(full.substr(0, full.rfind('/'))).ok());
    if (content.rfind("->", 0) == 0) {
      ASSERT_EQ(::symlink(content.substr(2).c_str(), full.c_str()), 0);
    } else {
      ASSERT_TRUE(WriteFileAtomic(full, content).ok());
    }
  }
}

class ImageToolsInteropTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ImageToolsInteropTest, UnpacksWhatUmociAndSkopeoWrite) {
  TempDir tmp;
  WriteTree(tmp / "src1",
            {{"etc/hi", "hi"}, {"bin/sh", "sh"}, {"bin/bash", "->sh"}, {"usr/share/old", "old"}});
  ASSERT_EQ(::chmod((tmp / "src1/bin/sh").c_str(), 04755), 0);
  WriteTree(tmp / "src2", {{"etc/.wh.hi", ""}, {"usr/share/.wh..wh..opq", ""}, {"usr/share/new", "new"}});
  for (const char* n : {"1", "2"}) {
    RunTool({"tar", "--numeric-owner", "-C", tmp / ("src" + std::string(n)), "-cf",
             tmp / ("l" + std::string(n) + ".tar"), "."});
  }
  std::string image = tmp / "img";
  RunTool({"umoci", "init", "--layout", image});
  RunTool({"umoci", "new", "--image", image + ":latest"});
  RunTool({"umoci", "raw", "add-layer", "--image", image + ":latest", tmp / "l1.tar"});
  RunTool({"umoci", "raw", "add-layer", "--image", image + ":latest", tmp / "l2.tar"});
  RunTool({"skopeo", "--insecure-policy", "copy", "--dest-compress", "--dest-compress-format", GetParam(),
           "oci:" + image + ":latest", "oci-archive:" + (tmp / "image.tar")});

  std::string layout = tmp / "layout";
  Status extracted = ExtractOciArchive(tmp / "image.tar", layout, 1 << 30);
  ASSERT_TRUE(extracted.ok()) << extracted.ToString();
  auto blob = [&](const std::string& digest) { return layout + "/blobs/sha256/" + digest.substr(7); };
  nlohmann::json index = ReadJson(layout + "/index.json");
  nlohmann::json manifest = ReadJson(blob(index["manifests"][0]["digest"]));
  nlohmann::json config = ReadJson(blob(manifest["config"]["digest"]));
  ASSERT_EQ(manifest["layers"].size(), 2u);
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 2u);

  std::vector<std::string> dirs;
  for (size_t i = 0; i < 2; ++i) {
    const nlohmann::json& layer = manifest["layers"][i];
    EXPECT_NE(layer["mediaType"].get<std::string>().find(GetParam()), std::string::npos);
    EXPECT_EQ(DigestOfFile(blob(layer["digest"]))->str(), layer["digest"].get<std::string>());
    auto diff_id = Digest::Parse(config["rootfs"]["diff_ids"][i].get<std::string>());
    ASSERT_TRUE(diff_id);
    dirs.push_back(tmp / ("layer" + std::to_string(i)));
    auto unpacked = UnpackLayer(blob(layer["digest"]), dirs.back(), *diff_id, {});
    ASSERT_TRUE(unpacked) << unpacked.error().ToString();
  }
  EXPECT_EQ(Lstat(dirs[0] + "/bin/sh").st_mode & 07777, 04755u);
  EXPECT_TRUE(S_ISCHR(Lstat(dirs[1] + "/etc/hi").st_mode));

  for (const char* dir : {"rw", "work", "merged"}) ASSERT_TRUE(MakeDirs(tmp / dir).ok());
  std::string merged = tmp / "merged";
  OverlayMount mount(merged, "lowerdir=" + dirs[1] + ":" + dirs[0] + ",upperdir=" + (tmp / "rw") +
                                 ",workdir=" + (tmp / "work"));
  ASSERT_TRUE(mount.mounted()) << mount.error();
  EXPECT_EQ(*ListDir(merged + "/etc"), std::vector<std::string>{});
  EXPECT_EQ(*ListDir(merged + "/usr/share"), std::vector<std::string>{"new"});
  EXPECT_EQ(*ReadFile(merged + "/bin/bash"), "sh");
}

INSTANTIATE_TEST_SUITE_P(Compressions, ImageToolsInteropTest, ::testing::Values("gzip", "zstd"));

}  // namespace
}  // namespace sp
