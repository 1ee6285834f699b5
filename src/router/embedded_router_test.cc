// EmbeddedRouter against the real nats-server: start and stop, restarts that
// keep the address and the JetStream store, a killed server noticed and
// restarted, port fallback, a stale server of an earlier daemon replaced.
#include "router/embedded_router.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "router/router_address.h"
#include "router/server_process.h"
#include "router/test_nats_client.h"
#include "util/fs.h"

namespace sp {
namespace {

using testing::TestClient;

template <typename F>
bool Eventually(F cond, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class EmbeddedRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/sp-router-XXXXXX";
    root_ = ::mkdtemp(dir_template);
    auto ns = LoadOrCreateNamespace(JoinPath(root_, "auth"));
    ASSERT_TRUE(ns) << ns.error().ToString();
    ns_.emplace(std::move(*ns));
    auto creds = IssueUserCreds(*ns_, "tester", {});
    ASSERT_TRUE(creds);
    creds_ = JoinPath(root_, "tester.creds");
    ASSERT_TRUE(WriteFileAtomic(creds_, *creds, 0600).ok());
    opts_ = {.dir = JoinPath(root_, "router"), .listen = "127.0.0.1:0"};
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  std::unique_ptr<EmbeddedRouter> StartRouter(const RouterOptions& opts) {
    auto router = EmbeddedRouter::Start(opts, *ns_);
    EXPECT_TRUE(router) << router.error().ToString();
    return router ? std::move(*router) : nullptr;
  }

  std::string root_, creds_;
  std::optional<Namespace> ns_;
  RouterOptions opts_;
};

TEST_F(EmbeddedRouterTest, StartsAcceptsClientsAndStops) {
  auto router = StartRouter(opts_);
  ASSERT_TRUE(router);
  EXPECT_TRUE(router->Alive());
  EXPECT_GT(router->port(), 0);
  EXPECT_EQ(router->url(), "nats://127.0.0.1:" + std::to_string(router->port()));
  pid_t pid = router->pid();
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessRunning(pid));
  EXPECT_EQ(*ReadFile(JoinPath(opts_.dir, "address")), "127.0.0.1:" + std::to_string(router->port()) + "\n");
  {
    TestClient c;
    EXPECT_EQ(c.Connect(router->url(), creds_), NATS_OK);
  }
  ASSERT_TRUE(router->Stop().ok());
  EXPECT_FALSE(router->Alive());
  EXPECT_EQ(router->pid(), -1);
  EXPECT_FALSE(ProcessRunning(pid));
  EXPECT_FALSE(PathExists(JoinPath(opts_.dir, "nats-server.pid")));
  TestClient c;
  EXPECT_NE(c.Connect(router->url(), creds_), NATS_OK);
  EXPECT_TRUE(router->Stop().ok());  // idempotent
}

TEST_F(EmbeddedRouterTest, DestructorStopsTheServer) {
  auto router = StartRouter(opts_);
  ASSERT_TRUE(router);
  pid_t pid = router->pid();
  router.reset();
  EXPECT_FALSE(ProcessRunning(pid));
}

TEST_F(EmbeddedRouterTest, RestartKeepsPortAndJetStreamData) {
  auto router = StartRouter(opts_);
  ASSERT_TRUE(router);
  int port = router->port();
  pid_t first_pid = router->pid();
  {
    TestClient c;
    ASSERT_EQ(c.Connect(router->url(), creds_), NATS_OK);
    ASSERT_EQ(testing::AddStream(c.js(), "KEEP", "keep.>"), NATS_OK);
    ASSERT_EQ(testing::PublishToStream(c.js(), "keep.a", "persisted"), NATS_OK);
  }
  ASSERT_TRUE(router->Restart().ok());
  EXPECT_EQ(router->port(), port);
  EXPECT_NE(router->pid(), first_pid);
  EXPECT_FALSE(ProcessRunning(first_pid));
  TestClient c;
  ASSERT_EQ(c.Connect(router->url(), creds_), NATS_OK);
  EXPECT_EQ(testing::StreamMessages(c.js(), "KEEP"), 1);
  EXPECT_TRUE(PathExists(JoinPath(opts_.dir, "jetstream")));
}

TEST_F(EmbeddedRouterTest, KilledServerIsNoticedAndRestarted) {
  auto router = StartRouter(opts_);
  ASSERT_TRUE(router);
  int port = router->port();
  ASSERT_EQ(::kill(router->pid(), SIGKILL), 0);
  EXPECT_TRUE(Eventually([&] { return !router->Alive(); }));
  ASSERT_TRUE(router->Restart().ok());
  EXPECT_TRUE(router->Alive());
  EXPECT_EQ(router->port(), port);
  TestClient c;
  EXPECT_EQ(c.Connect(router->url(), creds_), NATS_OK);
}

TEST_F(EmbeddedRouterTest, NewDaemonReusesTheRecordedAddressAndReplacesAStaleServer) {
  auto first = StartRouter(opts_);
  ASSERT_TRUE(first);
  pid_t stale_pid = first->pid();
  // A second router over the same dir, as a daemon restarted after a crash
  // would create, while the first server still runs.
  auto second = StartRouter(opts_);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->port(), first->port());
  EXPECT_NE(second->pid(), stale_pid);
  EXPECT_FALSE(ProcessRunning(stale_pid));
  EXPECT_FALSE(first->Alive());
  TestClient c;
  EXPECT_EQ(c.Connect(second->url(), creds_), NATS_OK);
}

