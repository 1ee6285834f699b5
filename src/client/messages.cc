// Decoding of what daemons publish: heartbeats (kept as last values by the
// router) and log messages. Both come from the network, so every field is
// checked and anything malformed is skipped, never trusted.
#include <algorithm>
#include <map>

#include "spawnpoint/client.h"
#include "uri/uri.h"

namespace sp {
namespace {

constexpr std::string_view kDaemonTail = "/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat";
constexpr std::string_view kServiceMarker = "/s.spawnpoint/";
constexpr std::string_view kServiceTail = "/i.spawnable/signal/heartbeat";

int64_t Int(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_number_integer() ? j[k].get<int64_t>() : 0;
}
double Num(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0;
}
std::string Str(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
}
bool Fresh(int64_t last_ms, int64_t interval_ms, int64_t now_ms) {
  if (interval_ms <= 0 || last_ms <= 0) return false;
  return static_cast<double>(now_ms - last_ms) <= kDownAfterPeriods * static_cast<double>(interval_ms);
}
bool EndsWith(std::string_view s, std::string_view t) {
  return s.size() >= t.size() && s.substr(s.size() - t.size()) == t;
}

HostStatus& HostFor(std::map<std::string, HostStatus>& hosts, const std::string& base) {
  HostStatus& h = hosts[base];
  if (h.uri.empty()) {
    h.uri = base;
    h.alias = SpawnpointUris(base).Alias();
  }
  return h;
}

void AddDaemon(HostStatus& h, const nlohmann::json& j, int64_t now_ms) {
  h.version = Str(j, "version");
  h.last_seen_ms = Int(j, "timeMs");
  h.interval_ms = Int(j, "intervalMs");
  h.up = Fresh(h.last_seen_ms, h.interval_ms, now_ms);
  if (j.contains("cpuShares") && j["cpuShares"].is_object()) {
    h.cpu_total = Int(j["cpuShares"], "total");
    h.cpu_available = Int(j["cpuShares"], "available");
  }
  if (j.contains("memory") && j["memory"].is_object()) {
    h.memory_total = Int(j["memory"], "total");
    h.memory_available = Int(j["memory"], "available");
  }
}

ServiceStatus ParseService(const std::string& name, const nlohmann::json& j, int64_t now_ms) {
  ServiceStatus s;
  s.name = name;
  s.state = Str(j, "state");
  s.last_seen_ms = Int(j, "timeMs");
  s.up = Fresh(s.last_seen_ms, Int(j, "intervalMs"), now_ms);
  s.cpu_shares = Int(j, "cpuShares");
  s.memory_mib = Int(j, "memory");
  s.used_cpu_shares = Num(j, "usedCpuShares");
  s.used_memory_mib = Num(j, "usedMemory");
  s.restarts = Int(j, "restarts");
  s.raw = j;
  return s;
}

}  // namespace

std::vector<HostStatus> AssembleHosts(const std::vector<std::pair<std::string, std::string>>& heartbeats,
                                      int64_t now_ms) {
  std::map<std::string, HostStatus> hosts;
  for (const auto& [subject, payload] : heartbeats) {
    auto uri = SubjectToUri(subject);
    if (!uri) continue;
    auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (EndsWith(*uri, kDaemonTail)) {
      AddDaemon(HostFor(hosts, uri->substr(0, uri->size() - kDaemonTail.size())), j, now_ms);
    } else if (EndsWith(*uri, kServiceTail)) {
      std::string head = uri->substr(0, uri->size() - kServiceTail.size());
      auto pos = head.rfind(kServiceMarker);
      if (pos == std::string::npos) continue;
      std::string name = head.substr(pos + kServiceMarker.size());
      if (name.empty() || name.find('/') != std::string::npos || name == "daemon") continue;
      HostFor(hosts, head.substr(0, pos)).services.push_back(ParseService(name, j, now_ms));
    }
  }
  std::vector<HostStatus> out;
  for (auto& [base, h] : hosts) {
    std::sort(h.services.begin(), h.services.end(),
              [](const ServiceStatus& a, const ServiceStatus& b) { return a.name < b.name; });
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<LogEntry> ParseLogMessage(std::string_view data) {
  std::vector<LogEntry> out;
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("entries") || !j["entries"].is_array()) return out;
  std::string service = Str(j, "service");
  for (const auto& e : j["entries"]) {
    if (!e.is_object()) continue;
    out.push_back({service, Str(e, "time"), Str(e, "stream"), Str(e, "text")});
  }
  return out;
}

}  // namespace sp
