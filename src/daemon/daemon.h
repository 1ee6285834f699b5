// Daemon: spawnd. Wires the pieces together and runs the event loop.
//
// Start-up is a list of named phases (state dir and lock, store, identity
// and router, bus, host, supervisor recovery, subscriptions). Then one loop
// thread waits on: signals (signalfd), new log data (inotify), wake-ups from
// the supervisor (eventfd) and timers (heartbeats, backoff restarts, router
// health). Bus requests are handed to a WorkQueue so a slow stop never
// blocks delivery. SIGTERM/SIGINT end the daemon but leave services running:
// the next spawnd re-adopts them.
//
// REQUIRES: SIGTERM, SIGINT, SIGHUP and SIGPIPE blocked in every thread
// before Start (BlockDaemonSignals, called first thing in main).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "auth/namespace.h"
#include "bus/bus.h"
#include "config/daemon_config.h"
#include "daemon/heartbeat.h"
#include "daemon/linux_host.h"
#include "daemon/log_shipper.h"
#include "daemon/work_queue.h"
#include "image/image_store.h"
#include "image/puller.h"
#include "router/embedded_router.h"
#include "store/store.h"
#include "supervisor/supervisor.h"
#include "uri/uri.h"

namespace sp {

inline constexpr const char* kVersion = "0.1.0";

void BlockDaemonSignals();

struct DaemonPaths {
  explicit DaemonPaths(const std::string& state_dir);
  std::string state, auth, router, services, volumes, netns, cni, runc, images, db, lock, client_json;
};

class Daemon : public SupervisorListener {
 public:
  // `monitor_binary`: path of spawn-monitor (installed next to spawnd).
  static Result<std::unique_ptr<Daemon>> Start(DaemonConfig cfg, std::string monitor_binary);
  ~Daemon() override;
  // Serves until SIGTERM or SIGINT.
  Status Run();
  // Stops every service, removes this host's heartbeats, then returns.
  Status Decommission();

  // SupervisorListener
  void OnEvent(const EventRecord& event) override;
  void OnStarted(const std::string& name) override;
  void OnRemoved(const std::string& name) override;
  void Wake() override;

 private:
  Daemon(DaemonConfig cfg, std::string monitor_binary);
  Status LockStateDir();
  Status OpenStore();
  Status StartRouterAndIdentity();
  Status ConnectBus();
  Status WriteClientInfo();
  Status CreateHostAndSupervisor();
  Status Subscribe();

  void HandleDeploy(const BusMessage& msg);
  void HandleServiceSlot(const BusMessage& msg);
  void HandleDaemonSlot(const BusMessage& msg);
  nlohmann::json DescribeImage(const ImageRecord& rec, const std::map<std::string, std::vector<std::string>>& users);
  nlohmann::json Describe(const ServiceView& v, bool with_events);
  void Reply(const BusMessage& msg, const std::string& payload);

  void PublishHeartbeats(bool all);
  void PublishServiceHeartbeat(const ServiceView& v, int64_t now);
  void MarkDirty(const std::string& name);
  void PurgeRemovedHeartbeats();
  void StartDueServices(int64_t* next_ms);
  void CheckRouter();
  void ReloadIdentities();

  DaemonConfig cfg_;
  DaemonPaths paths_;
  std::string monitor_binary_;
  SpawnpointUris uris_;
  HostInfo host_info_;
  std::string service_slot_prefix_;  // subject prefix of <base>/s.spawnpoint/
  int lock_fd_ = -1;
  int wake_fd_ = -1;
  int signal_fd_ = -1;

  std::unique_ptr<Store> store_;
  std::mutex ns_mu_;                 // guards *ns_ against a reload while minting
  std::unique_ptr<Namespace> ns_;
  std::unique_ptr<EmbeddedRouter> router_;
  std::string router_url_;
  std::unique_ptr<Bus> bus_;
  std::unique_ptr<LogShipper> shipper_;
  std::unique_ptr<ImageStore> images_;
  std::unique_ptr<ImagePuller> puller_;
  std::unique_ptr<LinuxHost> host_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<WorkQueue> work_;
  std::vector<std::unique_ptr<Subscription>> subs_;

  std::mutex hb_mu_;
  CpuRate cpu_rate_;                  // GUARDED_BY(hb_mu_)
  std::set<std::string> dirty_;       // GUARDED_BY(hb_mu_): services whose heartbeat is due now
  bool daemon_dirty_ = true;          // GUARDED_BY(hb_mu_)
  std::vector<std::string> removed_;  // GUARDED_BY(hb_mu_): kept heartbeats to purge (loop thread)
};

}  // namespace sp
