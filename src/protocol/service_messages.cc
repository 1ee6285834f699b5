// Service descriptions and stop results (see service_messages.h).
#include "protocol/service_messages.h"

#include "protocol/fields.h"

namespace sp::protocol {
namespace {

nlohmann::json ImageJson(const ServiceImage& img) {
  if (img.digest.empty() && img.manifest.empty()) return {{"reference", img.reference}};
  return {{"reference", img.reference}, {"digest", img.digest}, {"manifest", img.manifest}};
}

nlohmann::json ExitJson(const std::optional<ExitDescription>& e) {
  if (!e) return nullptr;
  return {{"code", e->code}, {"signal", e->signal}, {"oomKilled", e->oom_killed}, {"at", e->at}};
}

nlohmann::json EventsJson(const std::vector<ServiceEvent>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const ServiceEvent& e : events) out.push_back({{"time", e.time}, {"kind", e.kind}, {"message", e.message}});
  return out;
}

void ReadLastExit(FieldReader& f, std::optional<ExitDescription>* out) {
  f.Object("lastExit", [&](FieldReader& e) {
    ExitDescription x;
    e.Int("code", &x.code);
    e.Int("signal", &x.signal);
    e.Bool("oomKilled", &x.oom_killed);
    e.Str("at", &x.at);
    *out = x;
  });
}

void ReadEvents(FieldReader& f, std::optional<std::vector<ServiceEvent>>* out) {
  if (!f.Has("events")) return;  // only inspect sends them; present but empty is kept as empty
  std::vector<ServiceEvent> events;
  f.Objects("events", [&](FieldReader& e) {
    ServiceEvent ev;
    e.Str("time", &ev.time);
    e.Str("kind", &ev.kind);
    e.Str("message", &ev.message);
    events.push_back(std::move(ev));
  });
  *out = std::move(events);
}

}  // namespace

nlohmann::json PortsToJson(const std::vector<ServicePort>& ports) {
  nlohmann::json mappings = nlohmann::json::array();
  for (const ServicePort& p : ports)
    mappings.push_back({{"hostPort", p.host_port}, {"containerPort", p.container_port}, {"protocol", p.protocol}});
  return mappings;
}

void ReadPorts(FieldReader& f, const char* key, std::vector<ServicePort>* out) {
  f.Objects(key, [&](FieldReader& p) {
    ServicePort port;
    p.Int("hostPort", &port.host_port);
    p.Int("containerPort", &port.container_port);
    p.Str("protocol", &port.protocol);
    out->push_back(std::move(port));
  });
}

nlohmann::json ToJson(const ServiceDescription& d) {
  nlohmann::json j = {{"name", d.name},
                      {"host", d.host},
                      {"state", d.state},
                      {"pid", d.pid},
                      {"monitorPid", d.monitor_pid},
                      {"instance", d.instance},
                      {"restarts", d.restarts},
                      {"address", d.address},
                      {"image", ImageJson(d.image)},
                      {"ports", PortsToJson(d.ports)},
                      {"cpuShares", d.cpu_shares},
                      {"memory", d.memory_mib},
                      {"usedCpuShares", d.used_cpu_shares},
                      {"usedMemory", d.used_memory_mib},
                      {"autoRestart", d.auto_restart},
                      {"cgroupsPath", d.cgroups_path},
                      {"createdAt", d.created_at},
                      {"startedAt", d.started_at},
                      {"lastExit", ExitJson(d.last_exit)}};
  if (d.next_start_at) j["nextStartAt"] = *d.next_start_at;
  if (d.events) j["events"] = EventsJson(*d.events);
  return j;
}

Result<ServiceDescription> DecodeServiceDescription(const nlohmann::json& j) {
  ServiceDescription d;
  FieldReader f(j, "service description");
  f.Str("name", &d.name);
  f.Str("host", &d.host);
  f.Str("state", &d.state);
  f.Int("pid", &d.pid);
  f.Int("monitorPid", &d.monitor_pid);
  f.Int("instance", &d.instance);
  f.Int("restarts", &d.restarts);
  f.Str("address", &d.address);
  f.Object("image", [&](FieldReader& i) {
    i.Str("reference", &d.image.reference);
    i.Str("digest", &d.image.digest);
    i.Str("manifest", &d.image.manifest);
  });
  ReadPorts(f, "ports", &d.ports);
  f.Int("cpuShares", &d.cpu_shares);
  f.Int("memory", &d.memory_mib);
  f.Num("usedCpuShares", &d.used_cpu_shares);
  f.Num("usedMemory", &d.used_memory_mib);
  f.Bool("autoRestart", &d.auto_restart);
  f.Str("cgroupsPath", &d.cgroups_path);
  f.Str("createdAt", &d.created_at);
  f.Str("startedAt", &d.started_at);
  f.OptStr("nextStartAt", &d.next_start_at);
  ReadLastExit(f, &d.last_exit);
  ReadEvents(f, &d.events);
  SP_RETURN_IF_ERROR(f.status());
  return d;
}

nlohmann::json ToJson(const StopResult& r) { return {{"name", r.name}, {"state", r.state}}; }

Result<StopResult> DecodeStopResult(const nlohmann::json& j) {
  StopResult r;
  FieldReader f(j, "stop result");
  f.Str("name", &r.name);
  f.Str("state", &r.state);
  SP_RETURN_IF_ERROR(f.status());
  return r;
}

}  // namespace sp::protocol

