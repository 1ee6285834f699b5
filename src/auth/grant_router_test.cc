// Grants, delegation and revocation against the real nats-server 2.9.10 and
// cnats 3.4.1: what GrantPermissions, DaemonPermissions, the delegation
// template and the revocation list say is what the router enforces.
//
// One router serves the suite; it trusts the test namespace, which has a
// delegation for oski/spawnpoint/alpha. A "daemon" user with
// DaemonPermissions creates the two streams at set-up, as spawnd does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <thread>

#include "auth/account_edit.h"
#include "auth/creds.h"
#include "auth/delegation.h"
#include "auth/grant.h"
#include "auth/test_router.h"
#include "uri/uri.h"
#include "util/fs.h"

namespace sp {
namespace {

using ::testing::HasSubstr;
using testing::TestClient;
using testing::TestRouter;

constexpr const char* kBase = "oski/spawnpoint/alpha";
const SpawnpointUris kUris(kBase);
const std::string kDemo = kUris.ServicePrefix("demosvc") + "/*";

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Subj(const std::string& uri) { return UriToSubject(uri); }

// A user key and the path of its creds file.
struct Entity {
  KeyPair key;
  std::string creds;
  std::string pub() const { return key.PublicKey(); }
};

class GrantRouterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char dir_template[] = "/tmp/sp-grant-router-XXXXXX";
    root_ = new std::string(::mkdtemp(dir_template));
    auth_dir_ = new std::string(JoinPath(*root_, "auth"));
    auto ns = LoadOrCreateNamespace(*auth_dir_);
    ASSERT_TRUE(ns) << ns.error().ToString();
    ns_ = new Namespace(std::move(*ns));
    auto d = CreateDelegation(*ns_, *auth_dir_, kBase);
    ASSERT_TRUE(d) << d.error().ToString();
    delegation_ = new Delegation(std::move(*d));
    router_ = new TestRouter(JoinPath(*root_, "router"));
    std::string error;
    ASSERT_TRUE(router_->Start(RouterAuthConfig(*ns_), &error)) << error;
    Entity entity = NewEntity("daemon", [](const std::string& pub) {
      return UserJwt(ns_->account, pub, "daemon", DaemonPermissions(kBase, pub));
    });
    TestClient daemon;
    ASSERT_EQ(daemon.Connect(router_->url(), entity.creds, InboxPrefix(entity.pub())), NATS_OK);
    ASSERT_EQ(AddOrUpdateStreams(daemon.js(), /*update=*/false), NATS_OK) << nats_GetLastError(nullptr);
    daemon_ = new Entity(std::move(entity));  // the tests run only once this is set
  }
  static void TearDownTestSuite() {
    delete router_;
    delete delegation_;
    delete daemon_;
    delete ns_;
    ASSERT_TRUE(RemoveAll(*root_).ok());
    delete auth_dir_;
    delete root_;
  }

  void SetUp() override { ASSERT_NE(daemon_, nullptr) << "the suite's router did not start (see above)"; }

  // A new user key whose creds file holds the JWT `mint(pub)` returns.
  static Entity NewEntity(const std::string& name,
                          const std::function<Result<std::string>(const std::string&)>& mint) {
    KeyPair key = *KeyPair::Generate(KeyType::kUser);
    auto jwt = mint(key.PublicKey());
    EXPECT_TRUE(jwt) << jwt.error().ToString();
    std::string path = JoinPath(*root_, name + "-" + key.PublicKey().substr(0, 8) + ".creds");
    Status written = WriteCredsFile(path, jwt ? *jwt : "", key.Seed());
    EXPECT_TRUE(written.ok()) << written.ToString();
    return Entity{std::move(key), path};
  }
  static Entity Granted(const std::string& name, const std::vector<UriGrant>& grants,
                        std::optional<int64_t> exp = {}) {
    return NewEntity(name,
                     [&](const std::string& pub) { return IssueGrantJwt(*ns_, pub, name, grants, exp); });
  }
  static Entity Delegated(const std::string& name, const std::vector<UriGrant>& grants,
                          std::optional<int64_t> exp = {}) {
    return NewEntity(name, [&](const std::string& pub) {
      return IssueDelegatedGrantJwt(*delegation_, pub, name, grants, exp);
    });
  }
  static Entity Admin() {
    return NewEntity("admin", [](const std::string& pub) { return UserJwt(ns_->account, pub, "admin", {}); });
  }

