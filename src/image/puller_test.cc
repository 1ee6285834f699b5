// Tests for pulling images into the store, against a real docker-registry on loopback (and, for
// local sources, OCI layouts and archives written by the test).
#include "image/puller.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <set>

#include "image/testing/image_builder.h"
#include "registry/testing/registry_fixture.h"
#include "util/base64.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

using image_testing::BuiltImage;
using image_testing::MakeImage;
using layer_testing::Dir;
using layer_testing::File;
using layer_testing::Symlink;
using registry_testing::TestRegistry;

class PullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = MakeTempDir("/tmp/sp-puller-XXXXXX");
    ASSERT_TRUE(d.has_value());
    dir_ = *d;
    auto reg = TestRegistry::Start();
    ASSERT_TRUE(reg.has_value()) << reg.error().message();
    registry_ = std::move(*reg);
    auto store = ImageStore::Open(dir_ + "/images");
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    puller_ = MakePuller();
  }
  void TearDown() override {
    puller_.reset();
    store_.reset();
    registry_.reset();
    (void)RemoveAll(dir_);
  }

  std::unique_ptr<ImagePuller> MakePuller(const std::string& auth_file = "", bool allow_local = false,
                                          std::vector<std::string> insecure = {}) {
    PullerOptions o;
    o.registry.insecure_registries = insecure.empty() ? std::vector<std::string>{registry_->host()} : insecure;
    o.registry.auth_file = auth_file;
    o.allow_local = allow_local;
    auto p = ImagePuller::Create(*store_, o);
    EXPECT_TRUE(p.has_value()) << p.error().message();
    return p ? std::move(*p) : nullptr;
  }

  void Push(const std::string& repo, const std::string& tag, const BuiltImage& img) {
    for (const auto& l : img.layers) ASSERT_TRUE(registry_->PushBlob(repo, l.bytes).has_value());
    ASSERT_TRUE(registry_->PushBlob(repo, img.config.bytes).has_value());
    ASSERT_TRUE(registry_->PushManifest(repo, tag, img.manifest.bytes, img.manifest.media_type).has_value());
  }

  // Every progress snapshot a pull sends.
  struct Recorder {
    std::vector<PullSnapshot> snaps;
    PullProgress fn() {
      return [this](const PullSnapshot& s) { snaps.push_back(s); };
    }
    std::set<std::string> FinalStates() const {
      std::set<std::string> out;
      for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
        if (it->layers.empty()) continue;
        for (const auto& l : it->layers) out.insert(l.state);
        break;
      }
      return out;
    }
  };

  std::string dir_;
  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<ImageStore> store_;
  std::unique_ptr<ImagePuller> puller_;
};

BuiltImage TwoLayerImage(const std::string& marker = "one") {
  return MakeImage({{Dir("etc"), File("etc/a", "layer a " + marker)}, {File("etc/b", "layer b")}},
                   {{"Cmd", {"/bin/sh"}}, {"Env", {"A=1"}}, {"WorkingDir", "/app"}, {"User", "app"},
                    {"ExposedPorts", {{"80/tcp", nlohmann::json::object()}}}});
}

TEST_F(PullerTest, PullsByTagAndReusesLayersOnTheNextPull) {
  BuiltImage img = TwoLayerImage();
  Push("web", "1.0", img);
  std::string ref = registry_->host() + "/web:1.0";
  Recorder first;
  auto pulled = puller_->Pull(ref, "always", first.fn());
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->record.manifest, img.manifest.digest);
  EXPECT_EQ(pulled->record.reference, ref);
  EXPECT_EQ(pulled->config.working_dir, "/app");
  EXPECT_EQ(pulled->config.user, "app");
  ASSERT_EQ(pulled->layer_dirs.size(), 2u);
  EXPECT_EQ(*ReadFile(pulled->layer_dirs[0] + "/etc/b"), "layer b");  // topmost first
  EXPECT_EQ(*ReadFile(pulled->layer_dirs[1] + "/etc/a"), "layer a one");
  EXPECT_EQ(first.FinalStates(), std::set<std::string>{"done"});
  // Downloaded layer blobs are not kept once unpacked; the store has the record.
  EXPECT_FALSE(store_->HasBlob(img.layers[0].digest));
  ASSERT_TRUE(store_->Find(ref).has_value());

  struct stat before;
  ASSERT_EQ(::stat(pulled->layer_dirs[1].c_str(), &before), 0);
  Recorder second;
  auto again = puller_->Pull(ref, "always", second.fn());
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(second.FinalStates(), std::set<std::string>{"cached"});
  struct stat after;
  ASSERT_EQ(::stat(again->layer_dirs[1].c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);  // the very same unpacked directory
}

