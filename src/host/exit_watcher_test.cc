// ExitWatcher with real processes: children that exit later, a process that is
// already gone, and no report after Stop.
#include "host/exit_watcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

namespace sp {
namespace {

struct Reports {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, int64_t>> got;
  ExitWatcher::Sink Sink() {
    return [this](const std::string& name, int64_t pid) {
      std::lock_guard<std::mutex> lock(mu);
      got.emplace_back(name, pid);
      cv.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds within = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, within, [&] { return got.size() >= n; });
  }
};

pid_t SleepingChild() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  return pid;
}

TEST(ExitWatcher, ReportsEachExitOnceWithItsName) {
  auto w = ExitWatcher::Start();
  ASSERT_TRUE(w);
  Reports r;
  pid_t a = SleepingChild(), b = SleepingChild();
  (*w)->Watch("a", a, r.Sink());
  (*w)->Watch("b", b, r.Sink());
  ::kill(b, SIGKILL);
  ::waitpid(b, nullptr, 0);
  ASSERT_TRUE(r.WaitFor(1));
  EXPECT_EQ(r.got[0], std::make_pair(std::string("b"), int64_t{b}));
  ::kill(a, SIGKILL);
  ::waitpid(a, nullptr, 0);
  ASSERT_TRUE(r.WaitFor(2));
  EXPECT_EQ(r.got[1].first, "a");
  EXPECT_EQ(r.got.size(), 2u);
}

TEST(ExitWatcher, AProcessAlreadyGoneIsReportedFromTheWatcherThread) {
  auto w = ExitWatcher::Start();
  ASSERT_TRUE(w);
  Reports r;
  pid_t gone = SleepingChild();
  ::kill(gone, SIGKILL);
  ::waitpid(gone, nullptr, 0);  // reaped: the pid no longer exists
  (*w)->Watch("gone", gone, r.Sink());
  ASSERT_TRUE(r.WaitFor(1));
  EXPECT_EQ(r.got[0].first, "gone");
}

TEST(ExitWatcher, NothingIsReportedAfterStop) {
  auto w = ExitWatcher::Start();
  ASSERT_TRUE(w);
  Reports r;
  pid_t a = SleepingChild();
  (*w)->Watch("a", a, r.Sink());
  (*w)->Stop();
  (*w)->Stop();  // idempotent
  ::kill(a, SIGKILL);
  ::waitpid(a, nullptr, 0);
  EXPECT_FALSE(r.WaitFor(1, std::chrono::milliseconds(300)));
}

}  // namespace
}  // namespace sp