  // Both streams as spawnd creates them (subjects from uri.h, direct get on the logs).
  static natsStatus AddOrUpdateStreams(jsCtx* js, bool update) {
    for (bool logs : {false, true}) {
      std::vector<std::string> subjects = logs ? LogStreamSubjects() : HeartbeatStreamSubjects();
      std::vector<const char*> ptrs;
      for (const auto& s : subjects) ptrs.push_back(s.c_str());
      std::string name(logs ? kLogStream : kHeartbeatStream);
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      cfg.Name = name.c_str();
      cfg.Subjects = ptrs.data();
      cfg.SubjectsLen = static_cast<int>(ptrs.size());
      cfg.Storage = js_MemoryStorage;
      cfg.MaxMsgsPerSubject = logs ? 1000 : 1;
      cfg.AllowDirect = logs;
      jsErrCode code = static_cast<jsErrCode>(0);
      natsStatus s = update ? js_UpdateStream(nullptr, js, &cfg, nullptr, &code)
                            : js_AddStream(nullptr, js, &cfg, nullptr, &code);
      if (s != NATS_OK) return s;
    }
    return NATS_OK;
  }

  // Subscribes `sub` to `subject`, publishes `body` with `pub`, and returns
  // what arrived ("" if nothing did within `wait_ms`).
  static std::string RoundTrip(TestClient& sub, TestClient& pub, const std::string& subject,
                               const std::string& body = "hello", int wait_ms = 2000) {
    natsSubscription* s = nullptr;
    if (natsConnection_SubscribeSync(&s, sub.nc(), subject.c_str()) != NATS_OK) return "";
    natsConnection_Flush(sub.nc());
    natsConnection_PublishString(pub.nc(), subject.c_str(), body.c_str());
    natsConnection_Flush(pub.nc());
    natsMsg* msg = nullptr;
    std::string got;
    if (natsSubscription_NextMsg(&msg, s, wait_ms) == NATS_OK) {
      got.assign(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      natsMsg_Destroy(msg);
    }
    natsSubscription_Destroy(s);
    return got;
  }

  // `client` publishing to `subject` is refused, and `watcher` (unrestricted) sees nothing.
  static void ExpectPublishRefused(TestClient& client, TestClient& watcher, const std::string& subject) {
    natsSubscription* s = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&s, watcher.nc(), subject.c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(watcher.nc()), NATS_OK);
    client.ClearErrors();
    ASSERT_EQ(natsConnection_PublishString(client.nc(), subject.c_str(), "sneaky"), NATS_OK);
    EXPECT_TRUE(client.WaitForError(NATS_NOT_PERMITTED)) << subject;
    natsMsg* msg = nullptr;
    EXPECT_EQ(natsSubscription_NextMsg(&msg, s, 100), NATS_TIMEOUT) << subject;
    if (msg) natsMsg_Destroy(msg);
    natsSubscription_Destroy(s);
  }

