// Tests for rate-limited progress publishing.
#include "daemon/progress_publisher.h"

#include <gtest/gtest.h>

#include <thread>

namespace sp {
namespace {

struct Sent {
  std::mutex mu;
  std::vector<DeployProgress> msgs;
  void Add(const std::string& payload) {
    auto p = ParseProgress(payload);
    ASSERT_TRUE(p.has_value());
    std::lock_guard<std::mutex> l(mu);
    msgs.push_back(*p);
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return msgs.size();
  }
  DeployProgress last() {
    std::lock_guard<std::mutex> l(mu);
    return msgs.back();
  }
};

DeployProgress Snap(const std::string& phase, int64_t done, const std::string& state = "downloading") {
  return DeployProgress{"web", phase, "img", "", 0, {LayerProgress{"sha256:aa", "layer", 100, done, state}}};
}

TEST(ProgressPublisher, StateChangesGoOutAtOnceByteCountsAreThrottled) {
  Sent sent;
  {
    ProgressPublisher pub([&](const std::string& s) { sent.Add(s); }, Millis(200), Millis(60000));
    pub.Update(Snap("pulling", 0));
    EXPECT_EQ(sent.size(), 1u);
    for (int i = 1; i <= 50; ++i) pub.Update(Snap("pulling", i));
    EXPECT_EQ(sent.size(), 1u);  // byte counts only: held back
    std::this_thread::sleep_for(std::chrono::milliseconds(350));
    ASSERT_EQ(sent.size(), 2u);  // the newest one, once the interval ended
    EXPECT_EQ(sent.last().layers[0].done, 50);
    pub.Update(Snap("pulling", 100, "done"));  // a state change: at once
    EXPECT_EQ(sent.size(), 3u);
    pub.Update(Snap("building", 100, "done"));
    EXPECT_EQ(sent.size(), 4u);
    EXPECT_EQ(sent.last().phase, "building");
  }
  size_t after = sent.size();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sent.size(), after);  // nothing after destruction
}

TEST(ProgressPublisher, QuietDeploysAreKeptAlive) {
  Sent sent;
  ProgressPublisher pub([&](const std::string& s) { sent.Add(s); }, Millis(50), Millis(100));
  pub.Update(Snap("building", 0));
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_GE(sent.size(), 3u);
  EXPECT_EQ(sent.last().phase, "building");
}

TEST(ProgressPublisher, ChangeDetectionIgnoresBytesOnly) {
  EXPECT_FALSE(ProgressChanged(Snap("pulling", 1), Snap("pulling", 2)));
  EXPECT_TRUE(ProgressChanged(Snap("pulling", 1), Snap("pulling", 1, "unpacking")));
  EXPECT_TRUE(ProgressChanged(Snap("pulling", 1), Snap("building", 1)));
}

}  // namespace
}  // namespace sp
