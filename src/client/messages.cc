// What scan and tail make of what daemons publish: heartbeats (kept as last
// values by the router) grouped into hosts, and log messages split into
// entries. Decoding is src/protocol's (published.h): lenient per field, and
// what is not a message at all is skipped, never trusted.
#include <algorithm>
#include <map>

#include "protocol/published.h"
#include "spawnpoint/client.h"
#include "uri/uri.h"

namespace sp {
namespace {

constexpr std::string_view kDaemonTail = "/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat";
constexpr std::string_view kServiceMarker = "/s.spawnpoint/";
constexpr std::string_view kServiceTail = "/i.spawnable/signal/heartbeat";

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

void AddDaemon(HostStatus& h, const Result<DaemonHeartbeat>& hb, int64_t now_ms) {
  if (!hb) {
    h.problem = hb.error().message();
    return;
  }
  h.version = hb->version;
  h.last_seen_ms = hb->time_ms;
  h.interval_ms = hb->interval_ms;
  h.up = Fresh(h.last_seen_ms, h.interval_ms, now_ms);
  h.cpu_total = hb->cpu_total;
  h.cpu_available = hb->cpu_available;
  h.memory_total = hb->memory_total;
  h.memory_available = hb->memory_available;
}

std::optional<ServiceStatus> ParseService(const std::string& name, std::string_view payload, int64_t now_ms) {
  auto hb = protocol::DecodeServiceHeartbeat(payload);
  if (!hb) return std::nullopt;
  ServiceStatus s;
  s.name = name;
  s.state = hb->state;
  s.last_seen_ms = hb->time_ms;
  s.up = Fresh(s.last_seen_ms, hb->interval_ms, now_ms);
  s.cpu_shares = hb->cpu_shares;
  s.memory_mib = hb->memory_mib;
  s.used_cpu_shares = hb->used_cpu_shares;
  s.used_memory_mib = hb->used_memory_mib;
  s.restarts = hb->restarts;
  s.image = hb->image;
  s.ports = hb->ports;
  return s;
}

}  // namespace

std::vector<HostStatus> AssembleHosts(const std::vector<std::pair<std::string, std::string>>& heartbeats,
                                      int64_t now_ms) {
  std::map<std::string, HostStatus> hosts;
  for (const auto& [subject, payload] : heartbeats) {
    auto uri = SubjectToUri(subject);
    if (!uri) continue;
    if (EndsWith(*uri, kDaemonTail)) {
      auto hb = protocol::DecodeDaemonHeartbeat(payload);
      if (!hb && hb.error().code() != Code::kUnimplemented) continue;  // garbage: no host; newer: said why
      AddDaemon(HostFor(hosts, uri->substr(0, uri->size() - kDaemonTail.size())), hb, now_ms);
    } else if (EndsWith(*uri, kServiceTail)) {
      std::string head = uri->substr(0, uri->size() - kServiceTail.size());
      auto pos = head.rfind(kServiceMarker);
      if (pos == std::string::npos) continue;
      std::string name = head.substr(pos + kServiceMarker.size());
      if (name.empty() || name.find('/') != std::string::npos || name == "daemon") continue;
      auto service = ParseService(name, payload, now_ms);
      if (service) HostFor(hosts, head.substr(0, pos)).services.push_back(std::move(*service));
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
  auto m = protocol::DecodeLogMessage(data);
  if (!m) {
    if (m.error().code() == Code::kUnimplemented) out.push_back({"", "", "spawnd", m.error().message()});
    return out;
  }
  for (LogLine& l : m->entries) out.push_back({m->service, std::move(l.time), std::move(l.stream), std::move(l.text)});
  return out;
}

}  // namespace sp
