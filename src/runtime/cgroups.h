// Reading (and removing) the cgroup of a container, for cgroups v1, hybrid and v2 hosts.
//
// A container's cgroup is named by the `linux.cgroupsPath` of its config.json, an absolute path
// such as "/spawnpoint/<daemon-id>/<service>". On v1 (and hybrid) hosts every controller has its
// own hierarchy, found in /proc/self/mountinfo by the controller name in the mount's super options
// (cpu may be mounted alone or together with cpuacct as "cpu,cpuacct"); the container's directory
// is that mount point joined with the cgroups path. On v2 hosts there is one unified hierarchy and
// the file names differ (cpu.stat, memory.current, memory.events, cpu.weight, memory.max).
//
// Every function reads the mount table afresh, holds no state and is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp {

enum class CgroupMode {
  kV1,      // only v1 hierarchies
  kHybrid,  // v1 hierarchies plus a cgroup2 mount (usually /sys/fs/cgroup/unified) without the controllers
  kV2,      // only the unified hierarchy
};

// One cgroup filesystem mount: where it is and, for v1, which controllers it carries
// ("name=systemd" style named hierarchies keep their "name=" prefix).
struct CgroupMount {
  std::string mount_point;
  bool v2 = false;
  std::vector<std::string> controllers;
};

// Parses mountinfo text (the format of /proc/self/mountinfo) into its cgroup mounts.
std::vector<CgroupMount> ParseCgroupMounts(std::string_view mountinfo);
// The cgroup mounts of this process's mount namespace.
Result<std::vector<CgroupMount>> ReadCgroupMounts();

CgroupMode CgroupModeOf(const std::vector<CgroupMount>& mounts);
// The mode of this host; kV1 when the mount table cannot be read (the conservative answer).
CgroupMode DetectCgroupMode();

// Directory of `cgroups_path` in the hierarchy holding `controller` ("memory", "cpu", "cpuacct",
// "pids"); on v2 hosts the unified directory whatever the controller.
// REQUIRES: cgroups_path is absolute.
Result<std::string> CgroupDir(std::string_view controller, const std::string& cgroups_path);

struct CgroupUsage {
  uint64_t cpu_usage_ns = 0;
  uint64_t memory_bytes = 0;  // usage minus inactive file cache
};
Result<CgroupUsage> ReadCgroupUsage(const std::string& cgroups_path);

// Number of OOM kills so far: v1 memory.oom_control "oom_kill", v2 memory.events "oom_kill".
Result<uint64_t> ReadOomKillCount(const std::string& cgroups_path);

// Limits as configured; 0 means "no limit" for memory and pids.
struct CgroupLimits {
  int64_t cpu_shares = 0;  // v2: converted back from cpu.weight (approximate)
  int64_t memory_limit_bytes = 0;
  int64_t pids_max = 0;
};
Result<CgroupLimits> ReadCgroupLimits(const std::string& cgroups_path);

// Removes the directory of `cgroups_path` (and any child cgroups) from every hierarchy; a
// hierarchy without it is skipped. Fails if a cgroup still has processes (EBUSY).
Status RemoveCgroup(const std::string& cgroups_path);

}  // namespace sp