  static void ExpectSubscribeRefused(TestClient& client, const std::string& subject) {
    client.ClearErrors();
    natsSubscription* s = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&s, client.nc(), subject.c_str()), NATS_OK);
    EXPECT_TRUE(client.WaitForError(NATS_NOT_PERMITTED)) << subject;
    natsSubscription_Destroy(s);
  }

  // The last message on `subject` in `stream` read through the client's own
  // push consumer (as spawnctl scan does), or "" if none came.
  static std::string LastViaConsumer(TestClient& c, std::string_view stream, const std::string& subject) {
    std::string name(stream), consumer = "c" + std::to_string(::random());
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = name.c_str();
    so.Config.Name = consumer.c_str();
    so.Config.DeliverPolicy = js_DeliverLastPerSubject;
    so.Config.AckPolicy = js_AckNone;
    natsSubscription* sub = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_SubscribeSync(&sub, c.js(), subject.c_str(), nullptr, &so, &code) != NATS_OK) return "";
    natsMsg* msg = nullptr;
    std::string got;
    if (natsSubscription_NextMsg(&msg, sub, 2000) == NATS_OK) {
      got.assign(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      natsMsg_Destroy(msg);
    }
    natsSubscription_Destroy(sub);
    return got;
  }

  // Creating a consumer on `subject` is refused by the router.
  static void ExpectConsumerRefused(TestClient& c, std::string_view stream, const std::string& subject) {
    std::string name(stream);
    jsOptions quick;
    jsOptions_Init(&quick);
    quick.Wait = 300;  // the refused create request gets no reply
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = name.c_str();
    so.Config.Name = "refused";
    so.Config.AckPolicy = js_AckNone;
    c.ClearErrors();
    natsSubscription* sub = nullptr;
    EXPECT_NE(js_SubscribeSync(&sub, c.js(), subject.c_str(), &quick, &so, nullptr), NATS_OK) << subject;
    EXPECT_TRUE(c.WaitForError(NATS_NOT_PERMITTED)) << subject;
    if (sub) natsSubscription_Destroy(sub);
  }

  // Whether `stream` keeps a message on `subject` (asked by an unrestricted user).
  static bool StreamHas(TestClient& admin, std::string_view stream, const std::string& subject) {
    natsMsg* msg = nullptr;
    natsStatus s =
        js_GetLastMsg(&msg, admin.js(), std::string(stream).c_str(), subject.c_str(), nullptr, nullptr);
    if (msg) natsMsg_Destroy(msg);
    return s == NATS_OK;
  }

  static natsStatus JsPublish(TestClient& c, const std::string& subject, const std::string& body) {
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s =
        js_Publish(&ack, c.js(), subject.c_str(), body.data(), static_cast<int>(body.size()), nullptr, &code);
    if (ack) jsPubAck_Destroy(ack);
    return s;
  }

  static std::string* root_;
  static std::string* auth_dir_;
  static Namespace* ns_;
  static Delegation* delegation_;
  static TestRouter* router_;
  static Entity* daemon_;
};

std::string* GrantRouterTest::root_;
std::string* GrantRouterTest::auth_dir_;
Namespace* GrantRouterTest::ns_;
Delegation* GrantRouterTest::delegation_;
TestRouter* GrantRouterTest::router_;
Entity* GrantRouterTest::daemon_;

// (a)
TEST_F(GrantRouterTest, PublishConsumeGrantOnAServiceWorksThereOnly) {
  Entity user = Granted("demo", {{kDemo, kPublish | kConsume}});
  Entity admin = Admin();
  TestClient c, watcher;
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK);
  ASSERT_EQ(watcher.Connect(router_->url(), admin.creds), NATS_OK);
  EXPECT_EQ(RoundTrip(c, c, Subj(kUris.ServiceRestartSlot("demosvc")), "restart"), "restart");
  EXPECT_EQ(RoundTrip(c, c, Subj(kUris.ServiceLog("demosvc")), "line"), "line");
  ExpectPublishRefused(c, watcher, Subj(kUris.ServiceStopSlot("othersvc")));
  ExpectPublishRefused(c, watcher, Subj(kUris.DaemonConfigSlot()));
  ExpectSubscribeRefused(c, Subj(kUris.ServiceLog("othersvc")));
  ExpectSubscribeRefused(c, Subj(kBase) + ".>");
}

