// Tests for the registry client against a real registry (docker-registry) and, for what a real
// registry will not do on demand, the Python proxy in front of it: pulls by tag and digest,
// multi-platform indexes in OCI and Docker media types, corrupted and oversized content, missing
// images, Bearer and Basic authentication, resumed and stalled downloads, redirects to another
// origin, retries, and HTTPS by default.
#include "registry/registry_client.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "registry/http_transport.h"
#include "registry/registry_auth.h"
#include "registry/testing/registry_fixture.h"
#include "util/base64.h"
#include "util/fs.h"

namespace sp {
namespace {

using registry_testing::ProxyOptions;
using registry_testing::TestImage;
using registry_testing::TestImageSpec;
using registry_testing::TestRegistry;
using registry_testing::TokenProxy;

// What a pull produced: the chosen manifest, the config and the downloaded layer files.
struct Pulled {
  FetchedManifest top;
  Digest manifest_digest;
  ImageManifest manifest;
  ImageConfig config;
  std::vector<std::string> layer_files;
};

// Runs a pull the way the image puller does: manifest (choosing this host from an index), config,
// layers.
Result<Pulled> Pull(RegistryClient& client, const ImageReference& ref, const std::string& dir) {
  Pulled p;
  SP_ASSIGN_OR_RETURN(p.top, client.GetManifest(ref, ref.digest.empty() ? ref.tag : ref.digest));
  SP_ASSIGN_OR_RETURN(auto parsed, ParseManifest(p.top.bytes, p.top.media_type));
  p.manifest_digest = p.top.digest;
  if (auto* index = std::get_if<ImageIndex>(&parsed)) {
    SP_ASSIGN_OR_RETURN(Descriptor chosen, ChoosePlatform(*index, HostPlatform()));
    SP_ASSIGN_OR_RETURN(FetchedManifest m, client.GetManifest(ref, chosen.digest.str()));
    p.manifest_digest = m.digest;
    SP_ASSIGN_OR_RETURN(parsed, ParseManifest(m.bytes, m.media_type));
  }
  p.manifest = std::get<ImageManifest>(parsed);
  SP_ASSIGN_OR_RETURN(std::string config, client.GetBlobBytes(ref, p.manifest.config, kConfigSizeLimit));
  SP_ASSIGN_OR_RETURN(p.config, ParseImageConfig(config));
  for (const Descriptor& l : p.manifest.layers) {
    std::string dest = dir + "/" + std::string(l.digest.hex());
    SP_RETURN_IF_ERROR(client.GetBlob(ref, l, dest, nullptr));
    p.layer_files.push_back(dest);
  }
  return p;
}

ImageReference Ref(const std::string& text) {
  auto r = ParseImageReference(text);
  EXPECT_TRUE(r.has_value()) << text;
  return r.value_or(ImageReference{});
}

Descriptor BlobDescriptor(std::string_view bytes) {
  Descriptor d;
  d.media_type = std::string(kOciLayerTarGzip);
  d.digest = DigestOf(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  uint32_t x = 2463534242u;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = TestRegistry::Start();
    ASSERT_TRUE(r.has_value()) << r.error().message();
    registry_ = std::move(*r);
    auto d = MakeTempDir("/tmp/sp-registry-client-XXXXXX");
    ASSERT_TRUE(d.has_value());
    dir_ = *d;
  }
  void TearDown() override {
    proxy_.reset();
    registry_.reset();
    if (!dir_.empty()) {
      ASSERT_TRUE(RemoveAll(dir_).ok());
    }
  }

  RegistryOptions Options(const std::string& insecure_host) {
    RegistryOptions o;
    o.insecure_registries = {insecure_host};
    o.retry_backoff = Millis(20);
    return o;
  }

  std::unique_ptr<RegistryClient> Client(const RegistryOptions& o) {
    auto c = RegistryClient::Create(o);
    EXPECT_TRUE(c.has_value()) << c.error().message();
    return c ? std::move(*c) : nullptr;
  }

  std::unique_ptr<RegistryClient> Client() { return Client(Options(registry_->host())); }

  void StartProxy(const ProxyOptions& o) {
    auto p = TokenProxy::Start(*registry_, o);
    ASSERT_TRUE(p.has_value()) << p.error().message();
    proxy_ = std::move(*p);
  }

  std::string WriteAuthFile(const std::string& host, const std::string& user, const std::string& password) {
    std::string path = dir_ + "/auth.json";
    std::string text =
        R"({"auths": {")" + host + R"(": {"auth": ")" + EncodeBase64(user + ":" + password) + R"("}}})";
    EXPECT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    return path;
  }

  std::string Dest(const std::string& name) { return dir_ + "/" + name; }

  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TokenProxy> proxy_;
  std::string dir_;
};

TEST_F(RegistryClientTest, PullsByTagAndByDigest) {
  TestImageSpec spec;
  spec.layers = {{{"etc/", ""}, {"etc/motd", "first layer\n"}}, {{"bin/tool", RandomBytes(200000), 0755}}};
  spec.cmd = {"/bin/tool", "--serve"};
  auto image = registry_->PushImage("team/app", "v1", spec);
  ASSERT_TRUE(image.has_value()) << image.error().message();
  auto client = Client();

  auto pulled = Pull(*client, Ref(registry_->host() + "/team/app:v1"), dir_);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->top.digest, image->manifest_digest);
  EXPECT_EQ(pulled->top.media_type, kOciManifest);
  EXPECT_EQ(pulled->top.bytes, image->manifest);
  EXPECT_EQ(pulled->config.cmd, spec.cmd);
  ASSERT_EQ(pulled->config.diff_ids.size(), 2u);
  EXPECT_EQ(pulled->config.diff_ids[1], image->layers[1].diff_id);
  ASSERT_EQ(pulled->layer_files.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(ReadFile(pulled->layer_files[i]).value_or(""), image->layers[i].blob);
    EXPECT_FALSE(PathExists(pulled->layer_files[i] + ".partial"));
    struct stat st {};
    ASSERT_EQ(::stat(pulled->layer_files[i].c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }

  // The same image by digest, into a fresh directory.
  std::string by_digest = dir_ + "/by-digest";
  ASSERT_TRUE(MakeDirs(by_digest).ok());
  auto pinned =
      Pull(*client, Ref(registry_->host() + "/team/app@" + image->manifest_digest.str()), by_digest);
  ASSERT_TRUE(pinned.has_value()) << pinned.error().message();
  EXPECT_EQ(pinned->top.digest, image->manifest_digest);
  EXPECT_EQ(ReadFile(pinned->layer_files[1]).value_or(""), image->layers[1].blob);
}

TEST_F(RegistryClientTest, ReportsProgressUpToTheBlobSize) {
  std::string blob = RandomBytes(300000);
  ASSERT_TRUE(registry_->PushBlob("app", blob).has_value());
  auto client = Client();
  std::vector<int64_t> seen;
  Status st = client->GetBlob(Ref(registry_->host() + "/app"), BlobDescriptor(blob), Dest("blob"),
                              [&](int64_t done) { seen.push_back(done); });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(seen.back(), static_cast<int64_t>(blob.size()));
}

TEST_F(RegistryClientTest, ChoosesThisHostFromAMultiPlatformIndex) {
  std::vector<Platform> platforms = {{"linux", "amd64", ""}, {"linux", "arm64", "v8"}};
  Platform host = HostPlatform();
  if (host.architecture != "amd64" && host.architecture != "arm64") platforms.push_back(host);
  std::vector<TestImage> images;
  for (const Platform& p : platforms) {
    TestImageSpec spec;
    spec.platform = p;
    spec.layers = {{{"arch", p.String() + "\n"}}};
    auto img = registry_testing::BuildImage(spec);
    ASSERT_TRUE(img.has_value()) << img.error().message();
    images.push_back(*img);
  }
  auto index = registry_->PushIndex("multi", "latest", images, /*docker=*/false);
  ASSERT_TRUE(index.has_value()) << index.error().message();
  auto client = Client();
  auto pulled = Pull(*client, Ref(registry_->host() + "/multi"), dir_);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->top.digest, *index);
  EXPECT_EQ(pulled->top.media_type, kOciIndex);
  const TestImage* mine = nullptr;
  for (const TestImage& img : images) {
    if (img.platform.architecture == host.architecture) mine = &img;
  }
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(pulled->manifest_digest, mine->manifest_digest);
  EXPECT_EQ(pulled->config.architecture, host.architecture);
  ASSERT_EQ(pulled->layer_files.size(), 1u);
  EXPECT_EQ(ReadFile(pulled->layer_files[0]).value_or(""), mine->layers[0].blob);
}

TEST_F(RegistryClientTest, PullsDockerManifestListsAndSchema2) {
  std::vector<TestImage> images;
  for (const Platform& p : {HostPlatform(), Platform{"linux", "s390x", ""}}) {
    TestImageSpec spec;
    spec.platform = p;
    spec.docker_media_types = true;
    spec.layers = {{{"which", p.architecture}}};
    auto img = registry_testing::BuildImage(spec);
    ASSERT_TRUE(img.has_value()) << img.error().message();
    images.push_back(*img);
  }
  auto list = registry_->PushIndex("docker-style", "v1", images, /*docker=*/true);
  ASSERT_TRUE(list.has_value()) << list.error().message();
  auto client = Client();
  ImageReference ref = Ref(registry_->host() + "/docker-style:v1");
  auto top = client->GetManifest(ref, "v1");
  ASSERT_TRUE(top.has_value()) << top.error().message();
  EXPECT_EQ(top->media_type, kDockerManifestList);
  auto pulled = Pull(*client, ref, dir_);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->manifest.media_type, kDockerManifest);
  EXPECT_EQ(pulled->manifest.layers[0].media_type, kDockerLayerTarGzip);
  EXPECT_EQ(pulled->manifest_digest, images[0].manifest_digest);
  EXPECT_EQ(ReadFile(pulled->layer_files[0]).value_or(""), images[0].layers[0].blob);
}

TEST_F(RegistryClientTest, RefusesACorruptedBlobAndLeavesNothing) {
  std::string blob = RandomBytes(50000);
  auto digest = registry_->PushBlob("app", blob);
  ASSERT_TRUE(digest.has_value()) << digest.error().message();
  std::string corrupted = blob;
  corrupted[1234] ^= 0x55;  // same size, different bytes
  ASSERT_TRUE(WriteFileAtomic(registry_->BlobDataPath(*digest), corrupted).ok());

  auto client = Client();
  ImageReference ref = Ref(registry_->host() + "/app");
  std::string dest = Dest("layer");
  Status st = client->GetBlob(ref, BlobDescriptor(blob), dest, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find(digest->str()), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(DigestOf(corrupted).str()), std::string::npos) << st.message();
  EXPECT_FALSE(PathExists(dest));
  EXPECT_FALSE(PathExists(dest + ".partial"));

  auto bytes = client->GetBlobBytes(ref, BlobDescriptor(blob), 1 << 20);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code(), Code::kInvalidArgument);
}

