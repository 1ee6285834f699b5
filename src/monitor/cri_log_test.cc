// Tests of the CRI log record format.
#include "monitor/cri_log.h"

#include <gtest/gtest.h>

#include <regex>

namespace sp {
namespace {

TEST(CriLog, FormatsTimeWithNineDigits) {
  struct timespec ts = {0, 5};
  EXPECT_EQ(FormatCriTime(ts), "1970-01-01T00:00:00.000000005Z");
  ts = {1795000000, 123456789};
  EXPECT_EQ(FormatCriTime(ts), "2026-11-18T11:06:40.123456789Z");
  EXPECT_TRUE(std::regex_match(CriTimeNow(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")));
}

TEST(CriLog, FormatsAndParsesRecords) {
  std::string rec = FormatCriRecord("2026-11-23T11:24:00.000000001Z", LogStream::kStderr, true, "a b  c");
  EXPECT_EQ(rec, "2026-11-23T11:24:00.000000001Z stderr P a b  c\n");
  auto r = ParseCriRecord(rec);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->time, "2026-11-23T11:24:00.000000001Z");
  EXPECT_EQ(r->stream, LogStream::kStderr);
  EXPECT_TRUE(r->partial);
  EXPECT_EQ(r->text, "a b  c");

  auto empty = ParseCriRecord(FormatCriRecord("2026-11-23T11:24:00Z", LogStream::kStdout, false, ""));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
  EXPECT_FALSE(empty->partial);
  EXPECT_EQ(empty->stream, LogStream::kStdout);
}

TEST(CriLog, RejectsOtherLines) {
  for (const char* bad : {"", "hello", "2026-11-23T11:24:00Z stdout", "2026-11-23T11:24:00Z stdin F x",
                          "2026-11-23T11:24:00Z stdout X x", "2026-11-23 stdout F x",
                          "2026-11-23T11:24:00Z stdout Fx", "2026-11-23T11:24:00.Z stdout F x"}) {
    EXPECT_FALSE(ParseCriRecord(bad)) << bad;
  }
}

}  // namespace
}  // namespace sp
