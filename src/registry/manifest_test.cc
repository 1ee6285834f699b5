// Tests for manifest, index and config parsing (including hostile documents) and platform choice.
#include "registry/manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sp {
namespace {

using nlohmann::json;

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');

json Desc(std::string_view media_type, const std::string& digest, int64_t size) {
  return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

json OciManifest() {
  return {{"schemaVersion", 2},
          {"mediaType", kOciManifest},
          {"config", Desc(kOciConfig, kD1, 100)},
          {"layers", json::array({Desc(kOciLayerTarGzip, kD2, 2000), Desc(kOciLayerTarZstd, kD3, 3000)})}};
}

json Entry(const std::string& digest, std::string_view os, std::string_view arch,
           std::string_view variant = "") {
  json e = Desc(kOciManifest, digest, 500);
  e["platform"] = {{"os", os}, {"architecture", arch}};
  if (!variant.empty()) e["platform"]["variant"] = variant;
  return e;
}

std::string ErrorOf(const json& doc, std::string_view content_type = "") {
  auto r = ParseManifest(doc.dump(), content_type);
  EXPECT_FALSE(r.has_value()) << doc.dump();
  return r ? "" : r.error().message();
}

TEST(ManifestTest, ParsesOciManifest) {
  auto r = ParseManifest(OciManifest().dump(), std::string(kOciManifest) + "; charset=utf-8");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const auto& m = std::get<ImageManifest>(*r);
  EXPECT_EQ(m.media_type, kOciManifest);
  EXPECT_EQ(m.config.digest.str(), kD1);
  EXPECT_EQ(m.config.size, 100);
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0].media_type, kOciLayerTarGzip);
  EXPECT_EQ(m.layers[1].digest.str(), kD3);
  EXPECT_EQ(m.layers[1].size, 3000);
}

TEST(ManifestTest, ParsesDockerSchema2AndManifestList) {
  json m = {{"schemaVersion", 2},
            {"mediaType", kDockerManifest},
            {"config", Desc(kDockerConfig, kD1, 10)},
            {"layers", json::array({Desc(kDockerLayerTarGzip, kD2, 20)})}};
  auto r = ParseManifest(m.dump(), kDockerManifest);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(std::get<ImageManifest>(*r).media_type, kDockerManifest);

  json list = {
      {"schemaVersion", 2},
      {"mediaType", kDockerManifestList},
      {"manifests", json::array({Entry(kD1, "linux", "amd64"), Entry(kD2, "linux", "arm64", "v8")})}};
  list["manifests"][0]["mediaType"] = kDockerManifest;
  auto l = ParseManifest(list.dump(), kDockerManifestList);
  ASSERT_TRUE(l.has_value()) << l.error().message();
  const auto& index = std::get<ImageIndex>(*l);
  EXPECT_EQ(index.media_type, kDockerManifestList);
  ASSERT_EQ(index.manifests.size(), 2u);
  ASSERT_TRUE(index.manifests[1].platform.has_value());
  EXPECT_EQ(index.manifests[1].platform->String(), "linux/arm64/v8");
}

TEST(ManifestTest, DecidesTheTypeFromTheDocumentWhenTheContentTypeIsGeneric) {
  json index = {{"schemaVersion", 2}, {"manifests", json::array({Entry(kD1, "linux", "amd64")})}};
  for (std::string_view ct :
       {"", "application/json", "text/plain; charset=utf-8", "application/octet-stream"}) {
    auto r = ParseManifest(index.dump(), ct);
    ASSERT_TRUE(r.has_value()) << ct << ": " << r.error().message();
    EXPECT_EQ(std::get<ImageIndex>(*r).media_type, kOciIndex);
  }
  json m = OciManifest();
  m.erase("mediaType");
  auto r = ParseManifest(m.dump(), "application/json");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(std::holds_alternative<ImageManifest>(*r));
  json docker = OciManifest();
  docker["mediaType"] = kDockerManifest;
  r = ParseManifest(docker.dump(), "");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(std::get<ImageManifest>(*r).media_type, kDockerManifest);
}

TEST(ManifestTest, RefusesSchema1) {
  json s1 = {{"schemaVersion", 1}, {"name", "x"}, {"tag", "y"}, {"fsLayers", json::array()}};
  EXPECT_NE(ErrorOf(s1).find("schema 1"), std::string::npos);
  EXPECT_NE(ErrorOf(s1, "application/vnd.docker.distribution.manifest.v1+prettyjws").find("schema 1"),
            std::string::npos);
  json v1 = OciManifest();
  v1["schemaVersion"] = 1;
  EXPECT_NE(ErrorOf(v1).find("schema 1"), std::string::npos);
  v1["schemaVersion"] = 3;
  EXPECT_NE(ErrorOf(v1).find("schemaVersion 3"), std::string::npos);
}

