// Test fixture for running real containers under spawn-monitor: a temporary state directory, a
// private runc root, a cgroup parent "/spawnpoint-test/<random>", and cleanup in TearDown that
// holds even when a test failed: monitors still alive are killed by pid, containers force-deleted,
// cgroups and the directory removed. The spawn-monitor binary is found next to the test binary.
// Single-threaded use only.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "monitor/cri_log.h"
#include "monitor/launcher.h"
#include "runtime/bundle.h"
#include "runtime/oci_runtime.h"

namespace sp::testing {

struct TestService {
  std::string name, dir, params_file;
  ContainerSpec spec;
  MonitorParams params;
};

class MonitorFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Prepares the `image: host` root, the bundle and monitor.json for `name` running `args`. To
  // change the spec or the params, edit svc.spec / svc.params and call Rewrite.
  TestService Prepare(const std::string& name, std::vector<std::string> args);
  // Rewrites the bundle and monitor.json after the caller changed svc.spec / svc.params.
  void Rewrite(const TestService& svc);
  Result<LaunchResult> Launch(const TestService& svc);
  // Polls for exit.json, then for the monitor to be gone.
  ExitRecord WaitForExit(const TestService& svc, pid_t monitor_pid);
  // Every record of every segment of the service, in order; fails the test on a malformed line.
  std::vector<CriRecord> ReadLog(const TestService& svc);
  // The runtime driver the fixture uses for `binary` ("runc" or "crun"), each with its own root.
  OciRuntime Runtime(const std::string& binary = "runc") const;
  std::string RuntimeRoot(const std::string& binary) const;

  std::string tmp_, runtime_root_, cgroup_parent_, monitor_binary_;
  std::vector<std::string> ids_, cgroups_;
  std::vector<pid_t> monitors_;
};

// True when `pid` no longer exists or is a zombie.
bool ProcessGone(pid_t pid);
// Parent pid from /proc/<pid>/stat; 0 if unknown.
pid_t ParentOf(pid_t pid);

}  // namespace sp::testing
