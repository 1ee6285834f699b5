// The OCI bundle: turning a ContainerSpec into the config.json a runtime (runc, crun) executes.
//
// The rendered configuration is Spawnpoint's fixed security baseline plus what the spec asks for:
// root 0:0 with no new privileges and docker's default capability set; pid, mount, ipc, uts and
// (unless host networking) network namespaces; the standard /proc, /dev, /dev/pts, /dev/shm,
// /dev/mqueue, /sys (read-only) and /tmp mounts followed by the spec's own; runc's default masked
// and read-only /proc and /sys paths; cgroup limits for CPU shares, memory (swap capped at the same
// value so the limit is hard) and pids; and a devices cgroup that denies everything except the
// standard character devices and the devices the spec exposes.
//
// Functions are pure apart from stat()ing exposed devices and reading the host's open-files limit
// and cgroup mode; they are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/cgroups.h"
#include "util/status.h"

namespace sp {

struct Mount {
  std::string destination, type, source;
  std::vector<std::string> options;
};

struct ContainerSpec {
  std::string id, hostname;            // hostname defaults to id when empty
  std::vector<std::string> args, env;  // env as "K=V"; a default PATH is added when absent
  std::string cwd = "/srv/spawnpoint";
  std::string rootfs;  // absolute path of the root filesystem
  bool readonly_root = true;
  std::vector<Mount> mounts;  // in addition to the standard ones, mounted after them
  int64_t cpu_shares = 1024, memory_bytes = 0 /*0 = no limit*/, pids_limit = 4096;
  std::string cgroups_path;          // e.g. "/spawnpoint/<daemon-id>/<name>"
  std::string netns_path;            // join this network namespace (bind-mounted nsfs file)
  bool host_network = false;         // no network namespace at all (useHostNet)
  std::vector<std::string> devices;  // host device paths to expose, e.g. "/dev/fuse"
  uint32_t uid = 0, gid = 0;           // the process's user (an image's `User`)
  std::vector<uint32_t> additional_gids;
};

// The soft and hard RLIMIT_NOFILE given to containers: 4096, or the host's hard limit if lower.
uint64_t ContainerNofileLimit();

// config.json text (ociVersion 1.0.2) for `spec` on a host in cgroup mode `mode` (the cgroup
// namespace is only used on v2). InvalidArgument for an incomplete or inconsistent spec, NotFound
// for a device that does not exist.
Result<std::string> RenderOciConfig(const ContainerSpec& spec, CgroupMode mode);
// Same, for this host's cgroup mode.
Result<std::string> RenderOciConfig(const ContainerSpec& spec);

// Creates `bundle_dir` if needed and writes bundle_dir/config.json atomically.
Status WriteBundle(const std::string& bundle_dir, const ContainerSpec& spec);

}  // namespace sp
