// Tests for published-port validation and resolution: the checks on a service's list, ports other
// services hold, real listening sockets on the host (made by the test on 127.0.0.1), and the choice of
// free ports from the kernel's ephemeral range.
#include "net/ports.h"

#include <gtest/gtest.h>

#include <fstream>

#include "net/net_test_util.h"

namespace sp {
namespace {

using Taken = std::set<std::pair<int, std::string>>;

std::pair<int, int> EphemeralRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 0, hi = 0;
  in >> lo >> hi;
  return {lo, hi};
}

// A UDP socket bound to 127.0.0.1:<ephemeral port>; closed on destruction.
class BoundUdpSocket {
 public:
  BoundUdpSocket() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port_ = ntohs(addr.sin_port);
  }
  ~BoundUdpSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(FormatPortTest, ShowsHostPortOnlyWhenChosen) {
  EXPECT_EQ(FormatPort({8080, 80, "tcp"}), "8080:80/tcp");
  EXPECT_EQ(FormatPort({0, 53, "udp"}), "53/udp");
}

TEST(ValidatePortsTest, AcceptsAWellFormedList) {
  std::vector<PublishedPort> ports = {
      {8080, 80, "tcp"}, {8080, 80, "udp"}, {8081, 80, "tcp"}, {0, 81, "tcp"}};
  EXPECT_TRUE(ValidatePorts(ports, false).ok()) << ValidatePorts(ports, false).ToString();
  EXPECT_TRUE(ValidatePorts({}, true).ok());
}

TEST(ValidatePortsTest, RejectsBadEntriesNamingThem) {
  std::vector<std::pair<PublishedPort, std::string>> cases = {
      {{8080, 80, "sctp"}, "published port 8080:80/sctp: protocol must be \"tcp\" or \"udp\""},
      {{8080, 80, "TCP"}, "protocol must be"},
      {{8080, 0, "tcp"}, "container port 0 is not in 1..65535"},
      {{8080, 65536, "tcp"}, "container port 65536 is not in 1..65535"},
      {{-1, 80, "tcp"}, "host port -1 is not in 1..65535"},
      {{70000, 80, "tcp"}, "host port 70000 is not in 1..65535"},
  };
  for (const auto& [port, expected] : cases) {
    Status st = ValidatePorts({port}, false);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << expected;
    EXPECT_NE(st.message().find(expected), std::string::npos) << st.message();
  }
}

TEST(ValidatePortsTest, UnresolvedHostPortIsRejectedWhenRequired) {
  Status st = ValidatePorts({{0, 80, "tcp"}}, true);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("80/tcp: host port not chosen yet"), std::string::npos) << st.message();
}

TEST(ValidatePortsTest, DuplicateHostPortIsRejected) {
  Status st = ValidatePorts({{8080, 80, "tcp"}, {8080, 81, "tcp"}}, false);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("host port 8080/tcp is published more than once"), std::string::npos)
      << st.message();
}

TEST(CheckHostPortFreeTest, AListeningSocketMakesThePortBusy) {
  testing::LoopbackGreeter listener("hi");
  ASSERT_NE(listener.port(), 0);
  Status st = CheckHostPortFree(listener.port(), "tcp");
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_EQ(st.message(),
            "host port " + std::to_string(listener.port()) + "/tcp is already in use on this host");
}

TEST(CheckHostPortFreeTest, ABoundUdpSocketMakesTheUdpPortBusy) {
  BoundUdpSocket udp;
  ASSERT_NE(udp.port(), 0);
  Status st = CheckHostPortFree(udp.port(), "udp");
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_NE(st.message().find(std::to_string(udp.port()) + "/udp is already in use"), std::string::npos)
      << st.message();
}

TEST(CheckHostPortFreeTest, ConnectionsLeftInTimeWaitDoNotCount) {
  int port = 0;
  {
    // Closes each connection first, so its side enters TIME_WAIT; a typical server (SO_REUSEADDR).
    testing::LoopbackGreeter listener("bye", /*reuse_address=*/true);
    ASSERT_NE(listener.port(), 0);
    port = listener.port();
    auto reply = testing::ConnectAndRead("127.0.0.1", port);
    ASSERT_TRUE(reply) << reply.error().ToString();
    EXPECT_EQ(*reply, "bye");
  }
  Status st = CheckHostPortFree(port, "tcp");
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST(CheckHostPortFreeTest, BadArgumentsAreInvalid) {
  EXPECT_EQ(CheckHostPortFree(0, "tcp").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckHostPortFree(65536, "tcp").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckHostPortFree(8080, "icmp").code(), Code::kInvalidArgument);
}

TEST(ChooseHostPortTest, ChoosesAFreePortFromTheEphemeralRange) {
  auto [lo, hi] = EphemeralRange();
  ASSERT_GT(lo, 0);
  for (const char* protocol : {"tcp", "udp"}) {
    auto port = ChooseHostPort(protocol, {});
    ASSERT_TRUE(port) << port.error().ToString();
    EXPECT_GE(*port, lo) << protocol;
    EXPECT_LE(*port, hi) << protocol;
    EXPECT_TRUE(CheckHostPortFree(*port, protocol).ok()) << *port << "/" << protocol;
  }
}

TEST(ChooseHostPortTest, GivesUpWhenEveryPortIsToBeAvoided) {
  std::set<int> all;
  for (int p = 1; p <= 65535; ++p) all.insert(p);
  auto port = ChooseHostPort("tcp", all);
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code(), Code::kResourceExhausted) << port.error().ToString();
  EXPECT_EQ(ChooseHostPort("gre", {}).error().code(), Code::kInvalidArgument);
}

