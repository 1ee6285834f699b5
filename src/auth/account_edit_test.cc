// Account JWT edits: revocations written, re-signed by the operator, saved
// where the namespace loads them, never lowered; edits start from the file.
#include "auth/account_edit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "util/fs.h"

namespace sp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class AccountEditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/sp-acct-XXXXXX";
    root_ = ::mkdtemp(dir_template);
    dir_ = JoinPath(root_, "auth");
    ns_.emplace(*LoadOrCreateNamespace(dir_));
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  json Claims(const std::string& jwt) {
    auto claims = DecodeAndVerify(jwt);
    EXPECT_TRUE(claims) << claims.error().ToString();
    return claims ? *claims : json();
  }

  std::string root_, dir_;
  std::optional<Namespace> ns_;
  const std::string user_ = KeyPair::Generate(KeyType::kUser)->PublicKey();
};

TEST_F(AccountEditTest, RevokeWritesTheRevocationSignedByTheOperator) {
  ASSERT_TRUE(RevokeUser(*ns_, dir_, user_, 1700000000).ok());
  json claims = Claims(ns_->account_jwt);
  EXPECT_EQ(claims["iss"], ns_->op.PublicKey());
  EXPECT_EQ(claims["sub"], ns_->account.PublicKey());
  EXPECT_EQ(claims["nats"]["revocations"][user_], 1700000000);
  EXPECT_EQ(RevokedAt(claims, user_), 1700000000);
  EXPECT_EQ(claims["nats"]["limits"]["streams"], -1);  // JetStream stays enabled
  // Saved: a fresh load sees it, and RouterAuthConfig carries it to the router.
  auto reloaded = LoadOrCreateNamespace(dir_);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->account_jwt, ns_->account_jwt);
  EXPECT_THAT(RouterAuthConfig(*reloaded), HasSubstr(ns_->account_jwt));
}

TEST_F(AccountEditTest, RevokingAgainKeepsTheLaterTime) {
  ASSERT_TRUE(RevokeUser(*ns_, dir_, user_, 2000).ok());
  ASSERT_TRUE(RevokeUser(*ns_, dir_, user_, 1000).ok());
  EXPECT_EQ(RevokedAt(Claims(ns_->account_jwt), user_), 2000);
  ASSERT_TRUE(RevokeUser(*ns_, dir_, user_, 3000).ok());
  EXPECT_EQ(RevokedAt(Claims(ns_->account_jwt), user_), 3000);
}

TEST_F(AccountEditTest, SeveralUsersAndStar) {
  const std::string other = KeyPair::Generate(KeyType::kUser)->PublicKey();
  ASSERT_TRUE(RevokeUser(*ns_, dir_, user_, 10).ok());
  ASSERT_TRUE(RevokeUser(*ns_, dir_, other, 20).ok());
  ASSERT_TRUE(RevokeUser(*ns_, dir_, "*", 30).ok());
  json claims = Claims(ns_->account_jwt);
  EXPECT_EQ(RevokedAt(claims, user_), 10);
  EXPECT_EQ(RevokedAt(claims, other), 20);
  EXPECT_EQ(RevokedAt(claims, "*"), 30);
  EXPECT_EQ(RevokedAt(claims, "Unobody"), std::nullopt);
}

TEST_F(AccountEditTest, RefusesNonUserKeysAndBadTimes) {
  EXPECT_EQ(RevokeUser(*ns_, dir_, ns_->account.PublicKey(), 10).code(), Code::kInvalidArgument);
  EXPECT_EQ(RevokeUser(*ns_, dir_, "Ubogus", 10).code(), Code::kInvalidArgument);
  EXPECT_EQ(RevokeUser(*ns_, dir_, user_, 0).code(), Code::kInvalidArgument);
  EXPECT_FALSE(Claims(ns_->account_jwt)["nats"].contains("revocations"));
}

TEST_F(AccountEditTest, EditsStartFromTheFileNotAStaleCopy) {
  Namespace other = *LoadOrCreateNamespace(dir_);  // a second process's copy
  const std::string second = KeyPair::Generate(KeyType::kUser)->PublicKey();
  ASSERT_TRUE(RevokeUser(*ns_, dir_, user_, 10).ok());
  ASSERT_TRUE(RevokeUser(other, dir_, second, 20).ok());  // `other` never saw the first edit
  json claims = Claims(other.account_jwt);
  EXPECT_EQ(RevokedAt(claims, user_), 10);
  EXPECT_EQ(RevokedAt(claims, second), 20);
}

TEST_F(AccountEditTest, FailedEditWritesNothing) {
  const std::string before = *ReadFile(JoinPath(dir_, "account.jwt"));
  Status s = EditAccountJwt(*ns_, dir_, [](json&) { return Status::InvalidArgument("no"); });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(*ReadFile(JoinPath(dir_, "account.jwt")), before);
}

TEST_F(AccountEditTest, RefusesAForeignAccountFile) {
  auto foreign = LoadOrCreateNamespace(JoinPath(root_, "foreign"));
  ASSERT_TRUE(foreign);
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "account.jwt"), foreign->account_jwt + "\n").ok());
  Status s = RevokeUser(*ns_, dir_, user_, 10);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("account.jwt"));
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "account.jwt"), "garbage").ok());
  EXPECT_EQ(RevokeUser(*ns_, dir_, user_, 10).code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace sp
