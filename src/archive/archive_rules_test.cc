// Tests of the shared mode and naming rules of include archives (the path and symlink rules
// moved to fstree/paths_test.cc with their code).
#include "archive/archive_rules.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace sp::archive_internal {
namespace {

TEST(RulesTest, BaseNameModesAndNames) {
  EXPECT_EQ(BaseName("a/b/"), "b");
  EXPECT_EQ(BaseName("file"), "file");
  EXPECT_EQ(BaseName("/"), "");
  EXPECT_EQ(NormalizedMode(04711, false), 0755u);
  EXPECT_EQ(NormalizedMode(0600, false), 0644u);
  EXPECT_EQ(NormalizedMode(0700, true), 0755u);
  EXPECT_EQ(DescribeBytes(1u << 20), "1.0 MiB (1048576 bytes)");
}

}  // namespace
}  // namespace sp::archive_internal
