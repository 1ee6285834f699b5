// .creds files: round trip, and every kind of damage rejected without a crash.
#include "auth/creds.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "util/fs.h"

namespace sp {
namespace {

struct User {
  KeyPair account = *KeyPair::Generate(KeyType::kAccount);
  KeyPair user = *KeyPair::Generate(KeyType::kUser);
  std::string jwt = *UserJwt(account, user.PublicKey(), "alice", Permissions{.pub_allow = {"x"}});
};

TEST(CredsTest, FormatHasTheNatsDelimiters) {
  std::string text = FormatCreds("JWT", "SEED");
  EXPECT_NE(text.find("-----BEGIN NATS USER JWT-----\nJWT\n------END NATS USER JWT------\n"),
            std::string::npos);
  EXPECT_NE(text.find("-----BEGIN USER NKEY SEED-----\nSEED\n------END USER NKEY SEED------\n"),
            std::string::npos);
}

TEST(CredsTest, RoundTrip) {
  User u;
  auto creds = ParseCreds(FormatCreds(u.jwt, u.user.Seed()));
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->jwt, u.jwt);
  EXPECT_EQ(creds->key.PublicKey(), u.user.PublicKey());
  EXPECT_EQ(JsonString(creds->claims, "name"), "alice");
}

TEST(CredsTest, AcceptsCrlfAndIndentation) {
  User u;
  std::string text = "  -----BEGIN NATS USER JWT-----\r\n  " + u.jwt +
                     "\r\n------END NATS USER JWT------\r\n" + "-----BEGIN USER NKEY SEED-----\r\n\t" +
                     u.user.Seed() + "\r\n------END USER NKEY SEED------";
  EXPECT_TRUE(ParseCreds(text));
}

TEST(CredsTest, GarbageIsRejected) {
  User u;
  std::string seed = u.user.Seed();
  KeyPair other = *KeyPair::Generate(KeyType::kUser);
  const std::string bad[] = {
      "",
      "garbage",
      std::string(100, '\0'),
      "-----BEGIN NATS USER JWT-----",
      "-----BEGIN NATS USER JWT-----\n" + u.jwt,
      "-----BEGIN NATS USER JWT-----\n" + u.jwt + "\n------END NATS USER JWT------\n",  // no seed
      "-----BEGIN NATS USER JWT-----\n\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\n" +
          seed + "\n------END USER NKEY SEED------\n",
      FormatCreds("not.a.jwt", seed),
      FormatCreds(u.jwt, "SUXXXX"),
      FormatCreds(u.jwt, other.Seed()),         // seed of another user
      FormatCreds(u.jwt, u.account.Seed()),     // not a user seed
      FormatCreds(u.jwt + "x", seed),           // damaged signature
      FormatCreds(u.jwt, seed).substr(0, 200),  // truncated
      std::string(2 << 20, '-'),
  };
  for (const auto& text : bad) {
    auto creds = ParseCreds(text);
    ASSERT_FALSE(creds) << text.substr(0, 80);
    EXPECT_EQ(creds.error().code(), Code::kInvalidArgument) << creds.error().ToString();
    EXPECT_EQ(creds.error().message().find(seed), std::string::npos);
  }
}

TEST(CredsTest, ExpiredCredsAreRejected) {
  User u;
  std::string jwt = *UserJwt(u.account, u.user.PublicKey(), "old", {}, 1000);
  auto creds = ParseCreds(FormatCreds(jwt, u.user.Seed()));
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code(), Code::kPermissionDenied);
}

TEST(CredsTest, ReadCredsFileNamesThePath) {
  char dir_template[] = "/tmp/sp-creds-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  User u;
  std::string good = JoinPath(dir, "good.creds"), bad = JoinPath(dir, "bad.creds");
  ASSERT_TRUE(WriteFileAtomic(good, FormatCreds(u.jwt, u.user.Seed()), 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(bad, "junk", 0600).ok());
  EXPECT_TRUE(ReadCredsFile(good));
  auto err = ReadCredsFile(bad);
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message().find(bad), std::string::npos);
  EXPECT_EQ(ReadCredsFile(JoinPath(dir, "missing.creds")).error().code(), Code::kNotFound);
  ASSERT_TRUE(RemoveAll(dir).ok());
}

class CredsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/sp-creds-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string dir_;
};

