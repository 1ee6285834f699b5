// Supervisor: service lifecycle decisions (see supervisor.h for the model).
#include "supervisor/supervisor.h"

#include <signal.h>
#include <string.h>

#include <algorithm>

#include "supervisor/restart_policy.h"

namespace sp {
namespace {

constexpr Millis kBusyWait{120000};
// Longer grace periods are clamped: condition_variable waits overflow near the top of the range.
constexpr Millis kMaxGrace{24LL * 3600 * 1000};

bool HasInstance(ServiceState state) {
  switch (state) {
    case ServiceState::kStarting:
    case ServiceState::kRunning:
    case ServiceState::kRestarting:
    case ServiceState::kStopping:
      return true;
    case ServiceState::kBackoff:
    case ServiceState::kExited:
      return false;
  }
  return false;  // not reached: the switch covers every value
}

std::string StateText(ServiceState state) { return std::string(ServiceStateName(state)); }

// The state a stored record is recovered in. Text this version does not know
// (a database written by a newer spawnd, or damaged) is read as kExited: as
// before, there is no instance to adopt or collect and no start is scheduled;
// unlike before, no reservation is held, so it can be restarted or replaced.
ServiceState StoredState(const ServiceRecord& rec) {
  return ParseServiceState(rec.state).value_or(ServiceState::kExited);
}

// "SIGTERM" for 15; the number for signals without a name.
std::string SignalName(int64_t sig) {
  const char* abbrev = sig > 0 && sig < 65 ? sigabbrev_np(static_cast<int>(sig)) : nullptr;
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string DescribeExit(const ExitStatus& ex) {
  std::string s;
  if (ex.oom_killed) {
    s = "killed: out of memory (exit code " + std::to_string(ex.code) + ")";
  } else if (ex.signal) {
    s = "killed by " + SignalName(ex.signal) + " (exit code " + std::to_string(ex.code) + ")";
  } else if (ex.code > 128 && ex.code < 128 + 65) {
    // spawn-init reports a service killed by a signal as 128 + signal, like a shell.
    s = "terminated by " + SignalName(ex.code - 128) + " (exit code " + std::to_string(ex.code) + ")";
  } else {
    s = "exited with code " + std::to_string(ex.code);
  }
  if (!ex.detail.empty()) s += " (" + ex.detail + ")";
  return s;
}

}  // namespace

Status CheckDeployable(const ServiceConfig& cfg, const SupervisorOptions& opts) {
  if ((cfg.image.empty() || cfg.image == "host") && cfg.run.empty())
    return Status::InvalidArgument("run: the service runs on the host's system (no image), so it needs a command");
  if (cfg.use_host_net && (!cfg.ports.empty() || cfg.publish_exposed_ports))
    return Status::InvalidArgument("ports: a service on the host's network cannot publish ports; it listens on the host already");
  if (cfg.use_host_net && !opts.enable_host_networking)
    return Status::PermissionDenied(
        "useHostNet: this daemon does not allow host networking (enableHostNetworking is false in its config)");
  if (!cfg.devices.empty() && !opts.enable_device_mapping)
    return Status::PermissionDenied(
        "devices: this daemon does not allow device mapping (enableDeviceMapping is false in its config)");
  return Status::Ok();
}

Supervisor::Supervisor(Host& host, Store& store, Resources total, SupervisorOptions opts,
                       SupervisorListener* listener)
    : host_(host), store_(store), opts_(opts), listener_(listener), pool_(total) {}

Resources Supervisor::Total() {
  Lock lock(mu_);
  return pool_.Total();
}

Resources Supervisor::Available() {
  Lock lock(mu_);
  return pool_.Available();
}

ServiceView Supervisor::ViewLocked(const Entry& e) const {
  const ServiceRecord& r = e.rec;
  ServiceView v;
  v.name = r.name;
  v.state = e.state;
  v.instance = r.instance;
  v.restarts = r.restarts;
  v.pid = r.container_pid;
  v.monitor_pid = r.monitor_pid;
  v.address = r.address;
  v.reserved = {e.cfg.cpu_shares, e.cfg.memory_mib};
  v.auto_restart = e.cfg.auto_restart;
  v.created_ms = r.created_ms;
  v.started_ms = r.started_ms;
  v.next_start_ms = r.next_start_ms;
  if (r.has_exit) v.last_exit = ExitStatus{r.exit_code, r.exit_signal, r.exit_oom, ""};
  v.last_exit_ms = r.exit_ms;
  return v;
}

Status Supervisor::PersistLocked(Entry& e, const std::string& kind, const std::string& message) {
  e.rec.state = StateText(e.state);  // the Store keeps the state's name
  if (kind.empty()) return store_.Put(e.rec);
  EventRecord ev{0, e.rec.name, host_.NowMs(), kind, message};
  Status st = store_.Put(e.rec, &ev);
  if (st.ok() && listener_) listener_->OnEvent(ev);  // recorded first, then published
  return st;
}

void Supervisor::WatchLocked(const Entry& e) {
  host_.Watch(e.rec.name, e.rec.monitor_pid,
              [this](const std::string& name, int64_t pid) { OnMonitorExit(name, pid); });
}

Result<Supervisor::Entry*> Supervisor::WaitIdle(Lock& lock, const std::string& name) {
  changed_.wait_for(lock, kBusyWait, [&] {
    auto it = services_.find(name);
    return it == services_.end() || !it->second.busy;
  });
  auto it = services_.find(name);
  if (it == services_.end()) return Err(Status::NotFound("no service named \"" + name + "\" on this host"));
  if (it->second.busy)
    return Err(Status::Unavailable("service \"" + name + "\" is busy (" + StateText(it->second.state) +
                                   "); try again"));
  return &it->second;
}

Result<ServiceView> Supervisor::Deploy(DeployOrder req) {
  SP_RETURN_IF_ERROR(CheckDeployable(req.config, opts_));
  const std::string name = req.config.name;
  Lock lock(mu_);
  auto it = services_.find(name);
  if (it != services_.end() && (it->second.busy || it->second.state != ServiceState::kExited))
    return Err(Status::AlreadyExists("service \"" + name + "\" already exists on this host (state " +
                                     StateText(it->second.state) + "); stop it first"));
  SP_RETURN_IF_ERROR(pool_.Reserve(name, {req.config.cpu_shares, req.config.memory_mib}));
  if (it != services_.end()) {  // an exited service is replaced (its reservation was already returned)
    if (listener_) listener_->OnRemoved(name);
    services_.erase(it);
  }
  Entry& e = services_[name];
  e.cfg = req.config;
  e.busy = true;
  e.rec.name = name;
  e.rec.config_yaml = req.yaml;
  e.rec.config_file = req.file_name;
  e.state = ServiceState::kStarting;
  e.rec.created_ms = host_.NowMs();
  Status st = PersistLocked(e, "deployed",
                            "reserved " + std::to_string(e.cfg.cpu_shares) + " CPU shares and " +
                                std::to_string(e.cfg.memory_mib) + " MiB memory");
  if (st.ok()) st = store_.SetLogPosition(name, 0, 0);  // a new deploy starts a new log
  if (st.ok()) {
    lock.unlock();
    st = host_.Prepare(name, req.config, req.files, req.entity, req.progress);
    lock.lock();
  }
  if (st.ok()) st = StartInstance(lock, name);
  if (!st.ok()) {
    Entry& failed = services_.at(name);
    failed.busy = false;
    (void)PersistLocked(failed, "failed", st.message());
    FinalizeRemovalLocked(name);
    return Err(st.Annotate("deploy " + name));
  }
  return ViewLocked(services_.at(name));
}

Status Supervisor::StartInstance(Lock& lock, const std::string& name) {
  Entry& e = services_.at(name);
  SP_CHECK(e.busy);
  e.rec.instance++;
  e.state = ServiceState::kStarting;
  e.rec.monitor_pid = 0;
  e.rec.container_pid = 0;
  Status st = PersistLocked(e, "", "");
  ServiceConfig cfg = e.cfg;
  int64_t instance = e.rec.instance;
  Result<Launched> launched = Err(st);
  if (st.ok()) {
    lock.unlock();
    launched = host_.Launch(name, cfg);
    lock.lock();
  }
  e.busy = false;
  changed_.notify_all();
  if (!launched) return launched.error();
  e.state = ServiceState::kRunning;
  e.rec.monitor_pid = launched->monitor_pid;
  e.rec.container_pid = launched->container_pid;
  e.rec.address = launched->address;
  e.rec.started_ms = host_.NowMs();
  e.rec.next_start_ms = 0;
  st = PersistLocked(e, "started", "instance " + std::to_string(instance) + ", pid " +
                                       std::to_string(launched->container_pid));
  WatchLocked(e);
  if (listener_) listener_->OnStarted(name);
  return st;
}

void Supervisor::OnMonitorExit(const std::string& name, int64_t monitor_pid) {
  Lock lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end() || it->second.rec.monitor_pid != monitor_pid) return;  // stale
  HandleExitLocked(it->second);
}

void Supervisor::HandleExitLocked(Entry& e) {
  const std::string name = e.rec.name;
  ExitStatus ex = host_.CollectExit(name);
  e.rec.has_exit = true;
  e.rec.exit_code = ex.code;
  e.rec.exit_signal = ex.signal;
  e.rec.exit_oom = ex.oom_killed;
  e.rec.exit_ms = host_.NowMs();
  e.rec.monitor_pid = 0;
  e.rec.container_pid = 0;
  const std::string desc = DescribeExit(ex);
  const ServiceState state = e.state;
  if (state == ServiceState::kStopping) {
    (void)PersistLocked(e, ex.oom_killed ? "oom" : "exited", desc);
    FinalizeRemovalLocked(name);
  } else if (state == ServiceState::kRestarting && e.busy) {
    (void)PersistLocked(e, ex.oom_killed ? "oom" : "exited", desc);  // Restart() starts the next instance
  } else if (state == ServiceState::kRestarting || e.cfg.auto_restart) {
    ScheduleRestartLocked(e, state != ServiceState::kRestarting, desc);
  } else {
    e.state = ServiceState::kExited;
    pool_.Release(name);
    (void)PersistLocked(e, ex.oom_killed ? "oom" : "exited", desc + "; reservation returned");
  }
  changed_.notify_all();
}

void Supervisor::ScheduleRestartLocked(Entry& e, bool after_failure, const std::string& why) {
  int64_t now = host_.NowMs();
  if (after_failure) {
    Millis ran(std::max<int64_t>(0, (e.rec.exit_ms ? e.rec.exit_ms : now) - e.rec.started_ms));
    e.rec.fast_failures = NextFastFailures(e.cfg.restart_policy, e.rec.fast_failures, ran);
  } else {
    e.rec.fast_failures = 0;
  }
  Millis delay = RestartDelay(e.cfg.restart_policy, e.rec.fast_failures, host_.Random());
  e.state = ServiceState::kBackoff;
  e.rec.next_start_ms = now + delay.count();
  std::string msg = why + "; restarting " +
                    (delay.count() ? "in " + FormatDuration(delay) + " after " +
                                         std::to_string(e.rec.fast_failures) + " fast failures"
                                   : std::string("now"));
  (void)PersistLocked(e, e.rec.exit_oom ? "oom" : "exited", msg);
  if (listener_) listener_->Wake();
}

std::vector<std::string> Supervisor::TakeDueStarts(int64_t* next_ms) {
  Lock lock(mu_);
  int64_t now = host_.NowMs();
  std::vector<std::string> due;
  int64_t next = -1;
  for (auto& [name, e] : services_) {
    if (e.state != ServiceState::kBackoff || e.busy) continue;
    if (e.rec.next_start_ms <= now) {
      e.busy = true;  // claimed for StartDue
      due.push_back(name);
    } else {
      int64_t wait = e.rec.next_start_ms - now;
      next = next < 0 ? wait : std::min(next, wait);
    }
  }
  if (next_ms) *next_ms = next;
  return due;
}

void Supervisor::StartDue(const std::string& name) {
  Lock lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end()) return;
  Entry& e = it->second;
  SP_CHECK(e.busy);
  e.rec.restarts++;
  Status st = StartInstance(lock, name);
  if (!st.ok()) {
    e.rec.exit_ms = host_.NowMs();
    e.rec.started_ms = e.rec.exit_ms;
    ScheduleRestartLocked(e, true, "start failed: " + st.message());
  }
}

