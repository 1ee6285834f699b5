// Heartbeat payloads and CPU-rate computation (see heartbeat.h).
#include "daemon/heartbeat.h"

#include <cstdio>
#include <ctime>

namespace sp {

nlohmann::json DaemonHeartbeat(const HostInfo& host, int64_t now_ms, Resources total, Resources available,
                               const std::vector<ServiceView>& services) {
  nlohmann::json svcs = nlohmann::json::array();
  for (const auto& s : services) svcs.push_back({{"name", s.name}, {"state", ServiceStateName(s.state)}});
  return {{"kind", "daemon"},
          {"version", host.version},
          {"alias", host.alias},
          {"uri", host.uri},
          {"time", Rfc3339Millis(now_ms)},
          {"timeMs", now_ms},
          {"intervalMs", host.interval_ms},
          {"cpuShares", {{"total", total.cpu_shares}, {"available", available.cpu_shares}}},
          {"memory", {{"total", total.memory_mib}, {"available", available.memory_mib}}},
          {"services", svcs}};
}

nlohmann::json ServiceHeartbeat(const HostInfo& host, int64_t now_ms, const ServiceView& svc,
                                const ServiceUsageView& usage) {
  return {{"kind", "service"},
          {"name", svc.name},
          {"host", host.uri},
          {"time", Rfc3339Millis(now_ms)},
          {"timeMs", now_ms},
          {"intervalMs", host.interval_ms},
          {"state", ServiceStateName(svc.state)},
          {"pid", svc.pid},
          {"restarts", svc.restarts},
          {"cpuShares", svc.reserved.cpu_shares},
          {"memory", svc.reserved.memory_mib},
          {"usedCpuShares", usage.used_cpu_shares},
          {"usedMemory", usage.used_memory_mib}};
}

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

}  // namespace sp
