// Tests for published ports with the real Debian `portmap` plugin: a greeting server inside a test
// namespace answers on its container port, and the host reaches it at 127.0.0.1, the bridge gateway and
// its primary address on the published host port (TCP and UDP). Detach, also from a "restarted"
// BridgeNetwork, must leave no iptables rule that mentions the container.
//
// Cleanup: each test's container ids are unique, so the portmap rules they carry are found by id and
// removed should Detach have failed to do it. The shared chains portmap creates (CNI-HOSTPORT-*, and the
// jumps to them) are removed only if they did not exist before the test and hold no rule of anyone else.
// The tests hold an exclusive lock file while they run, so that test processes running in parallel
// (ctest -j) do not remove those chains under each other.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <sstream>

#include "net/bridge_test_fixture.h"
#include "net/cni.h"
#include "net/net_test_util.h"
#include "net/netns.h"
#include "net/ports.h"
#include "util/subprocess.h"

namespace sp {
namespace {

constexpr const char* kHostportDnat = "CNI-HOSTPORT-DNAT";
constexpr const char* kLockFile = "/tmp/spawnpoint-net-portmap-tests.lock";

std::vector<std::string> LinesContaining(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// The nat table as iptables-save prints it.
std::string NatTableDump() {
  auto r = RunCommand({"iptables-save", "-t", "nat"});
  EXPECT_TRUE(r && r->ok()) << (r ? r->err : r.error().ToString());
  return r && r->ok() ? r->out : "";
}

// The nat rules as `iptables -S` prints them (re-usable as arguments after "-D").
std::string NatRuleSpecs(const std::string& chain = "") {
  std::vector<std::string> argv = {"iptables", "-w", "5", "-t", "nat", "-S"};
  if (!chain.empty()) argv.push_back(chain);
  auto r = RunCommand(argv);
  return r && r->ok() ? r->out : "";
}

bool NatChainExists(const std::string& chain) {
  auto r = RunCommand({"iptables", "-w", "5", "-t", "nat", "-S", chain});
  return r && r->ok();
}

// portmap's rule comment: dnat name: "<network>" id: "<container id>" (quotes escaped in the dump).
std::string IdMarker(const std::string& id) { return "id: \\\"" + id + "\\\""; }

// The per-container chains (CNI-DN-<hash>) that rules carrying the container id jump to.
std::set<std::string> DnatChainsOf(const std::string& id) {
  std::set<std::string> chains;
  static const std::regex jump("-j (CNI-DN-[0-9a-f]+)");
  for (const std::string& line : LinesContaining(NatRuleSpecs(), IdMarker(id))) {
    std::smatch m;
    if (std::regex_search(line, m, jump)) chains.insert(m[1]);
  }
  return chains;
}

// Lines of the nat dump that mention the container id or one of the given chains.
std::vector<std::string> MentionsOf(const std::string& id, const std::set<std::string>& chains) {
  std::string dump = NatTableDump();
  std::vector<std::string> out = LinesContaining(dump, IdMarker(id));
  for (const std::string& chain : chains)
    for (const std::string& line : LinesContaining(dump, chain)) out.push_back(line);
  return out;
}

// Deletes a rule given as an `iptables -S` line ("-A CHAIN ..."); the line's quoting is shell quoting.
void DeleteRuleLine(const std::string& line) {
  if (line.rfind("-A ", 0) != 0) return;
  auto r = RunCommand({"sh", "-c", "iptables -w 5 -t nat -D " + line.substr(3)});
  EXPECT_TRUE(r && r->ok()) << "could not delete " << line << ": " << (r ? r->err : r.error().ToString());
}

void DeleteChain(const std::string& chain) {
  if (!NatChainExists(chain)) return;
  for (const char* op : {"-F", "-X"}) {
    auto r = RunCommand({"iptables", "-w", "5", "-t", "nat", op, chain});
    EXPECT_TRUE(r && r->ok()) << op << " " << chain << ": " << (r ? r->err : r.error().ToString());
  }
}

std::string Str(const Result<std::string>& r) { return r ? *r : r.error().ToString(); }

class PortmapTest : public testing::BridgeFixture {
 protected:
  void SetUp() override {
    lock_fd_ = ::open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(lock_fd_, 0) << "open " << kLockFile;
    ASSERT_EQ(::flock(lock_fd_, LOCK_EX), 0) << "lock " << kLockFile;
    BridgeFixture::SetUp();
    if (HasFatalFailure()) return;
    shared_chains_existed_ = NatChainExists(kHostportDnat);
    host_address_ = testing::PrimaryHostAddress();
    ASSERT_FALSE(host_address_.empty()) << "no IPv4 address on the default route's interface";
  }

  void TearDown() override {
    BridgeFixture::TearDown();
    for (const std::string& id : ids_) RemoveLeftoverRules(id);
    if (!shared_chains_existed_) RemoveSharedChainsIfUnused();
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
  }

  // A container id unique to this run (portmap's rules carry it), remembered for cleanup.
  std::string NewId() {
    ids_.push_back("pm" + testing::RandomHex(8));
    return ids_.back();
  }

  Result<Attachment> AttachWithPorts(const std::string& id, const std::string& ns,
                                     const std::vector<PublishedPort>& ports) {
    auto a = net_->Attach(id, ns, ports);
    if (a) attached_.emplace_back(id, ns);
    return a;
  }

  // Only reached when Detach failed to remove them (the test has failed then).
  void RemoveLeftoverRules(const std::string& id) {
    std::set<std::string> chains = DnatChainsOf(id);
    for (const std::string& line : LinesContaining(NatRuleSpecs(), IdMarker(id))) DeleteRuleLine(line);
    for (const std::string& chain : chains) DeleteChain(chain);
  }

  // The jumps from the built-in chains and the CNI-HOSTPORT-* chains portmap set up for this test.
  void RemoveSharedChainsIfUnused() {
    if (!NatChainExists(kHostportDnat)) return;
    if (LinesContaining(NatRuleSpecs(kHostportDnat), "-A ").size() > 0) return;  // someone else's rules
    for (const std::string& line : LinesContaining(NatRuleSpecs(), "-j CNI-HOSTPORT-")) {
      if (line.rfind("-A PREROUTING ", 0) == 0 || line.rfind("-A OUTPUT ", 0) == 0 ||
          line.rfind("-A POSTROUTING ", 0) == 0)
        DeleteRuleLine(line);
    }
    for (const char* chain : {kHostportDnat, "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"}) DeleteChain(chain);
  }

  // Every address the host's own connections should reach a published port at.
  std::vector<std::string> HostSideAddresses() const { return {"127.0.0.1", net_->gateway(), host_address_}; }

  std::vector<std::string> ids_;
  int lock_fd_ = -1;
  bool shared_chains_existed_ = true;
  std::string host_address_;
};

TEST_F(PortmapTest, ChosenTcpPortAnswersOnLoopbackGatewayAndHostAddress) {
  std::string id = NewId();
  std::string ns = NewNetns(id);
  auto ports = ResolvePorts({{0, 80, "tcp"}}, {});
  ASSERT_TRUE(ports) << ports.error().ToString();
  auto a = AttachWithPorts(id, ns, *ports);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->ports, *ports);
  testing::NamespaceGreeter server(ns, a->address, 80, "tcp", "hello from " + id);
  ASSERT_TRUE(server.ok()) << server.error();

  int host_port = (*ports)[0].host_port;
  for (const std::string& address : HostSideAddresses()) {
    auto reply = testing::ConnectAndRead(address, host_port);
    EXPECT_EQ(Str(reply), "hello from " + id) << address << ":" << host_port;
  }
  auto looked_up = net_->Lookup(id);
  ASSERT_TRUE(looked_up) << looked_up.error().ToString();
  EXPECT_EQ(looked_up->ports, *ports);
  EXPECT_FALSE(DnatChainsOf(id).empty()) << NatTableDump();
}

TEST_F(PortmapTest, UdpPortAnswersOnLoopbackGatewayAndHostAddress) {
  std::string id = NewId();
  std::string ns = NewNetns(id);
  auto host_port = ChooseHostPort("udp", {});
  ASSERT_TRUE(host_port) << host_port.error().ToString();
  auto ports = ResolvePorts({{*host_port, 53, "udp"}}, {});
  ASSERT_TRUE(ports) << ports.error().ToString();
  auto a = AttachWithPorts(id, ns, *ports);
  ASSERT_TRUE(a) << a.error().ToString();
  testing::NamespaceGreeter server(ns, a->address, 53, "udp", "udp from " + id);
  ASSERT_TRUE(server.ok()) << server.error();

  for (const std::string& address : HostSideAddresses()) {
    auto reply = testing::UdpRequest(address, *host_port);
    EXPECT_EQ(Str(reply), "udp from " + id) << address << ":" << *host_port << "/udp";
  }
}

TEST_F(PortmapTest, SeveralPortsOfOneContainerEachReachTheirOwnContainerPort) {
  std::string id = NewId();
  std::string ns = NewNetns(id);
  auto ports = ResolvePorts({{0, 80, "tcp"}, {0, 81, "tcp"}, {0, 80, "udp"}}, {});
  ASSERT_TRUE(ports) << ports.error().ToString();
  auto a = AttachWithPorts(id, ns, *ports);
  ASSERT_TRUE(a) << a.error().ToString();
  testing::NamespaceGreeter web(ns, a->address, 80, "tcp", "port 80");
  testing::NamespaceGreeter admin(ns, a->address, 81, "tcp", "port 81");
  testing::NamespaceGreeter dgram(ns, a->address, 80, "udp", "udp 80");
  ASSERT_TRUE(web.ok() && admin.ok() && dgram.ok()) << web.error() << admin.error() << dgram.error();

  EXPECT_EQ(Str(testing::ConnectAndRead("127.0.0.1", (*ports)[0].host_port)), "port 80");
  EXPECT_EQ(Str(testing::ConnectAndRead("127.0.0.1", (*ports)[1].host_port)), "port 81");
  EXPECT_EQ(Str(testing::UdpRequest("127.0.0.1", (*ports)[2].host_port)), "udp 80");
}

TEST_F(PortmapTest, DetachRemovesTheRulesAndThePortStopsAnswering) {
  std::string id = NewId();
  std::string ns = NewNetns(id);
  auto ports = ResolvePorts({{0, 80, "tcp"}}, {});
  ASSERT_TRUE(ports) << ports.error().ToString();
  auto a = AttachWithPorts(id, ns, *ports);
  ASSERT_TRUE(a) << a.error().ToString();
  testing::NamespaceGreeter server(ns, a->address, 80, "tcp", "still here");
  ASSERT_TRUE(server.ok()) << server.error();
  int host_port = (*ports)[0].host_port;
  ASSERT_EQ(Str(testing::ConnectAndRead("127.0.0.1", host_port)), "still here");
  std::set<std::string> chains = DnatChainsOf(id);
  ASSERT_FALSE(chains.empty()) << NatTableDump();

  Status st = net_->Detach(id, ns);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(MentionsOf(id, chains), std::vector<std::string>{}) << NatTableDump();
  // The server still listens inside the namespace: only the forwarding is gone.
  for (const std::string& address : HostSideAddresses()) {
    auto reply = testing::ConnectAndRead(address, host_port);
    EXPECT_FALSE(reply) << address << ":" << host_port << " still answers: " << *reply;
  }
  EXPECT_TRUE(net_->Detach(id, ns).ok()) << "second Detach";
}

TEST_F(PortmapTest, DetachAfterARestartStillRemovesTheRules) {
  std::string id = NewId();
  std::string ns = NewNetns(id);
  auto ports = ResolvePorts({{0, 80, "tcp"}, {0, 53, "udp"}}, {});
  ASSERT_TRUE(ports) << ports.error().ToString();
  auto a = AttachWithPorts(id, ns, *ports);
  ASSERT_TRUE(a) << a.error().ToString();
  std::set<std::string> chains = DnatChainsOf(id);
  ASSERT_FALSE(chains.empty()) << NatTableDump();

  BridgeNetwork restarted(opts_);  // a new daemon: all it has is the record on disk
  auto looked_up = restarted.Lookup(id);
  ASSERT_TRUE(looked_up) << looked_up.error().ToString();
  EXPECT_EQ(looked_up->ports, *ports);
  EXPECT_EQ(looked_up->address, a->address);
  Status st = restarted.Detach(id, ns);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(MentionsOf(id, chains), std::vector<std::string>{}) << NatTableDump();
  EXPECT_FALSE(testing::ConnectAndRead("127.0.0.1", (*ports)[0].host_port));
  EXPECT_EQ(restarted.Lookup(id).error().code(), Code::kNotFound);
}

TEST_F(PortmapTest, DetachingOneContainerLeavesAnothersPortsAlone) {
  std::string id1 = NewId(), id2 = NewId();
  std::string ns1 = NewNetns(id1), ns2 = NewNetns(id2);
  auto ports1 = ResolvePorts({{0, 80, "tcp"}}, {});
  ASSERT_TRUE(ports1) << ports1.error().ToString();
  auto ports2 = ResolvePorts({{0, 80, "tcp"}}, {{(*ports1)[0].host_port, "tcp"}});
  ASSERT_TRUE(ports2) << ports2.error().ToString();
  auto a1 = AttachWithPorts(id1, ns1, *ports1);
  auto a2 = AttachWithPorts(id2, ns2, *ports2);
  ASSERT_TRUE(a1) << a1.error().ToString();
  ASSERT_TRUE(a2) << a2.error().ToString();
  testing::NamespaceGreeter s1(ns1, a1->address, 80, "tcp", "one");
  testing::NamespaceGreeter s2(ns2, a2->address, 80, "tcp", "two");
  ASSERT_TRUE(s1.ok() && s2.ok()) << s1.error() << s2.error();
  EXPECT_EQ(Str(testing::ConnectAndRead("127.0.0.1", (*ports1)[0].host_port)), "one");
  EXPECT_EQ(Str(testing::ConnectAndRead("127.0.0.1", (*ports2)[0].host_port)), "two");
  std::set<std::string> chains1 = DnatChainsOf(id1);

  ASSERT_TRUE(net_->Detach(id1, ns1).ok());
  EXPECT_EQ(MentionsOf(id1, chains1), std::vector<std::string>{});
  EXPECT_FALSE(DnatChainsOf(id2).empty());
  EXPECT_EQ(Str(testing::ConnectAndRead("127.0.0.1", (*ports2)[0].host_port)), "two");
}

TEST_F(PortmapTest, AttachRefusesDuplicateOrUnresolvedPortsAndChangesNothing) {
  std::string id = NewId();
  std::string ns = NewNetns(id);
  auto host_port = ChooseHostPort("tcp", {});
  ASSERT_TRUE(host_port);
  std::string p = std::to_string(*host_port);
  std::vector<std::pair<std::vector<PublishedPort>, std::string>> cases = {
      {{{*host_port, 80, "tcp"}, {*host_port, 81, "tcp"}},
       "host port " + p + "/tcp is published more than once"},
      {{{0, 80, "tcp"}}, "published port 80/tcp: host port not chosen yet"},
  };
  for (const auto& [ports, expected] : cases) {
    auto a = AttachWithPorts(id, ns, ports);
    ASSERT_FALSE(a) << expected;
    EXPECT_EQ(a.error().code(), Code::kInvalidArgument) << a.error().ToString();
    EXPECT_NE(
        a.error().message().find("attach " + id + " to network " + opts_.network_name + ": " + expected),
        std::string::npos)
        << a.error().message();
    EXPECT_EQ(net_->Lookup(id).error().code(), Code::kNotFound);
  }
  EXPECT_TRUE(testing::BridgePorts(opts_.bridge).empty());
  EXPECT_TRUE(DnatChainsOf(id).empty());
}

}  // namespace
}  // namespace sp
