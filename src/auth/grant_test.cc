// URI grants -> NATS permissions: the P/C/PC mapping, refused patterns,
// deduplication, the never-empty publish list, the daemon's and a service's
// permissions, and subject matching/intersection as nats-server does it.
// (The same permissions against a real router: grant_router_test.cc.)
#include "auth/grant.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "uri/uri.h"

namespace sp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const std::string kUser = KeyPair::Generate(KeyType::kUser)->PublicKey();
constexpr const char* kSvc = "oski/spawnpoint/alpha/s.spawnpoint/demosvc/i.spawnable/*";
constexpr const char* kSvcSubject = "sp.oski.spawnpoint.alpha.s%2Espawnpoint.demosvc.i%2Espawnable.>";

TEST(ParsePermsTest, AcceptsPCInAnyOrderAndCase) {
  EXPECT_EQ(*ParsePerms("P"), kPublish);
  EXPECT_EQ(*ParsePerms("c"), kConsume);
  EXPECT_EQ(*ParsePerms("PC"), kPublish | kConsume);
  EXPECT_EQ(*ParsePerms("cP"), kPublish | kConsume);
}

TEST(ParsePermsTest, RefusesAnythingElse) {
  for (const char* bad : {"", "X", "PP", "PCX", "pc ", "PCC", "publish"}) {
    auto r = ParsePerms(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr("expected P"));
  }
}

TEST(FormatPermsTest, SpellsEachCombination) {
  EXPECT_EQ(FormatPerms(kPublish), "P");
  EXPECT_EQ(FormatPerms(kConsume), "C");
  EXPECT_EQ(FormatPerms(kPublish | kConsume), "PC");
}

TEST(ValidateGrantUriTest, AcceptsNamesPlusInTheMiddleAndTrailingStar) {
  EXPECT_TRUE(ValidateGrantUri("oski/spawnpoint/alpha").ok());
  EXPECT_TRUE(ValidateGrantUri("oski/+/alpha/*").ok());
  EXPECT_TRUE(ValidateGrantUri(kSvc).ok());
}

TEST(ValidateGrantUriTest, RefusesTrailingPlusAndPointsToStar) {
  Status s = ValidateGrantUri("oski/spawnpoint/+");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("may not end in '+'"));
  EXPECT_THAT(s.message(), HasSubstr("'*'"));
  EXPECT_FALSE(ValidateGrantUri("+").ok());
}

TEST(ValidateGrantUriTest, RefusesWildcardOrUnderscoreFirstSegment) {
  EXPECT_THAT(ValidateGrantUri("*").message(), HasSubstr("first segment"));
  EXPECT_THAT(ValidateGrantUri("+/API/*").message(), HasSubstr("first segment"));
  EXPECT_THAT(ValidateGrantUri("_INBOX/*").message(), HasSubstr("reserved"));
}

TEST(ValidateGrantUriTest, RefusesMalformedPatterns) {
  EXPECT_FALSE(ValidateGrantUri("").ok());
  EXPECT_FALSE(ValidateGrantUri("a//b").ok());
  EXPECT_FALSE(ValidateGrantUri("a/*/b").ok());
  EXPECT_FALSE(ValidateGrantUri("a/b c").ok());
  EXPECT_FALSE(ValidateGrantUri("a/b>").ok());
}

TEST(InboxPrefixTest, IsTheUserKeyUnderInbox) { EXPECT_EQ(InboxPrefix("UABC"), "_INBOX.UABC"); }

TEST(ConsumeApiSubjectsTest, ConsumerCreateWithFilterAndDirectGetOnBothStreams) {
  EXPECT_THAT(ConsumeApiSubjects("a.b.>"),
              ElementsAre("$JS.API.CONSUMER.CREATE.SPAWNPOINT_HEARTBEATS.*.a.b.>",
                          "$JS.API.CONSUMER.CREATE.SPAWNPOINT_LOGS.*.a.b.>",
                          "$JS.API.DIRECT.GET.SPAWNPOINT_LOGS.a.b.>",
                          "$JS.API.DIRECT.GET.SPAWNPOINT_HEARTBEATS.a.b.>"));
}

