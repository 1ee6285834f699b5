// Tests for Docker/Podman auth files: the entry forms, key normalisation, lookups, and errors that
// name the file without revealing secrets.
#include "registry/auth_file.h"

#include <gtest/gtest.h>

#include "util/base64.h"
#include "util/fs.h"

namespace sp {
namespace {

Result<AuthFile> Parse(const std::string& text) { return AuthFile::Parse(text, "/etc/auth.json"); }

TEST(AuthFileTest, ReadsEveryEntryForm) {
  std::string text = R"({"auths": {
      "registry.example.com:5000": {"auth": ")" +
                     EncodeBase64("alice:pa:ss") + R"("},
      "https://index.docker.io/v1/": {"username": "bob", "password": "hunter2"},
      "ghcr.io": {"identitytoken": "refresh-me"},
      "quay.io/team": {"auth": ")" +
                     EncodeBase64("team:t") + R"("},
      "quay.io": {"auth": ")" +
                     EncodeBase64("quay:q") + R"("},
      "helper.example.com": {}
    }, "credsStore": "desktop"})";
  auto file = Parse(text);
  ASSERT_TRUE(file.has_value()) << file.error().message();

  auto c = file->For("registry.example.com:5000");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->password, "pa:ss");  // only the first ':' separates

  for (std::string_view hub : {"docker.io", "registry-1.docker.io", "index.docker.io"}) {
    c = file->For(hub);
    ASSERT_TRUE(c.has_value()) << hub;
    EXPECT_EQ(c->username, "bob");
    EXPECT_EQ(c->password, "hunter2");
  }
  c = file->For("ghcr.io");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->identity_token, "refresh-me");

  EXPECT_EQ(file->For("quay.io", "team/app")->username, "team");  // the most specific entry wins
  EXPECT_EQ(file->For("quay.io", "other/app")->username, "quay");
  EXPECT_EQ(file->For("quay.io")->username, "quay");
  EXPECT_FALSE(file->For("helper.example.com").has_value());    // placeholder without credentials
  EXPECT_FALSE(file->For("registry.example.com").has_value());  // the port is part of the key
  EXPECT_FALSE(file->For("elsewhere.io").has_value());
}

TEST(AuthFileTest, AcceptsUnpaddedBase64AndEmptyFiles) {
  std::string encoded = EncodeBase64("u:p1");  // "dTpwMQ=="
  while (encoded.back() == '=') encoded.pop_back();
  auto file = Parse(R"({"auths": {"r.io": {"auth": ")" + encoded + R"("}}})");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  EXPECT_EQ(file->For("r.io")->password, "p1");
  EXPECT_TRUE(Parse("{}")->empty());
  EXPECT_TRUE(Parse(R"({"auths": null})")->empty());
}

TEST(AuthFileTest, MalformedFilesNameThePathButNotTheSecret) {
  auto bad = Parse(R"({"auths": {"r.io": {"auth": "bm9jb2xvbg=="}}})");  // "nocolon"
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("/etc/auth.json"), std::string::npos);
  EXPECT_NE(bad.error().message().find("r.io"), std::string::npos);
  EXPECT_EQ(bad.error().message().find("bm9jb2xvbg"), std::string::npos);
  EXPECT_EQ(bad.error().message().find("nocolon"), std::string::npos);

  bad = Parse(R"({"auths": {"r.io": {"password": 12345}}})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("password: expected a string"), std::string::npos);
  EXPECT_EQ(bad.error().message().find("12345"), std::string::npos);

  EXPECT_FALSE(Parse(R"({"auths": []})").has_value());
  EXPECT_FALSE(Parse(R"({"auths": {"r.io": "x"}})").has_value());
  EXPECT_FALSE(Parse("not json").has_value());
  EXPECT_FALSE(Parse("[]").has_value());
}

TEST(AuthFileTest, LoadsFilesAndReportsMissingOnes) {
  auto dir = MakeTempDir("/tmp/sp-authfile-XXXXXX");
  ASSERT_TRUE(dir.has_value());
  std::string path = *dir + "/auth.json";
  auto missing = LoadAuthFile(path);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_NE(missing.error().message().find(path), std::string::npos);

  ASSERT_TRUE(WriteFileAtomic(path, R"({"auths": {"r.io": {"username": "u", "password": "p"}}})", 0600).ok());
  auto file = LoadAuthFile(path);
  ASSERT_TRUE(file.has_value()) << file.error().message();
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->For("r.io")->username, "u");

  ASSERT_TRUE(WriteFileAtomic(path, "{\"auths\": {", 0600).ok());
  auto broken = LoadAuthFile(path);
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), Code::kInvalidArgument);
  EXPECT_NE(broken.error().message().find(path), std::string::npos);
  ASSERT_TRUE(RemoveAll(*dir).ok());
}

TEST(AuthFileTest, NormalisesKeys) {
  EXPECT_EQ(NormalizeRegistryKey("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(NormalizeRegistryKey("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(NormalizeRegistryKey("HTTP://Registry.Example.com:5000/v2/"), "registry.example.com:5000");
  EXPECT_EQ(NormalizeRegistryKey("quay.io/team/"), "quay.io/team");
  EXPECT_EQ(NormalizeRegistryKey("localhost:5000"), "localhost:5000");
}

}  // namespace
}  // namespace sp
