// Delegation without a router: the scope template written into the account
// JWT, the signer file, and the delegate's users (tags only, refusals outside
// the subtree). What the router does with them: grant_router_test.cc.
#include "auth/delegation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "util/fs.h"

namespace sp {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kSubtree = "oski/spawnpoint/alpha";
constexpr const char* kP = "sp.oski.spawnpoint.alpha";

class DelegationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/sp-deleg-XXXXXX";
    root_ = ::mkdtemp(dir_template);
    dir_ = JoinPath(root_, "auth");
    ns_.emplace(*LoadOrCreateNamespace(dir_));
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  json AccountNats() {
    auto claims = DecodeAndVerify(ns_->account_jwt);
    EXPECT_TRUE(claims);
    return (*claims)["nats"];
  }

  std::string root_, dir_;
  std::optional<Namespace> ns_;
  const std::string user_ = KeyPair::Generate(KeyType::kUser)->PublicKey();
};

TEST_F(DelegationTest, CreateAddsTheScopedKeyAndSavesTheAccount) {
  auto d = CreateDelegation(*ns_, dir_, kSubtree);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->key.type(), KeyType::kAccount);
  EXPECT_EQ(d->account_pub, ns_->account.PublicKey());
  EXPECT_EQ(d->subtree, kSubtree);

  json nats = AccountNats();
  ASSERT_EQ(nats["signing_keys"].size(), 1u);
  const json& scope = nats["signing_keys"][0];
  EXPECT_EQ(scope, DelegationScope(d->key.PublicKey(), kSubtree));
  EXPECT_EQ(scope["kind"], "user_scope");
  EXPECT_EQ(scope["key"], d->key.PublicKey());
  const std::string p = kP;
  EXPECT_THAT(scope["template"]["pub"]["allow"].get<std::vector<std::string>>(),
              ElementsAre(p + ".{{tag(pub)}}",
                          "$JS.API.CONSUMER.CREATE.SPAWNPOINT_HEARTBEATS.*." + p + ".{{tag(sub)}}",
                          "$JS.API.CONSUMER.CREATE.SPAWNPOINT_LOGS.*." + p + ".{{tag(sub)}}",
                          "$JS.API.DIRECT.GET.SPAWNPOINT_LOGS." + p + ".{{tag(sub)}}",
                          "$JS.API.DIRECT.GET.SPAWNPOINT_HEARTBEATS." + p + ".{{tag(sub)}}"));
  EXPECT_THAT(scope["template"]["sub"]["allow"].get<std::vector<std::string>>(),
              ElementsAre(p + ".{{tag(sub)}}", "_INBOX.{{subject()}}.>"));
  EXPECT_EQ(scope["template"]["resp"], (json{{"max", 1}, {"ttl", 0}}));
  EXPECT_EQ(scope["template"]["subs"], -1);
  EXPECT_EQ(scope["template"]["data"], -1);
  EXPECT_EQ(scope["template"]["payload"], -1);
  // JetStream limits survive the edit, and the saved file is what the namespace loads.
  EXPECT_EQ(nats["limits"]["streams"], -1);
  auto reloaded = LoadOrCreateNamespace(dir_);
  ASSERT_TRUE(reloaded) << reloaded.error().ToString();
  EXPECT_EQ(reloaded->account_jwt, ns_->account_jwt);
}

TEST_F(DelegationTest, SecondDelegationKeepsTheFirst) {
  auto a = CreateDelegation(*ns_, dir_, kSubtree);
  auto b = CreateDelegation(*ns_, dir_, "oski/spawnpoint/beta");
  ASSERT_TRUE(a && b);
  json keys = AccountNats()["signing_keys"];
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["key"], a->key.PublicKey());
  EXPECT_EQ(keys[1]["key"], b->key.PublicKey());
}