TEST(ManifestTest, RefusesForeignAndUnknownLayers) {
  json m = OciManifest();
  m["layers"][1]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
  std::string err = ErrorOf(m);
  EXPECT_NE(err.find("layers[1]"), std::string::npos);
  EXPECT_NE(err.find("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), std::string::npos);
  EXPECT_NE(err.find("non-distributable"), std::string::npos);
  m["layers"][1]["mediaType"] = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
  EXPECT_NE(ErrorOf(m).find("nondistributable"), std::string::npos);
  m["layers"][1]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+bzip2";
  EXPECT_NE(ErrorOf(m).find("tar+bzip2"), std::string::npos);
  json artifact = OciManifest();
  artifact["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json";
  EXPECT_NE(ErrorOf(artifact).find("not a container image"), std::string::npos);
}

TEST(ManifestTest, RefusesWrongTypesAndBadValues) {
  json m = OciManifest();
  m["layers"][0]["size"] = -1;
  EXPECT_NE(ErrorOf(m).find("layers[0].size: must not be negative"), std::string::npos);
  m = OciManifest();
  m["layers"][0]["size"] = "2000";
  EXPECT_NE(ErrorOf(m).find("layers[0].size: expected a non-negative integer, got a string"),
            std::string::npos);
  m["layers"][0]["size"] = 1.5;
  EXPECT_NE(ErrorOf(m).find("fractional"), std::string::npos);
  m = OciManifest();
  m["layers"][0]["digest"] = "sha256:../../etc/passwd";
  EXPECT_NE(ErrorOf(m).find("layers[0].digest"), std::string::npos);
  m = OciManifest();
  m["layers"][0]["digest"] = "md5:abc";
  EXPECT_NE(ErrorOf(m).find("only sha256"), std::string::npos);
  m = OciManifest();
  m["layers"] = "not an array";
  EXPECT_NE(ErrorOf(m).find("layers: expected an array"), std::string::npos);
  m = OciManifest();
  m["config"] = json::array();
  EXPECT_NE(ErrorOf(m).find("config: expected an object"), std::string::npos);
  m = OciManifest();
  m.erase("config");
  EXPECT_NE(ErrorOf(m).find("config: missing"), std::string::npos);
  m = OciManifest();
  m["layers"][0]["annotations"] = {{"a", 1}};
  EXPECT_NE(ErrorOf(m).find("annotations[\"a\"]: expected a string"), std::string::npos);
  m = OciManifest();
  m["layers"][0] = 7;
  EXPECT_NE(ErrorOf(m).find("layers[0]: expected an object"), std::string::npos);
  m = OciManifest();
  m["layers"][0]["size"] = 18446744073709551615ULL;
  EXPECT_NE(ErrorOf(m).find("too large"), std::string::npos);
  EXPECT_NE(ErrorOf(json::array()).find("expected a JSON object"), std::string::npos);
  EXPECT_FALSE(ParseManifest("{\"layers\": [", "").has_value());
  EXPECT_FALSE(ParseManifest("", kOciManifest).has_value());
  EXPECT_NE(ErrorOf(json{{"hello", "world"}}).find("neither"), std::string::npos);
}

TEST(ManifestTest, RefusesContradictionsAndUnsupportedTypes) {
  EXPECT_NE(ErrorOf(OciManifest(), kOciIndex).find("ambiguous"), std::string::npos);
  EXPECT_NE(
      ErrorOf(OciManifest(), "application/vnd.oci.artifact.manifest.v1+json").find("not an image manifest"),
      std::string::npos);
  json m = OciManifest();
  m["mediaType"] = "application/vnd.example.thing+json";
  EXPECT_NE(ErrorOf(m).find("application/vnd.example.thing+json"), std::string::npos);
}

TEST(ManifestTest, EnforcesLimits) {
  json m = OciManifest();
  m["layers"] = json::array();
  for (size_t i = 0; i <= kManifestLayerLimit; ++i) m["layers"].push_back(Desc(kOciLayerTarGzip, kD2, 1));
  EXPECT_NE(ErrorOf(m).find("at most 1000"), std::string::npos);
  json index = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", json::array()}};
  for (size_t i = 0; i <= kIndexEntryLimit; ++i) index["manifests"].push_back(Entry(kD1, "linux", "amd64"));
  EXPECT_NE(ErrorOf(index).find("at most 1000"), std::string::npos);
  std::string huge = "{\"layers\": \"" + std::string(kManifestSizeLimit, 'x') + "\"}";
  auto r = ParseManifest(huge, "");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("larger than"), std::string::npos);
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  r = ParseManifest(deep, "");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("nested deeper"), std::string::npos);
}

TEST(ManifestTest, AcceptsNullOptionalFields) {
  json m = OciManifest();
  m["annotations"] = nullptr;
  m["layers"][0]["annotations"] = nullptr;
  m["layers"][0]["platform"] = nullptr;
  auto r = ParseManifest(m.dump(), kOciManifest);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(std::get<ImageManifest>(*r).layers[0].platform.has_value());
}

ImageIndex IndexOf(std::vector<json> entries) {
  json doc = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", entries}};
  auto r = ParseManifest(doc.dump(), kOciIndex);
  EXPECT_TRUE(r.has_value());
  return r ? std::get<ImageIndex>(*r) : ImageIndex{};
}

TEST(PlatformTest, ChoosesExactOsAndArchitecture) {
  ImageIndex index = IndexOf(
      {Entry(kD1, "linux", "arm64", "v8"), Entry(kD2, "linux", "amd64"), Entry(kD3, "windows", "amd64")});
  auto d = ChoosePlatform(index, {"linux", "amd64", ""});
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->digest.str(), kD2);
  d = ChoosePlatform(index, {"linux", "arm64", "v8"});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->digest.str(), kD1);
  d = ChoosePlatform(index, {"linux", "x86_64", ""});  // kernel names are normalised
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->digest.str(), kD2);
}