TEST_F(RegistryClientTest, CutsOffABlobLargerThanItsDescriptor) {
  std::string blob = RandomBytes(20000);
  auto digest = registry_->PushBlob("app", blob);
  ASSERT_TRUE(digest.has_value());
  ASSERT_TRUE(WriteFileAtomic(registry_->BlobDataPath(*digest), blob + RandomBytes(100000)).ok());
  auto client = Client();
  std::string dest = Dest("big");
  Status st = client->GetBlob(Ref(registry_->host() + "/app"), BlobDescriptor(blob), dest, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("more than the 20000 bytes"), std::string::npos) << st.message();
  EXPECT_FALSE(PathExists(dest));
  EXPECT_FALSE(PathExists(dest + ".partial"));
  auto bytes = client->GetBlobBytes(Ref(registry_->host() + "/app"), BlobDescriptor(blob), 1 << 20);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_NE(bytes.error().message().find("larger than 20000"), std::string::npos) << bytes.error().message();
}

TEST_F(RegistryClientTest, RefusesATamperedManifest) {
  TestImageSpec spec;
  spec.manifest_annotations = {{"org.example.note", "original"}};
  auto image = registry_->PushImage("app", "v1", spec);
  ASSERT_TRUE(image.has_value()) << image.error().message();
  std::string tampered = image->manifest;
  size_t at = tampered.find("original");
  ASSERT_NE(at, std::string::npos);
  tampered.replace(at, 8, "tampered");  // still valid JSON, so the registry serves it
  ASSERT_TRUE(WriteFileAtomic(registry_->BlobDataPath(image->manifest_digest), tampered).ok());

  auto client = Client();
  ImageReference ref = Ref(registry_->host() + "/app:v1");
  auto by_digest = client->GetManifest(ref, image->manifest_digest.str());
  ASSERT_FALSE(by_digest.has_value());
  EXPECT_EQ(by_digest.error().code(), Code::kInvalidArgument);
  EXPECT_NE(by_digest.error().message().find("does not match its digest"), std::string::npos)
      << by_digest.error().message();
  // By tag there is no digest to check against but the registry's header, which disagrees.
  auto by_tag = client->GetManifest(ref, "v1");
  ASSERT_FALSE(by_tag.has_value());
  EXPECT_EQ(by_tag.error().code(), Code::kInvalidArgument);
  EXPECT_NE(by_tag.error().message().find(image->manifest_digest.str()), std::string::npos)
      << by_tag.error().message();
}

