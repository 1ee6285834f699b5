// Tests of splitting a byte stream into full and partial log lines.
#include "monitor/line_splitter.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace sp {
namespace {

using Lines = std::vector<std::pair<std::string, bool>>;

struct Collector {
  Lines lines;
  LineSplitter::Emit emit() {
    return [this](std::string_view t, bool p) { lines.emplace_back(std::string(t), p); };
  }
};

TEST(LineSplitter, SplitsAcrossChunks) {
  LineSplitter s(16);
  Collector c;
  s.Feed("one\ntw", c.emit());
  s.Feed("o\n\nthr", c.emit());
  s.Feed("ee", c.emit());
  EXPECT_EQ(c.lines, (Lines{{"one", false}, {"two", false}, {"", false}}));
  s.Finish(c.emit());  // end of stream without a newline
  EXPECT_EQ(c.lines.back(), (std::pair<std::string, bool>{"three", true}));
  s.Finish(c.emit());  // nothing left
  EXPECT_EQ(c.lines.size(), 4u);
}

TEST(LineSplitter, LongLinesBecomePartialPieces) {
  LineSplitter s(4);
  Collector c;
  s.Feed("abcd\n", c.emit());  // exactly the maximum: still one full line
  s.Feed("abcdefghij\n", c.emit());
  s.Feed("ab", c.emit());
  s.Feed("cdef", c.emit());
  EXPECT_EQ(c.lines, (Lines{{"abcd", false}, {"abcd", true}, {"efgh", true}, {"ij", false}, {"abcd", true}}));
  s.Finish(c.emit());
  EXPECT_EQ(c.lines.back(), (std::pair<std::string, bool>{"ef", true}));
}

TEST(LineSplitter, DefaultMaximumIs16KiB) {
  LineSplitter s;
  Collector c;
  s.Feed(std::string(40000, 'x') + "\n", c.emit());
  ASSERT_EQ(c.lines.size(), 3u);
  EXPECT_EQ(c.lines[0].first.size(), 16384u);
  EXPECT_TRUE(c.lines[0].second);
  EXPECT_TRUE(c.lines[1].second);
  EXPECT_EQ(c.lines[2].first.size(), 40000u - 2 * 16384u);
  EXPECT_FALSE(c.lines[2].second);
}

}  // namespace
}  // namespace sp
