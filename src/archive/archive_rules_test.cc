// Tests of the shared path, symlink and mode rules of include archives.
#include "archive/archive_rules.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace sp::archive_internal {
namespace {

using Parts = std::vector<std::string>;

TEST(SplitEntryPathTest, DropsEmptyAndDotComponents) {
  EXPECT_EQ(*SplitEntryPath("./a//b/./c/"), (Parts{"a", "b", "c"}));
  EXPECT_EQ(*SplitEntryPath("./"), Parts{});
  EXPECT_EQ(*SplitEntryPath("a..b/..c"), (Parts{"a..b", "..c"}));
}

TEST(SplitEntryPathTest, RefusesAbsoluteDotDotAndEmpty) {
  EXPECT_FALSE(SplitEntryPath("/etc/passwd"));
  EXPECT_FALSE(SplitEntryPath(".."));
  EXPECT_FALSE(SplitEntryPath("a/../b"));
  EXPECT_FALSE(SplitEntryPath("a/.."));
  EXPECT_FALSE(SplitEntryPath(""));
}

TEST(SymlinkTargetTest, AllowsTargetsThatStayInside) {
  EXPECT_TRUE(CheckSymlinkTargetLexically({}, "a/b").ok());
  EXPECT_TRUE(CheckSymlinkTargetLexically({"d"}, "..").ok());
  EXPECT_TRUE(CheckSymlinkTargetLexically({"d", "e"}, "../../x").ok());
  EXPECT_TRUE(CheckSymlinkTargetLexically({}, "a/../b").ok());
}

TEST(SymlinkTargetTest, RefusesAbsoluteEmptyAndEscaping) {
  EXPECT_FALSE(CheckSymlinkTargetLexically({"d"}, "/etc").ok());
  EXPECT_FALSE(CheckSymlinkTargetLexically({}, "").ok());
  EXPECT_FALSE(CheckSymlinkTargetLexically({}, "..").ok());
  EXPECT_FALSE(CheckSymlinkTargetLexically({"d"}, "../..").ok());
  EXPECT_FALSE(CheckSymlinkTargetLexically({"d"}, "x/../../../y").ok());
}

TEST(RulesTest, BaseNameModesAndNames) {
  EXPECT_EQ(BaseName("a/b/"), "b");
  EXPECT_EQ(BaseName("file"), "file");
  EXPECT_EQ(BaseName("/"), "");
  EXPECT_EQ(NormalizedMode(04711, false), 0755u);
  EXPECT_EQ(NormalizedMode(0600, false), 0644u);
  EXPECT_EQ(NormalizedMode(0700, true), 0755u);
  EXPECT_EQ(FileTypeName(S_IFIFO), "FIFO");
  EXPECT_EQ(DescribeBytes(1u << 20), "1.0 MiB (1048576 bytes)");
}

}  // namespace
}  // namespace sp::archive_internal
