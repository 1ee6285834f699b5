#include "util/duration.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(*ParseDuration("5s"), Millis(5000));
  EXPECT_EQ(*ParseDuration("2m"), Millis(120000));
  EXPECT_EQ(*ParseDuration("250ms"), Millis(250));
  EXPECT_EQ(*ParseDuration("1h30m"), Millis(5400000));
  EXPECT_EQ(*ParseDuration("1.5s"), Millis(1500));
  EXPECT_EQ(*ParseDuration("30d"), Millis(30LL * 86400000));
  EXPECT_EQ(*ParseDuration("7"), Millis(7000));
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "s", "5x", "-5s", "5 s", "1.2.3s", "5s3", "abc", "1e999s"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
}

TEST(Duration, Formats) {
  EXPECT_EQ(FormatDuration(Millis(830)), "830ms");
  EXPECT_EQ(FormatDuration(Millis(20200)), "20.2s");
  EXPECT_EQ(FormatDuration(Millis(49 * 60000 + 9440)), "49m9s");
  EXPECT_EQ(FormatDuration(Millis(3 * 86400000LL + 4 * 3600000)), "3d4h");
}

}  // namespace
}  // namespace sp