TEST_F(EmbeddedRouterTest, ServerDiesWithTheDaemon) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  pid_t daemon = ::fork();
  if (daemon == 0) {  // a "daemon" that starts its router and then crashes
    auto router = EmbeddedRouter::Start(opts_, *ns_);
    pid_t server = router ? (*router)->pid() : -1;
    (void)!::write(pipe_fds[1], &server, sizeof server);
    ::raise(SIGKILL);
  }
  ASSERT_GT(daemon, 0);
  ::close(pipe_fds[1]);
  pid_t server = -1;
  ASSERT_EQ(::read(pipe_fds[0], &server, sizeof server), static_cast<ssize_t>(sizeof server));
  ::close(pipe_fds[0]);
  ASSERT_GT(server, 0);
  int status;
  ASSERT_EQ(::waitpid(daemon, &status, 0), daemon);
  EXPECT_TRUE(Eventually([&] { return !ProcessRunning(server); }));
  if (ProcessRunning(server)) ::kill(server, SIGKILL);  // clean up after a failure
}

TEST_F(EmbeddedRouterTest, PidFileOfAnUnrelatedProcessIsLeftAlone) {
  ASSERT_TRUE(MakeDirs(opts_.dir, 0700).ok());
  pid_t sleeper = ::fork();
  if (sleeper == 0) {
    ::execl("/bin/sleep", "sleep", "30", nullptr);
    ::_exit(127);
  }
  ASSERT_GT(sleeper, 0);
  ASSERT_TRUE(WriteFileAtomic(JoinPath(opts_.dir, "nats-server.pid"), std::to_string(sleeper)).ok());
  auto router = StartRouter(opts_);
  EXPECT_TRUE(router);
  EXPECT_TRUE(ProcessRunning(sleeper));
  ASSERT_TRUE(StopChild(sleeper, Millis(1000)).ok());
}

TEST_F(EmbeddedRouterTest, FallsBackToAFreePortWhen4222IsTaken) {
  // Hold 4222 (if another process already holds it, it is taken all the same).
  int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(4222);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool held = ::bind(holder, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(holder, 1) == 0;
  ASSERT_FALSE(PortIsFree({"127.0.0.1", 4222}));

  opts_.listen = "127.0.0.1:4222";
  auto router = StartRouter(opts_);
  ASSERT_TRUE(router);
  EXPECT_NE(router->port(), 4222);
  TestClient c;
  EXPECT_EQ(c.Connect(router->url(), creds_), NATS_OK);

  RouterOptions strict = opts_;
  strict.dir = JoinPath(root_, "strict");
  strict.prefer_listen_port_only = true;
  auto refused = EmbeddedRouter::Start(strict, *ns_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
  EXPECT_NE(refused.error().message().find("in use"), std::string::npos) << refused.error().message();
  if (held) ::close(holder);
}

TEST_F(EmbeddedRouterTest, ServerThatCannotStartReportsItsLog) {
  opts_.server_binary = "/bin/false";
  auto router = EmbeddedRouter::Start(opts_, *ns_);
  ASSERT_FALSE(router);
  EXPECT_EQ(router.error().code(), Code::kUnavailable);
  EXPECT_NE(router.error().message().find("exited during startup"), std::string::npos);
}

TEST_F(EmbeddedRouterTest, BadConfigErrorComesFromTheServerLog) {
  opts_.max_payload = int64_t{100} << 20;  // nats-server refuses more than max_pending (64 MiB)
  auto router = EmbeddedRouter::Start(opts_, *ns_);
  ASSERT_FALSE(router);
  EXPECT_NE(router.error().message().find("max_payload"), std::string::npos) << router.error().message();
}

TEST_F(EmbeddedRouterTest, MissingBinaryIsNotFound) {
  opts_.server_binary = "no-such-nats-server";
  auto router = EmbeddedRouter::Start(opts_, *ns_);
  ASSERT_FALSE(router);
  EXPECT_EQ(router.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace sp