// The host here is five segments deep: with a base of three or fewer, the
// direct-get request subject itself has the shape of a log subject of an
// 8-deep base and the log stream captures it (see the report on uri.h).
TEST_F(GrantRouterTest, ConsumeGrantReadsTheLogStreamByDirectGetAndConsumer) {
  const SpawnpointUris deep("oski/lab/rack7/spawnpoint/alpha");
  Entity user = Granted("logs", {{deep.ServicePrefix("demosvc") + "/*", kConsume}});
  Entity admin = Admin();
  TestClient publisher, c;
  ASSERT_EQ(publisher.Connect(router_->url(), admin.creds), NATS_OK);
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK);
  const std::string log = Subj(deep.ServiceLog("demosvc")), other = Subj(deep.ServiceLog("othersvc"));
  ASSERT_EQ(JsPublish(publisher, log, "{\"line\":1}"), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_EQ(JsPublish(publisher, other, "{\"secret\":1}"), NATS_OK);

  jsDirectGetMsgOptions dg;
  jsDirectGetMsgOptions_Init(&dg);
  dg.LastBySubject = log.c_str();
  natsMsg* msg = nullptr;
  ASSERT_EQ(js_DirectGetMsg(&msg, c.js(), std::string(kLogStream).c_str(), nullptr, &dg), NATS_OK)
      << nats_GetLastError(nullptr);
  EXPECT_EQ(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)), "{\"line\":1}");
  natsMsg_Destroy(msg);
  EXPECT_EQ(LastViaConsumer(c, kLogStream, log), "{\"line\":1}");

  // Another service's log, by either road, is refused.
  dg.LastBySubject = other.c_str();
  msg = nullptr;
  jsOptions quick;
  jsOptions_Init(&quick);
  quick.Wait = 300;
  EXPECT_NE(js_DirectGetMsg(&msg, c.js(), std::string(kLogStream).c_str(), &quick, &dg), NATS_OK);
  if (msg) natsMsg_Destroy(msg);
  EXPECT_TRUE(c.WaitForError(NATS_NOT_PERMITTED));
  ExpectConsumerRefused(c, kLogStream, other);
}

// (b)
TEST_F(GrantRouterTest, ConsumeOnlyGrantOnTheDaemonHeartbeatCanReadButNotPublish) {
  const std::string hb = kUris.DaemonHeartbeat();
  Entity user = Granted("hbreader", {{hb, kConsume}});
  Entity admin = Admin();
  TestClient daemon, c, watcher;
  ASSERT_EQ(daemon.Connect(router_->url(), daemon_->creds, InboxPrefix(daemon_->pub())), NATS_OK);
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK);
  ASSERT_EQ(watcher.Connect(router_->url(), admin.creds), NATS_OK);
  EXPECT_EQ(RoundTrip(c, daemon, Subj(hb), "beat"), "beat");
  ASSERT_EQ(JsPublish(daemon, Subj(hb), "kept beat"), NATS_OK);
  EXPECT_EQ(LastViaConsumer(c, kHeartbeatStream, Subj(hb)), "kept beat");
  ExpectPublishRefused(c, watcher, Subj(hb));
  ExpectPublishRefused(c, watcher, Subj(kUris.DaemonConfigSlot()));
  ExpectSubscribeRefused(c, Subj(kUris.ServiceHeartbeat("demosvc")));
  // A scan-style consumer over every host's heartbeat is outside the grant.
  ExpectConsumerRefused(c, kHeartbeatStream, "sp.oski.spawnpoint.*.s%2Espawnpoint.*.*.signal.heartbeat");
}

// (c)
TEST_F(GrantRouterTest, RequestReplyThroughTheGrantedInboxAndNobodyElseListens) {
  Entity requester = Granted("deployer", {{kUris.DaemonConfigSlot(), kPublish}});
  Entity snoop = Granted("snoop", {{kDemo, kPublish | kConsume}});
  TestClient daemon, c, s;
  ASSERT_EQ(daemon.Connect(router_->url(), daemon_->creds, InboxPrefix(daemon_->pub())), NATS_OK);
  ASSERT_EQ(c.Connect(router_->url(), requester.creds, InboxPrefix(requester.pub())), NATS_OK);
  ASSERT_EQ(s.Connect(router_->url(), snoop.creds, InboxPrefix(snoop.pub())), NATS_OK);

  natsSubscription* slot = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&slot, daemon.nc(), Subj(kUris.DaemonConfigSlot()).c_str()),
            NATS_OK);
  ASSERT_EQ(natsConnection_Flush(daemon.nc()), NATS_OK);
  std::thread responder([&] {
    natsMsg* req = nullptr;
    if (natsSubscription_NextMsg(&req, slot, 5000) != NATS_OK) return;
    natsConnection_PublishString(daemon.nc(), natsMsg_GetReply(req), "{\"ok\":true}");
    natsConnection_Flush(daemon.nc());
    natsMsg_Destroy(req);
  });
  natsMsg* reply = nullptr;
  EXPECT_EQ(natsConnection_RequestString(&reply, c.nc(), Subj(kUris.DaemonConfigSlot()).c_str(), "{}", 5000),
            NATS_OK);
  responder.join();
  if (reply) {
    EXPECT_EQ(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)), "{\"ok\":true}");
    EXPECT_THAT(natsMsg_GetSubject(reply), HasSubstr(InboxPrefix(requester.pub()) + "."));
    natsMsg_Destroy(reply);
  }
  natsSubscription_Destroy(slot);

  ExpectSubscribeRefused(s, InboxPrefix(requester.pub()) + ".>");
  ExpectSubscribeRefused(s, "_INBOX.>");
  // The daemon may answer requests but not publish into an inbox on its own.
  Entity admin = Admin();
  TestClient watcher;
  ASSERT_EQ(watcher.Connect(router_->url(), admin.creds), NATS_OK);
  ExpectPublishRefused(daemon, watcher, InboxPrefix(requester.pub()) + ".x");
}