TEST_F(RegistryClientTest, MissingImagesAndBlobsAreNotFound) {
  ASSERT_TRUE(registry_->PushImage("app", "v1").has_value());
  auto client = Client();
  auto m = client->GetManifest(Ref(registry_->host() + "/app:v2"), "v2");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), Code::kNotFound);
  EXPECT_NE(m.error().message().find("image " + registry_->host() + "/app:v2 not found (manifest unknown"),
            std::string::npos)
      << m.error().message();
  m = client->GetManifest(Ref(registry_->host() + "/nothing/here"), "latest");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), Code::kNotFound);

  std::string dest = Dest("missing");
  Status st = client->GetBlob(Ref(registry_->host() + "/app"), BlobDescriptor("never pushed"), dest, nullptr);
  EXPECT_EQ(st.code(), Code::kNotFound) << st.message();
  EXPECT_FALSE(PathExists(dest + ".partial"));
}

TEST_F(RegistryClientTest, RefusesBadArguments) {
  auto client = Client();
  ImageReference ref = Ref(registry_->host() + "/app");
  EXPECT_EQ(client->GetManifest(ref, "../../x").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(client->GetManifest(ref, "sha512:abc").error().code(), Code::kInvalidArgument);
  ImageReference hostile = ref;
  hostile.repository = "app/../../v2";
  EXPECT_EQ(client->GetManifest(hostile, "v1").error().code(), Code::kInvalidArgument);
  ImageReference local = Ref("oci:/srv/layout:v1");
  EXPECT_EQ(client->GetManifest(local, "v1").error().code(), Code::kInvalidArgument);
  auto bad = RegistryClient::Create(RegistryOptions{{"not a host/"}, "", 4});
  EXPECT_FALSE(bad.has_value());
  std::string broken_auth = dir_ + "/broken.json";
  ASSERT_TRUE(WriteFileAtomic(broken_auth, "{", 0600).ok());
  RegistryOptions o;
  o.auth_file = broken_auth;
  auto refused = RegistryClient::Create(o);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find(broken_auth), std::string::npos);
  o.auth_file = dir_ + "/absent.json";  // a missing file is fine: anonymous until it appears
  EXPECT_TRUE(RegistryClient::Create(o).has_value());
}

