// Reservations: refusal when the pool cannot fit a service, duplicate names,
// cgroup limits written and enforced (a memory hog is OOM-killed).
#include <gtest/gtest.h>

#include "harness.h"

namespace sp::test {
namespace {

std::string Service(int cpu, int mem, const std::string& run, const std::string& extra = "") {
  return "cpuShares: " + std::to_string(cpu) + "\nmemory: " + std::to_string(mem) + "\nrun: " + run + "\n" + extra;
}

TEST(Resources, RefusesWhatDoesNotFitAndSaysWhy) {
  TestDaemon d({1024, 512});
  d.Start();
  std::string big = d.WriteFile("big.yaml", Service(2048, 64, "[/bin/sleep, '1000']"));
  auto r = d.Spawnctl({"deploy", "-c", big, "-n", "big", "-t", "0s"});
  EXPECT_EQ(r.exit_code, ExitCodeFor(Code::kResourceExhausted)) << r.out << r.err;
  EXPECT_NE(r.err.find("asked for 2048 CPU shares and 64 MiB memory"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("available 1024/1024 CPU shares and 512/512 MiB memory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("[SUCCESS]"), std::string::npos);
  EXPECT_TRUE(d.Inspect("big").is_null()) << "nothing was recorded";

  std::string mem = d.WriteFile("mem.yaml", Service(64, 1024, "[/bin/sleep, '1000']"));
  EXPECT_NE(d.Spawnctl({"deploy", "-c", mem, "-n", "mem", "-t", "0s"}).exit_code, 0) << "memory alone must fit too";

  std::string ok = d.WriteFile("ok.yaml", Service(512, 256, "[/bin/sleep, '1000']"));
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", ok, "-n", "a", "-t", "0s"}).exit_code, 0);
  auto dup = d.Spawnctl({"deploy", "-c", ok, "-n", "a", "-t", "0s"});
  EXPECT_EQ(dup.exit_code, ExitCodeFor(Code::kAlreadyExists)) << dup.err;
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", ok, "-n", "b", "-t", "0s"}).exit_code, 0);
  auto full = d.Spawnctl({"deploy", "-c", ok, "-n", "c", "-t", "0s"});
  EXPECT_NE(full.err.find("available 0/1024 CPU shares"), std::string::npos) << full.err;
  ASSERT_EQ(d.Spawnctl({"stop", "-n", "a"}).exit_code, 0);
  EXPECT_EQ(d.Spawnctl({"deploy", "-c", ok, "-n", "c", "-t", "0s"}).exit_code, 0) << "stop returned a's share";
}

TEST(Resources, CgroupLimitsAreWritten) {
  TestDaemon d;
  d.Start();
  std::string cfg = d.WriteFile("s.yaml", Service(300, 48, "[/bin/sleep, '1000']"));
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", cfg, "-n", "limited", "-t", "0s"}).exit_code, 0);
  auto info = d.Inspect("limited");
  std::string cg = info["cgroupsPath"].get<std::string>();
  ASSERT_FALSE(cg.empty());
  std::string pid = std::to_string(info["pid"].get<int>());
  // The service's process is in the cgroup, and the cgroup carries the reservation.
  EXPECT_NE(ReadText("/proc/" + pid + "/cgroup").find(cg), std::string::npos);
  EXPECT_EQ(std::stoll(ReadText("/sys/fs/cgroup/cpu" + cg + "/cpu.shares")), 300);
  EXPECT_EQ(std::stoll(ReadText("/sys/fs/cgroup/memory" + cg + "/memory.limit_in_bytes")), 48LL << 20);
  EXPECT_GT(std::stoll(ReadText("/sys/fs/cgroup/pids" + cg + "/pids.max")), 0);
}

TEST(Resources, MemoryHogIsOomKilledAndReportedAsSuch) {
  TestDaemon d;
  d.Start();
  // Doubles a shell variable until the 16 MiB limit stops it.
  std::string cfg = d.WriteFile("hog.yaml", Service(256, 16, "[/bin/sh, -c, 'x=a; while :; do x=$x$x; done']"));
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", cfg, "-n", "hog", "-t", "0s"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return d.Inspect("hog")["state"] == "exited"; }, Millis(30000))) << d.Inspect("hog").dump();
  auto info = d.Inspect("hog");
  EXPECT_TRUE(info["lastExit"]["oomKilled"].get<bool>()) << info.dump(2);
  EXPECT_EQ(info["lastExit"]["code"], 137);
  bool oom_event = false;
  for (auto& e : info["events"]) oom_event = oom_event || e["kind"] == "oom";
  EXPECT_TRUE(oom_event) << info.dump(2);
  auto scan = d.Scan();
  EXPECT_EQ(scan["hosts"][0]["memory"]["available"], 2048) << "an exited service returns its reservation";
}

}  // namespace
}  // namespace sp::test