TEST_F(GrantRouterTest, RequestWithTheDefaultInboxPrefixIsRefused) {
  Entity requester = Granted("noprefix", {{kUris.DaemonConfigSlot(), kPublish}});
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), requester.creds), NATS_OK);
  natsMsg* reply = nullptr;
  EXPECT_NE(natsConnection_RequestString(&reply, c.nc(), Subj(kUris.DaemonConfigSlot()).c_str(), "{}", 300),
            NATS_OK);
  EXPECT_TRUE(c.WaitForError(NATS_NOT_PERMITTED));
  if (reply) natsMsg_Destroy(reply);
}

// (d)
TEST_F(GrantRouterTest, DelegatedGrantWorksInsideTheSubtree) {
  Entity user = Delegated("delegated", {{kDemo, kPublish | kConsume}});
  Entity admin = Admin();
  TestClient c, watcher;
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK) << router_->Log();
  ASSERT_EQ(watcher.Connect(router_->url(), admin.creds), NATS_OK);
  EXPECT_EQ(RoundTrip(c, c, Subj(kUris.ServiceStopSlot("demosvc")), "stop"), "stop");
  ExpectPublishRefused(c, watcher, Subj(kUris.ServiceStopSlot("othersvc")));
  ExpectSubscribeRefused(c, Subj(kUris.ServiceLog("othersvc")));
  // Its consumer read works through the template too.
  TestClient daemon;
  ASSERT_EQ(daemon.Connect(router_->url(), daemon_->creds, InboxPrefix(daemon_->pub())), NATS_OK);
  ASSERT_EQ(JsPublish(daemon, Subj(kUris.ServiceLog("demosvc")), "delegated line"), NATS_OK);
  EXPECT_EQ(LastViaConsumer(c, kLogStream, Subj(kUris.ServiceLog("demosvc"))), "delegated line");
}

// What spawnd mints for a service when it holds a delegation: the service
// answers requests on its own slots.
TEST_F(GrantRouterTest, DelegatedServiceAnswersRequestsOnItsSlots) {
  Entity service = Delegated("dsvc", {{kDemo, kPublish | kConsume}});
  Entity caller = Granted("caller", {{kUris.ServiceInspectSlot("demosvc"), kPublish}});
  TestClient svc, c;
  ASSERT_EQ(svc.Connect(router_->url(), service.creds, InboxPrefix(service.pub())), NATS_OK);
  ASSERT_EQ(c.Connect(router_->url(), caller.creds, InboxPrefix(caller.pub())), NATS_OK);
  natsSubscription* slot = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&slot, svc.nc(), Subj(kUris.ServiceInspectSlot("demosvc")).c_str()),
            NATS_OK);
  ASSERT_EQ(natsConnection_Flush(svc.nc()), NATS_OK);
  std::thread responder([&] {
    natsMsg* req = nullptr;
    if (natsSubscription_NextMsg(&req, slot, 5000) != NATS_OK) return;
    natsConnection_PublishString(svc.nc(), natsMsg_GetReply(req), "described");
    natsConnection_Flush(svc.nc());
    natsMsg_Destroy(req);
  });
  natsMsg* reply = nullptr;
  EXPECT_EQ(natsConnection_RequestString(&reply, c.nc(), Subj(kUris.ServiceInspectSlot("demosvc")).c_str(),
                                         "{}", 5000),
            NATS_OK);
  responder.join();
  if (reply) {
    EXPECT_EQ(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)), "described");
    natsMsg_Destroy(reply);
  }
  natsSubscription_Destroy(slot);
}