TEST_F(CredsFileTest, WriteCredsFileIs0600AndParses) {
  User u;
  std::string path = JoinPath(dir_, "u.creds");
  ASSERT_TRUE(WriteCredsFile(path, u.jwt, u.user.Seed()).ok());
  EXPECT_EQ(Mode(path), 0600u);
  auto creds = ReadCredsFile(path);
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->jwt, u.jwt);
}

TEST_F(CredsFileTest, SeedFileHoldsOnlyTheSeedBlockAndRoundTrips) {
  User u;
  std::string path = JoinPath(dir_, "entity.seed");
  ASSERT_TRUE(WriteSeedFile(path, u.user).ok());
  EXPECT_EQ(Mode(path), 0600u);
  std::string text = *ReadFile(path);
  EXPECT_NE(
      text.find("-----BEGIN USER NKEY SEED-----\n" + u.user.Seed() + "\n------END USER NKEY SEED------"),
      std::string::npos);
  EXPECT_EQ(text.find("NATS USER JWT"), std::string::npos);
  auto key = ReadSeedFile(path);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->PublicKey(), u.user.PublicKey());
}

TEST_F(CredsFileTest, ReadSeedFileAcceptsFullCredsEvenExpired) {
  User u;
  std::string jwt = *UserJwt(u.account, u.user.PublicKey(), "old", {}, 1000);
  std::string path = JoinPath(dir_, "old.creds");
  ASSERT_TRUE(WriteCredsFile(path, jwt, u.user.Seed()).ok());
  auto key = ReadSeedFile(path);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->PublicKey(), u.user.PublicKey());
}

TEST_F(CredsFileTest, SeedFilesRefuseNonUserKeysAndDamage) {
  User u;
  EXPECT_EQ(WriteSeedFile(JoinPath(dir_, "acct.seed"), u.account).code(), Code::kInvalidArgument);
  EXPECT_FALSE(PathExists(JoinPath(dir_, "acct.seed")));
  std::string path = JoinPath(dir_, "bad.seed");
  const std::string account_seed = u.account.Seed();
  for (const std::string& text :
       {std::string("junk"),
        std::string("-----BEGIN USER NKEY SEED-----\nSUNOTASEED\n------END USER NKEY SEED------\n"),
        "-----BEGIN USER NKEY SEED-----\n" + account_seed + "\n------END USER NKEY SEED------\n",
        std::string("-----BEGIN USER NKEY SEED-----\n")}) {
    ASSERT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    auto key = ReadSeedFile(path);
    ASSERT_FALSE(key) << text;
    EXPECT_EQ(key.error().code(), Code::kInvalidArgument);
    EXPECT_NE(key.error().message().find(path), std::string::npos);
    EXPECT_EQ(key.error().message().find(account_seed), std::string::npos);
  }
  EXPECT_EQ(ReadSeedFile(JoinPath(dir_, "missing")).error().code(), Code::kNotFound);
}

TEST_F(CredsFileTest, ClientCredsKeepTheJwtTextAndSignWithTheUserKey) {
  User u;
  std::string jwt = *UserJwt(u.account, u.user.PublicKey(), "old", {}, 1000);  // expired: the router judges
  std::string path = JoinPath(dir_, "client.creds");
  ASSERT_TRUE(WriteCredsFile(path, jwt, u.user.Seed()).ok());
  auto creds = ReadClientCreds(path);
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->jwt, jwt);
  EXPECT_EQ(creds->key.PublicKey(), u.user.PublicKey());
  EXPECT_EQ(creds->key.Sign("nonce"), u.user.Sign("nonce"));

  ASSERT_TRUE(WriteSeedFile(path, u.user).ok());  // no JWT: not enough to connect
  auto seed_only = ReadClientCreds(path);
  ASSERT_FALSE(seed_only);
  EXPECT_EQ(seed_only.error().code(), Code::kInvalidArgument);
  EXPECT_NE(seed_only.error().message().find("NATS USER JWT"), std::string::npos);
  const std::string account_seed = u.account.Seed();
  ASSERT_TRUE(WriteFileAtomic(path, FormatCreds(jwt, account_seed), 0600).ok());
  auto account = ReadClientCreds(path);
  ASSERT_FALSE(account);
  EXPECT_NE(account.error().message().find(path), std::string::npos);
  EXPECT_EQ(account.error().message().find(account_seed), std::string::npos);
  EXPECT_EQ(ReadClientCreds(JoinPath(dir_, "missing")).error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace sp
