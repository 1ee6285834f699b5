// LinuxHost: the real Host. It turns a ServiceConfig into a running
// container: directories and volumes, the image (pulled into the image store
// and mounted as an overlay root) or the `image: host` root, the source
// (cloned into /srv/spawnpoint), included files, build steps (each run in the
// service's own container, with its reservation), a network namespace on the
// CNI bridge with published ports, the OCI bundle, and a spawn-monitor that
// runs it with runc (or crun). Monitors are watched with pidfds from one
// watcher thread, whether this process started them or adopted them after a
// restart (host/exit_watcher.h).
//
// The work is split by concern: linux_host.cc (creation, the small Host
// methods, exits), service_files.cc (preparing a service's files, image,
// ports and identity), container_launch.cc (the container spec, the network,
// the monitor, build steps).
//
// Layout under the state dir: services/<name>/{data,logs,bundle,rootfs,etc},
// services/<name>/{upper,work} (image services: the overlay's changes),
// services/<name>/{monitor.json,monitor.pid,exit.json,image.json,ports.json},
// volumes/<volume>, netns/<name>.
//
// Thread-safe: each method touches only its service's files; the watcher's
// table is guarded by a mutex.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "host/exit_watcher.h"
#include "image/puller.h"
#include "net/cni.h"
#include "net/ports.h"
#include "runtime/bundle.h"
#include "runtime/oci_runtime.h"
#include "supervisor/host.h"

namespace sp {

struct LinuxHostOptions {
  std::string services_dir;
  std::string volumes_dir;
  std::string netns_dir;
  std::string daemon_id;       // names this daemon's cgroups: /spawnpoint/<daemon_id>/<service>
  std::string monitor_binary;  // spawn-monitor
  std::string init_binary;     // spawn-init, bind-mounted into every container as its process 1
  RuntimeOptions runtime;
  BridgeNetworkOptions network;
  std::string base_uri;
  // What services get as SPAWNPOINT_ROUTER. With the embedded router:
  // nats://<bridge gateway>:<router port>, reachable through router access.
  std::string service_router_url;
  int router_access_port = 0;  // > 0: DNAT <gateway>:port to 127.0.0.1:port on the bridge
  int64_t log_max_bytes = 10 << 20;
  int64_t log_max_files = 5;
  // Mints the .creds of a service's own entity (empty: services get none,
  // e.g. a daemon joining an external router without a signer).
  std::function<Result<std::string>(const std::string& service)> mint_service_creds;
  // Pulls services' images; null = only `image: host` services can run.
  ImagePuller* images = nullptr;
  bool allow_local_sources = false;  // git+file:// sources
  Millis source_timeout{600000};     // cloning a source
  Millis build_timeout{3600000};     // each build step
};

class LinuxHost : public Host {
 public:
  static Result<std::unique_ptr<LinuxHost>> Create(LinuxHostOptions opts);
  ~LinuxHost() override;

  std::string ServiceDir(const std::string& name) const;
  std::string CgroupsPath(const std::string& name) const;

  int64_t NowMs() override;
  double Random() override;
  Status Prepare(const std::string& name, const ServiceConfig& cfg, std::string_view files,
                 std::string_view entity, const ProgressSink& progress) override;
  Result<Launched> Launch(const std::string& name, const ServiceConfig& cfg) override;
  void Watch(const std::string& name, int64_t monitor_pid, ExitSink sink) override;
  bool MonitorAlive(const std::string& name, int64_t monitor_pid) override;
  ExitStatus CollectExit(const std::string& name) override;
  Status Kill(const std::string& name, int signal) override;
  Status Remove(const std::string& name) override;
  Result<ServiceUsage> Usage(const std::string& name) override;
  ServiceDetails Details(const std::string& name) override;
  std::string LogDir(const std::string& name) override;
  std::map<std::string, std::vector<std::string>> ImageUsers() override;
  void StopWatching() override;
  // Removes the router access rule, the bridge, the netns directory mount and this daemon's cgroup parent.
  Status Decommission() override;

 private:
  LinuxHost(LinuxHostOptions opts, OciRuntime runtime);
  std::string LogDirOf(const std::string& name) const;

  // service_files.cc
  Status PullImage(const std::string& name, const ServiceConfig& cfg, const ProgressSink& progress,
                   std::optional<PulledImage>* pulled);
  Status ReservePorts(const std::string& name, const ServiceConfig& cfg, const ImageConfig* image);
  void ReleasePorts(const std::string& name);
  std::vector<PublishedPort> PortsOf(const std::string& name) const;
  // Unpacks the included files, then writes the service's entity (given, or minted).
  Status InstallFilesAndEntity(const std::string& name, std::string_view files, std::string_view entity);
  void LoadPublishedPorts();

  // container_launch.cc
  Result<std::vector<std::string>> ContainerEnv(const std::string& name, const ServiceConfig& cfg,
                                                const ImageConfig* image) const;
  // The container of `name`: its root, mounts, process and resources. `command` replaces the
  // service's own (build steps).
  Result<ContainerSpec> BuildSpec(const std::string& name, const ServiceConfig& cfg,
                                  const std::vector<std::string>* command);
  // Network, bundle and monitor for `spec`; returns when the process runs.
  Result<Launched> StartContainer(const std::string& name, const ServiceConfig& cfg, ContainerSpec spec);
  Status RunBuild(const std::string& name, const ServiceConfig& cfg, const ProgressSink& progress);
  Result<ExitStatus> RunToCompletion(const std::string& name, const ServiceConfig& cfg,
                                     const std::vector<std::string>& command);
  std::string LastLogLines(const std::string& name, size_t n) const;
  Status SetUpNetwork(const std::string& name, const ServiceConfig& cfg, std::string* netns, std::string* address);
  void TearDownNetwork(const std::string& name);
  void KillOrphanedMonitor(const std::string& name);

  LinuxHostOptions opts_;
  OciRuntime runtime_;
  BridgeNetwork network_;
  std::unique_ptr<ExitWatcher> watcher_;
  mutable std::mutex ports_mu_;
  std::map<std::string, std::vector<PublishedPort>> ports_;  // service -> published; GUARDED_BY(ports_mu_)
};

}  // namespace sp
