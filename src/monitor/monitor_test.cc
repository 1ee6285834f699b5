// End-to-end tests of spawn-monitor with real runc containers and real cgroups, launched the way
// spawnd launches them (LaunchMonitor).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "monitor/launcher.h"
#include "monitor/log_segments.h"
#include "monitor/monitor_fixture_test.h"
#include "runtime/cgroups.h"
#include "util/fs.h"

namespace sp {
namespace {

using Monitor = testing::MonitorFixture;
using testing::ParentOf;
using testing::ProcessGone;

std::string Texts(const std::vector<CriRecord>& recs) {
  std::string out;
  for (const auto& r : recs)
    out += std::string(LogStreamName(r.stream)) + (r.partial ? " P " : " F ") + r.text + "\n";
  return out;
}

// Polls until the runtime reports the container running.
void WaitRunning(const OciRuntime& rt, const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto st = rt.State(id);
    if (st && st->status == "running") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "container " << id << " not running";
}

TEST_F(Monitor, LogsBothStreamsAndRecordsTheExitCode) {
  auto svc = Prepare("echo", {"/bin/sh", "-c", "echo hi; echo err >&2; exit 3"});
  auto launched = Launch(svc);
  ASSERT_TRUE(launched) << launched.error().ToString();
  EXPECT_GT(launched->container_pid, 0);
  ExitRecord exit = WaitForExit(svc, launched->monitor_pid);
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_FALSE(exit.oom_killed);
  EXPECT_TRUE(exit.error.empty());
  EXPECT_FALSE(exit.started_at.empty());
  EXPECT_GE(exit.finished_at, exit.started_at);

  auto recs = ReadLog(svc);
  std::string stdout_lines, stderr_lines;
  for (const auto& r : recs) (r.stream == LogStream::kStdout ? stdout_lines : stderr_lines) += r.text + "\n";
  EXPECT_EQ(stdout_lines, "hi\n");
  EXPECT_EQ(stderr_lines, "err\n");
  for (const auto& r : recs) EXPECT_FALSE(r.partial);
  EXPECT_EQ(*ListSegments(svc.params.log_dir), std::vector<uint32_t>{0});
  // Raw format: "<time> stdout F hi".
  std::string raw = *ReadFile(SegmentPath(svc.params.log_dir, 0));
  EXPECT_NE(raw.find("Z stdout F hi\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Z stderr F err\n"), std::string::npos) << raw;

  // The monitor deleted the container and wrote its pid file.
  EXPECT_EQ(Runtime().State(svc.spec.id).error().code(), Code::kNotFound);
  EXPECT_EQ(*ReadFile(JoinPath(svc.dir, "monitor.pid")), std::to_string(launched->monitor_pid) + "\n");
}

TEST_F(Monitor, RunsUnderCrun) {
  auto svc = Prepare("crun", {"/bin/sh", "-c", "echo from-crun; exit 4"});
  svc.params.runtime_binary = "crun";
  svc.params.runtime_root = RuntimeRoot("crun");
  Rewrite(svc);
  auto launched = Launch(svc);
  ASSERT_TRUE(launched) << launched.error().ToString();
  EXPECT_EQ(WaitForExit(svc, launched->monitor_pid).exit_code, 4);
  EXPECT_EQ(Texts(ReadLog(svc)), "stdout F from-crun\n");
  EXPECT_EQ(Runtime("crun").State(svc.spec.id).error().code(), Code::kNotFound);
}

TEST_F(Monitor, RestartAppendsToTheSameLogAndPartialLines) {
  auto svc = Prepare("again", {"/bin/sh", "-c", "echo first"});
  auto first = Launch(svc);
  ASSERT_TRUE(first) << first.error().ToString();
  WaitForExit(svc, first->monitor_pid);
  ASSERT_TRUE(RemoveAll(svc.params.exit_file).ok());
  svc.spec.args = {"/bin/sh", "-c", "echo second; printf 'no newline'"};
  Rewrite(svc);
  auto second = Launch(svc);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(WaitForExit(svc, second->monitor_pid).exit_code, 0);
  EXPECT_EQ(Texts(ReadLog(svc)), "stdout F first\nstdout F second\nstdout P no newline\n");
  EXPECT_EQ(*ListSegments(svc.params.log_dir), std::vector<uint32_t>{0});
}

TEST_F(Monitor, MemoryHogIsOomKilled) {
  auto svc = Prepare("hog", {"/bin/sh", "-c", "x=a; while :; do x=$x$x; done"});
  svc.spec.memory_bytes = 16 << 20;
  Rewrite(svc);
  auto launched = Launch(svc);
  ASSERT_TRUE(launched) << launched.error().ToString();
  ExitRecord exit = WaitForExit(svc, launched->monitor_pid);
  EXPECT_TRUE(exit.oom_killed);
  EXPECT_EQ(exit.exit_code, 137);
  EXPECT_EQ(exit.signal, SIGKILL);
}

TEST_F(Monitor, LimitsReachTheCgroupAndSigkillIsRecorded) {
  auto svc = Prepare("limits", {"/bin/sleep", "1000"});
  svc.spec.cpu_shares = 256;
  svc.spec.memory_bytes = 48 << 20;
  svc.spec.pids_limit = 64;
  Rewrite(svc);
  auto launched = Launch(svc);
  ASSERT_TRUE(launched) << launched.error().ToString();
  auto limits = ReadCgroupLimits(svc.spec.cgroups_path);
  ASSERT_TRUE(limits) << limits.error().ToString();
  EXPECT_EQ(limits->cpu_shares, 256);
  EXPECT_EQ(limits->memory_limit_bytes, 48 << 20);
  EXPECT_EQ(limits->pids_max, 64);
  // The monitor is the container's parent (subreaper) but not ours.
  EXPECT_EQ(ParentOf(launched->container_pid), launched->monitor_pid);
  EXPECT_NE(ParentOf(launched->monitor_pid), ::getpid());

  ASSERT_TRUE(Runtime().Kill(svc.spec.id, SIGKILL).ok());
  ExitRecord exit = WaitForExit(svc, launched->monitor_pid);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.exit_code, 137);
  EXPECT_FALSE(exit.oom_killed);
  EXPECT_FALSE(PathExists(*CgroupDir("memory", svc.spec.cgroups_path)));  // deleted with the container
}

// The init of a pid namespace only receives SIGTERM if it handles it; this one does, like a
// well-behaved service, and exits 143.
TEST_F(Monitor, SigtermThroughTheRuntimeEndsAHandlingInit) {
  auto svc = Prepare(
      "term", {"/bin/sh", "-c", "trap 'echo bye; exit 143' TERM; echo up; while :; do sleep 0.05; done"});
  auto launched = Launch(svc);
  ASSERT_TRUE(launched) << launched.error().ToString();
  OciRuntime rt = Runtime();
  WaitRunning(rt, svc.spec.id);
  // Wait for "up" so the trap is installed before the signal is sent.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Texts(ReadLog(svc)).find("up") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(rt.Kill(svc.spec.id, SIGTERM).ok());
  ExitRecord exit = WaitForExit(svc, launched->monitor_pid);
  EXPECT_EQ(exit.exit_code, 143);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_EQ(Texts(ReadLog(svc)), "stdout F up\nstdout F bye\n");
}

TEST_F(Monitor, ForwardsSigtermToTheContainer) {
  auto svc = Prepare("fwd", {"/bin/sh", "-c", "trap 'exit 7' TERM; echo up; while :; do sleep 0.05; done"});
  auto launched = Launch(svc);
  ASSERT_TRUE(launched) << launched.error().ToString();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Texts(ReadLog(svc)).find("up") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(::kill(launched->monitor_pid, SIGTERM), 0);
  EXPECT_EQ(WaitForExit(svc, launched->monitor_pid).exit_code, 7);
}

TEST_F(Monitor, RotatesLogsWithoutLosingLines) {
  constexpr int kLines = 3000;
  auto svc = Prepare(
      "rotate", {"/bin/sh", "-c",
                 "i=0; while [ $i -lt " + std::to_string(kLines) + " ]; do echo line-$i; i=$((i+1)); done"});
  svc.params.log_max_bytes = 4096;
  svc.params.log_max_files = 3;
  Rewrite(svc);
  auto launched = Launch(svc);
  ASSERT_TRUE(launched) << launched.error().ToString();
  EXPECT_EQ(WaitForExit(svc, launched->monitor_pid).exit_code, 0);

  auto numbers = *ListSegments(svc.params.log_dir);
  ASSERT_EQ(numbers.size(), 3u);
  EXPECT_GT(numbers.front(), 10u);  // ~50 bytes a record: dozens of segments were written
  for (size_t i = 1; i < numbers.size(); ++i) EXPECT_EQ(numbers[i], numbers[i - 1] + 1);
  for (uint32_t n : numbers) EXPECT_LE(ReadFile(SegmentPath(svc.params.log_dir, n))->size(), 4096u);
  auto recs = ReadLog(svc);
  ASSERT_FALSE(recs.empty());
  int first = std::stoi(recs.front().text.substr(5));
  for (size_t i = 0; i < recs.size(); ++i)
    ASSERT_EQ(recs[i].text, "line-" + std::to_string(first + static_cast<int>(i)));
  EXPECT_EQ(recs.back().text, "line-" + std::to_string(kLines - 1));
}

TEST_F(Monitor, SurvivesTheDeathOfItsLauncher) {
  auto svc = Prepare("orphan", {"/bin/sh", "-c", "sleep 0.5; echo late"});
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t launcher = ::fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    auto r = LaunchMonitor(monitor_binary_, svc.params_file, Millis(20000));
    LaunchResult res = r ? *r : LaunchResult{};
    (void)!::write(p[1], &res, sizeof res);
    ::_exit(r ? 0 : 1);
  }
  ::close(p[1]);
  LaunchResult res;
  ASSERT_EQ(::read(p[0], &res, sizeof res), static_cast<ssize_t>(sizeof res));
  ::close(p[0]);
  if (res.monitor_pid > 0) monitors_.push_back(res.monitor_pid);
  int status = 0;
  ASSERT_EQ(::waitpid(launcher, &status, 0), launcher);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The launcher is gone; the monitor is not its child, nor ours, and carries on.
  ASSERT_GT(res.monitor_pid, 0);
  EXPECT_FALSE(ProcessGone(res.monitor_pid));
  EXPECT_NE(ParentOf(res.monitor_pid), ::getpid());
  EXPECT_NE(ParentOf(res.monitor_pid), launcher);
  EXPECT_EQ(WaitForExit(svc, res.monitor_pid).exit_code, 0);
  EXPECT_EQ(Texts(ReadLog(svc)), "stdout F late\n");
}

