// Bus against a real nats-server (no auth) started by the test on loopback.
#include "bus/bus.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "util/fs.h"

namespace sp {
namespace {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sp-bus-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    port_ = FreePort();
    StartServer();
    bus_ = Connect();
    ASSERT_TRUE(bus_) << "nats-server did not come up";
  }
  void StartServer() {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string port = std::to_string(port_);
      ::execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port.c_str(), "-js", "-sd", dir_.c_str(), "-l", (dir_ + "/log").c_str(),
               nullptr);
      ::_exit(127);
    }
  }
  void StopServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::unique_ptr<Bus> Connect() {
    BusOptions o;
    o.url = "nats://127.0.0.1:" + std::to_string(port_);
    for (int i = 0; i < 100; ++i) {
      auto b = Bus::Connect(o);
      if (b) return std::move(*b);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }
  void TearDown() override {
    bus_.reset();
    StopServer();
    (void)RemoveAll(dir_);
  }
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<Bus> bus_;
};

TEST_F(BusTest, PublishSubscribe) {
  std::atomic<int> got{0};
  std::string data;
  auto sub = bus_->Subscribe("a.b", [&](BusMessage m) {
    data = m.data;
    got++;
  });
  ASSERT_TRUE(sub);
  ASSERT_TRUE(bus_->Flush(Millis(1000)).ok());
  ASSERT_TRUE(bus_->Publish("a.b", "hello").ok());
  for (int i = 0; i < 100 && got == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(got, 1);
  EXPECT_EQ(data, "hello");
}

TEST_F(BusTest, RequestReply) {
  Bus* bus = bus_.get();
  auto sub = bus_->Subscribe("svc.echo", [bus](BusMessage m) { (void)bus->Publish(m.reply, "echo:" + m.data); });
  ASSERT_TRUE(sub);
  ASSERT_TRUE(bus_->Flush(Millis(1000)).ok());
  auto r = bus_->Request("svc.echo", "x", Millis(2000));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->data, "echo:x");
}

TEST_F(BusTest, RequestWithoutResponderIsUnavailable) {
  auto r = bus_->Request("nobody.home", "x", Millis(2000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
}

TEST_F(BusTest, LastPerSubjectKeepsOnlyLatest) {
  StreamSpec spec{"HB", {"_SP.HB.>"}, 1, Millis(0), false};
  ASSERT_TRUE(bus_->EnsureStream(spec).ok());
  ASSERT_TRUE(bus_->EnsureStream(spec).ok()) << "idempotent";
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(bus_->Publish("_SP.HB.oski.a", "a" + std::to_string(i)).ok());
    ASSERT_TRUE(bus_->Publish("_SP.HB.oski.b", "b" + std::to_string(i)).ok());
    ASSERT_TRUE(bus_->Publish("_SP.HB.other.c", "c" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(bus_->Flush(Millis(1000)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // stream ingest is asynchronous to core publish
  auto r = bus_->LastPerSubject("HB", {"_SP.HB.oski.>"}, Millis(2000));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].data, "a2");
  EXPECT_EQ((*r)[1].data, "b2");

  auto none = bus_->LastPerSubject("HB", {"_SP.HB.nothing.>"}, Millis(2000));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(bus_->PurgeSubject("HB", "_SP.HB.oski.a").ok());
  auto after = bus_->LastPerSubject("HB", {"_SP.HB.oski.>"}, Millis(2000));
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].subject, "_SP.HB.oski.b");
}

TEST_F(BusTest, LastPerSubjectOfMissingStreamIsEmpty) {
  auto r = bus_->LastPerSubject("NOPE", {"x.>"}, Millis(2000));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->empty());
}

TEST_F(BusTest, FollowResumesAcrossServerRestartWithoutGapsOrRepeats) {
  ASSERT_TRUE(bus_->EnsureStream({"LOGS", {"log.>"}, -1, Millis(0), false}).ok());
  ASSERT_TRUE(bus_->Publish("log.a", "before").ok());
  ASSERT_TRUE(bus_->Flush(Millis(1000)).ok());
  std::mutex mu;
  std::vector<std::string> got;
  auto f = bus_->Follow("LOGS", "log.a", [&](BusMessage m) {
    std::lock_guard<std::mutex> l(mu);
    got.push_back(m.data);
  });
  ASSERT_TRUE(f) << f.error().ToString();
  auto count = [&] {
    std::lock_guard<std::mutex> l(mu);
    return got.size();
  };
  auto wait_for = [&](size_t n) {
    for (int i = 0; i < 300 && count() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return count();
  };
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(bus_->Publish("log.a", "m" + std::to_string(i)).ok());
  ASSERT_TRUE(bus_->Publish("log.b", "other").ok());
  ASSERT_EQ(wait_for(5), 5u);

  StopServer();
  StartServer();
  auto other = Connect();  // publishes while the follower is still reconnecting
  ASSERT_TRUE(other);
  for (int i = 6; i <= 10; ++i) ASSERT_TRUE(other->Publish("log.a", "m" + std::to_string(i)).ok());
  ASSERT_TRUE(other->Flush(Millis(1000)).ok());
  ASSERT_EQ(wait_for(10), 10u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // nothing more (no repeats) arrives
  std::lock_guard<std::mutex> l(mu);
  std::vector<std::string> want;
  for (int i = 1; i <= 10; ++i) want.push_back("m" + std::to_string(i));
  EXPECT_EQ(got, want);
}

TEST_F(BusTest, DestroyingASubscriptionWaitsForARunningHandler) {
  std::atomic<bool> in_handler{false}, handler_done{false};
  auto sub = bus_->Subscribe("slow", [&](BusMessage) {
    in_handler = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    handler_done = true;
  });
  ASSERT_TRUE(sub);
  ASSERT_TRUE(bus_->Flush(Millis(1000)).ok());
  ASSERT_TRUE(bus_->Publish("slow", "x").ok());
  for (int i = 0; i < 200 && !in_handler; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(in_handler);
  sub->reset();
  EXPECT_TRUE(handler_done) << "the destructor returned while the handler was still running";
}

TEST_F(BusTest, FollowerCatchUpWaitsForStoredMessages) {
  ASSERT_TRUE(bus_->EnsureStream({"LOGS", {"log.>"}, -1, Millis(0), false, true}).ok());
  std::atomic<int> got{0};
  auto f = bus_->Follow("LOGS", "log.a", [&](BusMessage) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    got++;
  });
  ASSERT_TRUE(f);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus_->Publish("log.a", "m").ok());
  ASSERT_TRUE(bus_->Flush(Millis(1000)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the stream store them
  ASSERT_TRUE((*f)->CatchUp(Millis(5000)).ok());
  EXPECT_EQ(got, 10);
}

TEST(BusConnect, UnreachableRouterIsUnavailable) {
  BusOptions o;
  o.url = "nats://127.0.0.1:1";
  o.connect_timeout = Millis(500);
  auto b = Bus::Connect(o);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace sp