Status Supervisor::TerminateAndWait(Lock& lock, const std::string& name, int64_t instance, Millis grace) {
  auto gone = [&] {
    auto it = services_.find(name);
    return it == services_.end() || it->second.rec.instance != instance || it->second.rec.monitor_pid == 0;
  };
  if (gone()) return Status::Ok();
  grace = std::min(grace, kMaxGrace);
  (void)host_.Kill(name, SIGTERM);  // an already-exited container reports through its monitor anyway
  if (changed_.wait_for(lock, grace, gone)) return Status::Ok();
  (void)host_.Kill(name, SIGKILL);
  if (changed_.wait_for(lock, opts_.kill_timeout, gone)) return Status::Ok();
  return Status::DeadlineExceeded("service \"" + name + "\" did not exit " + FormatDuration(opts_.kill_timeout) +
                                  " after SIGKILL");
}

Result<ServiceView> Supervisor::Restart(const std::string& name) {
  Lock lock(mu_);
  SP_ASSIGN_OR_RETURN(Entry * e, WaitIdle(lock, name));
  if (e->state == ServiceState::kExited) {
    SP_RETURN_IF_ERROR(pool_.Reserve(name, {e->cfg.cpu_shares, e->cfg.memory_mib}));
  }
  e->busy = true;
  if (HasInstance(e->state)) {
    e->state = ServiceState::kRestarting;
    (void)PersistLocked(*e, "restarting", "restart requested");
    Status st = TerminateAndWait(lock, name, e->rec.instance, e->cfg.stop_timeout);
    if (!st.ok()) {
      e->busy = false;
      changed_.notify_all();
      return Err(st);
    }
  }
  e->rec.fast_failures = 0;
  e->rec.restarts++;
  Status st = StartInstance(lock, name);
  if (!st.ok()) {
    e->rec.exit_ms = host_.NowMs();
    e->rec.started_ms = e->rec.exit_ms;
    if (e->cfg.auto_restart) {
      ScheduleRestartLocked(*e, true, "start failed: " + st.message());
    } else {
      e->state = ServiceState::kExited;
      pool_.Release(name);
      (void)PersistLocked(*e, "failed", "start failed: " + st.message());
    }
    return Err(st.Annotate("restart " + name));
  }
  return ViewLocked(*e);
}