TEST_F(PullerTest, PullsByDigestAndHonoursPullPolicies) {
  BuiltImage img = TwoLayerImage();
  Push("web", "1.0", img);
  std::string by_digest = registry_->host() + "/web@" + img.manifest.digest.str();
  auto pulled = puller_->Pull(by_digest, "", nullptr);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->record.manifest, img.manifest.digest);
  // never: only what is here.
  auto absent = puller_->Pull(registry_->host() + "/web:2.0", "never", nullptr);
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code(), Code::kNotFound);
  // missing: a local copy is used without asking the registry (which is gone now).
  registry_.reset();
  auto local = puller_->Pull(by_digest, "missing", nullptr);
  ASSERT_TRUE(local.has_value()) << local.error().message();
  EXPECT_EQ(local->record.manifest, img.manifest.digest);
}

TEST_F(PullerTest, ChoosesTheHostPlatformFromAnIndex) {
  BuiltImage amd = TwoLayerImage("amd64");
  BuiltImage arm = MakeImage({{File("etc/a", "arm")}}, {{"Cmd", {"/bin/sh"}}}, "arm64");
  Push("multi", amd.manifest.digest.str(), amd);
  Push("multi", arm.manifest.digest.str(), arm);
  Platform host = HostPlatform();
  image_testing::BuiltBlob index = image_testing::MakeIndex(
      {{"arm64", &arm}, {"amd64", &amd}, {"s390x", &arm}});
  ASSERT_TRUE(registry_->PushManifest("multi", "1.0", index.bytes, index.media_type).has_value());
  auto pulled = puller_->Pull(registry_->host() + "/multi:1.0", "", nullptr);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->record.digest, index.digest);  // the tag names the index
  const BuiltImage& want = host.architecture == "arm64" ? arm : amd;
  EXPECT_EQ(pulled->record.manifest, want.manifest.digest);
}

