// Supervisor: the lifecycle of every service on this host.
//
// It decides; the Host acts. Deploy reserves resources, records the service
// and launches it; an exit is handled by the service's policy (autoRestart
// with backoff, or kExited with the reservation returned); Restart and Stop
// terminate the current instance (SIGTERM, then SIGKILL after the service's
// stopTimeout); Recover re-adopts services that kept running while the
// daemon was away and handles those that exited meanwhile. Every state
// change is written to the Store with its event, then reported to the
// listener. States are ServiceState values (service_state.h); the Store keeps
// their names as text (ServiceRecord::state), written by PersistLocked and
// read back by Recover, which is the only place that text is parsed.
//
// Thread safety: all public methods are safe to call concurrently. The long
// operations (launching, preparing files, waiting for an exit) run without
// the internal lock: the service is marked busy and other operations on it
// wait. Short host actions (sending a signal, collecting an exit, removing a
// service's files) are made with the lock held, and so are listener
// callbacks: they must not block for long or call back into the Supervisor.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/service_config.h"
#include "store/store.h"
#include "supervisor/host.h"
#include "supervisor/resource_pool.h"
#include "supervisor/service_state.h"

namespace sp {

struct ServiceView {
  std::string name;
  ServiceState state = ServiceState::kStarting;
  int64_t instance = 0;
  int64_t restarts = 0;
  int64_t pid = 0;  // host PID of the container's main process, 0 if not running
  int64_t monitor_pid = 0;
  std::string address;
  Resources reserved;
  bool auto_restart = false;
  int64_t created_ms = 0;
  int64_t started_ms = 0;
  int64_t next_start_ms = 0;
  std::optional<ExitStatus> last_exit;
  int64_t last_exit_ms = 0;
};

class SupervisorListener {
 public:
  virtual ~SupervisorListener() = default;
  virtual void OnEvent(const EventRecord& event) = 0;
  virtual void OnStarted(const std::string& name) = 0;
  virtual void OnRemoved(const std::string& name) = 0;
  // A start is now due sooner than the next_ms TakeDueStarts last reported:
  // the caller should call TakeDueStarts again.
  virtual void Wake() = 0;
};

struct SupervisorOptions {
  bool enable_host_networking = false;
  bool enable_device_mapping = false;
  Millis kill_timeout{10000};  // after SIGKILL, how long to wait for the exit
};

struct DeployOrder {
  ServiceConfig config;
  std::string yaml;       // the deploy.yaml text, kept to re-read the config after a restart
  std::string file_name;  // for messages
  std::string files;      // tar.gz of includedFiles/includedDirectories, may be empty
  std::string entity;     // .creds of the entity named by `entity`/`bw2Entity`, or empty
  ProgressSink progress;  // pull/clone/build progress while the host prepares; may be empty
};

// Refuses what this version cannot do, or what the daemon does not allow.
Status CheckDeployable(const ServiceConfig& cfg, const SupervisorOptions& opts);

class Supervisor {
 public:
  Supervisor(Host& host, Store& store, Resources total, SupervisorOptions opts, SupervisorListener* listener);

  // Loads the services recorded in the Store: adopts running ones, handles
  // those that exited while the daemon was down. Call once, before serving.
  Status Recover();

  Result<ServiceView> Deploy(DeployOrder req);
  Result<ServiceView> Restart(const std::string& name);
  Status Stop(const std::string& name);
  Result<ServiceView> Get(const std::string& name);
  std::vector<ServiceView> List();
  Resources Total();
  Resources Available();

  // Services whose backoff has expired, marked busy: each must then be passed
  // to StartDue (from any thread). `next_ms` gets the milliseconds until the
  // next due start, or -1 if none is scheduled.
  std::vector<std::string> TakeDueStarts(int64_t* next_ms);
  void StartDue(const std::string& name);
  // Called (by the Host's watcher) when a monitor process exited.
  void OnMonitorExit(const std::string& name, int64_t monitor_pid);

 private:
  struct Entry {
    ServiceState state = ServiceState::kStarting;  // authoritative; rec.state is its stored name
    ServiceRecord rec;
    ServiceConfig cfg;
    bool busy = false;
  };
  using Lock = std::unique_lock<std::mutex>;

  ServiceView ViewLocked(const Entry& e) const;
  Status PersistLocked(Entry& e, const std::string& kind, const std::string& message);
  // REQUIRES: e.busy was set by the caller. Releases the lock while launching.
  Status StartInstance(Lock& lock, const std::string& name);
  void HandleExitLocked(Entry& e);
  void ScheduleRestartLocked(Entry& e, bool after_failure, const std::string& why);
  void FinalizeRemovalLocked(const std::string& name);
  // The entry once it is not busy: NotFound if there is none, Unavailable if
  // it stays busy too long.
  Result<Entry*> WaitIdle(Lock& lock, const std::string& name);
  void DiscardUnreadableLocked(const ServiceRecord& rec, ServiceState state, const Status& why);
  // Recover's step for a service that had an instance: adopts it if its monitor lives, else handles the exit.
  void AdoptOrHandleExitLocked(Entry& e);
  // Signals the instance and waits until `done` holds; SIGKILL after `grace`.
  Status TerminateAndWait(Lock& lock, const std::string& name, int64_t instance, Millis grace);
  void WatchLocked(const Entry& e);

  Host& host_;
  Store& store_;
  SupervisorOptions opts_;
  SupervisorListener* listener_;
  std::mutex mu_;
  std::condition_variable changed_;
  ResourcePool pool_;                    // GUARDED_BY(mu_)
  std::map<std::string, Entry> services_;  // GUARDED_BY(mu_)
};

}  // namespace sp
