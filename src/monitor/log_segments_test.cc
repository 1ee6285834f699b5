// Tests of log segment files: numbering, appending across restarts, rotation and pruning.
#include "monitor/log_segments.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "util/fs.h"

namespace sp {
namespace {

class LogSegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sp-logseg-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/logs";
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_.substr(0, dir_.rfind('/'))).ok()); }
  std::string dir_;
};

TEST_F(LogSegmentsTest, StartsAtZeroAndAppendsToTheHighestAfterRestart) {
  {
    auto segs = LogSegments::Open(dir_, 1000, 5);
    ASSERT_TRUE(segs) << segs.error().ToString();
    EXPECT_EQ(segs->current_number(), 0u);
    ASSERT_TRUE(segs->Append("first\n").ok());
  }
  ASSERT_TRUE(WriteFileAtomic(SegmentPath(dir_, 7), "seven\n").ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "notes.txt"), "ignored").ok());
  auto segs = LogSegments::Open(dir_, 1000, 5);
  ASSERT_TRUE(segs);
  EXPECT_EQ(segs->current_number(), 7u);
  ASSERT_TRUE(segs->Append("more\n").ok());
  EXPECT_EQ(*ReadFile(SegmentPath(dir_, 7)), "seven\nmore\n");
  EXPECT_EQ(*ReadFile(SegmentPath(dir_, 0)), "first\n");
  EXPECT_EQ(SegmentPath("/x", 12), "/x/00000012.log");
  EXPECT_EQ(*ListSegments(dir_), (std::vector<uint32_t>{0, 7}));
}

TEST_F(LogSegmentsTest, RotatesBeforeExceedingAndKeepsMaxFiles) {
  auto segs = LogSegments::Open(dir_, 20, 3);
  ASSERT_TRUE(segs);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(segs->Append("record-" + std::to_string(i) + "\n").ok());  // 9 bytes each
  // Two records per 20-byte segment: 00..04, of which the last three remain.
  EXPECT_EQ(*ListSegments(dir_), (std::vector<uint32_t>{2, 3, 4}));
  EXPECT_EQ(*ReadFile(SegmentPath(dir_, 2)), "record-4\nrecord-5\n");
  EXPECT_EQ(*ReadFile(SegmentPath(dir_, 4)), "record-8\nrecord-9\n");
  // A record larger than the maximum gets a segment of its own rather than being cut.
  std::string big(50, 'b');
  ASSERT_TRUE(segs->Append(big + "\n").ok());
  ASSERT_TRUE(segs->Append("after\n").ok());
  EXPECT_EQ(*ReadFile(SegmentPath(dir_, 5)), big + "\n");
  EXPECT_EQ(*ReadFile(SegmentPath(dir_, 6)), "after\n");
  EXPECT_EQ(*ListSegments(dir_), (std::vector<uint32_t>{4, 5, 6}));
}

TEST_F(LogSegmentsTest, PrunesOnOpenWhenTheLimitShrank) {
  ASSERT_TRUE(MakeDirs(dir_).ok());
  for (uint32_t n : {1, 2, 3, 4}) ASSERT_TRUE(WriteFileAtomic(SegmentPath(dir_, n), "x\n").ok());
  auto segs = LogSegments::Open(dir_, 100, 2);
  ASSERT_TRUE(segs);
  EXPECT_EQ(*ListSegments(dir_), (std::vector<uint32_t>{3, 4}));
}

}  // namespace
}  // namespace sp