Status Supervisor::Stop(const std::string& name) {
  Lock lock(mu_);
  SP_ASSIGN_OR_RETURN(Entry * e, WaitIdle(lock, name));
  if (!HasInstance(e->state)) {
    FinalizeRemovalLocked(name);
    return Status::Ok();
  }
  e->busy = true;
  e->state = ServiceState::kStopping;
  (void)PersistLocked(*e, "stopping", "SIGTERM, then SIGKILL after " + FormatDuration(e->cfg.stop_timeout));
  Status st = TerminateAndWait(lock, name, e->rec.instance, e->cfg.stop_timeout);
  // On success the exit handler removed the entry; `e` must not be used.
  if (!st.ok()) {
    auto it = services_.find(name);
    if (it != services_.end()) it->second.busy = false;
    changed_.notify_all();
  }
  return st;
}

void Supervisor::FinalizeRemovalLocked(const std::string& name) {
  if (listener_) listener_->OnRemoved(name);  // ships the last log lines before the files go
  Status rm = host_.Remove(name);
  pool_.Release(name);
  EventRecord ev{0, name, host_.NowMs(), "stopped",
                 rm.ok() ? "removed; reservation returned" : "removed with errors: " + rm.message()};
  (void)store_.Remove(name, &ev);
  if (listener_) listener_->OnEvent(ev);
  services_.erase(name);
  changed_.notify_all();
}

