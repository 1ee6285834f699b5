// The installation namespace: created once, loaded after, file modes, users
// issued by it, and the nats-server fragment. (The end-to-end test against a
// real nats-server lives in src/router/router_auth_test.cc.)
#include "auth/namespace.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/creds.h"
#include "util/fs.h"

namespace sp {
namespace {

class NamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/sp-ns-XXXXXX";
    root_ = ::mkdtemp(dir_template);
    dir_ = JoinPath(root_, "auth");
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  static std::string Trim(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string root_, dir_;
};

TEST_F(NamespaceTest, CreatesKeysAndJwtsWithTheRightModes) {
  auto ns = LoadOrCreateNamespace(dir_);
  ASSERT_TRUE(ns) << ns.error().ToString();
  EXPECT_EQ(ns->op.type(), KeyType::kOperator);
  EXPECT_EQ(ns->sys.type(), KeyType::kAccount);
  EXPECT_EQ(ns->account.type(), KeyType::kAccount);
  EXPECT_NE(ns->sys.PublicKey(), ns->account.PublicKey());
  EXPECT_EQ(Mode(dir_), 0700u);
  for (const char* f : {"operator.seed", "sys.seed", "account.seed"})
    EXPECT_EQ(Mode(JoinPath(dir_, f)), 0600u) << f;
  for (const char* f : {"operator.jwt", "sys.jwt", "account.jwt"})
    EXPECT_EQ(Mode(JoinPath(dir_, f)), 0644u) << f;
  EXPECT_EQ(Trim(*ReadFile(JoinPath(dir_, "account.seed"))), ns->account.Seed());
}

TEST_F(NamespaceTest, JwtsChainToTheOperator) {
  auto ns = *LoadOrCreateNamespace(dir_);
  auto op = *DecodeAndVerify(ns.operator_jwt);
  auto sys = *DecodeAndVerify(ns.sys_jwt);
  auto account = *DecodeAndVerify(ns.account_jwt);
  EXPECT_EQ(op["nats"]["system_account"], ns.sys.PublicKey());
  EXPECT_EQ(sys["iss"], ns.op.PublicKey());
  EXPECT_EQ(sys["sub"], ns.sys.PublicKey());
  EXPECT_EQ(account["iss"], ns.op.PublicKey());
  EXPECT_EQ(account["sub"], ns.account.PublicKey());
  EXPECT_EQ(account["nats"]["limits"]["disk_storage"], -1);  // JetStream enabled, unlimited
  EXPECT_EQ(account["nats"]["limits"]["mem_storage"], -1);
}

TEST_F(NamespaceTest, SecondCallLoadsTheSameIdentities) {
  auto first = *LoadOrCreateNamespace(dir_);
  auto second = LoadOrCreateNamespace(dir_);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->op.PublicKey(), first.op.PublicKey());
  EXPECT_EQ(second->sys.PublicKey(), first.sys.PublicKey());
  EXPECT_EQ(second->account.PublicKey(), first.account.PublicKey());
  EXPECT_EQ(second->account_jwt, first.account_jwt);
  EXPECT_EQ(second->operator_jwt, first.operator_jwt);
}

TEST_F(NamespaceTest, MissingJwtIsReminted) {
  auto first = *LoadOrCreateNamespace(dir_);
  ASSERT_EQ(::unlink(JoinPath(dir_, "account.jwt").c_str()), 0);
  auto second = LoadOrCreateNamespace(dir_);
  ASSERT_TRUE(second);
  EXPECT_EQ(JsonString(*DecodeAndVerify(second->account_jwt), "sub"), first.account.PublicKey());
}

TEST_F(NamespaceTest, DamagedFilesAreErrorsNotReplacements) {
  ASSERT_TRUE(LoadOrCreateNamespace(dir_));
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "account.seed"), "SAJUNK\n", 0600).ok());
  auto ns = LoadOrCreateNamespace(dir_);
  ASSERT_FALSE(ns);
  EXPECT_EQ(ns.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(ns.error().message().find("account.seed"), std::string::npos);
}