TEST(ResolvePortsTest, FillsInChosenPortsAndKeepsTheOthers) {
  auto explicit_port = ChooseHostPort("tcp", {});
  ASSERT_TRUE(explicit_port);
  std::vector<PublishedPort> wanted = {
      {0, 80, "tcp"}, {*explicit_port, 81, "tcp"}, {0, 53, "udp"}, {0, 82, "tcp"}};
  auto resolved = ResolvePorts(wanted, {});
  ASSERT_TRUE(resolved) << resolved.error().ToString();
  ASSERT_EQ(resolved->size(), wanted.size());
  auto [lo, hi] = EphemeralRange();
  for (size_t i = 0; i < wanted.size(); ++i) {
    EXPECT_EQ((*resolved)[i].container_port, wanted[i].container_port);
    EXPECT_EQ((*resolved)[i].protocol, wanted[i].protocol);
    EXPECT_GE((*resolved)[i].host_port, lo);
    EXPECT_LE((*resolved)[i].host_port, hi);
  }
  EXPECT_EQ((*resolved)[1].host_port, *explicit_port);
  EXPECT_NE((*resolved)[0].host_port, (*resolved)[3].host_port);
  EXPECT_NE((*resolved)[0].host_port, *explicit_port);
  EXPECT_NE((*resolved)[3].host_port, *explicit_port);
  EXPECT_TRUE(ValidatePorts(*resolved, true).ok());
}

TEST(ResolvePortsTest, PortsOfOtherServicesAreRefused) {
  auto port = ChooseHostPort("tcp", {});
  ASSERT_TRUE(port);
  Taken taken = {{*port, "tcp"}};
  auto resolved = ResolvePorts({{*port, 80, "tcp"}}, taken);
  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.error().code(), Code::kAlreadyExists);
  std::string p = std::to_string(*port);
  EXPECT_EQ(resolved.error().message(),
            "publish " + p + ":80/tcp: host port " + p + "/tcp is already published by another service");
  // The same number for the other protocol is a different port.
  auto udp_port = ChooseHostPort("udp", {});
  ASSERT_TRUE(udp_port);
  auto udp = ResolvePorts({{*udp_port, 80, "udp"}}, {{*udp_port, "tcp"}});
  EXPECT_TRUE(udp) << udp.error().ToString();
}

TEST(ResolvePortsTest, ChosenPortsAvoidPortsOfOtherServices) {
  // Reserve most of the ephemeral range for "other services": the choice must land outside it.
  auto [lo, hi] = EphemeralRange();
  Taken taken;
  std::set<int> free_ports;
  for (int p = lo; p <= hi; ++p) {
    if (p % 3 == 0) {  // both parities: bind(0) may prefer one
      free_ports.insert(p);
    } else {
      taken.insert({p, "tcp"});
    }
  }
  for (int i = 0; i < 5; ++i) {
    auto resolved = ResolvePorts({{0, 80, "tcp"}}, taken);
    ASSERT_TRUE(resolved) << resolved.error().ToString();
    EXPECT_TRUE(free_ports.count((*resolved)[0].host_port)) << (*resolved)[0].host_port;
  }
}

TEST(ResolvePortsTest, AHostListenerIsRefusedClearly) {
  testing::LoopbackGreeter listener("mine");
  ASSERT_NE(listener.port(), 0);
  std::string p = std::to_string(listener.port());
  auto resolved = ResolvePorts({{listener.port(), 80, "tcp"}}, {});
  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(resolved.error().message(),
            "publish " + p + ":80/tcp: host port " + p + "/tcp is already in use on this host");
}

TEST(ResolvePortsTest, DuplicatesAndBadEntriesAreRefusedBeforeAnyProbe) {
  auto dup = ResolvePorts({{8080, 80, "tcp"}, {0, 81, "tcp"}, {8080, 82, "tcp"}}, {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Code::kInvalidArgument);
  EXPECT_NE(dup.error().message().find("host port 8080/tcp is published more than once"), std::string::npos);
  auto bad = ResolvePorts({{0, 0, "tcp"}}, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sp