TEST_F(GrantRouterTest, DelegatedTagsKeepCaseAndPercent) {
  const std::string svc = kUris.ServicePrefix("Demo.Svc");
  Entity user = Delegated("cased", {{svc + "/*", kPublish | kConsume}});
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK);
  EXPECT_EQ(RoundTrip(c, c, Subj(svc + "/slot/stop"), "cased"), "cased");
  ExpectSubscribeRefused(c, Subj(kUris.ServicePrefix("demo.svc") + "/slot/stop"));
}

TEST_F(GrantRouterTest, DelegateSignedUserWithItsOwnPermissionsIsRefused) {
  Entity user = NewEntity("selfperm", [](const std::string& pub) {
    return UserJwt(delegation_->key, pub, "selfperm", {.pub_allow = {">"}, .sub_allow = {">"}}, std::nullopt,
                   delegation_->account_pub);
  });
  TestClient c;
  EXPECT_EQ(c.Connect(router_->url(), user.creds), NATS_CONNECTION_AUTH_FAILED);
  EXPECT_THAT(router_->Log(), HasSubstr("scoped users require no permissions or limits set"));
}

TEST_F(GrantRouterTest, HandMadeWideTagsStayInsideTheSubtree) {
  Entity user = NewEntity("wide", [](const std::string& pub) {
    nlohmann::json nats = {{"type", "user"},
                           {"version", 2},
                           {"issuer_account", delegation_->account_pub},
                           {"tags", {"pub:>", "sub:>"}}};
    return Result<std::string>(EncodeJwt(delegation_->key, {{"sub", pub}, {"name", "wide"}, {"nats", nats}}));
  });
  Entity admin = Admin();
  TestClient c, watcher;
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK) << router_->Log();
  ASSERT_EQ(watcher.Connect(router_->url(), admin.creds), NATS_OK);
  EXPECT_EQ(RoundTrip(c, c, Subj(kUris.ServiceStopSlot("anysvc")), "inside"), "inside");
  ExpectPublishRefused(c, watcher, Subj(SpawnpointUris("oski/spawnpoint/beta").DaemonConfigSlot()));
  ExpectPublishRefused(c, watcher, "$JS.API.STREAM.DELETE." + std::string(kLogStream));
  ExpectSubscribeRefused(c, "sp.oski.spawnpoint.beta.>");
  ExpectSubscribeRefused(c, ">");
  ExpectSubscribeRefused(c, "_INBOX.>");
}

// (e)
TEST_F(GrantRouterTest, RevocationDisconnectsAConnectedUserAfterReload) {
  Entity user = Granted("revoked", {{kDemo, kPublish | kConsume}});
  Entity bystander = Granted("bystander", {{kDemo, kConsume}});
  TestClient c, b;
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK);
  ASSERT_EQ(b.Connect(router_->url(), bystander.creds, InboxPrefix(bystander.pub())), NATS_OK);
  auto creds = ReadCredsFile(user.creds);
  ASSERT_TRUE(creds);
  const int64_t iat = creds->claims["iat"].get<int64_t>();

  ASSERT_TRUE(RevokeUser(*ns_, *auth_dir_, user.pub(), iat).ok());
  ASSERT_TRUE(router_->Reload(RouterAuthConfig(*ns_)));
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_FALSE(natsConnection_IsClosed(b.nc()));
  TestClient again;
  EXPECT_EQ(again.Connect(router_->url(), user.creds), NATS_CONNECTION_AUTH_FAILED);

  // NATS's rule: a JWT issued after the revocation time (iat > at) is valid again.
  while (Now() <= iat) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto fresh = IssueGrantJwt(*ns_, user.pub(), "revoked", {{kDemo, kConsume}}, std::nullopt);
  ASSERT_TRUE(fresh);
  std::string path = JoinPath(*root_, "reissued.creds");
  ASSERT_TRUE(WriteCredsFile(path, *fresh, user.key.Seed()).ok());
  TestClient reissued;
  EXPECT_EQ(reissued.Connect(router_->url(), path, InboxPrefix(user.pub())), NATS_OK);
}

