// Tests for BridgeNetwork: against the real Debian CNI plugins (addresses, routes, release, idempotent
// DEL, concurrency) and against small fake plugins that record what they were given (configuration
// JSON, environment, prevResult on DEL) and reply with errors or garbage.
#include "net/cni.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "net/bridge_test_fixture.h"
#include "net/ipv4.h"
#include "net/net_test_util.h"
#include "net/netns.h"
#include "util/fs.h"

namespace sp {
namespace {

using nlohmann::json;

// What a namespace looks like from inside.
struct Inside {
  std::vector<std::string> eth0;
  std::string default_gateway;
  bool lo_up = false;
};

Inside LookInside(const std::string& ns) {
  Inside in;
  Status st = RunInNetns(ns, [&]() -> Status {
    in.eth0 = testing::Ipv4AddressesOf("eth0");
    in.default_gateway = testing::DefaultGateway();
    in.lo_up = testing::LinkIsUp("lo");
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return in;
}

using BridgeNetworkTest = testing::BridgeFixture;

TEST_F(BridgeNetworkTest, AttachGivesAnAddressInTheSubnetAndADefaultRoute) {
  std::string ns = NewNetns("c1");
  ASSERT_FALSE(ns.empty());
  auto a = AttachTracked("c1", ns);
  ASSERT_TRUE(a) << a.error().ToString();
  auto subnet = *ParseIpv4Subnet(opts_.subnet);
  auto addr = ParseIpv4(a->address);
  ASSERT_TRUE(addr) << a->address;
  EXPECT_TRUE(subnet.Contains(*addr)) << a->address << " not in " << opts_.subnet;
  EXPECT_EQ(a->gateway, net_->gateway());
  EXPECT_NE(a->address, a->gateway);
  EXPECT_TRUE(AddressReserved(a->address));

  Inside in = LookInside(ns);
  EXPECT_EQ(in.eth0, std::vector<std::string>{a->address});
  EXPECT_EQ(in.default_gateway, net_->gateway());
  EXPECT_TRUE(in.lo_up);
  EXPECT_EQ(testing::BridgePorts(opts_.bridge).size(), 1u);

  auto looked_up = net_->Lookup("c1");
  ASSERT_TRUE(looked_up) << looked_up.error().ToString();
  EXPECT_EQ(looked_up->address, a->address);
  EXPECT_EQ(looked_up->gateway, a->gateway);
}

TEST_F(BridgeNetworkTest, ASecondContainerGetsADifferentAddress) {
  std::string ns1 = NewNetns("c1");
  std::string ns2 = NewNetns("c2");
  auto a1 = AttachTracked("c1", ns1);
  auto a2 = AttachTracked("c2", ns2);
  ASSERT_TRUE(a1) << a1.error().ToString();
  ASSERT_TRUE(a2) << a2.error().ToString();
  EXPECT_NE(a1->address, a2->address);
  EXPECT_EQ(LookInside(ns2).eth0, std::vector<std::string>{a2->address});
  EXPECT_EQ(testing::BridgePorts(opts_.bridge).size(), 2u);
}

TEST_F(BridgeNetworkTest, ConcurrentAttachesGetDistinctAddresses) {
  constexpr int kCount = 4;
  std::vector<std::string> ns(kCount);
  for (int i = 0; i < kCount; ++i) ns[i] = NewNetns("p" + std::to_string(i));
  std::vector<Result<Attachment>> results(kCount, Err(Status::Internal("not run")));
  std::vector<std::thread> threads;
  for (int i = 0; i < kCount; ++i)
    threads.emplace_back([&, i] { results[i] = net_->Attach("p" + std::to_string(i), ns[i]); });
  for (auto& t : threads) t.join();
  std::set<std::string> addresses;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().ToString();
    attached_.emplace_back("p" + std::to_string(i), ns[i]);
    addresses.insert(results[i]->address);
  }
  EXPECT_EQ(addresses.size(), static_cast<size_t>(kCount));
}

TEST_F(BridgeNetworkTest, DetachReleasesEverythingAndIsIdempotent) {
  std::string ns = NewNetns("c1");
  auto a = AttachTracked("c1", ns);
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_EQ(testing::BridgePorts(opts_.bridge).size(), 1u);

  Status st = net_->Detach("c1", ns);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(testing::BridgePorts(opts_.bridge).empty()) << "veth left on the bridge";
  EXPECT_FALSE(AddressReserved(a->address)) << "host-local still holds " << a->address;
  EXPECT_TRUE(LookInside(ns).eth0.empty()) << "eth0 still inside the namespace";
  auto lookup = net_->Lookup("c1");
  ASSERT_FALSE(lookup);
  EXPECT_EQ(lookup.error().code(), Code::kNotFound);

  st = net_->Detach("c1", ns);
  EXPECT_TRUE(st.ok()) << "second Detach: " << st.ToString();
  ASSERT_TRUE(DeleteNetns(ns).ok());
  st = net_->Detach("c1", ns);
  EXPECT_TRUE(st.ok()) << "Detach after the namespace is gone: " << st.ToString();

  std::string again = NewNetns("c1-again");
  auto b = AttachTracked("c1", again);
  ASSERT_TRUE(b) << "re-attach: " << b.error().ToString();
  EXPECT_EQ(LookInside(again).eth0, std::vector<std::string>{b->address});
}

TEST_F(BridgeNetworkTest, AttachingTwiceIsRefusedAndLeavesTheFirstAttachmentAlone) {
  std::string ns = NewNetns("c1");
  auto a = AttachTracked("c1", ns);
  ASSERT_TRUE(a) << a.error().ToString();
  auto again = net_->Attach("c1", ns);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists) << again.error().ToString();
  EXPECT_EQ(LookInside(ns).eth0, std::vector<std::string>{a->address});
  EXPECT_TRUE(AddressReserved(a->address));
}

TEST_F(BridgeNetworkTest, DetachAfterTheNamespaceWasDeletedStillFreesTheAddress) {
  std::string ns = NewNetns("c1");
  auto a = AttachTracked("c1", ns);
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_TRUE(DeleteNetns(ns).ok());
  Status st = net_->Detach("c1", ns);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(AddressReserved(a->address));
  // The kernel destroys a namespace (and with it the veth pair) asynchronously once the last reference
  // is gone.
  EXPECT_TRUE(testing::EventuallyTrue([&] { return testing::BridgePorts(opts_.bridge).empty(); }))
      << "veth left on the bridge";
}

TEST_F(BridgeNetworkTest, RealPluginErrorsCarryThePluginMessage) {
  std::string not_ns = JoinPath(tmp_.path(), "not-a-netns");
  ASSERT_TRUE(WriteFileAtomic(not_ns, "").ok());
  auto a = net_->Attach("c1", not_ns);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("CNI plugin loopback ADD failed"), std::string::npos)
      << a.error().ToString();
  EXPECT_NE(a.error().message().find(not_ns), std::string::npos) << a.error().ToString();
  EXPECT_NE(a.error().message().find("attach c1 to network " + opts_.network_name), std::string::npos);
}

TEST(BridgeNetworkOptionsTest, GatewayIsTheFirstHost) {
  BridgeNetworkOptions o;
  o.subnet = "10.231.7.0/24";
  o.ipam_dir = "/tmp/x";
  BridgeNetwork net(o);
  ASSERT_TRUE(net.Validate().ok()) << net.Validate().ToString();
  EXPECT_EQ(net.gateway(), "10.231.7.1");
}

TEST(BridgeNetworkOptionsTest, BadOptionsAreReportedByEveryCall) {
  auto with = [](auto change) {
    BridgeNetworkOptions o;
    o.ipam_dir = "/tmp/spawnpoint-never-created";
    change(o);
    return o;
  };
  std::vector<std::pair<BridgeNetworkOptions, std::string>> cases = {
      {with([](auto& o) { o.subnet = "10.88.0.1/16"; }), "did you mean 10.88.0.0/16"},
      {with([](auto& o) { o.subnet = "10.88.0.0"; }), "a.b.c.d/n"},
      {with([](auto& o) { o.subnet = "10.88.0.0/31"; }), "between 8 and 30"},
      {with([](auto& o) { o.bridge = "a-very-long-bridge-name"; }), "1 to 15"},
      {with([](auto& o) { o.bridge = "br\"0"; }), "invalid interface name"},
      {with([](auto& o) { o.network_name = "-net"; }), "invalid network name"},
      {with([](auto& o) { o.ipam_dir = ""; }), "ipam_dir"},
      {with([](auto& o) { o.plugin_dir = "lib/cni"; }), "plugin directory"},
  };
  for (const auto& [opts, expected] : cases) {
    BridgeNetwork net(opts);
    Status v = net.Validate();
    EXPECT_EQ(v.code(), Code::kInvalidArgument) << expected;
    EXPECT_NE(v.message().find(expected), std::string::npos) << v.message();
    auto a = net.Attach("c1", "/nonexistent");
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().message(), v.message());
    EXPECT_EQ(net.Detach("c1", "/nonexistent").message(), v.message());
  }
  EXPECT_FALSE(PathExists("/tmp/spawnpoint-never-created"));
}