TEST_F(PullerTest, WhiteoutsBecomeOverlayWhiteouts) {
  BuiltImage img = MakeImage({{Dir("etc"), File("etc/gone", "x"), File("etc/kept", "y")}, {Dir("etc"), File("etc/.wh.gone", "")}},
                             {{"Cmd", {"/bin/sh"}}});
  Push("wh", "1", img);
  auto pulled = puller_->Pull(registry_->host() + "/wh:1", "", nullptr);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  struct stat st;
  ASSERT_EQ(::lstat((pulled->layer_dirs[0] + "/etc/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
}

TEST_F(PullerTest, CorruptedBlobIsRefusedAndNothingIsHalfWritten) {
  BuiltImage img = TwoLayerImage();
  Push("bad", "1", img);
  // The registry now serves other bytes for the second layer.
  std::string data = registry_->BlobDataPath(img.layers[1].digest);
  ASSERT_TRUE(WriteFileAtomic(data, img.layers[0].bytes).ok());
  auto pulled = puller_->Pull(registry_->host() + "/bad:1", "", nullptr);
  ASSERT_FALSE(pulled.has_value());
  EXPECT_NE(pulled.error().message().find(img.layers[1].digest.str()), std::string::npos) << pulled.error().message();
  EXPECT_FALSE(store_->HasLayer(img.layers[1].digest));
  EXPECT_FALSE(store_->Find(registry_->host() + "/bad:1").has_value());
  EXPECT_TRUE(ListDir(dir_ + "/images/tmp")->empty());
  auto layers = ListDir(dir_ + "/images/layers");
  ASSERT_TRUE(layers.has_value());
  for (const std::string& n : *layers) EXPECT_EQ(n.find(".tmp-"), std::string::npos) << n;
}

TEST_F(PullerTest, HostileLayerIsRefused) {
  std::string outside = dir_ + "/outside";
  ASSERT_TRUE(MakeDirs(outside).ok());
  BuiltImage img = MakeImage({{Symlink("escape", outside), File("escape/planted", "evil")}}, {{"Cmd", {"/bin/sh"}}});
  Push("evil", "1", img);
  auto pulled = puller_->Pull(registry_->host() + "/evil:1", "", nullptr);
  ASSERT_FALSE(pulled.has_value());
  EXPECT_EQ(pulled.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(PathExists(outside + "/planted"));
  EXPECT_FALSE(store_->HasLayer(img.layers[0].digest));
  BuiltImage traversal = MakeImage({{File("../../../../tmp/sp-traversal-planted", "evil")}}, {{"Cmd", {"/bin/sh"}}});
  Push("evil", "2", traversal);
  EXPECT_FALSE(puller_->Pull(registry_->host() + "/evil:2", "", nullptr).has_value());
  EXPECT_FALSE(PathExists("/tmp/sp-traversal-planted"));
}

TEST_F(PullerTest, BearerTokenRegistryWithCredentialsFromAuthFile) {
  BuiltImage img = TwoLayerImage();
  Push("private/web", "1", img);
  registry_testing::ProxyOptions po;
  po.auth = "bearer";
  po.user = "alice";
  po.password = "s3cret";
  auto proxy = registry_testing::TokenProxy::Start(*registry_, po);
  ASSERT_TRUE(proxy.has_value()) << proxy.error().message();
  std::string ref = (*proxy)->host() + "/private/web:1";
  auto anonymous = MakePuller("", false, {(*proxy)->host()});
  auto refused = anonymous->Pull(ref, "", nullptr);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kPermissionDenied) << refused.error().message();
  std::string auth = dir_ + "/auth.json";
  ASSERT_TRUE(WriteFileAtomic(auth, R"({"auths": {")" + (*proxy)->host() + R"(": {"auth": ")" +
                                        EncodeBase64("alice:s3cret") + R"("}}})", 0600)
                  .ok());
  auto with_creds = MakePuller(auth, false, {(*proxy)->host()});
  auto pulled = with_creds->Pull(ref, "", nullptr);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->record.manifest, img.manifest.digest);
}

TEST_F(PullerTest, LocalLayoutsAndArchivesNeedPermission) {
  BuiltImage img = TwoLayerImage();
  std::string layout = dir_ + "/layout";
  image_testing::WriteLayout(layout, img, "v1");
  std::string ref = "oci:" + layout + ":v1";
  auto refused = puller_->Pull(ref, "", nullptr);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("allowLocalSources"), std::string::npos);

  auto local = MakePuller("", true);
  auto pulled = local->Pull(ref, "", nullptr);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->record.manifest, img.manifest.digest);
  EXPECT_EQ(*ReadFile(pulled->layer_dirs[1] + "/etc/a"), "layer a one");

  // The same layout as an oci-archive tarball (a second image, so its layers are new).
  BuiltImage other = TwoLayerImage("two");
  std::string layout2 = dir_ + "/layout2";
  image_testing::WriteLayout(layout2, other, "v2");
  std::string tar = dir_ + "/image.tar";
  auto packed = RunCommand({"tar", "-C", layout2, "-cf", tar, "."});
  ASSERT_TRUE(packed.has_value() && packed->exit_code == 0);
  auto from_archive = local->Pull("oci-archive:" + tar + ":v2", "", nullptr);
  ASSERT_TRUE(from_archive.has_value()) << from_archive.error().message();
  EXPECT_EQ(*ReadFile(from_archive->layer_dirs[1] + "/etc/a"), "layer a two");
  EXPECT_TRUE(ListDir(dir_ + "/images/tmp")->empty());  // the extracted archive is gone
}

TEST_F(PullerTest, PlainHttpOnlyForInsecureRegistries) {
  BuiltImage img = TwoLayerImage();
  Push("web", "1.0", img);
  auto strict = MakePuller("", false, {"registry.invalid:5000"});
  auto pulled = strict->Pull(registry_->host() + "/web:1.0", "", nullptr);
  ASSERT_FALSE(pulled.has_value());  // tried HTTPS against a plain-HTTP registry
  EXPECT_FALSE(store_->Find(registry_->host() + "/web:1.0").has_value());
}

}  // namespace
}  // namespace sp
