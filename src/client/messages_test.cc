#include <gtest/gtest.h>

#include "spawnpoint/client.h"
#include "uri/uri.h"

namespace sp {
namespace {

std::pair<std::string, std::string> Hb(const std::string& uri, nlohmann::json j) {
  return {UriToSubject(uri), j.dump()};
}

TEST(AssembleHosts, GroupsServicesUnderTheirHostAndMarksStaleDown) {
  int64_t now = 1'000'000;
  std::vector<std::pair<std::string, std::string>> hbs = {
      Hb("oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat",
         {{"timeMs", now - 1000},
          {"intervalMs", 10000},
          {"version", "0.1.0"},
          {"cpuShares", {{"total", 2048}, {"available", 1536}}},
          {"memory", {{"total", 4096}, {"available", 3584}}}}),
      Hb("oski/spawnpoint/alpha/s.spawnpoint/demo.svc/i.spawnable/signal/heartbeat",
         {{"timeMs", now - 1000}, {"intervalMs", 10000}, {"state", "running"}, {"cpuShares", 512},
          {"memory", 512}, {"usedCpuShares", 1.02}, {"usedMemory", 3.86}}),
      Hb("oski/spawnpoint/beta/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat",
         {{"timeMs", now - 26000}, {"intervalMs", 10000}}),
  };
  auto hosts = AssembleHosts(hbs, now);
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].alias, "alpha");
  EXPECT_TRUE(hosts[0].up);
  EXPECT_EQ(hosts[0].cpu_available, 1536);
  EXPECT_EQ(hosts[0].memory_total, 4096);
  ASSERT_EQ(hosts[0].services.size(), 1u);
  EXPECT_EQ(hosts[0].services[0].name, "demo.svc");
  EXPECT_DOUBLE_EQ(hosts[0].services[0].used_cpu_shares, 1.02);
  EXPECT_TRUE(hosts[0].services[0].up);
  EXPECT_EQ(hosts[1].alias, "beta");
  EXPECT_FALSE(hosts[1].up) << "26 s old with a 10 s period is more than 2.5 periods";
}

TEST(AssembleHosts, SkipsGarbage) {
  std::vector<std::pair<std::string, std::string>> hbs = {
      {"not..a.subject", "{}"},
      {UriToSubject("a/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat"), "not json"},
      {UriToSubject("a/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat"), "[1,2]"},
      {UriToSubject("a/b/c"), "{}"},
      {UriToSubject("a/s.spawnpoint/x/i.spawnable/signal/heartbeat"), R"({"timeMs":"soon","cpuShares":[1]})"},
      {UriToSubject("b/s.spawnpoint/y/i.spawnable/signal/heartbeat"), R"({"timeMs":1e300,"memory":-1e300})"},
  };
  auto hosts = AssembleHosts(hbs, 0);
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[1].services[0].last_seen_ms, 0) << "a float is not a time";
  EXPECT_EQ(hosts[0].services.size(), 1u);
  EXPECT_FALSE(hosts[0].services[0].up);
  EXPECT_EQ(hosts[0].services[0].cpu_shares, 0);
}

TEST(ParseLogMessage, ReadsEntriesAndIgnoresGarbage) {
  auto e = ParseLogMessage(
      R"({"service":"hello","entries":[{"time":"t","stream":"stdout","text":"hi"},7,{"stream":"stderr"}]})");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].service, "hello");
  EXPECT_EQ(e[0].text, "hi");
  EXPECT_EQ(e[1].stream, "stderr");
  EXPECT_TRUE(ParseLogMessage("garbage").empty());
  EXPECT_TRUE(ParseLogMessage(R"({"entries":{}})").empty());
}

TEST(AssembleHosts, AHostOfANewerProtocolIsShownWithTheReason) {
  auto hosts = AssembleHosts({Hb("oski/spawnpoint/gamma/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat",
                                 {{"v", kProtocolVersion + 1}, {"timeMs", 5}})},
                             10);
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].alias, "gamma");
  EXPECT_FALSE(hosts[0].up);
  EXPECT_NE(hosts[0].problem.find("protocol version 2"), std::string::npos) << hosts[0].problem;
}