TEST(PlatformTest, MatchesVariantsSensibly) {
  // arm64 without a variant in the index is v8.
  auto d = ChoosePlatform(IndexOf({Entry(kD1, "linux", "arm64")}), {"linux", "arm64", "v8"});
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->digest.str(), kD1);
  // The exact ARM variant wins; a lower one runs on a higher core; a higher one is not taken.
  ImageIndex arm = IndexOf({Entry(kD1, "linux", "arm", "v6"), Entry(kD2, "linux", "arm", "v7")});
  EXPECT_EQ(ChoosePlatform(arm, {"linux", "arm", "v7"})->digest.str(), kD2);
  EXPECT_EQ(ChoosePlatform(arm, {"linux", "arm", "v8"})->digest.str(), kD2);
  EXPECT_EQ(ChoosePlatform(IndexOf({Entry(kD1, "linux", "arm", "v6")}), {"linux", "arm", "v7"})->digest.str(),
            kD1);
  EXPECT_FALSE(
      ChoosePlatform(IndexOf({Entry(kD2, "linux", "arm", "v7")}), {"linux", "arm", "v6"}).has_value());
  // Without a wanted variant, the entry without one is preferred.
  ImageIndex amd = IndexOf({Entry(kD1, "linux", "amd64", "v3"), Entry(kD2, "linux", "amd64")});
  EXPECT_EQ(ChoosePlatform(amd, {"linux", "amd64", ""})->digest.str(), kD2);
}

TEST(PlatformTest, ErrorListsAvailablePlatforms) {
  json attestation = Entry(kD3, "unknown", "unknown");
  ImageIndex index = IndexOf({Entry(kD1, "linux", "arm64", "v8"), Entry(kD2, "linux", "s390x"), attestation});
  auto d = ChoosePlatform(index, {"linux", "amd64", ""});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), Code::kNotFound);
  EXPECT_NE(d.error().message().find("linux/amd64"), std::string::npos);
  EXPECT_NE(d.error().message().find("linux/arm64/v8, linux/s390x"), std::string::npos);
  EXPECT_EQ(d.error().message().find("unknown"), std::string::npos);
  EXPECT_FALSE(ChoosePlatform(IndexOf({}), {"linux", "amd64", ""}).has_value());
}

TEST(PlatformTest, HostPlatformUsesImageNames) {
  Platform p = HostPlatform();
  EXPECT_EQ(p.os, "linux");
  EXPECT_NE(p.architecture, "x86_64");
  EXPECT_NE(p.architecture, "aarch64");
  EXPECT_FALSE(p.architecture.empty());
  EXPECT_EQ(NormalizeArchitecture("x86_64"), "amd64");
  EXPECT_EQ(NormalizeArchitecture("aarch64"), "arm64");
  EXPECT_EQ(NormalizeArchitecture("armv7l"), "arm");
  EXPECT_EQ(NormalizeArchitecture("i686"), "386");
  EXPECT_EQ(NormalizeArchitecture("s390x"), "s390x");
}

