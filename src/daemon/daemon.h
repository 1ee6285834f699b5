// Daemon: spawnd. Wires the pieces together and runs the event loop.
//
// Start-up is a list of named phases (daemon_start.cc: state dir and lock,
// store, identity and router, bus, host, supervisor recovery, subscriptions).
// Then one loop thread (daemon.cc) waits on: signals (signalfd), new log data
// (inotify), wake-ups from the supervisor (eventfd) and timers (heartbeats,
// backoff restarts, router health). Requests are answered by the slot table
// (slots.h) on a WorkQueue, so a slow stop never blocks delivery; heartbeats
// are heartbeats.h's. The daemon drives its host only through the Host
// interface. SIGTERM/SIGINT end the daemon but leave services running: the
// next spawnd re-adopts them.
//
// REQUIRES: SIGTERM, SIGINT, SIGHUP and SIGPIPE blocked in every thread
// before Start (BlockDaemonSignals, called first thing in main).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "auth/namespace.h"
#include "bus/bus.h"
#include "config/daemon_config.h"
#include "daemon/daemon_paths.h"
#include "daemon/describe.h"
#include "daemon/heartbeats.h"
#include "daemon/log_shipper.h"
#include "daemon/slots.h"
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
  // Start-up phases (daemon_start.cc).
  Status LockStateDir();
  Status OpenStore();
  Status StartRouterAndIdentity();
  Status ConnectBus();
  Status WriteClientInfo();
  Status CreateHost();
  Status CreateSupervisor();
  Status Subscribe();
  // How the host mints a service's own entity (none without a namespace or a signer).
  Result<std::function<Result<std::string>(const std::string&)>> ServiceCredsMinter();

  // The loop (daemon.cc).
  void HandleSignal(bool* stop);
  void StartDueServices(int64_t* next_ms);
  void Housekeeping();
  void CheckRouter();
  void ReloadIdentities();

  DaemonConfig cfg_;
  DaemonPaths paths_;
  std::string monitor_binary_;
  SpawnpointUris uris_;
  HostInfo host_info_;
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
  std::unique_ptr<Host> host_;
  std::unique_ptr<UsageMeter> usage_;
  std::unique_ptr<Describer> describer_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<HeartbeatPublisher> heartbeats_;
  std::unique_ptr<Slots> slots_;
  std::unique_ptr<WorkQueue> work_;
  std::vector<std::unique_ptr<Subscription>> subs_;
};

}  // namespace sp
