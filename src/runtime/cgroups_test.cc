// Tests of cgroup mount parsing and mode detection; reading a live container's cgroup is covered
// in oci_runtime_test.cc and the monitor tests.
#include "runtime/cgroups.h"

#include <gtest/gtest.h>

namespace sp {
namespace {

constexpr const char* kHybridSplitCpu =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 20 8:1 / /my\\040dir rw - ext4 /dev/sda1 rw\n"
    "garbage line\n";

TEST(Cgroups, ParsesV1ControllersAndCgroup2) {
  auto mounts = ParseCgroupMounts(kHybridSplitCpu);
  ASSERT_EQ(mounts.size(), 5u);
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(mounts[0].controllers, std::vector<std::string>{"cpu"});
  EXPECT_FALSE(mounts[0].v2);
  EXPECT_EQ(mounts[3].controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_TRUE(mounts[4].v2);
  EXPECT_EQ(mounts[4].mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(CgroupModeOf(mounts), CgroupMode::kHybrid);
}

TEST(Cgroups, ParsesCombinedCpuMountAndEscapes) {
  auto mounts = ParseCgroupMounts(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "33 31 0:30 / /weird\\040place rw - cgroup cgroup rw,pids\n");
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(mounts[1].mount_point, "/weird place");
  EXPECT_EQ(CgroupModeOf(mounts), CgroupMode::kV1);
}

TEST(Cgroups, PureV2) {
  auto mounts =
      ParseCgroupMounts("30 23 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(CgroupModeOf(mounts), CgroupMode::kV2);
}

TEST(Cgroups, ThisHostIsHybrid) {
  // FACTS.md: v1 hierarchies plus /sys/fs/cgroup/unified.
  EXPECT_EQ(DetectCgroupMode(), CgroupMode::kHybrid);
  auto dir = CgroupDir("memory", "/spawnpoint/x/svc");
  ASSERT_TRUE(dir) << dir.error().ToString();
  EXPECT_EQ(*dir, "/sys/fs/cgroup/memory/spawnpoint/x/svc");
  auto cpuacct = CgroupDir("cpuacct", "/a");
  ASSERT_TRUE(cpuacct);
  EXPECT_EQ(cpuacct->substr(cpuacct->size() - 2), "/a");
}

TEST(Cgroups, RejectsEscapingPaths) {
  EXPECT_EQ(CgroupDir("memory", "relative").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(CgroupDir("memory", "/a/../../etc").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveCgroup("/").code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveCgroup("/x/..").code(), Code::kInvalidArgument);
  EXPECT_EQ(CgroupDir("no-such-controller", "/a").error().code(), Code::kFailedPrecondition);
}

TEST(Cgroups, MissingCgroupIsAnError) {
  auto u = ReadCgroupUsage("/spawnpoint-test/does-not-exist-xyz");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message().find("does-not-exist-xyz"), std::string::npos);
  EXPECT_FALSE(ReadOomKillCount("/spawnpoint-test/does-not-exist-xyz"));
  EXPECT_TRUE(RemoveCgroup("/spawnpoint-test/does-not-exist-xyz").ok());  // nothing to remove
}

}  // namespace
}  // namespace sp