TEST_F(DelegationTest, RefusesWildcardOrInvalidSubtrees) {
  for (const char* bad : {"oski/*", "oski/+/alpha", "", "_INBOX/x", "a b"}) {
    auto d = CreateDelegation(*ns_, dir_, bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(AccountNats().contains("signing_keys"));
}

TEST_F(DelegationTest, RemoveDropsOnlyThatKey) {
  auto a = CreateDelegation(*ns_, dir_, kSubtree);
  auto b = CreateDelegation(*ns_, dir_, "oski/spawnpoint/beta");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(RemoveDelegation(*ns_, dir_, a->key.PublicKey()).ok());
  json keys = AccountNats()["signing_keys"];
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["key"], b->key.PublicKey());
  EXPECT_EQ(RemoveDelegation(*ns_, dir_, a->key.PublicKey()).code(), Code::kNotFound);
  ASSERT_TRUE(RemoveDelegation(*ns_, dir_, b->key.PublicKey()).ok());
  EXPECT_FALSE(AccountNats().contains("signing_keys"));
}

TEST_F(DelegationTest, SignerFileRoundTripsWithMode0600) {
  auto d = CreateDelegation(*ns_, dir_, kSubtree);
  ASSERT_TRUE(d);
  std::string path = JoinPath(root_, "alpha.signer");
  ASSERT_TRUE(WriteDelegation(path, *d).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  json j = json::parse(*ReadFile(path));
  EXPECT_EQ(j["account"], ns_->account.PublicKey());
  EXPECT_EQ(j["subtree"], kSubtree);
  EXPECT_EQ(j["seed"], d->key.Seed());
  auto back = ReadDelegation(path);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->key.PublicKey(), d->key.PublicKey());
  EXPECT_EQ(back->account_pub, d->account_pub);
  EXPECT_EQ(back->subtree, d->subtree);
}

TEST_F(DelegationTest, ReadRefusesDamagedSignerFilesWithoutEchoingTheSeed) {
  auto d = CreateDelegation(*ns_, dir_, kSubtree);
  ASSERT_TRUE(d);
  const std::string seed = d->key.Seed();
  const std::string user_seed = KeyPair::Generate(KeyType::kUser)->Seed();
  const std::string acc = ns_->account.PublicKey();
  std::string path = JoinPath(root_, "bad.signer");
  for (const std::string& text :
       std::vector<std::string>{"", "not json", "[]", json{{"account", acc}, {"subtree", kSubtree}}.dump(),
                                json{{"seed", 7}, {"account", acc}, {"subtree", kSubtree}}.dump(),
                                json{{"seed", seed + "x"}, {"account", acc}, {"subtree", kSubtree}}.dump(),
                                json{{"seed", user_seed}, {"account", acc}, {"subtree", kSubtree}}.dump(),
                                json{{"seed", seed}, {"account", user_}, {"subtree", kSubtree}}.dump(),
                                json{{"seed", seed}, {"account", acc}, {"subtree", "oski/*"}}.dump(),
                                json{{"seed", seed}, {"account", acc}}.dump()}) {
    ASSERT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    auto r = ReadDelegation(path);
    ASSERT_FALSE(r) << text;
    EXPECT_THAT(r.error().message(), HasSubstr(path));
    EXPECT_THAT(r.error().message(), ::testing::Not(HasSubstr(seed.substr(2, 20))));
  }
  EXPECT_EQ(ReadDelegation(JoinPath(root_, "missing")).error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(path, std::string(100 * 1024, ' '), 0600).ok());
  EXPECT_FALSE(ReadDelegation(path));
}

TEST_F(DelegationTest, DelegatedUserCarriesTagsAndNoPermissions) {
  auto d = CreateDelegation(*ns_, dir_, kSubtree);
  ASSERT_TRUE(d);
  auto jwt = IssueDelegatedGrantJwt(
      *d, user_, "bob",
      {{"oski/spawnpoint/alpha/s.spawnpoint/demosvc/i.spawnable/*", kPublish | kConsume},
       {"oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat", kConsume}},
      4102444800);
  ASSERT_TRUE(jwt) << jwt.error().ToString();
  auto claims = DecodeAndVerify(*jwt);
  ASSERT_TRUE(claims);
  EXPECT_EQ((*claims)["iss"], d->key.PublicKey());
  EXPECT_EQ((*claims)["sub"], user_);
  EXPECT_EQ((*claims)["exp"], 4102444800);
  const json& nats = (*claims)["nats"];
  EXPECT_EQ(
      nats,
      (json{{"type", "user"},
            {"version", 2},
            {"issuer_account", ns_->account.PublicKey()},
            {"tags",
             {"root:sp.oski.spawnpoint.alpha", "pub:s%2Espawnpoint.demosvc.i%2Espawnable.>",
              "sub:s%2Espawnpoint.demosvc.i%2Espawnable.>",
              "sub:s%2Espawnpoint.daemon.i%2Espawnpoint.signal.heartbeat"}}}));
}

TEST_F(DelegationTest, DelegatedTagsAreDeduplicatedAndExpiryIsOptional) {
  auto d = CreateDelegation(*ns_, dir_, kSubtree);
  ASSERT_TRUE(d);
  const std::string uri = "oski/spawnpoint/alpha/+/x";
  auto jwt =
      IssueDelegatedGrantJwt(*d, user_, "bob", {{uri, kPublish}, {uri, kPublish | kConsume}}, std::nullopt);
  ASSERT_TRUE(jwt);
  auto claims = DecodeAndVerify(*jwt);
  EXPECT_EQ((*claims)["nats"]["tags"], (json{"root:sp.oski.spawnpoint.alpha", "pub:*.x", "sub:*.x"}));
  EXPECT_FALSE(claims->contains("exp"));
}

TEST_F(DelegationTest, DelegatedGrantOutsideTheSubtreeIsRefused) {
  auto d = CreateDelegation(*ns_, dir_, kSubtree);
  ASSERT_TRUE(d);
  for (const char* outside : {"oski/spawnpoint/alpha", "oski/spawnpoint/*", "oski/spawnpoint/alphabet/x",
                              "oski/spawnpoint/beta/s.spawnpoint/*", "oski/+/alpha/x"}) {
    auto r = IssueDelegatedGrantJwt(*d, user_, "bob", {{outside, kPublish}}, std::nullopt);
    ASSERT_FALSE(r) << outside;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr(outside));
    EXPECT_THAT(r.error().message(), HasSubstr(std::string("subtree \"") + kSubtree + "\""));
  }
}

TEST_F(DelegationTest, DelegatedGrantRefusesWhatAPlainGrantRefuses) {
  auto d = CreateDelegation(*ns_, dir_, kSubtree);
  ASSERT_TRUE(d);
  EXPECT_FALSE(IssueDelegatedGrantJwt(*d, user_, "bob", {}, std::nullopt));
  EXPECT_FALSE(
      IssueDelegatedGrantJwt(*d, user_, "bob", {{"oski/spawnpoint/alpha/x/+", kPublish}}, std::nullopt));
  EXPECT_FALSE(IssueDelegatedGrantJwt(*d, user_, "bob", {{"oski/spawnpoint/alpha/x", 0}}, std::nullopt));
  EXPECT_FALSE(IssueDelegatedGrantJwt(*d, ns_->account.PublicKey(), "bob",
                                      {{"oski/spawnpoint/alpha/x", kPublish}}, std::nullopt));
  Delegation wrong_key{*KeyPair::Generate(KeyType::kUser), ns_->account.PublicKey(), kSubtree};
  EXPECT_FALSE(
      IssueDelegatedGrantJwt(wrong_key, user_, "bob", {{"oski/spawnpoint/alpha/x", kPublish}}, std::nullopt));
}

}  // namespace
}  // namespace sp