json Config() {
  return {{"os", "linux"},
          {"architecture", "amd64"},
          {"config",
           {{"Env", {"PATH=/bin", "A=b"}},
            {"Entrypoint", {"/entry"}},
            {"Cmd", {"-x"}},
            {"WorkingDir", "/srv"},
            {"User", "1000:1000"},
            {"ExposedPorts", {{"8080/tcp", json::object()}, {"53/udp", json::object()}}},
            {"Labels", {{"org.example", "yes"}}}}},
          {"rootfs", {{"type", "layers"}, {"diff_ids", {kD1, kD2}}}}};
}

TEST(ConfigTest, ParsesTheFieldsARunNeeds) {
  auto c = ParseImageConfig(Config().dump());
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->env, (std::vector<std::string>{"PATH=/bin", "A=b"}));
  EXPECT_EQ(c->entrypoint, (std::vector<std::string>{"/entry"}));
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"-x"}));
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(c->user, "1000:1000");
  EXPECT_EQ(c->exposed_ports, (std::vector<std::string>{"53/udp", "8080/tcp"}));
  EXPECT_EQ(c->labels.at("org.example"), "yes");
  ASSERT_EQ(c->diff_ids.size(), 2u);
  EXPECT_EQ(c->diff_ids[1].str(), kD2);
}

TEST(ConfigTest, NullsMeanEmpty) {
  json cfg = Config();
  for (const char* key : {"Env", "Entrypoint", "Cmd", "WorkingDir", "User", "ExposedPorts", "Labels"})
    cfg["config"][key] = nullptr;
  auto c = ParseImageConfig(cfg.dump());
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_TRUE(c->env.empty());
  EXPECT_TRUE(c->cmd.empty());
  EXPECT_TRUE(c->exposed_ports.empty());
  cfg["config"] = nullptr;
  EXPECT_TRUE(ParseImageConfig(cfg.dump()).has_value());
}

TEST(ConfigTest, RefusesWrongTypes) {
  auto error_of = [](const json& cfg) {
    auto c = ParseImageConfig(cfg.dump());
    EXPECT_FALSE(c.has_value()) << cfg.dump();
    return c ? "" : c.error().message();
  };
  json cfg = Config();
  cfg["config"]["Cmd"] = "/bin/sh -c x";
  EXPECT_NE(error_of(cfg).find("config.Cmd: expected an array, got a string"), std::string::npos);
  cfg = Config();
  cfg["config"]["Env"] = {"A=1", 2};
  EXPECT_NE(error_of(cfg).find("config.Env[1]: expected a string"), std::string::npos);
  cfg = Config();
  cfg["config"]["Labels"] = {{"x", true}};
  EXPECT_NE(error_of(cfg).find("Labels"), std::string::npos);
  cfg = Config();
  cfg["config"]["User"] = 0;
  EXPECT_NE(error_of(cfg).find("config.User"), std::string::npos);
  cfg = Config();
  cfg["rootfs"]["diff_ids"] = {"sha256:short"};
  EXPECT_NE(error_of(cfg).find("rootfs.diff_ids[0]"), std::string::npos);
  cfg = Config();
  cfg["rootfs"]["type"] = "other";
  EXPECT_NE(error_of(cfg).find("rootfs.type"), std::string::npos);
  cfg = Config();
  cfg.erase("rootfs");
  EXPECT_NE(error_of(cfg).find("rootfs: missing"), std::string::npos);
  cfg = Config();
  cfg["config"] = "nope";
  EXPECT_NE(error_of(cfg).find("config: expected an object"), std::string::npos);
  EXPECT_NE(error_of(json("just a string")).find("expected a JSON object"), std::string::npos);
  std::string huge = "{\"os\": \"" + std::string(kConfigSizeLimit, 'x') + "\"}";
  EXPECT_FALSE(ParseImageConfig(huge).has_value());
}

TEST(ConfigTest, SurvivesInvalidUtf8AndTruncation) {
  std::string text = Config().dump();
  for (size_t cut = 0; cut < text.size(); cut += 7)
    EXPECT_FALSE(ParseImageConfig(text.substr(0, cut)).has_value());
  EXPECT_FALSE(ParseImageConfig("{\"os\": \"\xff\xfe\"}").has_value());
}

}  // namespace
}  // namespace sp