TEST(GrantPermissionsTest, PublishOnlyAllowsPublishAndTheInbox) {
  auto p = GrantPermissions({{kSvc, kPublish}}, kUser);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_THAT(p->pub_allow, ElementsAre(kSvcSubject));
  EXPECT_THAT(p->sub_allow, ElementsAre("_INBOX." + kUser + ".>"));
  EXPECT_TRUE(p->pub_deny.empty());
  EXPECT_TRUE(p->sub_deny.empty());
  EXPECT_FALSE(p->allow_responses);
}

TEST(GrantPermissionsTest, ConsumeAllowsSubscribeAndTheStreamReads) {
  const std::string hb = "oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat";
  const std::string s = UriToSubject(hb);
  auto p = GrantPermissions({{hb, kConsume}}, kUser);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_THAT(p->sub_allow, ElementsAre(s, "_INBOX." + kUser + ".>"));
  EXPECT_THAT(p->pub_allow, UnorderedElementsAre("$JS.API.CONSUMER.CREATE.SPAWNPOINT_HEARTBEATS.*." + s,
                                                 "$JS.API.CONSUMER.CREATE.SPAWNPOINT_LOGS.*." + s,
                                                 "$JS.API.DIRECT.GET.SPAWNPOINT_LOGS." + s,
                                                 "$JS.API.DIRECT.GET.SPAWNPOINT_HEARTBEATS." + s));
  EXPECT_FALSE(p->allow_responses);
}

TEST(GrantPermissionsTest, PublishAndConsumeIsTheUnion) {
  auto pc = GrantPermissions({{kSvc, kPublish | kConsume}}, kUser);
  auto p = GrantPermissions({{kSvc, kPublish}}, kUser);
  auto c = GrantPermissions({{kSvc, kConsume}}, kUser);
  ASSERT_TRUE(pc && p && c);
  EXPECT_EQ(pc->sub_allow, c->sub_allow);
  EXPECT_EQ(pc->pub_allow.size(), 5u);
  EXPECT_EQ(pc->pub_allow.front(), kSvcSubject);
  for (const auto& subj : c->pub_allow) EXPECT_THAT(pc->pub_allow, ::testing::Contains(subj));
}

TEST(GrantPermissionsTest, Deduplicates) {
  auto p = GrantPermissions({{kSvc, kPublish}, {kSvc, kPublish | kConsume}, {kSvc, kConsume}}, kUser);
  auto once = GrantPermissions({{kSvc, kPublish | kConsume}}, kUser);
  ASSERT_TRUE(p && once);
  EXPECT_EQ(p->pub_allow, once->pub_allow);
  EXPECT_EQ(p->sub_allow, once->sub_allow);
}

TEST(GrantPermissionsTest, PlusInTheMiddleBecomesStar) {
  auto p = GrantPermissions({{"oski/+/alpha/*", kPublish}}, kUser);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->pub_allow, ElementsAre("sp.oski.*.alpha.>"));
}

TEST(GrantPermissionsTest, PublishListIsNeverEmpty) {
  for (const auto& grants : std::vector<std::vector<UriGrant>>{{{kSvc, kConsume}}, {{kSvc, kPublish}}}) {
    auto p = GrantPermissions(grants, kUser);
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->pub_allow.empty());
    EXPECT_FALSE(p->sub_allow.empty());
  }
}

TEST(CloseEmptyAllowListsTest, EmptyListsGetTheHarmlessSubject) {
  Permissions p;
  CloseEmptyAllowLists(p);
  EXPECT_THAT(p.pub_allow, ElementsAre("_SP.NOTHING"));
  EXPECT_THAT(p.sub_allow, ElementsAre("_SP.NOTHING"));
  Permissions q{.pub_allow = {"a.b"}, .sub_allow = {"c.>"}};
  CloseEmptyAllowLists(q);
  EXPECT_THAT(q.pub_allow, ElementsAre("a.b"));
  EXPECT_THAT(q.sub_allow, ElementsAre("c.>"));
}

TEST(GrantPermissionsTest, RefusesEmptyListBadPermsBadUrisAndNonUserKeys) {
  EXPECT_THAT(GrantPermissions({}, kUser).error().message(), HasSubstr("at least one"));
  EXPECT_THAT(GrantPermissions({{kSvc, 0}}, kUser).error().message(), HasSubstr("P, C or PC"));
  EXPECT_THAT(GrantPermissions({{kSvc, 4}}, kUser).error().message(), HasSubstr("P, C or PC"));
  EXPECT_THAT(GrantPermissions({{"a/+", kPublish}}, kUser).error().message(), HasSubstr("'+'"));
  const std::string account = KeyPair::Generate(KeyType::kAccount)->PublicKey();
  EXPECT_THAT(GrantPermissions({{kSvc, kPublish}}, account).error().message(), HasSubstr("not a user"));
  EXPECT_FALSE(GrantPermissions({{kSvc, kPublish}}, "Ubogus"));
}

