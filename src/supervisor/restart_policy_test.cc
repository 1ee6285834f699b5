#include "supervisor/restart_policy.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

RestartPolicy Policy() {
  RestartPolicy p;
  p.initial_delay = Millis(1000);
  p.max_delay = Millis(60000);
  p.stable_after = Millis(30000);
  return p;
}

TEST(RestartPolicy, StableRunResetsFailures) {
  EXPECT_EQ(NextFastFailures(Policy(), 7, Millis(30000)), 0);
  EXPECT_EQ(NextFastFailures(Policy(), 7, Millis(29999)), 8);
  EXPECT_EQ(NextFastFailures(Policy(), 0, Millis(5)), 1);
}

TEST(RestartPolicy, FirstCrashRestartsAtOnce) {
  EXPECT_EQ(RestartDelay(Policy(), 0, 0.5), Millis(0));
  EXPECT_EQ(RestartDelay(Policy(), 1, 0.5), Millis(0));
}

TEST(RestartPolicy, BacksOffExponentiallyWithCap) {
  // jitter_unit 0.5 -> factor 1.0 exactly
  EXPECT_EQ(RestartDelay(Policy(), 2, 0.5), Millis(1000));
  EXPECT_EQ(RestartDelay(Policy(), 3, 0.5), Millis(2000));
  EXPECT_EQ(RestartDelay(Policy(), 4, 0.5), Millis(4000));
  EXPECT_EQ(RestartDelay(Policy(), 8, 0.5), Millis(60000));
  EXPECT_EQ(RestartDelay(Policy(), 1000, 0.5), Millis(60000));
}

TEST(RestartPolicy, JitterStaysWithinTwentyPercentAndCap) {
  EXPECT_EQ(RestartDelay(Policy(), 3, 0.0), Millis(1600));
  EXPECT_EQ(RestartDelay(Policy(), 3, 0.999999), Millis(2399));
  EXPECT_LE(RestartDelay(Policy(), 20, 0.99), Millis(60000));
}

}  // namespace
}  // namespace sp
