// Tests of the SQLite Store: records, events, log positions and settings survive a reopen.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
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

// A record whose every field differs from the default and from the others.
ServiceRecord EveryField() {
  ServiceRecord r;
  r.name = "full";
  r.config_yaml = "run: [x]\n";
  r.config_file = "deploy.yaml";
  r.state = "backoff";
  r.instance = 2;
  r.restarts = 3;
  r.fast_failures = 4;
  r.monitor_pid = 5;
  r.container_pid = 6;
  r.address = "10.88.0.7";
  r.created_ms = 8;
  r.started_ms = 9;
  r.next_start_ms = 10;
  r.has_exit = true;
  r.exit_code = 11;
  r.exit_signal = 12;
  r.exit_oom = true;
  r.exit_ms = 13;
  r.log_segment = 14;
  r.log_offset = 15;
  return r;
}

void ExpectSameRecord(const ServiceRecord& got, const ServiceRecord& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.config_yaml, want.config_yaml);
  EXPECT_EQ(got.config_file, want.config_file);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.instance, want.instance);
  EXPECT_EQ(got.restarts, want.restarts);
  EXPECT_EQ(got.fast_failures, want.fast_failures);
  EXPECT_EQ(got.monitor_pid, want.monitor_pid);
  EXPECT_EQ(got.container_pid, want.container_pid);
  EXPECT_EQ(got.address, want.address);
  EXPECT_EQ(got.created_ms, want.created_ms);
  EXPECT_EQ(got.started_ms, want.started_ms);
  EXPECT_EQ(got.next_start_ms, want.next_start_ms);
  EXPECT_EQ(got.has_exit, want.has_exit);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.exit_signal, want.exit_signal);
  EXPECT_EQ(got.exit_oom, want.exit_oom);
  EXPECT_EQ(got.exit_ms, want.exit_ms);
  EXPECT_EQ(got.log_segment, want.log_segment);
  EXPECT_EQ(got.log_offset, want.log_offset);
}

TEST_F(StoreTest, EveryFieldRoundTripsAndAnUpdateKeepsTheLogPosition) {
  auto st = Open();
  ServiceRecord r = EveryField();
  ASSERT_TRUE(st->Put(r).ok());
  ExpectSameRecord(**st->Get("full"), r);
  ServiceRecord changed = r;
  changed.state = "running";
  changed.instance = 20;
  changed.address = "10.88.0.21";
  changed.exit_oom = false;
  changed.log_segment = 0;  // not written by Put over an existing record
  changed.log_offset = 0;
  ASSERT_TRUE(st->Put(changed).ok());
  changed.log_segment = r.log_segment;
  changed.log_offset = r.log_offset;
  ExpectSameRecord(**st->Get("full"), changed);
  ExpectSameRecord(st->List()->at(0), changed);
}

TEST_F(StoreTest, ReadsARowWrittenByColumnName) {
  // Databases written by earlier versions: the columns are found by name, not by position.
  { auto st = Open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/spawnd.db").c_str(), &db), SQLITE_OK);
  const char* sql =
      "INSERT INTO services (log_offset, log_segment, exit_ms, exit_oom, exit_signal, exit_code, has_exit, "
      "next_start_ms, started_ms, created_ms, address, container_pid, monitor_pid, fast_failures, restarts, "
      "instance, state, config_file, config_yaml, name) "
      "VALUES (15, 14, 13, 1, 12, 11, 1, 10, 9, 8, '10.88.0.7', 6, 5, 4, 3, 2, 'backoff', 'deploy.yaml', "
      "'run: [x]\n', 'full')";
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  auto st = Open();
  ExpectSameRecord(**st->Get("full"), EveryField());
}

TEST_F(StoreTest, UnopenableDatabaseIsAnError) {
  auto s = Store::Open("/nonexistent-dir/x/spawnd.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace sp
