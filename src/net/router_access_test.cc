// Tests for router access: the DNAT rule from the bridge gateway to a loopback-only port, checked end to
// end with a TCP server the test runs on 127.0.0.1 and a client inside an attached namespace.
#include "net/router_access.h"

#include <gtest/gtest.h>

#include "net/bridge_test_fixture.h"
#include "net/link.h"
#include "net/net_test_util.h"
#include "net/netns.h"
#include "util/fs.h"

namespace sp {
namespace {

using RouterAccessTest = testing::BridgeFixture;

// Connects from inside the namespace to address:port and returns what the server sent.
Result<std::string> ReadFromInside(const std::string& ns, const std::string& address, int port) {
  Result<std::string> got = Err(Status::Internal("not run"));
  Status st = RunInNetns(ns, [&]() -> Status {
    got = testing::ConnectAndRead(address, port);
    return Status::Ok();
  });
  if (!st.ok()) return Err(st);
  return got;
}

TEST_F(RouterAccessTest, LoopbackServerIsReachableAtTheGatewayOnlyWhileTheRuleExists) {
  testing::LoopbackGreeter server("hello from the router\n");
  ASSERT_NE(server.port(), 0);
  std::string ns = NewNetns("svc");
  ASSERT_FALSE(ns.empty());
  auto a = AttachTracked("svc", ns);
  ASSERT_TRUE(a) << a.error().ToString();

  auto before = ReadFromInside(ns, a->gateway, server.port());
  EXPECT_FALSE(before) << "reachable before EnsureRouterAccess: " << *before;

  Status st = EnsureRouterAccessTracked(server.port());
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = EnsureRouterAccess(opts_.bridge, a->gateway, server.port());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(testing::CountRouterRules(opts_.bridge, server.port()), 1);
  auto route_localnet = ReadFile("/proc/sys/net/ipv4/conf/" + opts_.bridge + "/route_localnet");
  ASSERT_TRUE(route_localnet);
  EXPECT_EQ(*route_localnet, "1\n");

  auto got = ReadFromInside(ns, a->gateway, server.port());
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, "hello from the router\n");

  st = RemoveRouterAccess(opts_.bridge, a->gateway, server.port());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(testing::CountRouterRules(opts_.bridge, server.port()), 0);
  auto after = ReadFromInside(ns, a->gateway, server.port());
  EXPECT_FALSE(after) << "still reachable after RemoveRouterAccess";
  st = RemoveRouterAccess(opts_.bridge, a->gateway, server.port());
  EXPECT_TRUE(st.ok()) << "second remove: " << st.ToString();
}

TEST_F(RouterAccessTest, OtherPortsOnTheHostStayUnreachable) {
  testing::LoopbackGreeter router("router");
  testing::LoopbackGreeter other("other");
  ASSERT_NE(router.port(), 0);
  ASSERT_NE(other.port(), 0);
  std::string ns = NewNetns("svc");
  auto a = AttachTracked("svc", ns);
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_TRUE(EnsureRouterAccessTracked(router.port()).ok());
  auto got = ReadFromInside(ns, a->gateway, router.port());
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, "router");
  EXPECT_FALSE(ReadFromInside(ns, a->gateway, other.port())) << "a port without a rule was reachable";
}

TEST_F(RouterAccessTest, CreatesTheBridgeWhenMissing) {
  ASSERT_FALSE(LinkExists(opts_.bridge));
  int port = testing::RandomInt(20000, 60000);
  Status st = EnsureRouterAccessTracked(port);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(LinkExists(opts_.bridge));
  EXPECT_TRUE(testing::LinkIsUp(opts_.bridge));
  EXPECT_EQ(testing::CountRouterRules(opts_.bridge, port), 1);
  auto rl = ReadFile("/proc/sys/net/ipv4/conf/" + opts_.bridge + "/route_localnet");
  ASSERT_TRUE(rl);
  EXPECT_EQ(*rl, "1\n");
  // The bridge plugin accepts the pre-made bridge and puts the gateway address on it.
  std::string ns = NewNetns("svc");
  auto a = AttachTracked("svc", ns);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(testing::Ipv4AddressesOf(opts_.bridge), std::vector<std::string>{net_->gateway()});
}

TEST_F(RouterAccessTest, RemoveDeletesDuplicatesAddedBehindOurBack) {
  int port = testing::RandomInt(20000, 60000);
  ASSERT_TRUE(EnsureRouterAccessTracked(port).ok());
  std::vector<std::string> argv = {"iptables", "-w", "5", "-t", "nat", "-A"};
  for (const auto& a : RouterAccessRuleSpec(opts_.bridge, net_->gateway(), port)) argv.push_back(a);
  auto dup = RunChecked(argv);
  ASSERT_TRUE(dup) << dup.error().ToString();
  ASSERT_EQ(testing::CountRouterRules(opts_.bridge, port), 2);
  Status st = RemoveRouterAccess(opts_.bridge, net_->gateway(), port);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(testing::CountRouterRules(opts_.bridge, port), 0);
}

TEST(RouterAccessArgsTest, RejectsBadArguments) {
  EXPECT_EQ(EnsureRouterAccess("bad name", "10.0.0.1", 4222).code(), Code::kInvalidArgument);
  EXPECT_EQ(EnsureRouterAccess("spx0", "10.0.0", 4222).code(), Code::kInvalidArgument);
  EXPECT_EQ(EnsureRouterAccess("spx0", "10.0.0.1", 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(EnsureRouterAccess("spx0", "10.0.0.1", 65536).code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveRouterAccess("spx0", "10.0.0.1; rm -rf /", 4222).code(), Code::kInvalidArgument);
  EXPECT_FALSE(LinkExists("spx0"));
}

TEST(RouterAccessArgsTest, RuleSpecIsMarkedAndTargetsLoopback) {
  auto spec = RouterAccessRuleSpec("spawn0", "10.88.0.1", 4222);
  std::string joined;
  for (const auto& a : spec) joined += a + " ";
  EXPECT_EQ(
      joined,
      "PREROUTING -i spawn0 -d 10.88.0.1/32 -p tcp --dport 4222 -m comment --comment spawnpoint -j DNAT "
      "--to-destination 127.0.0.1:4222 ");
}

}  // namespace
}  // namespace sp
