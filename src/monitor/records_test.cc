// Tests of monitor.json and exit.json: round trips and defensive parsing.
#include <gtest/gtest.h>
#include <unistd.h>

#include "monitor/exit_record.h"
#include "monitor/params.h"
#include "util/fs.h"

namespace sp {
namespace {

MonitorParams Sample() {
  MonitorParams p;
  p.id = "svc";
  p.bundle = "/s/bundle";
  p.runtime_root = "/s/runc";
  p.cgroups_path = "/spawnpoint/d/svc";
  p.log_dir = "/s/logs";
  p.log_max_bytes = 4096;
  p.log_max_files = 3;
  p.exit_file = "/s/exit.json";
  p.pid_file = "/s/container.pid";
  return p;
}

TEST(MonitorParams, RoundTripsWithTheDocumentedKeys) {
  char tmpl[] = "/tmp/sp-params-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/monitor.json";
  ASSERT_TRUE(WriteMonitorParams(path, Sample()).ok());
  std::string text = *ReadFile(path);
  for (const char* key : {"\"id\"", "\"bundle\"", "\"runtimeBinary\"", "\"runtimeRoot\"", "\"cgroupsPath\"",
                          "\"logDir\"", "\"logMaxBytes\"", "\"logMaxFiles\"", "\"exitFile\"", "\"pidFile\""})
    EXPECT_NE(text.find(key), std::string::npos) << key;
  auto p = ReadMonitorParams(path);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->id, "svc");
  EXPECT_EQ(p->runtime_binary, "runc");
  EXPECT_EQ(p->cgroups_path, "/spawnpoint/d/svc");
  EXPECT_EQ(p->log_max_bytes, 4096);
  EXPECT_EQ(p->log_max_files, 3);
  EXPECT_EQ(p->pid_file, "/s/container.pid");
  EXPECT_TRUE(RemoveAll(tmpl).ok());
}

TEST(MonitorParams, RejectsBadInput) {
  EXPECT_FALSE(ParseMonitorParams("[]"));
  EXPECT_FALSE(ParseMonitorParams("{"));
  auto missing = ParseMonitorParams(R"({"id": "x"})");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("bundle"), std::string::npos);
  auto typed = ParseMonitorParams(
      R"({"id":"x","bundle":"/b","logDir":"/l","exitFile":"/e","pidFile":"/p","logMaxBytes":"big"})");
  ASSERT_FALSE(typed);
  EXPECT_NE(typed.error().message().find("logMaxBytes"), std::string::npos);
  EXPECT_TRUE(ParseMonitorParams(R"({"id":"x","bundle":"/b","logDir":"/l","exitFile":"/e","pidFile":"/p"})"));
  EXPECT_FALSE(ParseMonitorParams(R"({"id":"x","bundle":"b","logDir":"/l","exitFile":"/e","pidFile":"/p"})"));
  MonitorParams p = Sample();
  p.log_max_files = 0;
  EXPECT_FALSE(WriteMonitorParams("/tmp/never-written.json", p).ok());
  EXPECT_FALSE(PathExists("/tmp/never-written.json"));
}

TEST(ExitRecord, RoundTrips) {
  ExitRecord r;
  r.exit_code = 137;
  r.signal = 9;
  r.oom_killed = true;
  r.started_at = "2026-11-23T11:24:00.000000001Z";
  r.finished_at = "2026-11-23T11:24:01.000000001Z";
  std::string json = ExitRecordJson(r);
  EXPECT_NE(json.find("\"oomKilled\":true"), std::string::npos);
  EXPECT_EQ(json.find("error"), std::string::npos);
  auto back = ParseExitRecord(json);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->exit_code, 137);
  EXPECT_EQ(back->signal, 9);
  EXPECT_TRUE(back->oom_killed);
  EXPECT_EQ(back->finished_at, r.finished_at);
  r.error = "runc create failed";
  EXPECT_EQ(ParseExitRecord(ExitRecordJson(r))->error, "runc create failed");
}

TEST(ExitRecord, ParsesDefensively) {
  for (const char* bad : {"", "{", "null", "[1]", "{}", R"({"exitCode":"3"})", R"({"exitCode":3.5})",
                          R"({"exitCode":99999999999})", R"({"exitCode":3,"oomKilled":"yes"})",
                          R"({"exitCode":3,"startedAt":5})"}) {
    auto r = ParseExitRecord(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
    }
  }
  auto minimal = ParseExitRecord(R"({"exitCode": 0, "extra": {"ignored": true}})");
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->exit_code, 0);
  EXPECT_FALSE(minimal->oom_killed);
  EXPECT_EQ(ReadExitRecord("/tmp/no-such-exit-record.json").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace sp