TEST_F(Monitor, InheritsOnlyTheReadinessPipe) {
  std::string marker = JoinPath(tmp_, "marker");
  int leaked = ::open(marker.c_str(), O_WRONLY | O_CREAT, 0600);  // deliberately not O_CLOEXEC
  ASSERT_GE(leaked, 0);
  auto svc = Prepare("fds", {"/bin/sleep", "1000"});
  auto launched = Launch(svc);
  ::close(leaked);
  ASSERT_TRUE(launched) << launched.error().ToString();
  auto fds = ListDir("/proc/" + std::to_string(launched->monitor_pid) + "/fd");
  ASSERT_TRUE(fds);
  for (const auto& fd : *fds) {
    char target[4096];
    ssize_t n = ::readlink(("/proc/" + std::to_string(launched->monitor_pid) + "/fd/" + fd).c_str(), target,
                           sizeof target - 1);
    if (n <= 0) continue;  // closed since it was listed (runc's transient pipes): not the leaked one
    EXPECT_NE(std::string(target, static_cast<size_t>(n)), marker) << "fd " << fd;
  }
  // Right after `start` the init may not have exec'd yet (the runtime's own descriptors are still
  // open); once it has, it holds exactly stdin, stdout and stderr.
  std::string fd_dir = "/proc/" + std::to_string(launched->container_pid) + "/fd";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto container_fds = ListDir(fd_dir);
  while (container_fds && container_fds->size() != 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    container_fds = ListDir(fd_dir);
  }
  ASSERT_TRUE(container_fds);
  EXPECT_EQ(*container_fds, (std::vector<std::string>{"0", "1", "2"}));
  ASSERT_TRUE(Runtime().Kill(svc.spec.id, SIGKILL).ok());
  WaitForExit(svc, launched->monitor_pid);
}

