#include "uri/uri.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

bool SubjectPatternMatchesForTest(std::string_view pattern, std::string_view subject) {
  auto split = [](std::string_view s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i)
      if (i == s.size() || s[i] == '.') {
        out.emplace_back(s.substr(start, i - start));
        start = i + 1;
      }
    return out;
  };
  auto p = split(pattern), t = split(subject);
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return t.size() > i;
    if (i >= t.size() || (p[i] != "*" && p[i] != t[i])) return false;
  }
  return p.size() == t.size();
}

TEST(Uri, MapsToSubjectKeepingDotsInSegments) {
  EXPECT_EQ(UriToSubject("oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/slot/config"),
            "sp.oski.spawnpoint.alpha.s%2Espawnpoint.daemon.i%2Espawnpoint.slot.config");
}

TEST(Uri, SubjectRoundTrips) {
  for (const char* u : {"a", "oski/spawnpoint/alpha", "x.y/z~:@=-_/s.spawnpoint/demo.svc/i.spawnable/signal/log"}) {
    auto back = SubjectToUri(UriToSubject(u));
    ASSERT_TRUE(back) << back.error().ToString();
    EXPECT_EQ(*back, u);
  }
}

TEST(Uri, RejectsBadUris) {
  for (const char* u : {"", "a//b", "/a", "a/", "a b", "a/*", "a/+/b", "a/%2E", "a>b", "ä"})
    EXPECT_FALSE(ParseUri(u)) << u;
  EXPECT_FALSE(ParseUri(std::string(2000, 'a')));
}

TEST(Uri, SubjectToUriRejectsGarbage) {
  for (const char* s : {"sp.a..b", "sp.a.%2F", "sp.a.%", "sp..a", "sp.a.*", "sp.a.>", "a.b", "$JS.API.INFO", "sp"})
    EXPECT_FALSE(SubjectToUri(s)) << s;
}

TEST(Uri, PatternsMapToWildcards) {
  EXPECT_EQ(PatternToSubject("oski/spawnpoint/alpha/*"), "sp.oski.spawnpoint.alpha.>");
  EXPECT_EQ(PatternToSubject("oski/+/alpha/s.spawnpoint/+/i.spawnable/signal/heartbeat"),
            "sp.oski.*.alpha.s%2Espawnpoint.*.i%2Espawnable.signal.heartbeat");
  EXPECT_FALSE(ParseUriPattern("a/*/b"));
  EXPECT_TRUE(ParseUriPattern("*"));
}

TEST(Uri, SpawnpointHierarchy) {
  SpawnpointUris u("oski/spawnpoint/alpha");
  EXPECT_EQ(u.Alias(), "alpha");
  EXPECT_EQ(u.DaemonHeartbeat(), "oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat");
  EXPECT_EQ(u.DaemonConfigSlot(), "oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/slot/config");
  EXPECT_EQ(u.ServiceLog("demosvc"), "oski/spawnpoint/alpha/s.spawnpoint/demosvc/i.spawnable/signal/log");
  EXPECT_EQ(u.ServiceProgress("demosvc"), "oski/spawnpoint/alpha/s.spawnpoint/demosvc/i.spawnable/signal/progress");
  EXPECT_EQ(u.DaemonSlot("images"), "oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/slot/images");
  EXPECT_EQ(u.DaemonProgress(), "oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/signal/progress");
  EXPECT_EQ(u.ServiceRestartSlot("demosvc"), "oski/spawnpoint/alpha/s.spawnpoint/demosvc/i.spawnable/slot/restart");
  EXPECT_EQ(u.ServiceStopSlot("demosvc"), "oski/spawnpoint/alpha/s.spawnpoint/demosvc/i.spawnable/slot/stop");
  EXPECT_EQ(u.ServiceHeartbeat("demosvc"),
            "oski/spawnpoint/alpha/s.spawnpoint/demosvc/i.spawnable/signal/heartbeat");
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {
TEST(Uri, HeartbeatScanFiltersCoverEveryDeeperBase) {
  auto f = HeartbeatScanFilters("oski/spawnpoint");
  ASSERT_EQ(f.size(), static_cast<size_t>(kMaxBaseDepth - 1));
  EXPECT_EQ(f[0], "sp.oski.spawnpoint.s%2Espawnpoint.*.*.signal.heartbeat");
  EXPECT_EQ(f[1], "sp.oski.spawnpoint.*.s%2Espawnpoint.*.*.signal.heartbeat");
  EXPECT_EQ(HeartbeatStreamSubjects()[2], "sp.*.*.*.s%2Espawnpoint.*.*.signal.heartbeat");
}

TEST(Uri, StreamPatternsNeverCaptureRouterSubjects) {
  // The longest JetStream API requests carrying a Spawnpoint subject must not fall into a stream.
  std::string log = UriToSubject(SpawnpointUris("a").ServiceLog("s"));
  for (const std::string& p : LogStreamSubjects()) {
    EXPECT_FALSE(SubjectPatternMatchesForTest(p, "$JS.API.DIRECT.GET.SPAWNPOINT_LOGS." + log)) << p;
    EXPECT_FALSE(SubjectPatternMatchesForTest(p, "$JS.API.CONSUMER.CREATE.SPAWNPOINT_LOGS.c." + log)) << p;
    EXPECT_FALSE(SubjectPatternMatchesForTest(p, "_INBOX.x." + log)) << p;
  }
  EXPECT_TRUE(SubjectPatternMatchesForTest(LogStreamSubjects()[0], log));
}

TEST(Uri, LogStreamCoversEveryBaseDepth) {
  auto subjects = LogStreamSubjects();
  ASSERT_EQ(subjects.size(), static_cast<size_t>(kMaxBaseDepth));
  EXPECT_EQ(subjects[2], "sp.*.*.*.s%2Espawnpoint.*.i%2Espawnable.signal.log");
  EXPECT_EQ(UriToSubject(SpawnpointUris("oski/spawnpoint/alpha").ServiceLog("demo")),
            "sp.oski.spawnpoint.alpha.s%2Espawnpoint.demo.i%2Espawnable.signal.log");
}
}  // namespace
}  // namespace sp