TEST_F(RegistryClientTest, BearerTokenWithCredentialsFromTheAuthFile) {
  auto image = registry_->PushImage("private/app", "v1");
  ASSERT_TRUE(image.has_value()) << image.error().message();
  StartProxy({.auth = "bearer", .user = "alice", .password = "s3cret-pass"});
  RegistryOptions o = Options(proxy_->host());
  o.auth_file = WriteAuthFile(proxy_->host(), "alice", "s3cret-pass");
  auto client = Client(o);
  auto pulled = Pull(*client, Ref(proxy_->host() + "/private/app:v1"), dir_);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->manifest_digest, image->manifest_digest);
  auto stats = proxy_->Stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ((*stats)["tokens_issued"], 1) << stats->dump();  // cached for the rest of the pull
  EXPECT_EQ((*stats)["refused"], 1) << stats->dump();        // only the first, anonymous request
  EXPECT_EQ((*stats)["last_scope"], "repository:private/app:pull");
  EXPECT_EQ((*stats)["last_service"], "test-registry");
}

TEST_F(RegistryClientTest, BearerTokenRefusedWithoutOrWithWrongCredentials) {
  ASSERT_TRUE(registry_->PushImage("private/app", "v1").has_value());
  StartProxy({.auth = "bearer", .user = "alice", .password = "s3cret-pass"});
  ImageReference ref = Ref(proxy_->host() + "/private/app:v1");

  auto anonymous = Client(Options(proxy_->host()))->GetManifest(ref, "v1");
  ASSERT_FALSE(anonymous.has_value());
  EXPECT_EQ(anonymous.error().code(), Code::kPermissionDenied);
  EXPECT_NE(anonymous.error().message().find("anonymous"), std::string::npos) << anonymous.error().message();
  EXPECT_NE(anonymous.error().message().find("no auth file"), std::string::npos)
      << anonymous.error().message();

  RegistryOptions o = Options(proxy_->host());
  o.auth_file = WriteAuthFile(proxy_->host(), "alice", "wrong-password-42");
  auto wrong = Client(o)->GetManifest(ref, "v1");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), Code::kPermissionDenied);
  EXPECT_NE(wrong.error().message().find("\"alice\""), std::string::npos) << wrong.error().message();
  EXPECT_NE(wrong.error().message().find(o.auth_file), std::string::npos) << wrong.error().message();
  EXPECT_EQ(wrong.error().message().find("wrong-password-42"), std::string::npos);

  o.auth_file = WriteAuthFile("elsewhere.example.com", "alice", "s3cret-pass");
  auto other_host = Client(o)->GetManifest(ref, "v1");
  ASSERT_FALSE(other_host.has_value());
  EXPECT_EQ(other_host.error().code(), Code::kPermissionDenied);
  EXPECT_NE(other_host.error().message().find("no credentials for " + proxy_->host()), std::string::npos)
      << other_host.error().message();
}

