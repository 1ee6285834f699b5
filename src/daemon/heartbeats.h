// Heartbeats: what this daemon tells the bus about itself and its services,
// and the one place that measures what services use.
//
// UsageMeter turns a service's cumulative cgroup CPU time into "used CPU
// shares" (1024 = one core busy) over the last heartbeat period, and reads its
// memory; descriptions (inspect) and heartbeats both ask it. HeartbeatPublisher
// keeps which services changed since the last round, publishes their
// heartbeats at once (and every heartbeat each period), and removes the kept
// heartbeat of a service that is gone, on the daemon's loop thread, after that
// round's heartbeats went out (docs/protocol.md, Heartbeats).
//
// Thread safety: UsageMeter and HeartbeatPublisher are safe to call from any
// thread; PublishDue and PurgeRemoved are called by the loop thread only.
// CpuRate and the Make* functions are not thread-safe / pure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "spawnpoint/messages.h"
#include "supervisor/supervisor.h"
#include "uri/uri.h"
#include "util/clock.h"

namespace sp {

struct HostInfo {
  std::string version;
  std::string alias;
  std::string uri;
  int64_t interval_ms = 0;
};

struct ServiceUsageView {
  double used_cpu_shares = 0;
  double used_memory_mib = 0;
};

class CpuRate {
 public:
  // Used CPU shares of `name` since its previous sample (or since `started_ms`).
  double Update(const std::string& name, uint64_t cpu_ns, int64_t now_ms, int64_t started_ms);
  // The same figure as Update, without recording a sample.
  double Peek(const std::string& name, uint64_t cpu_ns, int64_t now_ms, int64_t started_ms) const;
  void Forget(const std::string& name) { last_.erase(name); }

 private:
  struct Sample {
    uint64_t cpu_ns;
    int64_t at_ms;
  };
  std::map<std::string, Sample> last_;
};

class UsageMeter {
 public:
  explicit UsageMeter(Host& host) : host_(host) {}
  // What `v` uses now (zero when it does not run). `record` starts a new period (heartbeats do;
  // a description only looks).
  ServiceUsageView Measure(const ServiceView& v, int64_t now_ms, bool record);
  void Forget(const std::string& name);

 private:
  Host& host_;
  std::mutex mu_;
  CpuRate rate_;  // GUARDED_BY(mu_)
};

DaemonHeartbeat MakeDaemonHeartbeat(const HostInfo& host, int64_t now_ms, Resources total, Resources available,
                                    const std::vector<ServiceView>& services);
ServiceHeartbeat MakeServiceHeartbeat(const HostInfo& host, int64_t now_ms, const ServiceView& svc,
                                      const ServiceUsageView& usage, const ServiceDetails& details);

class HeartbeatPublisher {
 public:
  // `wake` makes the loop thread call PublishDue soon.
  HeartbeatPublisher(HostInfo info, Bus& bus, Supervisor& supervisor, Host& host, UsageMeter& usage,
                     std::function<void()> wake);

  // `name` changed: its heartbeat (and the daemon's) goes out in the next round.
  void MarkDirty(const std::string& name);
  // `name` is gone: its kept heartbeat is removed after the next round.
  void MarkRemoved(const std::string& name);
  // Publishes the heartbeats of changed services and the daemon's, or all of them with `all`.
  void PublishDue(bool all);
  void PurgeRemoved();
  // Removes the daemon's own kept heartbeat (decommission).
  Status PurgeDaemon();

 private:
  void PublishService(const ServiceView& v, int64_t now);

  const HostInfo info_;
  const SpawnpointUris uris_;
  Bus& bus_;
  Supervisor& supervisor_;
  Host& host_;
  UsageMeter& usage_;
  const std::function<void()> wake_;
  std::mutex mu_;
  std::set<std::string> dirty_;       // GUARDED_BY(mu_): services whose heartbeat is due now
  bool daemon_dirty_ = true;          // GUARDED_BY(mu_)
  std::vector<std::string> removed_;  // GUARDED_BY(mu_): kept heartbeats to purge
};

}  // namespace sp
