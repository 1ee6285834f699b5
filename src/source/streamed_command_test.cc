// Tests for RunStreamed: line splitting, the kept tail, the exact environment, exit statuses, and
// the process group killed on timeout.
#include "source/streamed_command.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "util/fs.h"

namespace sp {
namespace {

StreamedCommand Shell(const std::string& script, Millis timeout = Millis(20000)) {
  return StreamedCommand{{"/bin/sh", "-c", script}, {"PATH=/usr/bin:/bin"}, timeout};
}

std::vector<std::string> Collect(const StreamedCommand& cmd, StreamedResult* result) {
  std::vector<std::string> lines;
  Result<StreamedResult> r = RunStreamed(cmd, [&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  if (r && result) *result = *r;
  return lines;
}

TEST(RunStreamed, SplitsOnNewlineAndCarriageReturnAndKeepsCompleteLinesInTail) {
  StreamedResult r;
  auto lines =
      Collect(Shell("printf 'err\\n' >&2; printf 'one\\ntwo 10%%\\rtwo 50%%\\rtwo done\\n\\nlast'"), &r);
  EXPECT_EQ(lines, (std::vector<std::string>{"err", "one", "two 10%", "two 50%", "two done", "last"}));
  // '\r'-ended progress is transient; the final unterminated line counts as complete.
  EXPECT_EQ(r.tail, (std::vector<std::string>{"err", "one", "two done", "last"}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.exit_code, 0);
}

TEST(RunStreamed, TailKeepsOnlyTheLastLines) {
  StreamedResult r;
  auto lines = Collect(Shell("i=0; while [ $i -lt 20 ]; do echo line$i; i=$((i+1)); done"), &r);
  ASSERT_EQ(lines.size(), 20u);
  ASSERT_EQ(r.tail.size(), kStreamedTailLines);
  EXPECT_EQ(r.tail.front(), "line12");
  EXPECT_EQ(r.tail.back(), "line19");
}

TEST(RunStreamed, LongLinesArePassedOnInPieces) {
  std::vector<std::string> lines = Collect(Shell("head -c 10000 /dev/zero | tr '\\0' x; echo"), nullptr);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), 4096u);
  EXPECT_EQ(lines[1].size(), 4096u);
  EXPECT_EQ(lines[2].size(), 10000u - 8192u);
}

TEST(RunStreamed, EnvironmentIsExactlyTheOneGiven) {
  StreamedCommand cmd{{"env"}, {"ONLY=this", "PATH=/bin"}, Millis(20000)};
  std::vector<std::string> lines = Collect(cmd, nullptr);
  EXPECT_EQ(lines, (std::vector<std::string>{"ONLY=this", "PATH=/bin"}));
}

TEST(RunStreamed, ReportsExitStatusAndSignal) {
  StreamedResult r;
  Collect(Shell("echo bye; exit 7"), &r);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_FALSE(r.ok());
  Collect(Shell("kill -TERM $$"), &r);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST(RunStreamed, MissingProgramIsAnError) {
  Result<StreamedResult> r = RunStreamed(StreamedCommand{{"/nonexistent/prog"}, {}, Millis(1000)}, nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
}

// True once `pid` is gone or a zombie (a killed orphan may wait a moment for its reaper).
bool Gone(pid_t pid) {
  Result<std::string> stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  size_t paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'Z';
}

bool GoneWithin(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!Gone(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(RunStreamed, TimeoutKillsTheWholeProcessGroup) {
  std::vector<std::string> lines;
  Result<StreamedResult> r = RunStreamed(Shell("sleep 300 & echo child $!; wait", Millis(3000)),
                                         [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->ok());
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].rfind("child ", 0), 0u);
  pid_t child = std::stoi(lines[0].substr(6));
  EXPECT_TRUE(GoneWithin(child, std::chrono::seconds(10))) << "background child " << child << " survived";
}

TEST(RunStreamed, HelperLeftHoldingTheOutputIsStoppedWhenTheProgramExits) {
  std::vector<std::string> lines;
  Result<StreamedResult> r = RunStreamed(Shell("sleep 300 & echo child $!; exit 0", Millis(60000)),
                                         [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_FALSE(r->timed_out);
  EXPECT_TRUE(r->ok());
  ASSERT_EQ(lines.size(), 1u);
  pid_t child = std::stoi(lines[0].substr(6));
  EXPECT_TRUE(GoneWithin(child, std::chrono::seconds(10))) << "background child " << child << " survived";
}

}  // namespace
}  // namespace sp