TEST_F(RegistryClientTest, BearerTokenFromAnIdentityToken) {
  ASSERT_TRUE(registry_->PushImage("app", "v1").has_value());
  StartProxy({.auth = "bearer", .identity_token = "refresh-abc"});
  RegistryOptions o = Options(proxy_->host());
  o.auth_file = dir_ + "/auth.json";
  ASSERT_TRUE(WriteFileAtomic(o.auth_file,
                              R"({"auths": {")" + proxy_->host() + R"(": {"identitytoken": "refresh-abc"}}})")
                  .ok());
  auto m = Client(o)->GetManifest(Ref(proxy_->host() + "/app:v1"), "v1");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(proxy_->Stat("tokens_issued"), 1);
}

TEST_F(RegistryClientTest, TokensAreFetchedAgainWhenTheyExpire) {
  ASSERT_TRUE(registry_->PushImage("app", "v1").has_value());
  StartProxy({.auth = "bearer", .user = "u", .password = "p", .token_ttl = 2});
  RegistryOptions o = Options(proxy_->host());
  o.auth_file = WriteAuthFile(proxy_->host(), "u", "p");
  auto client = Client(o);
  ImageReference ref = Ref(proxy_->host() + "/app:v1");
  ASSERT_TRUE(client->GetManifest(ref, "v1").has_value());
  ASSERT_TRUE(client->GetManifest(ref, "v1").has_value());
  EXPECT_EQ(proxy_->Stat("tokens_issued"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the 2 s token is kept for 1 s
  ASSERT_TRUE(client->GetManifest(ref, "v1").has_value());
  EXPECT_EQ(proxy_->Stat("tokens_issued"), 2);
}

TEST_F(RegistryClientTest, BasicChallengeUsesTheAuthFile) {
  auto image = registry_->PushImage("app", "v1");
  ASSERT_TRUE(image.has_value());
  StartProxy({.auth = "basic", .user = "bob", .password = "b0b-pass"});
  ImageReference ref = Ref(proxy_->host() + "/app:v1");
  RegistryOptions o = Options(proxy_->host());
  o.auth_file = WriteAuthFile(proxy_->host(), "bob", "b0b-pass");
  auto pulled = Pull(*Client(o), ref, dir_);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->manifest_digest, image->manifest_digest);
  EXPECT_EQ(proxy_->Stat("refused"), 1);  // Basic credentials are reused after the first challenge

  auto none = Client(Options(proxy_->host()))->GetManifest(ref, "v1");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), Code::kPermissionDenied);
  EXPECT_NE(none.error().message().find("user name and password"), std::string::npos)
      << none.error().message();

  o.auth_file = WriteAuthFile(proxy_->host(), "bob", "not-it-999");
  auto wrong = Client(o)->GetManifest(ref, "v1");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), Code::kPermissionDenied);
  EXPECT_NE(wrong.error().message().find("Basic authentication as user \"bob\""), std::string::npos)
      << wrong.error().message();
  EXPECT_EQ(wrong.error().message().find("not-it-999"), std::string::npos);
}