TEST(AssembleHosts, CarriesImageAndPorts) {
  auto hosts = AssembleHosts(
      {Hb("a/s.spawnpoint/web/i.spawnable/signal/heartbeat",
          {{"image", "127.0.0.1:5000/web:1.0"},
           {"ports", {{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}}}})},
      0);
  ASSERT_EQ(hosts.size(), 1u);
  ASSERT_EQ(hosts[0].services.size(), 1u);
  EXPECT_EQ(hosts[0].services[0].image, "127.0.0.1:5000/web:1.0");
  ASSERT_EQ(hosts[0].services[0].ports.size(), 1u);
  EXPECT_EQ(hosts[0].services[0].ports[0].host_port, 8080);
}

TEST(ParseLogMessage, ANewerProtocolBecomesOneLineThatSaysSo) {
  auto e = ParseLogMessage(R"({"v": 2, "service": "hello", "entries": []})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].stream, "spawnd");
  EXPECT_NE(e[0].text.find("protocol version 2"), std::string::npos);
}

}  // namespace
}  // namespace sp

namespace sp {
namespace {

TEST(ScanFilters, UnrestrictedEntitiesScanEveryDepth) {
  EXPECT_EQ(ScanFiltersFor("oski/spawnpoint", {}), HeartbeatScanFilters("oski/spawnpoint"));
}

TEST(ScanFilters, NarrowedToWhatTheGrantsAllow) {
  const std::string create = "$JS.API.CONSUMER.CREATE.SPAWNPOINT_HEARTBEATS.*.";
  // A host-wide grant covers the host's depth as it is.
  auto host = ScanFiltersFor("oski/spawnpoint/alpha", {create + "sp.oski.spawnpoint.alpha.>"});
  EXPECT_EQ(host, HeartbeatScanFilters("oski/spawnpoint/alpha")) << "deeper hosts under alpha are covered too";
  // A heartbeat-only grant reads exactly that subject.
  std::string hb = "sp.oski.spawnpoint.alpha.s%2Espawnpoint.daemon.i%2Espawnpoint.signal.heartbeat";
  EXPECT_EQ(ScanFiltersFor("oski/spawnpoint/alpha", {create + hb}), (std::vector<std::string>{hb}));
  // A service grant: the service's heartbeat only.
  auto svc = ScanFiltersFor("oski/spawnpoint/alpha",
                            {create + "sp.oski.spawnpoint.alpha.s%2Espawnpoint.demo.i%2Espawnable.>"});
  ASSERT_FALSE(svc.empty());
  EXPECT_EQ(svc[0], "sp.oski.spawnpoint.alpha.s%2Espawnpoint.demo.i%2Espawnable.signal.heartbeat");
  for (const auto& f : svc)  // the rest: hosts whose base would lie inside the service's subtree
    EXPECT_EQ(f.rfind("sp.oski.spawnpoint.alpha.s%2Espawnpoint.demo.i%2Espawnable.", 0), 0u) << f;
  // Another host's grant yields nothing to ask for here.
  EXPECT_TRUE(ScanFiltersFor("oski/spawnpoint/alpha", {create + "sp.oski.spawnpoint.beta.>", "sp.x"}).empty());
}

TEST(ScanFilters, DelegatedTagsBecomeAllowEntries) {
  nlohmann::json claims = {{"nats", {{"tags", {"root:sp.a.b", "sub:s%2Espawnpoint.demo.i%2Espawnable.>", "pub:x"}}}}};
  auto allow = EffectivePubAllow(claims);
  ASSERT_EQ(allow.size(), 1u);
  EXPECT_EQ(allow[0], "$JS.API.CONSUMER.CREATE.SPAWNPOINT_HEARTBEATS.*.sp.a.b.s%2Espawnpoint.demo.i%2Espawnable.>");
  EXPECT_TRUE(EffectivePubAllow(nlohmann::json::parse("[1]")).empty());
  EXPECT_TRUE(EffectivePubAllow({{"nats", {{"tags", 7}}}}).empty());
}

}  // namespace
}  // namespace sp