Result<ServiceView> Supervisor::Get(const std::string& name) {
  Lock lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end()) return Err(Status::NotFound("no service named \"" + name + "\" on this host"));
  return ViewLocked(it->second);
}

std::vector<ServiceView> Supervisor::List() {
  Lock lock(mu_);
  std::vector<ServiceView> out;
  for (const auto& [name, e] : services_) out.push_back(ViewLocked(e));
  return out;
}

// A stored service whose config this version can no longer read (e.g. after
// an upgrade) cannot be supervised: end it rather than leave it orphaned.
void Supervisor::DiscardUnreadableLocked(const ServiceRecord& rec, ServiceState state, const Status& why) {
  if (rec.monitor_pid && host_.MonitorAlive(rec.name, rec.monitor_pid)) (void)host_.Kill(rec.name, SIGKILL);
  if (HasInstance(state)) (void)host_.CollectExit(rec.name);
  (void)host_.Remove(rec.name);
  EventRecord ev{0, rec.name, host_.NowMs(), "failed",
                 "stored config unreadable, service stopped and removed: " + why.message()};
  (void)store_.Remove(rec.name, &ev);
}

Status Supervisor::Recover() {
  Lock lock(mu_);
  SP_ASSIGN_OR_RETURN(std::vector<ServiceRecord> recs, store_.List());
  for (ServiceRecord& rec : recs) {
    const ServiceState state = StoredState(rec);
    auto cfg = ParseServiceConfig(rec.config_yaml, rec.config_file, rec.name);
    if (!cfg) {
      DiscardUnreadableLocked(rec, state, cfg.error());
      continue;
    }
    Entry& e = services_[rec.name];
    e.state = state;
    e.rec = rec;
    e.cfg = *cfg;
    if (state != ServiceState::kExited) pool_.Restore(rec.name, {e.cfg.cpu_shares, e.cfg.memory_mib});
    if (HasInstance(state)) AdoptOrHandleExitLocked(e);
  }
  if (listener_) listener_->Wake();
  return Status::Ok();
}

void Supervisor::AdoptOrHandleExitLocked(Entry& e) {
  const std::string name = e.rec.name;
  if (!e.rec.monitor_pid || !host_.MonitorAlive(name, e.rec.monitor_pid)) {
    HandleExitLocked(e);
    return;
  }
  if (e.state == ServiceState::kRestarting) e.state = ServiceState::kRunning;
  (void)PersistLocked(e, "adopted", "still running, pid " + std::to_string(e.rec.container_pid));
  WatchLocked(e);
  if (listener_) listener_->OnStarted(name);
  if (e.state == ServiceState::kStopping) (void)host_.Kill(name, SIGKILL);  // finish the interrupted stop
}

}  // namespace sp
