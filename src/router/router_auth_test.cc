// The namespace's identities against the real nats-server, through the
// embedded router and the real client library (cnats): what the JWTs say is
// what the router enforces.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>

#include "auth/base64url.h"
#include "auth/creds.h"
#include "auth/namespace.h"
#include "router/embedded_router.h"
#include "router/test_nats_client.h"
#include "util/fs.h"

namespace sp {
namespace {

using testing::TestClient;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RouterAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char dir_template[] = "/tmp/sp-router-auth-XXXXXX";
    root_ = new std::string(::mkdtemp(dir_template));
    auto ns = LoadOrCreateNamespace(JoinPath(*root_, "auth"));
    ASSERT_TRUE(ns) << ns.error().ToString();
    ns_ = new Namespace(std::move(*ns));
    auto router = EmbeddedRouter::Start({.dir = JoinPath(*root_, "router"), .listen = "127.0.0.1:0"}, *ns_);
    ASSERT_TRUE(router) << router.error().ToString();
    router_ = router->release();
  }
  static void TearDownTestSuite() {
    delete router_;
    delete ns_;
    ASSERT_TRUE(RemoveAll(*root_).ok());
    delete root_;
  }

  // Writes `creds` to a file and returns its path.
  static std::string WriteCreds(const std::string& name, const std::string& creds) {
    std::string path = JoinPath(*root_, name + ".creds");
    EXPECT_TRUE(WriteFileAtomic(path, creds, 0600).ok());
    return path;
  }
  static std::string Issue(const std::string& name, const Permissions& perms,
                           std::optional<int64_t> exp = {}) {
    auto creds = IssueUserCreds(*ns_, name, perms, exp);
    EXPECT_TRUE(creds) << creds.error().ToString();
    return WriteCreds(name, *creds);
  }

  static std::string* root_;
  static Namespace* ns_;
  static EmbeddedRouter* router_;
};

std::string* RouterAuthTest::root_;
Namespace* RouterAuthTest::ns_;
EmbeddedRouter* RouterAuthTest::router_;

TEST_F(RouterAuthTest, AllowedPublishAndSubscribeWork) {
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), Issue("demo", {.pub_allow = {"demo.>"}, .sub_allow = {"demo.>"}})),
            NATS_OK);
  natsSubscription* sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub, c.nc(), "demo.x"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(c.nc(), "demo.x", "hello"), NATS_OK);
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsSubscription_NextMsg(&msg, sub, 5000), NATS_OK);
  EXPECT_EQ(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)), "hello");
  natsMsg_Destroy(msg);
  natsSubscription_Destroy(sub);
}

TEST_F(RouterAuthTest, PublishOutsideAllowIsRefused) {
  TestClient watcher;  // unrestricted: would see the message if the router let it through
  ASSERT_EQ(watcher.Connect(router_->url(), Issue("watcher", {})), NATS_OK);
  natsSubscription* sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub, watcher.nc(), "other.x"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(watcher.nc()), NATS_OK);

  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), Issue("limited", {.pub_allow = {"demo.>"}})), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(c.nc(), "other.x", "sneaky"), NATS_OK);  // refused asynchronously
  EXPECT_TRUE(c.WaitForError(NATS_NOT_PERMITTED));
  EXPECT_FALSE(natsConnection_IsClosed(c.nc()));  // the connection stays up
  natsMsg* msg = nullptr;
  EXPECT_EQ(natsSubscription_NextMsg(&msg, sub, 300), NATS_TIMEOUT);
  natsSubscription_Destroy(sub);
}

TEST_F(RouterAuthTest, DeniedSubjectIsRefusedEvenInsideAllow) {
  TestClient c;
  ASSERT_EQ(
      c.Connect(router_->url(), Issue("denied", {.pub_allow = {"demo.>"}, .pub_deny = {"demo.secret"}})),
      NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(c.nc(), "demo.secret", "x"), NATS_OK);
  EXPECT_TRUE(c.WaitForError(NATS_NOT_PERMITTED));
}

TEST_F(RouterAuthTest, SubscribeOutsideAllowIsRefused) {
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), Issue("reader", {.sub_allow = {"demo.>"}})), NATS_OK);
  natsSubscription* sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub, c.nc(), "secret.>"), NATS_OK);
  EXPECT_TRUE(c.WaitForError(NATS_NOT_PERMITTED));
  natsSubscription_Destroy(sub);
}

TEST_F(RouterAuthTest, EditedUserJwtIsRefused) {
  auto text = IssueUserCreds(*ns_, "edited", {.pub_allow = {"demo.>"}});
  ASSERT_TRUE(text);
  auto creds = ParseCreds(*text);
  ASSERT_TRUE(creds);
  // Widen the permissions without re-signing.
  const std::string& jwt = creds->jwt;
  size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  nlohmann::json claims = creds->claims;
  claims["nats"]["pub"]["allow"] = {">"};
  std::string edited = jwt.substr(0, d1) + "." + Base64UrlEncode(claims.dump()) + jwt.substr(d2);
  TestClient c;
  EXPECT_EQ(c.Connect(router_->url(), WriteCreds("edited", FormatCreds(edited, creds->key.Seed()))),
            NATS_CONNECTION_AUTH_FAILED);
}

TEST_F(RouterAuthTest, ExpiredUserIsRefused) {
  TestClient c;
  EXPECT_EQ(c.Connect(router_->url(), Issue("expired", {}, Now() - 60)), NATS_CONNECTION_AUTH_FAILED);
}

TEST_F(RouterAuthTest, UserOfAnotherNamespaceIsRefused) {
  auto other = LoadOrCreateNamespace(JoinPath(*root_, "other-auth"));
  ASSERT_TRUE(other);
  TestClient c;
  EXPECT_EQ(c.Connect(router_->url(), WriteCreds("stranger", *IssueUserCreds(*other, "stranger", {}))),
            NATS_CONNECTION_AUTH_FAILED);
}

TEST_F(RouterAuthTest, UnexpiredUserWithExpiryConnects) {
  TestClient c;
  EXPECT_EQ(c.Connect(router_->url(), Issue("later", {}, Now() + 3600)), NATS_OK);
}

TEST_F(RouterAuthTest, JetStreamWorksForTheAccount) {
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), Issue("js", {})), NATS_OK);
  ASSERT_EQ(testing::AddStream(c.js(), "AUTHJS", "authjs.>"), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_EQ(testing::PublishToStream(c.js(), "authjs.a", "one"), NATS_OK);
  EXPECT_EQ(testing::StreamMessages(c.js(), "AUTHJS"), 1);
}

}  // namespace
}  // namespace sp