TEST(BridgeNetworkOptionsTest, BadContainerIdsAreRejected) {
  BridgeNetworkOptions o;
  o.ipam_dir = "/tmp/spawnpoint-never-created";
  BridgeNetwork net(o);
  for (const std::string& bad :
       std::vector<std::string>{"", "-x", ".hidden", "a/b", "../x", "a b", std::string(201, 'a')}) {
    auto a = net.Attach(bad, "/nonexistent");
    ASSERT_FALSE(a) << bad;
    EXPECT_EQ(a.error().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(net.Detach(bad, "/nonexistent").code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(PathExists("/tmp/spawnpoint-never-created"));
}

// Fake plugins: one shell script installed as "loopback", "bridge" and "portmap". Each invocation saves its
// stdin and CNI_* environment as <dir>/<plugin>.<COMMAND>.{stdin,env}; it prints <plugin>.<COMMAND>.reply if
// that file exists and exits with the number in <plugin>.<COMMAND>.exit (default 0).
class FakePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = JoinPath(tmp_.path(), "plugins");
    ASSERT_TRUE(MakeDirs(dir_).ok());
    const std::string script =
        "#!/bin/sh\n"
        "d=$(dirname \"$0\"); p=$(basename \"$0\"); base=\"$d/$p.$CNI_COMMAND\"\n"
        "echo \"$p $CNI_COMMAND\" >> \"$d/calls\"\n"
        "cat > \"$base.stdin\"\n"
        "env | grep '^CNI_' | sort > \"$base.env\"\n"
        "[ -f \"$base.reply\" ] && cat \"$base.reply\"\n"
        "exit $(cat \"$base.exit\" 2>/dev/null || echo 0)\n";
    for (const char* name : {"loopback", "bridge", "portmap"})
      ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, name), script, 0755).ok());
    Reply("loopback", "ADD", R"({"cniVersion":"1.0.0","interfaces":[{"name":"lo","sandbox":"/x"}]})");
    opts_.plugin_dir = dir_;
    opts_.subnet = "10.231.9.0/24";
    opts_.bridge = "spfake0";
    opts_.network_name = "fake";
    opts_.ipam_dir = JoinPath(tmp_.path(), "ipam \"quoted\"");  // must survive JSON generation intact
  }
  void Reply(const std::string& plugin, const std::string& command, const std::string& text,
             int exit_code = 0) {
    ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, plugin + "." + command + ".reply"), text).ok());
    ASSERT_TRUE(
        WriteFileAtomic(JoinPath(dir_, plugin + "." + command + ".exit"), std::to_string(exit_code)).ok());
  }
  std::string Saved(const std::string& plugin, const std::string& command, const std::string& what) {
    std::string name = command.empty() ? plugin : plugin + "." + command + "." + what;
    auto text = ReadFile(JoinPath(dir_, name));
    return text ? *text : "";
  }
  json SavedConfig(const std::string& plugin, const std::string& command) {
    return json::parse(Saved(plugin, command, "stdin"), nullptr, false);
  }

  testing::TempDir tmp_;
  std::string dir_;
  BridgeNetworkOptions opts_;
};