TEST_F(RegistryClientTest, ResumesABrokenDownloadWithARange) {
  std::string blob = RandomBytes(1 << 20);
  ASSERT_TRUE(registry_->PushBlob("app", blob).has_value());
  StartProxy({.cut_blobs = 1});
  auto client = Client(Options(proxy_->host()));
  std::vector<int64_t> seen;
  std::string dest = Dest("resumed");
  Status st = client->GetBlob(Ref(proxy_->host() + "/app"), BlobDescriptor(blob), dest,
                              [&](int64_t done) { seen.push_back(done); });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(ReadFile(dest).value_or(""), blob);
  EXPECT_EQ(proxy_->Stat("cuts"), 1);
  EXPECT_EQ(proxy_->Stat("range_requests"), 1);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));  // resumed, never restarted
}

TEST_F(RegistryClientTest, RestartsABrokenDownloadWhenRangesAreIgnored) {
  std::string blob = RandomBytes(1 << 20);
  ASSERT_TRUE(registry_->PushBlob("app", blob).has_value());
  StartProxy({.cut_blobs = 2, .no_range = true});
  auto client = Client(Options(proxy_->host()));
  std::vector<int64_t> seen;
  std::string dest = Dest("restarted");
  Status st = client->GetBlob(Ref(proxy_->host() + "/app"), BlobDescriptor(blob), dest,
                              [&](int64_t done) { seen.push_back(done); });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(ReadFile(dest).value_or(""), blob);
  EXPECT_EQ(proxy_->Stat("cuts"), 2);
  EXPECT_GE(proxy_->Stat("range_requests"), 1);
  EXPECT_NE(std::find(seen.begin(), seen.end(), 0), seen.end());  // progress went back to zero
}

