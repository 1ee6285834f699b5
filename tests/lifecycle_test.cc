// End to end on one host: deploy, scan, inspect, tail, restart, stop, with
// a real spawnd, nats-server, runc and CNI.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"

namespace sp::test {
namespace {

constexpr const char* kTicker = R"(cpuShares: 256
memory: 64
run: [/bin/sh, -c, 'trap "echo bye; exit 0" TERM; echo "hello from $SPAWNPOINT_SERVICE"; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']
)";

TEST(Lifecycle, DeployScanInspectTailRestartStop) {
  TestDaemon d;
  d.Start();
  std::string cfg = d.WriteFile("deploy.yaml", kTicker);

  auto dep = d.Spawnctl({"deploy", "-c", cfg, "-n", "hello", "-t", "2s"});
  ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err << d.DaemonLog();
  EXPECT_NE(dep.out.find("[SUCCESS] Service container has started"), std::string::npos) << dep.out;
  EXPECT_NE(dep.out.find("hello from hello"), std::string::npos) << "deploy tails the service's log:\n" << dep.out;
  EXPECT_NE(dep.out.find("tick 2"), std::string::npos) << dep.out;

  auto info = d.Inspect("hello");
  ASSERT_TRUE(info.is_object());
  EXPECT_EQ(info["state"], "running");
  int pid = info["pid"].get<int>();
  EXPECT_TRUE(ProcessAlive(pid)) << "inspect's pid is the host PID of the service's process";
  EXPECT_EQ(info["restarts"], 0);
  EXPECT_EQ(info["cpuShares"], 256);
  EXPECT_EQ(info["memory"], 64);
  ASSERT_TRUE(info["events"].is_array());
  EXPECT_EQ(info["events"][0]["kind"], "deployed");

  ASSERT_TRUE(WaitFor([&] {
    auto scan = d.Scan();
    return scan.is_object() && scan["hosts"].size() == 1 && scan["hosts"][0]["services"].size() == 1;
  }, Millis(5000)));
  auto scan = d.Scan();
  auto& host = scan["hosts"][0];
  EXPECT_EQ(host["uri"], d.uri());
  EXPECT_TRUE(host["up"].get<bool>());
  EXPECT_EQ(host["cpuShares"]["total"], 2048);
  EXPECT_EQ(host["cpuShares"]["available"], 2048 - 256);
  EXPECT_EQ(host["memory"]["available"], 2048 - 64);
  auto& svc = host["services"][0];
  EXPECT_EQ(svc["name"], "hello");
  EXPECT_EQ(svc["state"], "running");
  EXPECT_TRUE(svc["up"].get<bool>());
  EXPECT_FALSE(svc["lastSeen"].get<std::string>().empty());
  EXPECT_EQ(svc["cpuShares"], 256);
  // Used memory is measured from the cgroup: a shell and sleep use some.
  ASSERT_TRUE(WaitFor([&] {
    auto s = d.Scan();
    return s.is_object() && s["hosts"][0]["services"][0]["usedMemory"].get<double>() > 0;
  }, Millis(5000))) << d.Scan().dump();

  auto text = d.Spawnctl({"scan"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("Available CPU Shares: 1792/2048"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("• [hello]"), std::string::npos) << text.out;

  auto tail = d.Spawnctl({"tail", "-n", "hello", "-t", "1s"});
  EXPECT_EQ(tail.exit_code, 0);
  EXPECT_NE(tail.out.find("tick "), std::string::npos) << tail.out;

  auto rs = d.Spawnctl({"restart", "-n", "hello", "-t", "1s"});
  ASSERT_EQ(rs.exit_code, 0) << rs.out << rs.err;
  EXPECT_NE(rs.out.find("[SUCCESS] Restarted service container"), std::string::npos);
  EXPECT_NE(rs.out.find("tick 1"), std::string::npos) << "the new instance's output is tailed:\n" << rs.out;
  auto after = d.Inspect("hello");
  EXPECT_EQ(after["restarts"], 1);
  EXPECT_NE(after["pid"].get<int>(), pid);
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(pid); }, Millis(5000))) << "the old instance is gone";

