// Host: everything the Supervisor and the daemon need from the machine,
// behind one seam.
//
// The real implementation (host/linux_host) prepares directories, the
// network namespace, the OCI bundle, and launches a spawn-monitor; it
// watches monitors with pidfds and reports their exits back through the
// ExitSink given to Watch. Unit tests use a fake. The daemon names only this
// interface, so another kind of host (Wasm apps) can sit beside it.
//
// Thread safety: implementations must be safe to call from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <map>
#include <vector>

#include "config/service_config.h"
#include "spawnpoint/messages.h"
#include "spawnpoint/progress.h"
#include "util/status.h"

namespace sp {

struct Launched {
  int64_t monitor_pid = 0;
  int64_t container_pid = 0;
  std::string address;  // service address on the bridge; empty with host networking
};

struct ExitStatus {
  int64_t code = -1;    // exit code (128+signal when killed, as shells report it)
  int64_t signal = 0;   // terminating signal, 0 if it exited
  bool oom_killed = false;
  std::string detail;   // set when the exit could not be read (monitor killed, ...)
};

struct ServiceUsage {
  uint64_t cpu_usage_ns = 0;  // cumulative
  uint64_t memory_bytes = 0;
};

// What a host tells about a service beyond its lifecycle (for descriptions and heartbeats).
struct ServiceDetails {
  ServiceImage image;               // reference "host" when it runs on the host's root
  std::vector<ServicePort> ports;   // published, host ports resolved
  std::string cgroups_path;         // empty if the host has none
};

// Receives progress snapshots while a deploy prepares (pull, clone, build). May be empty.
using ProgressSink = std::function<void(const DeployProgress&)>;

class Host {
 public:
  using ExitSink = std::function<void(const std::string& name, int64_t monitor_pid)>;
  virtual ~Host() = default;

  virtual int64_t NowMs() = 0;  // wall clock, milliseconds since the epoch
  virtual double Random() = 0;  // uniform in [0, 1)

  // Creates the service's directories and volumes, pulls its image, clones
  // its source, unpacks the included files (a tar.gz, may be empty),
  // installs the service's entity (the .creds given with the deploy, or a
  // newly minted one when empty) and runs its build steps, reporting progress
  // to `progress`. Called once per deploy; may take long (pulls, builds).
  virtual Status Prepare(const std::string& name, const ServiceConfig& cfg, std::string_view files,
                         std::string_view entity, const ProgressSink& progress) = 0;
  // Starts the service (again); returns when its process runs.
  virtual Result<Launched> Launch(const std::string& name, const ServiceConfig& cfg) = 0;
  // Reports the monitor's exit through `sink` (also if it already exited).
  virtual void Watch(const std::string& name, int64_t monitor_pid, ExitSink sink) = 0;
  // True if `monitor_pid` is alive and is the monitor of `name`.
  virtual bool MonitorAlive(const std::string& name, int64_t monitor_pid) = 0;
  // Reads how the last instance ended and releases its network and runtime
  // leftovers. Called once per instance, after its monitor exited.
  virtual ExitStatus CollectExit(const std::string& name) = 0;
  // Sends `signal` to the service's main process (all its processes for SIGKILL).
  virtual Status Kill(const std::string& name, int signal) = 0;
  // Removes what Prepare made for the service (volumes are kept).
  virtual Status Remove(const std::string& name) = 0;
  virtual Result<ServiceUsage> Usage(const std::string& name) = 0;

  // The defaults below suit a host without images, ports, cgroups or files of its own (the fakes).
  virtual ServiceDetails Details(const std::string& name) { return {}; }
  // Where the service's log segments are (monitor/log_segments.h); empty if the host keeps none.
  virtual std::string LogDir(const std::string& name) { return ""; }
  // Manifest digest -> names of the services that run that image (image listings and prune).
  virtual std::map<std::string, std::vector<std::string>> ImageUsers() { return {}; }
  // Stops reporting exits: no ExitSink is called after this returns. Idempotent.
  virtual void StopWatching() {}
  // Removes what the host set up for all services (bridge, rules, cgroup parent).
  // REQUIRES: no service runs any more.
  virtual Status Decommission() { return Status::Ok(); }
};

}  // namespace sp
