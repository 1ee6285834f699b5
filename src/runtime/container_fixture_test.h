// Test fixture for tests that run real containers: a temporary directory, a private runtime root
// and a cgroup parent "/spawnpoint-test/<random>", all removed in TearDown even when a test failed
// (containers are force-deleted first, then their cgroups). Single-threaded use only.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "runtime/bundle.h"
#include "runtime/oci_runtime.h"
#include "util/subprocess.h"

namespace sp::testing {

class ContainerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A spec for container `name` on the `image: host` root prepared under tmp/services/<name>, with
  // the fixture's cgroup parent. The id is made unique to this fixture.
  ContainerSpec HostSpec(const std::string& name, std::vector<std::string> args);
  std::string BundleDir(const std::string& name) const;
  // Writes the bundle and runs the container to completion with `runc run` (stdio captured).
  CommandResult RunToCompletion(const ContainerSpec& spec);
  // Writes the bundle and `create`s the container (stdio /dev/null). Registers it for cleanup.
  void Create(const OciRuntime& rt, const ContainerSpec& spec);

  std::string tmp_;           // temporary directory
  std::string runtime_root_;  // --root for runc; crun uses runtime_root_ + "-crun"
  std::string cgroup_parent_;
  std::vector<std::pair<OciRuntime, std::string>> created_;  // containers to delete in TearDown
  std::vector<std::string> cgroups_;                         // cgroups to remove in TearDown
};

}  // namespace sp::testing