constexpr const char* kGoodBridgeResult =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"spfake0"},{"name":"veth1"},{"name":"eth0","sandbox":"/ns"}],)"
    R"("ips":[{"address":"fd00::5/64","interface":2},{"address":"10.231.9.7/24","gateway":"10.231.9.1","interface":2}],)"
    R"("routes":[{"dst":"0.0.0.0/0"}]})";

TEST_F(FakePluginTest, SendsTheDocumentedConfigurationAndEnvironment) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->address, "10.231.9.7");
  EXPECT_EQ(a->gateway, "10.231.9.1");

  json conf = SavedConfig("bridge", "ADD");
  ASSERT_TRUE(conf.is_object()) << Saved("bridge", "ADD", "stdin");
  EXPECT_EQ(conf["cniVersion"], "1.0.0");
  EXPECT_EQ(conf["name"], "fake");
  EXPECT_EQ(conf["type"], "bridge");
  EXPECT_EQ(conf["bridge"], "spfake0");
  EXPECT_EQ(conf["isGateway"], true);
  EXPECT_EQ(conf["ipMasq"], false);
  EXPECT_FALSE(conf.contains("prevResult"));
  EXPECT_EQ(conf["ipam"]["type"], "host-local");
  EXPECT_EQ(conf["ipam"]["dataDir"], opts_.ipam_dir);
  EXPECT_EQ(conf["ipam"]["ranges"][0][0]["subnet"], "10.231.9.0/24");
  EXPECT_EQ(conf["ipam"]["ranges"][0][0]["gateway"], "10.231.9.1");
  EXPECT_EQ(conf["ipam"]["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(Saved("bridge", "ADD", "env"),
            "CNI_ARGS=\nCNI_COMMAND=ADD\nCNI_CONTAINERID=svc-1\nCNI_IFNAME=eth0\nCNI_NETNS=/run/netns/svc-1\n"
            "CNI_PATH=" +
                dir_ + "\n");
  json lo = SavedConfig("loopback", "ADD");
  EXPECT_EQ(lo["type"], "loopback");
  EXPECT_NE(Saved("loopback", "ADD", "env").find("CNI_IFNAME=lo\n"), std::string::npos);
}

