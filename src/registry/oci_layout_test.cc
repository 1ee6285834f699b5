// Tests for reading OCI image layouts: hand-made layouts for every error path, and a layout
// written by a real tool (skopeo, copying from the test registry) read back.
#include "registry/oci_layout.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "registry/testing/registry_fixture.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

using nlohmann::json;

class OciLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = MakeTempDir("/tmp/sp-layout-XXXXXX");
    ASSERT_TRUE(d.has_value());
    dir_ = *d;
    ASSERT_TRUE(MakeDirs(dir_ + "/blobs/sha256").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/oci-layout", R"({"imageLayoutVersion": "1.0.0"})").ok());
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  Descriptor PutBlob(const std::string& bytes, std::string_view media_type) {
    Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = DigestOf(bytes);
    d.size = static_cast<int64_t>(bytes.size());
    EXPECT_TRUE(WriteFileAtomic(LayoutBlobPath(dir_, d.digest), bytes).ok());
    return d;
  }

  void WriteIndex(const std::vector<std::pair<Descriptor, std::string>>& tagged) {
    json manifests = json::array();
    for (const auto& [d, tag] : tagged) {
      json e = {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
      if (!tag.empty()) e["annotations"] = {{std::string(kRefNameAnnotation), tag}};
      manifests.push_back(e);
    }
    ASSERT_TRUE(
        WriteFileAtomic(dir_ + "/index.json", json{{"schemaVersion", 2}, {"manifests", manifests}}.dump())
            .ok());
  }

  std::string dir_;
};

TEST_F(OciLayoutTest, ResolvesTagsAndReadsVerifiedBlobs) {
  Descriptor a = PutBlob(R"({"schemaVersion":2,"note":"a"})", kOciManifest);
  Descriptor b = PutBlob(R"({"schemaVersion":2,"note":"b"})", kOciManifest);
  WriteIndex({{a, "v1"}, {b, "v2"}});
  auto d = ResolveLayoutTag(dir_, "v2");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->digest, b.digest);
  EXPECT_EQ(d->size, b.size);
  EXPECT_EQ(d->media_type, kOciManifest);
  auto bytes = ReadLayoutBlob(dir_, *d, 1 << 20);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
  EXPECT_EQ(*bytes, R"({"schemaVersion":2,"note":"b"})");
  EXPECT_EQ(LayoutBlobPath(dir_, a.digest), dir_ + "/blobs/sha256/" + std::string(a.digest.hex()));
}

TEST_F(OciLayoutTest, EmptyTagNeedsExactlyOneImage) {
  Descriptor a = PutBlob("{}", kOciManifest);
  WriteIndex({{a, ""}});
  auto d = ResolveLayoutTag(dir_, "");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->digest, a.digest);
  Descriptor b = PutBlob("{ }", kOciManifest);
  WriteIndex({{a, "one"}, {b, "two"}});
  d = ResolveLayoutTag(dir_, "");
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("one, two"), std::string::npos);
}

TEST_F(OciLayoutTest, UnknownTagListsAvailableOnes) {
  Descriptor a = PutBlob("{}", kOciManifest);
  WriteIndex({{a, "stable"}, {a, "latest"}});
  auto d = ResolveLayoutTag(dir_, "v9");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), Code::kNotFound);
  EXPECT_NE(d.error().message().find("\"v9\""), std::string::npos);
  EXPECT_NE(d.error().message().find("stable, latest"), std::string::npos);
}

