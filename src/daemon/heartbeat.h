// Heartbeat messages of a daemon and of its services (docs/protocol.md), and
// the CPU-rate tracker that turns cumulative cgroup CPU time into "used CPU
// shares" (1024 = one core busy) over the last heartbeat period.
// Pure functions; CpuRate is not thread-safe (the daemon loop owns it).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "supervisor/supervisor.h"
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

nlohmann::json DaemonHeartbeat(const HostInfo& host, int64_t now_ms, Resources total, Resources available,
                               const std::vector<ServiceView>& services);
nlohmann::json ServiceHeartbeat(const HostInfo& host, int64_t now_ms, const ServiceView& svc,
                                const ServiceUsageView& usage);

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

}  // namespace sp