TEST_F(GrantRouterTest, RevokingADelegatedUserWorksTheSameWay) {
  Entity user = Delegated("drevoked", {{kDemo, kConsume}});
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK);
  ASSERT_TRUE(RevokeUser(*ns_, *auth_dir_, user.pub(), Now()).ok());
  ASSERT_TRUE(router_->Reload(RouterAuthConfig(*ns_)));
  EXPECT_TRUE(c.WaitClosed());
  TestClient again;
  EXPECT_EQ(again.Connect(router_->url(), user.creds), NATS_CONNECTION_AUTH_FAILED);
}

TEST_F(GrantRouterTest, RemovedDelegationLocksItsUsersOut) {
  auto beta = CreateDelegation(*ns_, *auth_dir_, "oski/spawnpoint/beta");
  ASSERT_TRUE(beta) << beta.error().ToString();
  ASSERT_TRUE(router_->Reload(RouterAuthConfig(*ns_)));
  Entity user = NewEntity("betauser", [&](const std::string& pub) {
    return IssueDelegatedGrantJwt(*beta, pub, "betauser", {{"oski/spawnpoint/beta/x/*", kConsume}},
                                  std::nullopt);
  });
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), user.creds, InboxPrefix(user.pub())), NATS_OK) << router_->Log();

  ASSERT_TRUE(RemoveDelegation(*ns_, *auth_dir_, beta->key.PublicKey()).ok());
  ASSERT_TRUE(router_->Reload(RouterAuthConfig(*ns_)));
  EXPECT_TRUE(c.WaitClosed());
  TestClient again;
  EXPECT_EQ(again.Connect(router_->url(), user.creds), NATS_CONNECTION_AUTH_FAILED);
  // The other delegation is untouched.
  Entity alpha = Delegated("alphauser", {{kDemo, kConsume}});
  TestClient a;
  EXPECT_EQ(a.Connect(router_->url(), alpha.creds, InboxPrefix(alpha.pub())), NATS_OK);
}

// SubjectMatches decides as the router does, including the literal '>' a
// pattern's '*' admits (why grants may not end in '+').
TEST_F(GrantRouterTest, SubjectMatchesAgreesWithTheRouter) {
  const std::vector<std::string> allow = {"t.a.*", "t.b.>", "t.*.c"};
  Entity user = NewEntity("matcher", [&](const std::string& pub) {
    return UserJwt(ns_->account, pub, "matcher",
                   {.pub_allow = {std::string(kNothingSubject)}, .sub_allow = allow});
  });
  TestClient c;
  ASSERT_EQ(c.Connect(router_->url(), user.creds), NATS_OK);
  for (const std::string subject :
       {"t.a.x", "t.a.>", "t.a.*", "t.a.x.y", "t.b.x.y", "t.b", "t.b.>", "t.x.c", "t.>", "t.*", "u.a.x"}) {
    bool expected = false;
    for (const auto& pattern : allow) expected |= SubjectMatches(pattern, subject);
    c.ClearErrors();
    natsSubscription* sub = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&sub, c.nc(), subject.c_str()), NATS_OK) << subject;
    ASSERT_EQ(natsConnection_Flush(c.nc()), NATS_OK);
    bool refused = c.WaitForError(NATS_NOT_PERMITTED, std::chrono::milliseconds(expected ? 100 : 3000));
    EXPECT_EQ(!refused, expected) << subject;
    natsSubscription_Destroy(sub);
  }
}

// (f)
TEST_F(GrantRouterTest, ExpiredGrantIsRefusedAtConnect) {
  Entity user = Granted("expired", {{kDemo, kConsume}}, Now() - 10);
  Entity delegated = Delegated("dexpired", {{kDemo, kConsume}}, Now() - 10);
  Entity later = Granted("later", {{kDemo, kConsume}}, Now() + 3600);
  TestClient c, d, l;
  EXPECT_EQ(c.Connect(router_->url(), user.creds), NATS_CONNECTION_AUTH_FAILED);
  EXPECT_EQ(d.Connect(router_->url(), delegated.creds), NATS_CONNECTION_AUTH_FAILED);
  EXPECT_EQ(l.Connect(router_->url(), later.creds), NATS_OK);
}