TEST_F(Monitor, ReportsCreateFailures) {
  auto svc = Prepare("broken", {"/no/such/program"});
  auto launched = Launch(svc);
  ASSERT_FALSE(launched);
  EXPECT_NE(launched.error().message().find("/no/such/program"), std::string::npos)
      << launched.error().message();
  auto exit = ReadExitRecord(svc.params.exit_file);
  ASSERT_TRUE(exit) << exit.error().ToString();
  EXPECT_NE(exit->error.find("/no/such/program"), std::string::npos);
  EXPECT_EQ(exit->exit_code, -1);
  EXPECT_EQ(Runtime().State(svc.spec.id).error().code(), Code::kNotFound);
  // The monitor exits after cleaning up.
  auto pid = std::stoi(*ReadFile(JoinPath(svc.dir, "monitor.pid")));
  monitors_.push_back(pid);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ProcessGone(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(Monitor, LauncherErrors) {
  auto svc = Prepare("never", {"/bin/true"});
  auto r = LaunchMonitor("/bin/true", svc.params_file, Millis(5000));  // exits without a word
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("monitor.log"), std::string::npos);
  EXPECT_EQ(LaunchMonitor("/no/such/monitor", svc.params_file, Millis(1000)).error().code(), Code::kNotFound);
  // A binary that neither detaches nor exits: the launch gives up at its deadline, and kills it.
  std::string hang = JoinPath(tmp_, "hang.sh");
  ASSERT_TRUE(WriteFileAtomic(hang, "#!/bin/sh\nexec sleep 60\n", 0755).ok());
  r = LaunchMonitor(hang, svc.params_file, Millis(300));  // were it not bounded: 60 s, then Unavailable
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded) << r.error().ToString();
  EXPECT_FALSE(LaunchMonitor(monitor_binary_, JoinPath(tmp_, "missing.json"), Millis(1000)));
  // Broken params: the monitor itself reports the problem.
  std::string bad = JoinPath(tmp_, "bad.json");
  ASSERT_TRUE(WriteFileAtomic(bad, "{\"id\": 5}").ok());
  r = LaunchMonitor(monitor_binary_, bad, Millis(5000));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("id"), std::string::npos) << r.error().message();
}

TEST_F(Monitor, SetupFailuresAreReportedAndRecorded) {
  auto svc = Prepare("setup", {"/bin/true"});
  svc.params.runtime_binary = "no-such-runtime-xyz";
  Rewrite(svc);
  auto r = Launch(svc);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("no-such-runtime-xyz"), std::string::npos) << r.error().message();
  auto exit = ReadExitRecord(svc.params.exit_file);
  ASSERT_TRUE(exit) << exit.error().ToString();
  EXPECT_NE(exit->error.find("no-such-runtime-xyz"), std::string::npos);

  svc.params.runtime_binary = "runc";
  svc.params.log_dir = JoinPath(svc.params_file, "logs");  // below a regular file
  Rewrite(svc);
  r = Launch(svc);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("log directory"), std::string::npos) << r.error().message();
  EXPECT_EQ(Runtime().State(svc.spec.id).error().code(), Code::kNotFound);  // nothing was created
}

}  // namespace
}  // namespace sp