TEST_F(FakePluginTest, DetachSendsTheCachedResultAsPrevResultInReverseOrder) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  BridgeNetwork net(opts_);
  ASSERT_TRUE(net.Attach("svc-1", "/run/netns/svc-1"));
  auto looked_up = net.Lookup("svc-1");
  ASSERT_TRUE(looked_up) << looked_up.error().ToString();
  EXPECT_EQ(looked_up->address, "10.231.9.7");

  Status st = net.Detach("svc-1", "/run/netns/svc-1");
  ASSERT_TRUE(st.ok()) << st.ToString();
  json del = SavedConfig("bridge", "DEL");
  ASSERT_TRUE(del.is_object());
  EXPECT_EQ(del["prevResult"], json::parse(kGoodBridgeResult));
  EXPECT_EQ(SavedConfig("loopback", "DEL")["prevResult"]["interfaces"][0]["name"], "lo");
  // The path is not a mounted namespace, so DEL gets no CNI_NETNS (the plugin then only frees host state).
  EXPECT_NE(Saved("bridge", "DEL", "env").find("CNI_NETNS=\n"), std::string::npos);
  EXPECT_EQ(Saved("calls", "", ""), "loopback ADD\nbridge ADD\nbridge DEL\nloopback DEL\n");
  EXPECT_EQ(net.Lookup("svc-1").error().code(), Code::kNotFound);
}

TEST_F(FakePluginTest, PluginErrorBecomesAStatusWithItsMessageAndCleansUp) {
  Reply("bridge", "ADD", R"({"cniVersion":"1.0.0","code":7,"msg":"bridge says no","details":"because"})", 1);
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(a.error().message(),
            "attach svc-1 to network fake: CNI plugin bridge ADD failed: bridge says no (because)");
  EXPECT_FALSE(Saved("bridge", "DEL", "env").empty()) << "a failed ADD must be followed by DEL";
  EXPECT_FALSE(Saved("loopback", "DEL", "env").empty());
  EXPECT_EQ(net.Lookup("svc-1").error().code(), Code::kNotFound);
}

TEST_F(FakePluginTest, ErrorWithoutJsonUsesStderr) {
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "bridge"),
                              "#!/bin/sh\ncat >/dev/null\necho 'plain failure' >&2\nexit 3\n", 0755)
                  .ok());
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Code::kInternal);
  EXPECT_NE(a.error().message().find("CNI plugin bridge ADD failed: plain failure"), std::string::npos)
      << a.error().message();
}

TEST_F(FakePluginTest, GarbageResultsAreErrorsNotCrashes) {
  BridgeNetwork net(opts_);
  for (const char* garbage : {"not json at all", "[1,2,3]", R"({"ips":"nope"})",
                              R"({"ips":[{"address":17},{"address":"fd00::1/64"}]})",
                              R"({"ips":[{"address":"10.9.9.9/24","interface":99}]})",
                              R"({"ips":[{"address":"10.231.9.300/24"}]})"}) {
    Reply("bridge", "ADD", garbage);
    auto a = net.Attach("svc-1", "/run/netns/svc-1");
    ASSERT_FALSE(a) << garbage;
    EXPECT_EQ(a.error().code(), Code::kInternal) << garbage;
    EXPECT_EQ(net.Lookup("svc-1").error().code(), Code::kNotFound) << garbage;
  }
}

