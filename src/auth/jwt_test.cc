// JWT minting and verification: claim shapes nats-server relies on, and
// tampered, malformed or expired tokens rejected.
#include "auth/jwt.h"

#include <gtest/gtest.h>

#include <chrono>

#include "auth/base32.h"
#include "auth/base64url.h"

namespace sp {
namespace {

using nlohmann::json;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Keys {
  KeyPair op = *KeyPair::Generate(KeyType::kOperator);
  KeyPair account = *KeyPair::Generate(KeyType::kAccount);
  KeyPair user = *KeyPair::Generate(KeyType::kUser);
};

// Replaces the claims part of a token with `claims`, keeping the signature.
std::string WithClaims(const std::string& jwt, const json& claims) {
  size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  return jwt.substr(0, d1) + "." + Base64UrlEncode(claims.dump()) + jwt.substr(d2);
}

json ClaimsOf(const std::string& jwt) {
  size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  return json::parse(*Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)));
}

TEST(JwtTest, HeaderIsNatsV2) {
  Keys k;
  std::string jwt = *OperatorJwt(k.op, "op", k.account.PublicKey());
  EXPECT_EQ(json::parse(*Base64UrlDecode(jwt.substr(0, jwt.find('.')))),
            json::parse(R"({"typ":"JWT","alg":"ed25519-nkey"})"));
}

TEST(JwtTest, OperatorClaims) {
  Keys k;
  auto signing = KeyPair::Generate(KeyType::kOperator)->PublicKey();
  auto claims = DecodeAndVerify(*OperatorJwt(k.op, "op", k.account.PublicKey(), {signing}));
  ASSERT_TRUE(claims) << claims.error().ToString();
  EXPECT_EQ((*claims)["iss"], k.op.PublicKey());
  EXPECT_EQ((*claims)["sub"], k.op.PublicKey());
  EXPECT_EQ((*claims)["name"], "op");
  EXPECT_NEAR((*claims)["iat"].get<int64_t>(), Now(), 5);
  EXPECT_EQ((*claims)["nats"]["type"], "operator");
  EXPECT_EQ((*claims)["nats"]["version"], 2);
  EXPECT_EQ((*claims)["nats"]["system_account"], k.account.PublicKey());
  EXPECT_EQ((*claims)["nats"]["signing_keys"], json::array({signing}));
}

TEST(JwtTest, JtiIsBase32Sha256OfClaimsWithoutJti) {
  Keys k;
  json claims = *DecodeAndVerify(*OperatorJwt(k.op, "op", k.account.PublicKey()));
  std::string jti = claims["jti"];
  EXPECT_EQ(jti.size(), 52u);  // 32 bytes in base32
  ASSERT_TRUE(Base32Decode(jti));
  // Different content, different jti.
  json other = *DecodeAndVerify(*OperatorJwt(k.op, "op2", k.account.PublicKey()));
  EXPECT_NE(other["jti"], claims["jti"]);
}

TEST(JwtTest, AccountClaimsWithJetStream) {
  Keys k;
  auto signing = KeyPair::Generate(KeyType::kAccount)->PublicKey();
  auto claims = DecodeAndVerify(*AccountJwt(k.op, k.account.PublicKey(), "acct", JetStreamLimits{}, {signing},
                                            {{k.user.PublicKey(), 1234}}));
  ASSERT_TRUE(claims) << claims.error().ToString();
  const json& nats = (*claims)["nats"];
  EXPECT_EQ((*claims)["iss"], k.op.PublicKey());
  EXPECT_EQ((*claims)["sub"], k.account.PublicKey());
  EXPECT_EQ(nats["type"], "account");
  for (const char* field : {"subs", "data", "payload", "conn", "leaf", "imports", "exports", "mem_storage",
                            "disk_storage", "streams", "consumer"})
    EXPECT_EQ(nats["limits"][field], -1) << field;
  EXPECT_EQ(nats["signing_keys"], json::array({signing}));
  EXPECT_EQ(nats["revocations"][k.user.PublicKey()], 1234);
}

TEST(JwtTest, AccountWithoutJetStreamHasNoJetStreamLimits) {
  Keys k;
  json nats = (*DecodeAndVerify(*AccountJwt(k.op, k.account.PublicKey(), "SYS", std::nullopt)))["nats"];
  EXPECT_FALSE(nats["limits"].contains("mem_storage"));
  EXPECT_FALSE(nats["limits"].contains("disk_storage"));
  EXPECT_EQ(nats["limits"]["conn"], -1);
  EXPECT_FALSE(nats.contains("signing_keys"));
  EXPECT_FALSE(nats.contains("revocations"));
}

TEST(JwtTest, UserClaimsCarryPermissions) {
  Keys k;
  Permissions perms{
      .pub_allow = {"a.>"}, .pub_deny = {"a.secret"}, .sub_allow = {"b.*"}, .allow_responses = true};
  auto claims = DecodeAndVerify(*UserJwt(k.account, k.user.PublicKey(), "alice", perms, Now() + 60));
  ASSERT_TRUE(claims) << claims.error().ToString();
  const json& nats = (*claims)["nats"];
  EXPECT_EQ((*claims)["iss"], k.account.PublicKey());
  EXPECT_EQ((*claims)["sub"], k.user.PublicKey());
  EXPECT_EQ((*claims)["exp"], Now() + 60);
  EXPECT_EQ(nats["type"], "user");
  EXPECT_EQ(nats["version"], 2);
  EXPECT_EQ(nats["pub"], json::parse(R"({"allow":["a.>"],"deny":["a.secret"]})"));
  EXPECT_EQ(nats["sub"], json::parse(R"({"allow":["b.*"]})"));
  EXPECT_EQ(nats["resp"]["max"], 1);
  EXPECT_EQ(nats["subs"], -1);
  EXPECT_EQ(nats["data"], -1);
  EXPECT_EQ(nats["payload"], -1);
  EXPECT_FALSE(nats.contains("issuer_account"));
}

