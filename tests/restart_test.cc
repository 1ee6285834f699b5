// autoRestart: a crashed service comes back; a crash loop backs off instead
// of spinning.
#include <gtest/gtest.h>

#include "harness.h"

namespace sp::test {
namespace {

TEST(AutoRestart, CrashedServiceIsRestarted) {
  TestDaemon d;
  d.Start();
  std::string cfg = d.WriteFile("crash.yaml", R"(cpuShares: 128
memory: 32
autoRestart: true
run: [/bin/sh, -c, 'echo started; sleep 1; exit 3']
)");
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", cfg, "-n", "crashy", "-t", "0s"}).exit_code, 0);
  int first = d.Inspect("crashy")["pid"].get<int>();
  ASSERT_TRUE(WaitFor([&] { return d.Inspect("crashy")["restarts"].get<int>() >= 1; }, Millis(10000)));
  ASSERT_TRUE(WaitFor([&] { return d.Inspect("crashy")["state"] == "running"; }, Millis(10000)));
  auto info = d.Inspect("crashy");
  EXPECT_NE(info["pid"].get<int>(), first);
  EXPECT_EQ(info["lastExit"]["code"], 3);
  EXPECT_TRUE(ProcessAlive(info["pid"].get<int>()));
}

TEST(AutoRestart, CrashLoopBacksOff) {
  TestDaemon d;
  d.Start();
  std::string cfg = d.WriteFile("loop.yaml", R"(cpuShares: 128
memory: 32
autoRestart: true
restartPolicy: {initialDelay: 500ms, maxDelay: 2s, stableAfter: 10s}
run: [/bin/false]
)");
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", cfg, "-n", "loop", "-t", "0s"}).exit_code, 0);
  // Without backoff /bin/false would restart hundreds of times in 6 s. With it:
  // 0 + ~0.5 + ~1 + ~2 + ~2 s ... about 5 starts (jitter +-20%).
  std::this_thread::sleep_for(std::chrono::seconds(6));
  auto info = d.Inspect("loop");
  int restarts = info["restarts"].get<int>();
  EXPECT_GE(restarts, 3) << info.dump(2);
  EXPECT_LE(restarts, 7) << info.dump(2);
  bool backoff_event = false;
  for (auto& e : info["events"])
    backoff_event = backoff_event || e["message"].get<std::string>().find("restarting in") != std::string::npos;
  EXPECT_TRUE(backoff_event) << info.dump(2);
  EXPECT_EQ(d.Spawnctl({"stop", "-n", "loop"}).exit_code, 0) << "a service in backoff can be stopped";
}

}  // namespace
}  // namespace sp::test