TEST_F(OciLayoutTest, RefusesWhatIsNotALayout) {
  Descriptor a = PutBlob("{}", kOciManifest);
  WriteIndex({{a, "v1"}});
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/oci-layout", R"({"imageLayoutVersion": "2.0.0"})").ok());
  auto d = ResolveLayoutTag(dir_, "v1");
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("2.0.0"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/oci-layout", "[]").ok());
  EXPECT_FALSE(ResolveLayoutTag(dir_, "v1").has_value());
  ::unlink((dir_ + "/oci-layout").c_str());
  d = ResolveLayoutTag(dir_, "v1");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(d.error().message().find("not an OCI image layout"), std::string::npos);
}

TEST_F(OciLayoutTest, RefusesMalformedIndex) {
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/index.json", R"({"manifests": [{"digest": "sha256:../../etc/passwd"}]})")
          .ok());
  EXPECT_FALSE(ResolveLayoutTag(dir_, "v1").has_value());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/index.json", R"({"manifests": "x"})").ok());
  auto d = ResolveLayoutTag(dir_, "v1");
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("index.json"), std::string::npos);
  ::unlink((dir_ + "/index.json").c_str());
  EXPECT_FALSE(ResolveLayoutTag(dir_, "v1").has_value());
}

TEST_F(OciLayoutTest, BlobReadsAreVerified) {
  Descriptor a = PutBlob("original content", kOciLayerTar);
  ASSERT_TRUE(WriteFileAtomic(LayoutBlobPath(dir_, a.digest), "tampered content").ok());
  auto r = ReadLayoutBlob(dir_, a, 1 << 20);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find(a.digest.str()), std::string::npos);

  Descriptor b = PutBlob("some bytes", kOciLayerTar);
  Descriptor wrong_size = b;
  wrong_size.size = 3;
  EXPECT_NE(ReadLayoutBlob(dir_, wrong_size, 1 << 20).error().message().find("descriptor says 3"),
            std::string::npos);
  EXPECT_NE(ReadLayoutBlob(dir_, b, 4).error().message().find("at most 4"), std::string::npos);
  Descriptor unknown_size = b;
  unknown_size.size = -1;
  EXPECT_TRUE(ReadLayoutBlob(dir_, unknown_size, 1 << 20).has_value());
  EXPECT_FALSE(ReadLayoutBlob(dir_, unknown_size, 4).has_value());

  Descriptor missing;
  missing.digest = DigestOf("never written");
  missing.size = 13;
  auto m = ReadLayoutBlob(dir_, missing, 1 << 20);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), Code::kNotFound);
  EXPECT_FALSE(ReadLayoutBlob(dir_, Descriptor{}, 1 << 20).has_value());
}

// A layout written by skopeo, from an image pushed to the test registry, reads back.
TEST(OciLayoutInteropTest, ReadsALayoutWrittenBySkopeo) {
  auto skopeo = FindProgram("skopeo");
  ASSERT_TRUE(skopeo.has_value()) << "skopeo is needed for this test";
  auto registry = registry_testing::TestRegistry::Start();
  ASSERT_TRUE(registry.has_value()) << registry.error().message();
  auto image = (*registry)->PushImage("app", "v1");
  ASSERT_TRUE(image.has_value()) << image.error().message();
  auto dir = MakeTempDir("/tmp/sp-layout-skopeo-XXXXXX");
  ASSERT_TRUE(dir.has_value());
  std::string layout = *dir + "/layout";
  CommandOptions opts;
  opts.timeout = Millis(60000);
  auto copied = RunCommand({*skopeo, "copy", "--src-tls-verify=false", "--preserve-digests",
                            "docker://" + (*registry)->host() + "/app:v1", "oci:" + layout + ":v1"},
                           opts);
  ASSERT_TRUE(copied.has_value()) << copied.error().message();
  ASSERT_TRUE(copied->ok()) << copied->err;

  auto d = ResolveLayoutTag(layout, "v1");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->digest, image->manifest_digest);
  auto bytes = ReadLayoutBlob(layout, *d, kManifestSizeLimit);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
  auto parsed = ParseManifest(*bytes, d->media_type);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  const auto& m = std::get<ImageManifest>(*parsed);
  auto config = ReadLayoutBlob(layout, m.config, kConfigSizeLimit);
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(*config, image->config);
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_TRUE(PathExists(LayoutBlobPath(layout, m.layers[0].digest)));
  ASSERT_TRUE(RemoveAll(*dir).ok());
}

}  // namespace
}  // namespace sp