TEST(JwtTest, EmptyPermissionsAreOmitted) {
  Keys k;
  json claims = *DecodeAndVerify(*UserJwt(k.account, k.user.PublicKey(), "root", Permissions{}));
  EXPECT_FALSE(claims["nats"].contains("pub"));
  EXPECT_FALSE(claims["nats"].contains("sub"));
  EXPECT_FALSE(claims["nats"].contains("resp"));
  EXPECT_FALSE(claims.contains("exp"));
}

TEST(JwtTest, UserSignedBySigningKeyNamesItsAccount) {
  Keys k;
  KeyPair signing = *KeyPair::Generate(KeyType::kAccount);
  json claims = *DecodeAndVerify(*UserJwt(signing, k.user.PublicKey(), "u", {}, {}, k.account.PublicKey()));
  EXPECT_EQ(claims["iss"], signing.PublicKey());
  EXPECT_EQ(claims["nats"]["issuer_account"], k.account.PublicKey());
}

TEST(JwtTest, WrongKeyTypesAreRejected) {
  Keys k;
  EXPECT_EQ(OperatorJwt(k.account, "op", k.account.PublicKey()).error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(OperatorJwt(k.op, "op", k.user.PublicKey()));
  EXPECT_FALSE(AccountJwt(k.account, k.account.PublicKey(), "a", {}));
  EXPECT_FALSE(AccountJwt(k.op, k.user.PublicKey(), "a", {}));
  EXPECT_FALSE(AccountJwt(k.op, k.account.PublicKey(), "a", {}, {k.user.PublicKey()}));
  EXPECT_FALSE(AccountJwt(k.op, k.account.PublicKey(), "a", {}, {}, {{"garbage", 1}}));
  EXPECT_FALSE(UserJwt(k.op, k.user.PublicKey(), "u", {}));
  EXPECT_FALSE(UserJwt(k.account, k.account.PublicKey(), "u", {}));
  EXPECT_FALSE(UserJwt(k.account, "UNOTAKEY", "u", {}));
  EXPECT_FALSE(UserJwt(k.account, k.user.PublicKey(), "u", {}, {}, k.user.PublicKey()));
}

TEST(JwtTest, TamperedClaimsAreRejected) {
  Keys k;
  std::string jwt = *UserJwt(k.account, k.user.PublicKey(), "u", Permissions{.pub_allow = {"a"}});
  json claims = ClaimsOf(jwt);
  claims["nats"]["pub"]["allow"] = {">"};
  auto tampered = DecodeAndVerify(WithClaims(jwt, claims));
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code(), Code::kPermissionDenied);
}

TEST(JwtTest, ReSigningWithAnotherKeyUnderTheSameIssuerIsRejected) {
  Keys k;
  std::string jwt = *UserJwt(k.account, k.user.PublicKey(), "u", {});
  KeyPair mallory = *KeyPair::Generate(KeyType::kAccount);
  std::string forged = *UserJwt(mallory, k.user.PublicKey(), "u", {});
  json claims = ClaimsOf(forged);
  claims["iss"] = k.account.PublicKey();  // claim the real issuer, keep mallory's signature
  std::string body = jwt.substr(0, jwt.find('.')) + "." + Base64UrlEncode(claims.dump());
  EXPECT_FALSE(DecodeAndVerify(body + "." + Base64UrlEncode(mallory.Sign(body))));
}

TEST(JwtTest, MalformedTokensAreRejected) {
  Keys k;
  std::string jwt = *UserJwt(k.account, k.user.PublicKey(), "u", {});
  size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  const std::string bad[] = {
      "",
      "abc",
      "a.b",
      jwt + ".x",
      jwt.substr(0, d2),
      jwt.substr(0, d2 + 1),
      Base64UrlEncode(R"({"typ":"JWT","alg":"ed25519"})") + jwt.substr(d1),  // v1 header
      Base64UrlEncode("[]") + jwt.substr(d1),
      jwt.substr(0, d1) + "." + Base64UrlEncode("not json") + jwt.substr(d2),
      jwt.substr(0, d1) + "." + Base64UrlEncode(R"({"sub":"x"})") + jwt.substr(d2),
      jwt.substr(0, d1) + "." + Base64UrlEncode(R"({"iss":42})") + jwt.substr(d2),
      jwt.substr(0, d1) + ".!!!" + jwt.substr(d2),
      jwt.substr(0, d2) + ".!!!",
      std::string(2 << 20, 'a'),
  };
  for (const auto& token : bad) EXPECT_FALSE(DecodeAndVerify(token)) << token.substr(0, 80);
}

TEST(JwtTest, ExpiredTokenIsRejected) {
  Keys k;
  auto expired = DecodeAndVerify(*UserJwt(k.account, k.user.PublicKey(), "u", {}, Now() - 10));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), Code::kPermissionDenied);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos);
}

TEST(JwtTest, JsonStringNeverThrows) {
  json j = json::parse(R"({"a":"x","b":3})");
  EXPECT_EQ(JsonString(j, "a"), "x");
  EXPECT_EQ(JsonString(j, "b"), "");
  EXPECT_EQ(JsonString(j, "c"), "");
  EXPECT_EQ(JsonString(json::array(), "a"), "");
}

TEST(JwtTest, InvalidUtf8InNamesDoesNotThrow) {
  Keys k;
  auto jwt = UserJwt(k.account, k.user.PublicKey(), "bad\xff", {});
  ASSERT_TRUE(jwt);
  EXPECT_TRUE(DecodeAndVerify(*jwt));
}

}  // namespace
}  // namespace sp
