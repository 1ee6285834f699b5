#include "store/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "util/fs.h"

namespace sp {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sp-store-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::unique_ptr<Store> Open() {
    auto s = Store::Open(dir_ + "/spawnd.db");
    EXPECT_TRUE(s) << s.error().ToString();
    return std::move(*s);
  }
  std::string dir_;
};

TEST_F(StoreTest, PutGetListRemoveSurviveReopen) {
  {
    auto st = Open();
    ServiceRecord r;
    r.name = "hello";
    r.config_yaml = "cpuShares: 512\n";
    r.state = "running";
    r.monitor_pid = 42;
    r.exit_oom = true;
    r.has_exit = true;
    r.exit_code = 137;
    EventRecord e{0, "hello", 1000, "started", "pid 42"};
    ASSERT_TRUE(st->Put(r, &e).ok());
    r.name = "other";
    ASSERT_TRUE(st->Put(r).ok());
  }
  auto st = Open();
  auto got = st->Get("hello");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->state, "running");
  EXPECT_EQ((*got)->monitor_pid, 42);
  EXPECT_TRUE((*got)->exit_oom);
  EXPECT_EQ((*got)->exit_code, 137);
  EXPECT_EQ(st->List()->size(), 2u);
  EventRecord gone{0, "hello", 2000, "stopped", ""};
  ASSERT_TRUE(st->Remove("hello", &gone).ok());
  EXPECT_FALSE(st->Get("hello")->has_value());
  auto events = st->Events("hello", 10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kind, "started");
  EXPECT_EQ((*events)[1].kind, "stopped");
}

TEST_F(StoreTest, EventsAreLimitedToMostRecent) {
  auto st = Open();
  ServiceRecord r;
  r.name = "s";
  for (int i = 0; i < 30; ++i) {
    EventRecord e{0, "s", i, "tick", std::to_string(i)};
    ASSERT_TRUE(st->Put(r, &e).ok());
  }
  auto ev = st->Events("s", 5);
  ASSERT_EQ(ev->size(), 5u);
  EXPECT_EQ(ev->front().message, "25");
  EXPECT_EQ(ev->back().message, "29");
}

TEST_F(StoreTest, LogPositionAndSettings) {
  auto st = Open();
  ServiceRecord r;
  r.name = "s";
  ASSERT_TRUE(st->Put(r).ok());
  ASSERT_TRUE(st->SetLogPosition("s", 3, 1234).ok());
  auto got = st->Get("s");
  EXPECT_EQ((*got)->log_segment, 3);
  EXPECT_EQ((*got)->log_offset, 1234);
  r.state = "exited";  // a later state change does not rewind the shipped position
  ASSERT_TRUE(st->Put(r).ok());
  EXPECT_EQ((*st->Get("s"))->log_segment, 3);
  EXPECT_EQ((*st->Get("s"))->log_offset, 1234);
  EXPECT_EQ((*st->Get("s"))->state, "exited");
  EXPECT_FALSE(st->GetSetting("daemon.id")->has_value());
  ASSERT_TRUE(st->PutSetting("daemon.id", "abc").ok());
  EXPECT_EQ(**st->GetSetting("daemon.id"), "abc");
}

TEST_F(StoreTest, UnopenableDatabaseIsAnError) {
  auto s = Store::Open("/nonexistent-dir/x/spawnd.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace sp