TEST_F(RegistryClientTest, GivesUpOnAStalledServer) {
  std::string blob = RandomBytes(100000);
  ASSERT_TRUE(registry_->PushBlob("app", blob).has_value());
  StartProxy({.stall_blobs = true});
  RegistryOptions o = Options(proxy_->host());
  o.stall_timeout = Millis(1000);
  o.max_attempts = 2;
  std::string dest = Dest("stalled");
  Status st = Client(o)->GetBlob(Ref(proxy_->host() + "/app"), BlobDescriptor(blob), dest, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find("stalled"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("2 attempts"), std::string::npos) << st.message();
  EXPECT_EQ(proxy_->Stat("stalls"), 2);
  EXPECT_FALSE(PathExists(dest + ".partial"));
}

TEST_F(RegistryClientTest, FollowsRedirectsWithoutLeakingAuthorization) {
  std::string blob = RandomBytes(70000);
  ASSERT_TRUE(registry_->PushBlob("app", blob).has_value());
  StartProxy({.auth = "bearer", .user = "u", .password = "p", .redirect_blobs = true});
  RegistryOptions o = Options(proxy_->host());
  o.auth_file = WriteAuthFile(proxy_->host(), "u", "p");
  std::string dest = Dest("redirected");
  Status st = Client(o)->GetBlob(Ref(proxy_->host() + "/app"), BlobDescriptor(blob), dest, nullptr);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(ReadFile(dest).value_or(""), blob);
  EXPECT_GE(proxy_->Stat("blobstore_requests"), 1);
  EXPECT_EQ(proxy_->Stat("blobstore_with_auth"), 0);  // "localhost" is another origin than 127.0.0.1
  EXPECT_EQ(proxy_->Stat("tokens_issued"), 1);
}

TEST_F(RegistryClientTest, RetriesUnavailableRegistriesThenReportsTheirMessage) {
  ASSERT_TRUE(registry_->PushImage("app", "v1").has_value());
  StartProxy({.fail_first = 2});
  ImageReference ref = Ref(proxy_->host() + "/app:v1");
  auto m = Client(Options(proxy_->host()))->GetManifest(ref, "v1");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(proxy_->Stat("failures_sent"), 2);

  proxy_.reset();
  StartProxy({.fail_first = 1000});
  RegistryOptions o = Options(proxy_->host());
  o.max_attempts = 3;
  auto down = Client(o)->GetManifest(Ref(proxy_->host() + "/app:v1"), "v1");
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code(), Code::kUnavailable);
  EXPECT_NE(down.error().message().find("UNAVAILABLE: registry is warming up"), std::string::npos)
      << down.error().message();
  EXPECT_NE(down.error().message().find("3 attempts"), std::string::npos) << down.error().message();
  EXPECT_EQ(proxy_->Stat("failures_sent"), 3);
}

TEST_F(RegistryClientTest, ConnectionRefusedIsUnavailable) {
  auto port = registry_testing::FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  std::string host = "127.0.0.1:" + std::to_string(*port);
  RegistryOptions o = Options(host);
  o.max_attempts = 2;
  auto m = Client(o)->GetManifest(Ref(host + "/app:v1"), "v1");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), Code::kUnavailable);
  EXPECT_NE(m.error().message().find("2 attempts"), std::string::npos) << m.error().message();
  EXPECT_EQ(Client(o)->Ping(host).code(), Code::kUnavailable);
}

