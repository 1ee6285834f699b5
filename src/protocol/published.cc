// Heartbeats and log messages (see published.h).
#include "protocol/published.h"

#include "protocol/envelope.h"
#include "protocol/fields.h"
#include "protocol/service_messages.h"

namespace sp::protocol {

std::string EncodeDaemonHeartbeat(const DaemonHeartbeat& h) {
  nlohmann::json services = nlohmann::json::array();
  for (const ServiceSummary& s : h.services) services.push_back({{"name", s.name}, {"state", s.state}});
  return Serialize({{"kind", "daemon"},
                    {"version", h.version},
                    {"alias", h.alias},
                    {"uri", h.uri},
                    {"time", h.time},
                    {"timeMs", h.time_ms},
                    {"intervalMs", h.interval_ms},
                    {"cpuShares", {{"total", h.cpu_total}, {"available", h.cpu_available}}},
                    {"memory", {{"total", h.memory_total}, {"available", h.memory_available}}},
                    {"services", services}});
}

Result<DaemonHeartbeat> DecodeDaemonHeartbeat(std::string_view data) {
  SP_ASSIGN_OR_RETURN(nlohmann::json j, ParseMessage(data, "daemon heartbeat"));
  DaemonHeartbeat h;
  FieldReader f(j, "daemon heartbeat", FieldReader::Mode::kLenient);
  f.Str("version", &h.version);
  f.Str("alias", &h.alias);
  f.Str("uri", &h.uri);
  f.Str("time", &h.time);
  f.Int("timeMs", &h.time_ms);
  f.Int("intervalMs", &h.interval_ms);
  f.Object("cpuShares", [&](FieldReader& c) {
    c.Int("total", &h.cpu_total);
    c.Int("available", &h.cpu_available);
  });
  f.Object("memory", [&](FieldReader& m) {
    m.Int("total", &h.memory_total);
    m.Int("available", &h.memory_available);
  });
  f.Objects("services", [&](FieldReader& s) {
    ServiceSummary sum;
    s.Str("name", &sum.name);
    s.Str("state", &sum.state);
    h.services.push_back(std::move(sum));
  });
  SP_RETURN_IF_ERROR(f.status());
  return h;
}

std::string EncodeServiceHeartbeat(const ServiceHeartbeat& h) {
  return Serialize({{"kind", "service"},
                    {"name", h.name},
                    {"host", h.host},
                    {"time", h.time},
                    {"timeMs", h.time_ms},
                    {"intervalMs", h.interval_ms},
                    {"state", h.state},
                    {"pid", h.pid},
                    {"restarts", h.restarts},
                    {"cpuShares", h.cpu_shares},
                    {"memory", h.memory_mib},
                    {"usedCpuShares", h.used_cpu_shares},
                    {"usedMemory", h.used_memory_mib},
                    {"image", h.image},
                    {"ports", PortsToJson(h.ports)}});
}

Result<ServiceHeartbeat> DecodeServiceHeartbeat(std::string_view data) {
  SP_ASSIGN_OR_RETURN(nlohmann::json j, ParseMessage(data, "service heartbeat"));
  ServiceHeartbeat h;
  FieldReader f(j, "service heartbeat", FieldReader::Mode::kLenient);
  f.Str("name", &h.name);
  f.Str("host", &h.host);
  f.Str("time", &h.time);
  f.Int("timeMs", &h.time_ms);
  f.Int("intervalMs", &h.interval_ms);
  f.Str("state", &h.state);
  f.Int("pid", &h.pid);
  f.Int("restarts", &h.restarts);
  f.Int("cpuShares", &h.cpu_shares);
  f.Int("memory", &h.memory_mib);
  f.Num("usedCpuShares", &h.used_cpu_shares);
  f.Num("usedMemory", &h.used_memory_mib);
  f.Str("image", &h.image);
  ReadPorts(f, "ports", &h.ports);
  SP_RETURN_IF_ERROR(f.status());
  return h;
}

std::string EncodeLogMessage(const LogMessage& m) {
  nlohmann::json entries = nlohmann::json::array();
  for (const LogLine& l : m.entries) entries.push_back({{"time", l.time}, {"stream", l.stream}, {"text", l.text}});
  return Serialize({{"service", m.service}, {"entries", entries}});
}

Result<LogMessage> DecodeLogMessage(std::string_view data) {
  SP_ASSIGN_OR_RETURN(nlohmann::json j, ParseMessage(data, "log message"));
  if (!j.contains("entries")) return Err(Status::InvalidArgument("log message: missing \"entries\""));
  LogMessage m;
  FieldReader f(j, "log message", FieldReader::Mode::kLenient);
  f.Str("service", &m.service);
  f.Objects("entries", [&](FieldReader& e) {
    LogLine l;
    e.Str("time", &l.time);
    e.Str("stream", &l.stream);
    e.Str("text", &l.text);
    m.entries.push_back(std::move(l));
  });
  SP_RETURN_IF_ERROR(f.status());
  return m;
}

}  // namespace sp::protocol