TEST_F(FakePluginTest, AddressOutsideTheSubnetIsRefused) {
  Reply("bridge", "ADD", R"({"ips":[{"address":"10.1.2.3/24","gateway":"10.1.2.1"}]})");
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("10.1.2.3 outside subnet 10.231.9.0/24"), std::string::npos)
      << a.error().message();
  EXPECT_FALSE(Saved("bridge", "DEL", "env").empty());
}

TEST_F(FakePluginTest, MissingPluginIsNotFound) {
  opts_.plugin_dir = JoinPath(tmp_.path(), "no-plugins-here");
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Code::kNotFound);
  EXPECT_NE(a.error().message().find("CNI plugin loopback not found at " + opts_.plugin_dir + "/loopback"),
            std::string::npos)
      << a.error().message();
}

TEST_F(FakePluginTest, DetachWithoutAnAttachRunsNoPlugin) {
  BridgeNetwork net(opts_);
  EXPECT_TRUE(net.Detach("svc-1", "/run/netns/svc-1").ok());
  EXPECT_TRUE(Saved("bridge", "DEL", "env").empty());
  EXPECT_TRUE(Saved("loopback", "DEL", "env").empty());
  Reply("bridge", "ADD", kGoodBridgeResult);
  ASSERT_TRUE(net.Attach("svc-1", "/run/netns/svc-1"));
  ASSERT_TRUE(net.Detach("svc-1", "/run/netns/svc-1").ok());
  EXPECT_FALSE(Saved("bridge", "DEL", "env").empty());
  EXPECT_FALSE(Saved("loopback", "DEL", "env").empty());
}

TEST_F(FakePluginTest, FailingDelIsReportedButTheOtherPluginsStillRun) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  Reply("bridge", "DEL", R"({"code":11,"msg":"busy"})", 1);
  BridgeNetwork net(opts_);
  ASSERT_TRUE(net.Attach("svc-1", "/run/netns/svc-1"));
  Status st = net.Detach("svc-1", "/run/netns/svc-1");
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find("CNI plugin bridge DEL failed: busy"), std::string::npos) << st.message();
  EXPECT_FALSE(Saved("loopback", "DEL", "env").empty()) << "loopback DEL skipped after the bridge DEL failed";
  EXPECT_TRUE(net.Lookup("svc-1")) << "the cached result must stay until DEL succeeds";
}

const std::vector<PublishedPort> kPorts = {{8080, 80, "tcp"}, {5353, 53, "udp"}};

json PortMappingsOf(const std::vector<PublishedPort>& ports) {
  json out = json::array();
  for (const auto& p : ports)
    out.push_back({{"hostPort", p.host_port}, {"containerPort", p.container_port}, {"protocol", p.protocol}});
  return out;
}

TEST_F(FakePluginTest, PublishedPortsAppendPortmapWithRuntimeConfig) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  Reply("portmap", "ADD", kGoodBridgeResult);
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1", kPorts);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->ports, kPorts);
  EXPECT_EQ(Saved("calls", "", ""), "loopback ADD\nbridge ADD\nportmap ADD\n");

  json conf = SavedConfig("portmap", "ADD");
  ASSERT_TRUE(conf.is_object()) << Saved("portmap", "ADD", "stdin");
  EXPECT_EQ(conf["cniVersion"], "1.0.0");
  EXPECT_EQ(conf["name"], "fake");
  EXPECT_EQ(conf["type"], "portmap");
  EXPECT_EQ(conf["capabilities"], json({{"portMappings", true}}));
  EXPECT_EQ(conf["snat"], true);
  EXPECT_EQ(conf["runtimeConfig"]["portMappings"], PortMappingsOf(kPorts));
  EXPECT_EQ(conf["prevResult"], json::parse(kGoodBridgeResult));
  EXPECT_NE(Saved("portmap", "ADD", "env").find("CNI_IFNAME=eth0\n"), std::string::npos);
  auto looked_up = net.Lookup("svc-1");
  ASSERT_TRUE(looked_up) << looked_up.error().ToString();
  EXPECT_EQ(looked_up->ports, kPorts);
}