TEST(DaemonPermissionsTest, CoverTheDaemonsSubjectsAndNoMore) {
  const std::string daemon = KeyPair::Generate(KeyType::kUser)->PublicKey();
  Permissions p = DaemonPermissions("oski/spawnpoint/alpha", daemon);
  const std::string b = "sp.oski.spawnpoint.alpha";
  EXPECT_THAT(p.pub_allow, UnorderedElementsAre(b + ".>", "$JS.API.STREAM.CREATE.SPAWNPOINT_HEARTBEATS",
                                                "$JS.API.STREAM.UPDATE.SPAWNPOINT_HEARTBEATS",
                                                "$JS.API.STREAM.CREATE.SPAWNPOINT_LOGS",
                                                "$JS.API.STREAM.UPDATE.SPAWNPOINT_LOGS",
                                                "$JS.API.STREAM.PURGE.SPAWNPOINT_HEARTBEATS"));
  EXPECT_THAT(p.sub_allow,
              UnorderedElementsAre(b + ".s%2Espawnpoint.daemon.i%2Espawnpoint.slot.*",
                                   b + ".s%2Espawnpoint.*.i%2Espawnable.slot.*", "_INBOX." + daemon + ".>"));
  EXPECT_TRUE(p.allow_responses);
  SpawnpointUris uris("oski/spawnpoint/alpha");
  for (const auto& uri : {uris.DaemonHeartbeat(), uris.ServiceLog("demosvc"), uris.ServiceHeartbeat("x")}) {
    bool allowed = false;
    for (const auto& pat : p.pub_allow) allowed |= SubjectMatches(pat, UriToSubject(uri));
    EXPECT_TRUE(allowed) << uri;
  }
  for (const auto& uri : {uris.DaemonConfigSlot(), uris.ServiceStopSlot("x"), uris.ServiceInspectSlot("y")}) {
    bool allowed = false;
    for (const auto& pat : p.sub_allow) allowed |= SubjectMatches(pat, UriToSubject(uri));
    EXPECT_TRUE(allowed) << uri;
  }
  // Another host's slots are not the daemon's to read.
  for (const auto& pat : p.sub_allow)
    EXPECT_FALSE(
        SubjectMatches(pat, UriToSubject(SpawnpointUris("oski/spawnpoint/beta").DaemonConfigSlot())));
}

TEST(ServicePermissionsTest, CoverTheServicePrefixAndItsInbox) {
  const std::string svc = KeyPair::Generate(KeyType::kUser)->PublicKey();
  Permissions p = ServicePermissions("oski/spawnpoint/alpha", "demosvc", svc);
  EXPECT_THAT(p.pub_allow, ElementsAre(kSvcSubject));
  EXPECT_THAT(p.sub_allow, ElementsAre(kSvcSubject, "_INBOX." + svc + ".>"));
  EXPECT_TRUE(p.allow_responses);
}

TEST(SubjectMatchesTest, LiteralsAndWildcards) {
  EXPECT_TRUE(SubjectMatches("a.b.c", "a.b.c"));
  EXPECT_FALSE(SubjectMatches("a.b.c", "a.b"));
  EXPECT_FALSE(SubjectMatches("a.b", "a.b.c"));
  EXPECT_TRUE(SubjectMatches("a.*.c", "a.x.c"));
  EXPECT_FALSE(SubjectMatches("a.*.c", "a.x.d"));
  EXPECT_TRUE(SubjectMatches("a.>", "a.b"));
  EXPECT_TRUE(SubjectMatches("a.>", "a.b.c.d"));
  EXPECT_FALSE(SubjectMatches("a.>", "a"));
  EXPECT_TRUE(SubjectMatches(">", "anything.at.all"));
}

