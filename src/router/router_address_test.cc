// Address parsing, probing, and the choose-once-then-reuse record.
#include "router/router_address.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/fs.h"

namespace sp {
namespace {

// Listens on 127.0.0.1:<any port>; closes on destruction.
struct HeldPort {
  HeldPort() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
  }
  ~HeldPort() { ::close(fd); }
  int fd;
  int port;
};

class RouterAddressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/sp-addr-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
    file_ = JoinPath(dir_, "address");
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }
  std::string dir_, file_;
};

TEST(ParseListenAddressTest, AcceptsHostPort) {
  auto a = ParseListenAddress("127.0.0.1:4222");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 4222);
  EXPECT_EQ(a->ToString(), "127.0.0.1:4222");
  EXPECT_EQ(ParseListenAddress("localhost:0")->ToString(), "127.0.0.1:0");
}

TEST(ParseListenAddressTest, RejectsBadAddresses) {
  for (const char* bad : {"", "4222", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536",
                          "127.0.0.1:-1", "example.com:4222", "127.0.0.1:42 22", "[::1]:4222"}) {
    auto a = ParseListenAddress(bad);
    EXPECT_FALSE(a) << bad;
    if (!a) {
      EXPECT_EQ(a.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(PortTest, TakenPortIsNotFreeAndPickedPortsAre) {
  HeldPort held;
  EXPECT_FALSE(PortIsFree({"127.0.0.1", held.port}));
  auto picked = PickFreePort("127.0.0.1");
  ASSERT_TRUE(picked);
  EXPECT_GT(*picked, 0);
  EXPECT_NE(*picked, held.port);
  EXPECT_TRUE(PortIsFree({"127.0.0.1", *picked}));
}

TEST_F(RouterAddressTest, PortZeroPicksAFreePortAndRecordsIt) {
  auto a = ResolveRouterAddress(file_, "127.0.0.1:0", false);
  ASSERT_TRUE(a);
  EXPECT_GT(a->port, 0);
  EXPECT_EQ(*ReadFile(file_), a->ToString() + "\n");
}

TEST_F(RouterAddressTest, RecordedAddressIsReusedWhateverIsRequested) {
  auto first = ResolveRouterAddress(file_, "127.0.0.1:0", false);
  ASSERT_TRUE(first);
  auto again = ResolveRouterAddress(file_, "127.0.0.1:0", false);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->port, first->port);
  auto other_request = ResolveRouterAddress(file_, "127.0.0.1:4222", false);
  ASSERT_TRUE(other_request);
  EXPECT_EQ(other_request->port, first->port);
}

TEST_F(RouterAddressTest, FreeRequestedPortIsUsed) {
  int port = *PickFreePort("127.0.0.1");
  auto a = ResolveRouterAddress(file_, "127.0.0.1:" + std::to_string(port), false);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, port);
}

TEST_F(RouterAddressTest, TakenPortFallsBackUnlessStrict) {
  HeldPort held;
  std::string listen = "127.0.0.1:" + std::to_string(held.port);
  auto fallback = ResolveRouterAddress(file_, listen, false);
  ASSERT_TRUE(fallback);
  EXPECT_NE(fallback->port, held.port);

  auto strict = ResolveRouterAddress(file_, listen, true);  // ignores the record, keeps the port
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->port, held.port);
  EXPECT_EQ(*ReadFile(file_), listen + "\n");
}

TEST_F(RouterAddressTest, DamagedRecordIsAnActionableError) {
  ASSERT_TRUE(WriteFileAtomic(file_, "garbage").ok());
  auto a = ResolveRouterAddress(file_, "127.0.0.1:0", false);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("remove it"), std::string::npos);
}

}  // namespace
}  // namespace sp