  auto st = d.Spawnctl({"stop", "-n", "hello"});
  ASSERT_EQ(st.exit_code, 0) << st.out << st.err;
  EXPECT_NE(st.out.find("[SUCCESS] Stopped service container"), std::string::npos);
  EXPECT_NE(st.out.find("bye"), std::string::npos) << "SIGTERM reached the service and its last words are shown:\n"
                                                  << st.out;
  EXPECT_LT(st.out.find("bye"), st.out.find("[SUCCESS] Stopped"));
  EXPECT_TRUE(d.Inspect("hello").is_null()) << "a stopped service is removed";
  int new_pid = after["pid"].get<int>();
  EXPECT_FALSE(ProcessAlive(new_pid));
  ASSERT_TRUE(WaitFor([&] {
    auto s = d.Scan();
    return s.is_object() && s["hosts"][0]["cpuShares"]["available"] == 2048 && s["hosts"][0]["services"].empty();
  }, Millis(5000))) << "stop returns the reservation: " << d.Scan().dump();

  auto missing = d.Spawnctl({"stop", "-n", "hello"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("no service named \"hello\""), std::string::npos) << missing.err;
}

TEST(Lifecycle, DeployLastRerunsTheLastDeployOfThisDirectory) {
  TestDaemon d;
  d.Start();
  std::string cfg = d.WriteFile("deploy.yaml", kTicker);
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", cfg, "-n", "again", "-t", "0s"}).exit_code, 0);
  ASSERT_EQ(d.Spawnctl({"stop", "-n", "again"}).exit_code, 0);
  auto r = d.Spawnctl({"deploy-last", "-y"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("This will run:"), std::string::npos);
  EXPECT_NE(r.out.find("-n again"), std::string::npos) << r.out;
  EXPECT_EQ(d.Inspect("again")["state"], "running");
}

TEST(Lifecycle, GarbageOnTheConfigSlotGetsAnErrorAndChangesNothing) {
  TestDaemon d;
  d.Start();
  std::string bad = d.WriteFile("bad.yaml", "cpuShares: lots\nmemory: 64\nrun: [/bin/true]\n");
  auto r = d.Spawnctl({"deploy", "-c", bad, "-n", "x", "-t", "0s"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad.yaml:1"), std::string::npos) << "errors name file and line: " << r.err;
  EXPECT_NE(r.err.find("cpuShares"), std::string::npos) << r.err;
  auto scan = d.Scan();
  EXPECT_EQ(scan["hosts"][0]["cpuShares"]["available"], 2048);
}

}  // namespace
}  // namespace sp::test

namespace sp::test {
namespace {

TEST(Lifecycle, CrunRuntimeRunsServicesToo) {
  DaemonSettings s;
  s.extra = "runtime: crun\n";
  TestDaemon d(s);
  d.Start();
  std::string cfg = d.WriteFile("deploy.yaml", kTicker);
  auto dep = d.Spawnctl({"deploy", "-c", cfg, "-n", "oncrun", "-t", "1s"});
  ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err << d.DaemonLog();
  EXPECT_NE(dep.out.find("tick 1"), std::string::npos) << dep.out;
  auto info = d.Inspect("oncrun");
  EXPECT_EQ(info["state"], "running");
  std::string cg = info["cgroupsPath"].get<std::string>();
  EXPECT_EQ(std::stoll(ReadText("/sys/fs/cgroup/memory" + cg + "/memory.limit_in_bytes")), 64LL << 20);
  ASSERT_EQ(d.Spawnctl({"stop", "-n", "oncrun"}).exit_code, 0);
  EXPECT_FALSE(ProcessAlive(info["pid"].get<int>()));
}

}  // namespace
}  // namespace sp::test

namespace sp::test {
namespace {

TEST(Lifecycle, StateDirThroughASymlinkWorksAndReadopts) {
  DaemonSettings s;
  s.state_via_symlink = true;
  TestDaemon d(s);
  d.Start();
  std::string cfg = d.WriteFile("deploy.yaml", kTicker);
  auto dep = d.Spawnctl({"deploy", "-c", cfg, "-n", "linked", "-t", "0s"});
  ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
  int pid = d.Inspect("linked")["pid"].get<int>();
  d.Kill(SIGKILL);
  d.Start();
  auto info = d.Inspect("linked");
  EXPECT_EQ(info["pid"].get<int>(), pid) << "re-adopted: " << info.dump(2);
  EXPECT_EQ(info["state"], "running");
}

}  // namespace
}  // namespace sp::test
