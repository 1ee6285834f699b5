// Heartbeats and usage (see heartbeats.h).
#include "daemon/heartbeats.h"

#include "daemon/daemon_log.h"
#include "protocol/published.h"

namespace sp {

double CpuRate::Update(const std::string& name, uint64_t cpu_ns, int64_t now_ms, int64_t started_ms) {
  double rate = Peek(name, cpu_ns, now_ms, started_ms);
  last_[name] = {cpu_ns, now_ms};
  return rate;
}

double CpuRate::Peek(const std::string& name, uint64_t cpu_ns, int64_t now_ms, int64_t started_ms) const {
  Sample prev{0, started_ms};
  auto it = last_.find(name);
  if (it != last_.end() && it->second.cpu_ns <= cpu_ns) prev = it->second;
  int64_t wall_ms = now_ms - prev.at_ms;
  if (wall_ms <= 0) return 0;
  double cores = static_cast<double>(cpu_ns - prev.cpu_ns) / 1e6 / static_cast<double>(wall_ms);
  return cores * 1024.0;
}

ServiceUsageView UsageMeter::Measure(const ServiceView& v, int64_t now_ms, bool record) {
  ServiceUsageView out;
  if (!v.pid) return out;
  auto u = host_.Usage(v.name);
  if (!u) return out;
  out.used_memory_mib = static_cast<double>(u->memory_bytes) / (1 << 20);
  std::lock_guard<std::mutex> lock(mu_);
  out.used_cpu_shares = record ? rate_.Update(v.name, u->cpu_usage_ns, now_ms, v.started_ms)
                               : rate_.Peek(v.name, u->cpu_usage_ns, now_ms, v.started_ms);
  return out;
}

void UsageMeter::Forget(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  rate_.Forget(name);
}

DaemonHeartbeat MakeDaemonHeartbeat(const HostInfo& host, int64_t now_ms, Resources total, Resources available,
                                    const std::vector<ServiceView>& services) {
  DaemonHeartbeat hb{host.version,       host.alias,         host.uri,
                     Rfc3339Millis(now_ms), now_ms,          host.interval_ms,
                     total.cpu_shares,   available.cpu_shares, total.memory_mib,
                     available.memory_mib, {}};
  for (const ServiceView& s : services) hb.services.push_back({s.name, std::string(ServiceStateName(s.state))});
  return hb;
}

ServiceHeartbeat MakeServiceHeartbeat(const HostInfo& host, int64_t now_ms, const ServiceView& svc,
                                      const ServiceUsageView& usage, const ServiceDetails& details) {
  return {svc.name,          host.uri,
          Rfc3339Millis(now_ms), now_ms,
          host.interval_ms,  std::string(ServiceStateName(svc.state)),
          svc.pid,           svc.restarts,
          svc.reserved.cpu_shares, svc.reserved.memory_mib,
          usage.used_cpu_shares,   usage.used_memory_mib,
          details.image.reference, details.ports};
}

HeartbeatPublisher::HeartbeatPublisher(HostInfo info, Bus& bus, Supervisor& supervisor, Host& host, UsageMeter& usage,
                                       std::function<void()> wake)
    : info_(std::move(info)),
      uris_(info_.uri),
      bus_(bus),
      supervisor_(supervisor),
      host_(host),
      usage_(usage),
      wake_(std::move(wake)) {}

void HeartbeatPublisher::MarkDirty(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_.insert(name);
    daemon_dirty_ = true;
  }
  wake_();
}

void HeartbeatPublisher::MarkRemoved(const std::string& name) {
  usage_.Forget(name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_.erase(name);
    daemon_dirty_ = true;
    removed_.push_back(name);  // purged by the loop, after it published this round's heartbeats
  }
  wake_();
}

void HeartbeatPublisher::PublishService(const ServiceView& v, int64_t now) {
  ServiceHeartbeat hb = MakeServiceHeartbeat(info_, now, v, usage_.Measure(v, now, true), host_.Details(v.name));
  (void)bus_.Publish(UriToSubject(uris_.ServiceHeartbeat(v.name)), protocol::EncodeServiceHeartbeat(hb));
}

void HeartbeatPublisher::PublishDue(bool all) {
  std::set<std::string> dirty;
  bool daemon_due = all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty.swap(dirty_);
    daemon_due = daemon_due || daemon_dirty_;
    daemon_dirty_ = false;
  }
  if (!all && dirty.empty() && !daemon_due) return;
  int64_t now = WallClockMs();
  std::vector<ServiceView> views = supervisor_.List();
  for (const auto& v : views)
    if (all || dirty.count(v.name)) PublishService(v, now);
  DaemonHeartbeat hb = MakeDaemonHeartbeat(info_, now, supervisor_.Total(), supervisor_.Available(), views);
  (void)bus_.Publish(UriToSubject(uris_.DaemonHeartbeat()), protocol::EncodeDaemonHeartbeat(hb));
}

void HeartbeatPublisher::PurgeRemoved() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    names.swap(removed_);
  }
  for (const auto& n : names) {
    Status st = bus_.PurgeSubject(kHeartbeatStream, UriToSubject(uris_.ServiceHeartbeat(n)));
    if (!st.ok()) DaemonLog("could not remove the kept heartbeat of " + n + ": " + st.message());
  }
}

Status HeartbeatPublisher::PurgeDaemon() {
  return bus_.PurgeSubject(kHeartbeatStream, UriToSubject(uris_.DaemonHeartbeat()));
}

}  // namespace sp
