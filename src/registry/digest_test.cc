// Tests for content digests.
#include "registry/digest.h"

#include <gtest/gtest.h>

#include "util/fs.h"

namespace sp {
namespace {

constexpr const char* kEmpty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, HashesKnownVectors) {
  EXPECT_EQ(DigestOf("").str(), kEmpty);
  EXPECT_EQ(DigestOf("abc").str(), kAbc);
  Sha256Hasher h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish().str(), kAbc);
}

TEST(DigestTest, ParsesOnlyWellFormedSha256) {
  auto d = Digest::Parse(kAbc);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->hex().size(), 64u);
  EXPECT_EQ(d->Short(), "ba7816bf8f01");
  EXPECT_FALSE(Digest::Parse("sha512:abcd").has_value());
  EXPECT_NE(Digest::Parse("sha512:abcd").error().message().find("only sha256"), std::string::npos);
  EXPECT_FALSE(Digest::Parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD").has_value());
  EXPECT_FALSE(Digest::Parse("sha256:abc").has_value());
  EXPECT_FALSE(Digest::Parse("sha256:../../../../etc/passwd0000000000000000000000000000000000000000").has_value());
  EXPECT_FALSE(Digest::Parse("").has_value());
}

TEST(DigestTest, VerifiesContent) {
  EXPECT_TRUE(VerifyDigest("abc", *Digest::Parse(kAbc), "blob").ok());
  Status st = VerifyDigest("abd", *Digest::Parse(kAbc), "layer x");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("layer x"), std::string::npos);
  EXPECT_NE(st.message().find(kAbc), std::string::npos);
}

TEST(DigestTest, HashesFiles) {
  auto dir = MakeTempDir("/tmp/sp-digest-XXXXXX");
  ASSERT_TRUE(dir.has_value());
  std::string path = *dir + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, "abc", 0600).ok());
  auto d = DigestOfFile(path);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->str(), kAbc);
  EXPECT_FALSE(DigestOfFile(*dir + "/missing").has_value());
  ASSERT_TRUE(RemoveAll(*dir).ok());
}

}  // namespace
}  // namespace sp
