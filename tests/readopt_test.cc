// The daemon can be killed with SIGKILL and come back: running services are
// untouched and re-adopted, no log line is lost, services that exited while
// it was away are handled by their policy, and the router comes back on the
// same address.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>
#include <sstream>

#include "harness.h"

namespace sp::test {
namespace {

TEST(Readopt, KillNineKeepsServicesAndLosesNoLogLine) {
  TestDaemon d;
  d.Start();
  std::string counter = d.WriteFile("counter.yaml", R"(cpuShares: 128
memory: 32
run: [/bin/sh, -c, 'i=0; while true; do i=$((i+1)); echo "n=$i"; sleep 0.05; done']
)");
  std::string quitter = d.WriteFile("quitter.yaml", R"(cpuShares: 128
memory: 32
autoRestart: true
run: [/bin/sh, -c, 'sleep 2; exit 7']
)");
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", counter, "-n", "counter", "-t", "0s"}).exit_code, 0);
  ASSERT_EQ(d.Spawnctl({"deploy", "-c", quitter, "-n", "quitter", "-t", "0s"}).exit_code, 0);
  std::string url_before = ReadText(d.state_dir() + "/client.json");
  int pid = d.Inspect("counter")["pid"].get<int>();
  int monitor = d.Inspect("counter")["monitorPid"].get<int>();

  std::string tail_out = d.work_dir() + "/tail.out";
  pid_t tail = d.SpawnctlBackground({"tail", "-n", "counter", "-t", "30s"}, tail_out);
  ASSERT_TRUE(WaitFor([&] { return ReadText(tail_out).find("n=") != std::string::npos; }, Millis(5000)));

  d.Kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // "quitter" exits while the daemon is away
  EXPECT_TRUE(ProcessAlive(pid)) << "a service keeps running without its daemon";
  EXPECT_TRUE(ProcessAlive(monitor));

  d.Start();
  EXPECT_EQ(ReadText(d.state_dir() + "/client.json"), url_before) << "same router address after the restart";
  auto info = d.Inspect("counter");
  ASSERT_TRUE(info.is_object()) << d.Spawnctl({"inspect", "-n", "counter"}).err << d.DaemonLog();
  EXPECT_EQ(info["state"], "running");
  EXPECT_EQ(info["pid"].get<int>(), pid) << "re-adopted, not restarted";
  EXPECT_EQ(info["restarts"], 0);
  bool adopted = false;
  for (auto& e : info["events"]) adopted = adopted || e["kind"] == "adopted";
  EXPECT_TRUE(adopted) << info.dump(2);

  ASSERT_TRUE(WaitFor([&] { return d.Inspect("quitter")["restarts"].get<int>() >= 1; }, Millis(10000)))
      << "an exit during the outage is handled by autoRestart: " << d.Inspect("quitter").dump(2);
  EXPECT_EQ(d.Inspect("quitter")["lastExit"]["code"], 7);

  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::kill(tail, SIGINT);
  ::waitpid(tail, nullptr, 0);
  // Every line the service wrote, from the first one the tail saw to the last, reached the tail.
  std::istringstream in(ReadText(tail_out));
  std::string line;
  std::set<int> seen;
  while (std::getline(in, line))
    if (line.rfind("n=", 0) == 0) seen.insert(std::stoi(line.substr(2)));
  ASSERT_GT(seen.size(), 50u) << ReadText(tail_out);
  int lo = *seen.begin(), hi = *seen.rbegin();
  std::vector<int> missing;
  for (int i = lo; i <= hi; ++i)
    if (!seen.count(i)) missing.push_back(i);
  EXPECT_TRUE(missing.empty()) << missing.size() << " lines lost, first " << missing.front() << " of " << lo << ".."
                               << hi;
}

TEST(Readopt, RouterIsRestartedWhenItDies) {
  TestDaemon d;
  d.Start();
  std::string pid = ReadText(d.state_dir() + "/router/nats-server.pid");
  ASSERT_FALSE(pid.empty());
  ::kill(std::atoi(pid.c_str()), SIGKILL);
  ASSERT_TRUE(WaitFor([&] {
    std::string now = ReadText(d.state_dir() + "/router/nats-server.pid");
    return !now.empty() && now != pid && ProcessAlive(std::atoi(now.c_str()));
  }, Millis(10000))) << d.DaemonLog();
  EXPECT_TRUE(WaitFor([&] { return d.Scan().is_object(); }, Millis(10000))) << "spawnctl works again";
}

}  // namespace
}  // namespace sp::test
