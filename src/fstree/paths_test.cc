// Tests of the lexical path rules (moved here with the code from archive/archive_rules_test.cc).
#include "fstree/paths.h"

#include <gtest/gtest.h>

namespace sp::fstree {
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

TEST(SplitComponentsTest, KeepsEmptyComponents) {
  using Views = std::vector<std::string_view>;
  EXPECT_EQ(SplitComponents("a//b/"), (Views{"a", "", "b", ""}));
  EXPECT_EQ(SplitComponents(""), (Views{""}));
  EXPECT_EQ(SplitComponents("/x"), (Views{"", "x"}));
}

TEST(JoinPartsTest, JoinsTheFirstComponents) {
  Parts parts{"a", "b", "c"};
  EXPECT_EQ(JoinParts(parts, 2), "a/b");
  EXPECT_EQ(JoinParts(parts, 3), "a/b/c");
  EXPECT_EQ(JoinParts(parts, 9), "a/b/c");
  EXPECT_EQ(JoinParts(parts, 0), "");
}

}  // namespace
}  // namespace sp::fstree