TEST_F(RegistryClientTest, UsesHttpsUnlessTheRegistryIsListedInsecure) {
  ASSERT_TRUE(registry_->PushImage("app", "v1").has_value());
  StartProxy({});
  RegistryOptions o;
  o.max_attempts = 1;
  auto m = Client(o)->GetManifest(Ref(proxy_->host() + "/app:v1"), "v1");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), Code::kUnavailable);
  EXPECT_NE(m.error().message().find("https://" + proxy_->host()), std::string::npos) << m.error().message();
  EXPECT_NE(m.error().message().find("insecureRegistries"), std::string::npos) << m.error().message();
  EXPECT_EQ(proxy_->Stat("requests"), 0);  // no plain-HTTP request was made

  o.insecure_registries = {"http://" + proxy_->host() + "/"};  // a URL form is accepted too
  EXPECT_TRUE(Client(o)->GetManifest(Ref(proxy_->host() + "/app:v1"), "v1").has_value());
  EXPECT_EQ(proxy_->Stat("requests"), 1);
}

TEST_F(RegistryClientTest, PingsRegistries) {
  auto client = Client();
  EXPECT_TRUE(client->Ping(registry_->host()).ok());
  StartProxy({.auth = "bearer", .user = "u", .password = "p"});
  EXPECT_TRUE(Client(Options(proxy_->host()))->Ping(proxy_->host()).ok());  // 401 still speaks the API
  EXPECT_FALSE(client->Ping("bad host").ok());
}

TEST_F(RegistryClientTest, SharedByConcurrentThreads) {
  std::vector<std::string> blobs;
  for (int i = 0; i < 6; ++i) {
    blobs.push_back(RandomBytes(40000 + i * 1000));
    ASSERT_TRUE(registry_->PushBlob("app", blobs.back()).has_value());
  }
  StartProxy({.auth = "bearer", .user = "u", .password = "p"});
  RegistryOptions o = Options(proxy_->host());
  o.auth_file = WriteAuthFile(proxy_->host(), "u", "p");
  auto client = Client(o);
  std::vector<Status> results(blobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < blobs.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = client->GetBlob(Ref(proxy_->host() + "/app"), BlobDescriptor(blobs[i]),
                                   Dest("t" + std::to_string(i)), nullptr);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < blobs.size(); ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i].message();
    EXPECT_EQ(ReadFile(Dest("t" + std::to_string(i))).value_or(""), blobs[i]);
  }
}

TEST(RegistryErrorTextTest, ReadsOciErrorBodies) {
  registry_internal::HttpResponse r;
  r.status = 404;
  r.error_body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})";
  EXPECT_EQ(registry_internal::RegistryErrorText(r), "HTTP 404, MANIFEST_UNKNOWN: manifest unknown");
  r.error_body = "upstream timed out\r\n\x1b[31m";
  EXPECT_EQ(registry_internal::RegistryErrorText(r).find('\x1b'), std::string::npos);
  r.error_body = "<html><body>Bad gateway</body></html>";
  EXPECT_EQ(registry_internal::RegistryErrorText(r), "HTTP 404");
  r.error_body = R"({"errors": "nope"})";
  EXPECT_EQ(registry_internal::RegistryErrorText(r), "HTTP 404");
}

TEST(UrlTest, ParsesOriginsAndRedactsSecrets) {
  auto u = registry_internal::ParseHttpUrl("https://Storage.Example.com/blob?X-Amz-Signature=abc");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "storage.example.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->Authority(), "storage.example.com");
  auto v = registry_internal::ParseHttpUrl("https://storage.example.com:443/other");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(u->SameOrigin(*v));
  EXPECT_EQ(v->Authority(), "storage.example.com:443");
  EXPECT_FALSE(u->SameOrigin(*registry_internal::ParseHttpUrl("http://storage.example.com/")));
  EXPECT_FALSE(registry_internal::ParseHttpUrl("ftp://x/").has_value());
  EXPECT_FALSE(registry_internal::ParseHttpUrl("file:///etc/passwd").has_value());
  EXPECT_EQ(registry_internal::RedactUrl("https://user:pw@h.example/p?sig=1"), "https://h.example/p?...");
  EXPECT_EQ(registry_internal::UrlEscape("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
}

}  // namespace
}  // namespace sp