TEST(SubjectMatchesTest, SubjectWildcardsAreLiteralTokens) {
  EXPECT_FALSE(SubjectMatches("a.b", "a.*"));    // a literal allow does not cover a wildcard subscription
  EXPECT_FALSE(SubjectMatches("a.b.>", "a.>"));  // nor does a narrower subtree
  EXPECT_TRUE(SubjectMatches("a.>", "a.*.c"));
  EXPECT_TRUE(SubjectMatches("a.>", "a.>"));
}

TEST(SubjectMatchesTest, StarMatchesALiteralGreaterThan) {
  // Findings 1b: this is how a grant ending in '*' leaks a whole subtree.
  EXPECT_TRUE(SubjectMatches("a.*", "a.>"));
  EXPECT_TRUE(SubjectMatches("$JS.API.DIRECT.GET.S.hb.a.*", "$JS.API.DIRECT.GET.S.hb.a.>"));
  EXPECT_TRUE(SubjectMatches("a.*.c", "a.*.c"));
}

TEST(SubjectMatchesTest, MalformedSubjectsMatchNothing) {
  EXPECT_FALSE(SubjectMatches("a.>", "a..b"));
  EXPECT_FALSE(SubjectMatches("a.>", ""));
  EXPECT_FALSE(SubjectMatches("a.>.b", "a.x.b"));
  EXPECT_FALSE(SubjectMatches("", ""));
}

TEST(IntersectSubjectsTest, TokenWise) {
  EXPECT_EQ(IntersectSubjects("a.b", "a.b"), "a.b");
  EXPECT_EQ(IntersectSubjects("a.*", "a.b"), "a.b");
  EXPECT_EQ(IntersectSubjects("a.b", "a.*"), "a.b");
  EXPECT_EQ(IntersectSubjects("a.*", "*.b"), "a.b");
  EXPECT_EQ(IntersectSubjects("a.*", "a.*"), "a.*");
  EXPECT_EQ(IntersectSubjects("a.b", "a.c"), std::nullopt);
  EXPECT_EQ(IntersectSubjects("a.b", "a.b.c"), std::nullopt);
}

TEST(IntersectSubjectsTest, GreaterThanTakesTheRestOfTheOther) {
  EXPECT_EQ(IntersectSubjects("a.>", "a.b.c"), "a.b.c");
  EXPECT_EQ(IntersectSubjects("a.b.c", "a.>"), "a.b.c");
  EXPECT_EQ(IntersectSubjects("a.>", "*.b.>"), "a.b.>");
  EXPECT_EQ(IntersectSubjects("a.>", "a.>"), "a.>");
  EXPECT_EQ(IntersectSubjects(">", "x.*"), "x.*");
  EXPECT_EQ(IntersectSubjects("a.>", "a"), std::nullopt);  // '>' needs at least one token
  EXPECT_EQ(IntersectSubjects("a.b.>", "a.c.>"), std::nullopt);
}

TEST(IntersectSubjectsTest, MalformedIsNothing) {
  EXPECT_EQ(IntersectSubjects("a..b", "a.>"), std::nullopt);
  EXPECT_EQ(IntersectSubjects("a.>.b", "a.x.b"), std::nullopt);
}

TEST(IssueGrantJwtTest, AccountSignedWithTheGrantPermissions) {
  Namespace ns{*KeyPair::Generate(KeyType::kOperator),
               *KeyPair::Generate(KeyType::kAccount),
               *KeyPair::Generate(KeyType::kAccount),
               "",
               "",
               ""};
  auto jwt = IssueGrantJwt(ns, kUser, "alice", {{kSvc, kPublish | kConsume}}, 4102444800);
  ASSERT_TRUE(jwt) << jwt.error().ToString();
  auto claims = DecodeAndVerify(*jwt);
  ASSERT_TRUE(claims);
  EXPECT_EQ((*claims)["iss"], ns.account.PublicKey());
  EXPECT_EQ((*claims)["sub"], kUser);
  EXPECT_EQ((*claims)["exp"], 4102444800);
  const auto& nats = (*claims)["nats"];
  EXPECT_EQ(nats["pub"]["allow"].size(), 5u);
  EXPECT_EQ(nats["pub"]["allow"][0], kSvcSubject);
  EXPECT_EQ(nats["sub"]["allow"][1], "_INBOX." + kUser + ".>");
  EXPECT_FALSE(nats.contains("resp"));
  EXPECT_FALSE(IssueGrantJwt(ns, kUser, "alice", {}, std::nullopt));
}

}  // namespace
}  // namespace sp