TEST_F(FakePluginTest, DetachAfterARestartGivesPortmapDelThePortsAndTheResult) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  Reply("portmap", "ADD", kGoodBridgeResult);
  ASSERT_TRUE(BridgeNetwork(opts_).Attach("svc-1", "/run/netns/svc-1", kPorts));

  BridgeNetwork restarted(opts_);
  Status st = restarted.Detach("svc-1", "/run/netns/svc-1");
  ASSERT_TRUE(st.ok()) << st.ToString();
  json del = SavedConfig("portmap", "DEL");
  ASSERT_TRUE(del.is_object()) << Saved("portmap", "DEL", "stdin");
  EXPECT_EQ(del["runtimeConfig"]["portMappings"], PortMappingsOf(kPorts));
  EXPECT_EQ(del["prevResult"], json::parse(kGoodBridgeResult));
  EXPECT_NE(Saved("portmap", "DEL", "env").find("CNI_CONTAINERID=svc-1\n"), std::string::npos);
  EXPECT_EQ(Saved("calls", "", ""),
            "loopback ADD\nbridge ADD\nportmap ADD\nportmap DEL\nbridge DEL\nloopback DEL\n");
  EXPECT_EQ(restarted.Lookup("svc-1").error().code(), Code::kNotFound);
}

TEST_F(FakePluginTest, FailedPortmapAddIsUndoneIncludingPortmapDel) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  Reply("portmap", "ADD", R"({"code":999,"msg":"iptables said no"})", 1);
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1", kPorts);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message(),
            "attach svc-1 to network fake: CNI plugin portmap ADD failed: iptables said no");
  EXPECT_EQ(SavedConfig("portmap", "DEL")["runtimeConfig"]["portMappings"], PortMappingsOf(kPorts));
  EXPECT_EQ(Saved("calls", "", ""),
            "loopback ADD\nbridge ADD\nportmap ADD\nportmap DEL\nbridge DEL\nloopback DEL\n");
  EXPECT_EQ(net.Lookup("svc-1").error().code(), Code::kNotFound);
}

TEST_F(FakePluginTest, AnAttachThatCouldNotBeUndoneIsReportedUntilDetached) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  Reply("portmap", "ADD", R"({"code":11,"msg":"xtables lock held"})", 1);
  Reply("portmap", "DEL", R"({"code":11,"msg":"xtables lock held"})", 1);
  BridgeNetwork net(opts_);
  ASSERT_FALSE(net.Attach("svc-1", "/run/netns/svc-1", kPorts));
  // The record of the ports stays, so a later Detach (here by a restarted daemon) can still remove them.
  auto looked_up = net.Lookup("svc-1");
  ASSERT_FALSE(looked_up);
  EXPECT_EQ(looked_up.error().code(), Code::kFailedPrecondition) << looked_up.error().ToString();
  EXPECT_NE(looked_up.error().message().find("did not finish (Detach it)"), std::string::npos);
  auto again = net.Attach("svc-1", "/run/netns/svc-1", kPorts);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists) << again.error().ToString();

  Reply("portmap", "DEL", "");
  BridgeNetwork restarted(opts_);
  Status st = restarted.Detach("svc-1", "/run/netns/svc-1");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(SavedConfig("portmap", "DEL")["runtimeConfig"]["portMappings"], PortMappingsOf(kPorts));
  EXPECT_EQ(restarted.Lookup("svc-1").error().code(), Code::kNotFound);
}

TEST_F(FakePluginTest, UnresolvedPortsAreRefusedBeforeAnyPluginRuns) {
  BridgeNetwork net(opts_);
  auto a = net.Attach("svc-1", "/run/netns/svc-1", {{0, 80, "tcp"}});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Saved("calls", "", ""), "");
  EXPECT_EQ(net.Lookup("svc-1").error().code(), Code::kNotFound);
}

TEST_F(FakePluginTest, CorruptPortsInTheRecordAreReportedByLookup) {
  Reply("bridge", "ADD", kGoodBridgeResult);
  Reply("portmap", "ADD", kGoodBridgeResult);
  BridgeNetwork net(opts_);
  ASSERT_TRUE(net.Attach("svc-1", "/run/netns/svc-1", kPorts));
  std::string record = JoinPath(opts_.ipam_dir, ".results/fake/svc-1.json");
  auto text = ReadFile(record);
  ASSERT_TRUE(text) << text.error().ToString();
  json j = json::parse(*text);
  j["ports"][0]["hostPort"] = 0;
  ASSERT_TRUE(WriteFileAtomic(record, j.dump()).ok());
  auto looked_up = net.Lookup("svc-1");
  ASSERT_FALSE(looked_up);
  EXPECT_EQ(looked_up.error().code(), Code::kInternal);
  EXPECT_NE(looked_up.error().message().find("corrupt CNI result cache " + record), std::string::npos)
      << looked_up.error().message();
  EXPECT_TRUE(net.Detach("svc-1", "/run/netns/svc-1").ok());
  EXPECT_EQ(net.Lookup("svc-1").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace sp