TEST_F(NamespaceTest, JwtOfOtherKeysIsRejected) {
  ASSERT_TRUE(LoadOrCreateNamespace(dir_));
  std::string other_dir = JoinPath(root_, "other");
  ASSERT_TRUE(LoadOrCreateNamespace(other_dir));
  ASSERT_TRUE(
      WriteFileAtomic(JoinPath(dir_, "account.jwt"), *ReadFile(JoinPath(other_dir, "account.jwt"))).ok());
  auto ns = LoadOrCreateNamespace(dir_);
  ASSERT_FALSE(ns);
  EXPECT_NE(ns.error().message().find("account.jwt"), std::string::npos);
}

TEST_F(NamespaceTest, SeedOfWrongTypeIsRejected) {
  auto ns = *LoadOrCreateNamespace(dir_);
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "operator.seed"), ns.account.Seed(), 0600).ok());
  EXPECT_FALSE(LoadOrCreateNamespace(dir_));
}

TEST_F(NamespaceTest, IssuedUsersBelongToTheAccount) {
  auto ns = *LoadOrCreateNamespace(dir_);
  auto text = IssueUserCreds(ns, "bob", Permissions{.sub_allow = {"x.>"}}, 4102444800);
  ASSERT_TRUE(text) << text.error().ToString();
  auto creds = ParseCreds(*text);
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->claims["iss"], ns.account.PublicKey());
  EXPECT_EQ(creds->claims["name"], "bob");
  EXPECT_EQ(creds->claims["exp"], 4102444800);
  EXPECT_EQ(creds->claims["nats"]["sub"]["allow"][0], "x.>");
}

TEST_F(NamespaceTest, EnsureUserCredsKeepsAnExistingIdentity) {
  auto ns = *LoadOrCreateNamespace(dir_);
  std::string path = JoinPath(dir_, "admin.creds");
  ASSERT_TRUE(EnsureUserCreds(ns, path, "admin", {}).ok());
  EXPECT_EQ(Mode(path), 0600u);
  std::string first = *ReadFile(path);
  ASSERT_TRUE(EnsureUserCreds(ns, path, "admin", {}).ok());
  EXPECT_EQ(*ReadFile(path), first);
  EXPECT_EQ(JsonString(ReadCredsFile(path)->claims, "name"), "admin");
}

TEST_F(NamespaceTest, EnsureUserCredsReplacesCredsThatCannotWork) {
  auto ns = *LoadOrCreateNamespace(dir_);
  auto other = *LoadOrCreateNamespace(JoinPath(root_, "other"));
  std::string path = JoinPath(dir_, "daemon.creds");
  ASSERT_TRUE(WriteFileAtomic(path, *IssueUserCreds(other, "daemon", {}), 0600).ok());
  ASSERT_TRUE(EnsureUserCreds(ns, path, "daemon", {}).ok());
  EXPECT_EQ(ReadCredsFile(path)->claims["iss"], ns.account.PublicKey());
  ASSERT_TRUE(WriteFileAtomic(path, "junk", 0644).ok());
  ASSERT_TRUE(EnsureUserCreds(ns, path, "daemon", {}).ok());
  EXPECT_TRUE(ReadCredsFile(path));
  EXPECT_EQ(Mode(path), 0600u);
}

TEST_F(NamespaceTest, RouterAuthConfigTrustsTheOperatorAndPreloadsBothAccounts) {
  auto ns = *LoadOrCreateNamespace(dir_);
  std::string conf = RouterAuthConfig(ns);
  EXPECT_NE(conf.find("operator: \"" + ns.operator_jwt + "\""), std::string::npos);
  EXPECT_NE(conf.find("system_account: \"" + ns.sys.PublicKey() + "\""), std::string::npos);
  EXPECT_NE(conf.find("resolver: MEMORY"), std::string::npos);
  EXPECT_NE(conf.find("\"" + ns.sys.PublicKey() + "\": \"" + ns.sys_jwt + "\""), std::string::npos);
  EXPECT_NE(conf.find("\"" + ns.account.PublicKey() + "\": \"" + ns.account_jwt + "\""), std::string::npos);
  EXPECT_EQ(conf.find(ns.account.Seed()), std::string::npos);
}

}  // namespace
}  // namespace sp
