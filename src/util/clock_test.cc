#include "util/clock.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

TEST(Clock, Rfc3339Millis) {
  EXPECT_EQ(Rfc3339Millis(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(Rfc3339Millis(1'700'000'000'005), "2023-11-14T22:13:20.005Z");
  EXPECT_EQ(Rfc3339Millis(0), "");
  EXPECT_GT(WallClockMs(), 1'700'000'000'000);
}

}  // namespace
}  // namespace sp