// (g)
TEST_F(GrantRouterTest, DaemonPermissionsSufficeForTheDaemonsWork) {
  TestClient daemon;
  ASSERT_EQ(daemon.Connect(router_->url(), daemon_->creds, InboxPrefix(daemon_->pub())), NATS_OK);
  ASSERT_EQ(AddOrUpdateStreams(daemon.js(), /*update=*/false), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_EQ(AddOrUpdateStreams(daemon.js(), /*update=*/true), NATS_OK) << nats_GetLastError(nullptr);
  const std::string hb = Subj(kUris.ServiceHeartbeat("gone"));
  ASSERT_EQ(JsPublish(daemon, hb, "{\"kind\":\"service\"}"), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_EQ(JsPublish(daemon, Subj(kUris.DaemonHeartbeat()), "{\"kind\":\"daemon\"}"), NATS_OK);

  Entity reader = Granted("hbscan", {{kBase + std::string("/*"), kConsume}});
  TestClient r;
  ASSERT_EQ(r.Connect(router_->url(), reader.creds, InboxPrefix(reader.pub())), NATS_OK);
  EXPECT_EQ(LastViaConsumer(r, kHeartbeatStream, hb), "{\"kind\":\"service\"}");

  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Purge.Subject = hb.c_str();
  jsErrCode code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PurgeStream(daemon.js(), std::string(kHeartbeatStream).c_str(), &o, &code), NATS_OK)
      << nats_GetLastError(nullptr) << " " << code;
  Entity admin = Admin();
  TestClient a;
  ASSERT_EQ(a.Connect(router_->url(), admin.creds), NATS_OK);
  EXPECT_FALSE(StreamHas(a, kHeartbeatStream, hb));
  EXPECT_TRUE(StreamHas(a, kHeartbeatStream, Subj(kUris.DaemonHeartbeat())));
  // Nothing the daemon did needed a subject outside its permissions ($JS.API.INFO, STREAM.INFO, ...).
  EXPECT_FALSE(daemon.WaitForError(NATS_NOT_PERMITTED, std::chrono::milliseconds(100)));
}

TEST_F(GrantRouterTest, DaemonCannotReachAnotherHostOrTheLogsPurge) {
  Entity admin = Admin();
  TestClient daemon, watcher;
  ASSERT_EQ(daemon.Connect(router_->url(), daemon_->creds, InboxPrefix(daemon_->pub())), NATS_OK);
  ASSERT_EQ(watcher.Connect(router_->url(), admin.creds), NATS_OK);
  ExpectPublishRefused(daemon, watcher, Subj(SpawnpointUris("oski/spawnpoint/beta").DaemonHeartbeat()));
  ExpectPublishRefused(daemon, watcher, "$JS.API.STREAM.DELETE." + std::string(kHeartbeatStream));
  ExpectPublishRefused(daemon, watcher, "$JS.API.STREAM.PURGE." + std::string(kLogStream));
  ExpectSubscribeRefused(daemon, Subj(SpawnpointUris("oski/spawnpoint/beta").DaemonConfigSlot()));
}

TEST_F(GrantRouterTest, ServicePermissionsCoverOnlyItsOwnPrefix) {
  Entity svc = NewEntity("svc", [](const std::string& pub) {
    return UserJwt(ns_->account, pub, "svc", ServicePermissions(kBase, "demosvc", pub));
  });
  Entity admin = Admin();
  TestClient c, watcher;
  ASSERT_EQ(c.Connect(router_->url(), svc.creds, InboxPrefix(svc.pub())), NATS_OK);
  ASSERT_EQ(watcher.Connect(router_->url(), admin.creds), NATS_OK);
  EXPECT_EQ(RoundTrip(c, c, Subj(kUris.ServicePrefix("demosvc") + "/signal/custom"), "mine"), "mine");
  ExpectPublishRefused(c, watcher, Subj(kUris.ServicePrefix("other") + "/signal/custom"));
  ExpectSubscribeRefused(c, Subj(kUris.DaemonConfigSlot()));
}

}  // namespace
}  // namespace sp
