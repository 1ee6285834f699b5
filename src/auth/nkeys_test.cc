// NKeys: known answers from the NATS documentation, round trips, tampering.
#include "auth/nkeys.h"

#include <gtest/gtest.h>

#include "auth/base64url.h"

namespace sp {
namespace {

// The example user of the NATS documentation.
constexpr char kDocSeed[] = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
constexpr char kDocPublic[] = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

TEST(NKeysTest, SeedToPublicKeyKnownAnswer) {
  auto kp = KeyPair::FromSeed(kDocSeed);
  ASSERT_TRUE(kp) << kp.error().ToString();
  EXPECT_EQ(kp->type(), KeyType::kUser);
  EXPECT_EQ(kp->PublicKey(), kDocPublic);
  EXPECT_EQ(kp->Seed(), kDocSeed);
}

TEST(NKeysTest, SignatureKnownAnswer) {
  // A nonce signature by the documentation key, as published with it.
  auto sig = Base64UrlDecode(
      "WosANJXgeyxerXFo0twRiMG-_ZjYp1K_46bFeFax705yFTCTjM18jWl01gGYk4KKbadiHd-hP3WgUQ2iLZUAAA");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(Verify(kDocPublic, "DhXdTMAeiHhLDig", *sig).ok());
  EXPECT_EQ(KeyPair::FromSeed(kDocSeed)->Sign("DhXdTMAeiHhLDig"), *sig);  // Ed25519 is deterministic
}

TEST(NKeysTest, GeneratedKeysHaveTheRightPrefixesAndRoundTrip) {
  const std::tuple<KeyType, char, const char*> cases[] = {{KeyType::kOperator, 'O', "SO"},
                                                          {KeyType::kAccount, 'A', "SA"},
                                                          {KeyType::kUser, 'U', "SU"},
                                                          {KeyType::kServer, 'N', "SN"}};
  for (const auto& [type, pub_prefix, seed_prefix] : cases) {
    auto kp = KeyPair::Generate(type);
    ASSERT_TRUE(kp);
    std::string pub = kp->PublicKey();
    EXPECT_EQ(pub.size(), 56u);
    EXPECT_EQ(pub[0], pub_prefix);
    EXPECT_TRUE(kp->Seed().starts_with(seed_prefix)) << KeyTypeName(type);
    EXPECT_EQ(*PublicKeyType(pub), type);
    auto again = KeyPair::FromSeed(kp->Seed());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->PublicKey(), pub);
    EXPECT_EQ(again->type(), type);
  }
}

TEST(NKeysTest, GeneratedKeysDiffer) {
  EXPECT_NE(KeyPair::Generate(KeyType::kUser)->PublicKey(), KeyPair::Generate(KeyType::kUser)->PublicKey());
}

TEST(NKeysTest, EveryFlippedCharacterOfAPublicKeyIsRejected) {
  std::string pub = kDocPublic;
  for (size_t i = 0; i < pub.size(); ++i) {
    std::string bad = pub;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(PublicKeyType(bad)) << "position " << i;
  }
}

TEST(NKeysTest, DamagedSeedsAreRejected) {
  std::string seed = kDocSeed;
  for (size_t i = 0; i < seed.size(); ++i) {
    std::string bad = seed;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(KeyPair::FromSeed(bad)) << "position " << i;
  }
  EXPECT_FALSE(KeyPair::FromSeed(""));
  EXPECT_FALSE(KeyPair::FromSeed(kDocPublic));  // a public key is not a seed
  EXPECT_FALSE(KeyPair::FromSeed(seed.substr(0, 40)));
  EXPECT_FALSE(KeyPair::FromSeed("not a seed at all"));
}

TEST(NKeysTest, ErrorsDoNotEchoTheSeed) {
  std::string bad = kDocSeed;
  bad[10] = 'Z';
  auto kp = KeyPair::FromSeed(bad);
  ASSERT_FALSE(kp);
  EXPECT_EQ(kp.error().message().find(bad), std::string::npos);
}

TEST(NKeysTest, SignAndVerify) {
  auto kp = KeyPair::Generate(KeyType::kAccount);
  auto other = KeyPair::Generate(KeyType::kAccount);
  std::string sig = kp->Sign("hello");
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(Verify(kp->PublicKey(), "hello", sig).ok());
  EXPECT_EQ(Verify(kp->PublicKey(), "hellO", sig).code(), Code::kPermissionDenied);
  EXPECT_EQ(Verify(other->PublicKey(), "hello", sig).code(), Code::kPermissionDenied);
  std::string flipped = sig;
  flipped[5] ^= 1;
  EXPECT_EQ(Verify(kp->PublicKey(), "hello", flipped).code(), Code::kPermissionDenied);
  EXPECT_EQ(Verify(kp->PublicKey(), "hello", sig.substr(1)).code(), Code::kInvalidArgument);
  EXPECT_EQ(Verify("AXXX", "hello", sig).code(), Code::kInvalidArgument);
}

TEST(NKeysTest, CopiesAreIndependentAndUsable) {
  auto kp = KeyPair::Generate(KeyType::kUser);
  std::string pub = kp->PublicKey();
  KeyPair copy = *kp;
  kp = KeyPair::Generate(KeyType::kUser);  // destroys the original's secrets
  EXPECT_EQ(copy.PublicKey(), pub);
  EXPECT_TRUE(Verify(pub, "m", copy.Sign("m")).ok());
}

}  // namespace
}  // namespace sp
