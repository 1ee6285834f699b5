// Text and JSON rendering for spawnctl scan and inspect.
#include "cli/format.h"

#include <cstdio>
#include <ctime>

#include "util/clock.h"
#include "util/duration.h"

namespace sp::cli {
namespace {

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string Ago(int64_t then_ms, int64_t now_ms) {
  if (then_ms <= 0) return "never seen";
  return "seen " + FormatWhen(then_ms) + " (" + FormatDuration(Millis(now_ms - then_ms)) + ") ago";
}

void HostHeader(std::string& out, const HostStatus& h, int64_t now_ms) {
  out += "[" + h.alias + "] " + Ago(h.last_seen_ms, now_ms) + " at " + h.uri + (h.up ? "" : " (DOWN)") + "\n";
  out += "Available CPU Shares: " + std::to_string(h.cpu_available) + "/" + std::to_string(h.cpu_total) + "\n";
  out += "Available Memory: " + std::to_string(h.memory_available) + "/" + std::to_string(h.memory_total) + "\n";
  out += std::to_string(h.services.size()) + " Running Service(s)\n";
}

}  // namespace

std::string FormatWhen(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%d %b %y %H:%M %Z", &tm);
  return buf;
}

nlohmann::json ScanJson(const std::vector<HostStatus>& hosts) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& h : hosts) {
    nlohmann::json svcs = nlohmann::json::array();
    for (const auto& s : h.services) {
      svcs.push_back({{"name", s.name},
                      {"state", s.state},
                      {"up", s.up},
                      {"lastSeen", Rfc3339Millis(s.last_seen_ms)},
                      {"cpuShares", s.cpu_shares},
                      {"memory", s.memory_mib},
                      {"usedCpuShares", s.used_cpu_shares},
                      {"usedMemory", s.used_memory_mib},
                      {"restarts", s.restarts},
                      {"image", s.raw.is_object() && s.raw.contains("image") ? s.raw["image"] : nlohmann::json()},
                      {"ports", s.raw.is_object() && s.raw.contains("ports") && s.raw["ports"].is_array()
                                    ? s.raw["ports"]
                                    : nlohmann::json::array()}});
    }
    arr.push_back({{"alias", h.alias},
                   {"uri", h.uri},
                   {"version", h.version},
                   {"lastSeen", Rfc3339Millis(h.last_seen_ms)},
                   {"up", h.up},
                   {"heartbeatIntervalMs", h.interval_ms},
                   {"cpuShares", {{"total", h.cpu_total}, {"available", h.cpu_available}}},
                   {"memory", {{"total", h.memory_total}, {"available", h.memory_available}}},
                   {"services", svcs}});
  }
  return {{"hosts", arr}};
}

std::string ScanText(const std::vector<HostStatus>& hosts, int64_t now_ms) {
  std::string out;
  if (hosts.size() != 1) out += "Discovered " + std::to_string(hosts.size()) + " Spawnpoint(s)\n";
  for (const auto& h : hosts) {
    HostHeader(out, h, now_ms);
    for (const auto& s : h.services) {
      if (hosts.size() != 1) {
        out += "  • " + s.name + (s.up ? "" : " (DOWN)") + "\n";
        continue;
      }
      out += "• [" + s.name + "] " + Ago(s.last_seen_ms, now_ms) + "." + (s.up ? "" : " (DOWN)") + " State: " +
             s.state + "\n";
      out += "  CPU: ~" + Fixed(s.used_cpu_shares) + "/" + std::to_string(s.cpu_shares) + " Shares. Memory: " +
             Fixed(s.used_memory_mib) + "/" + std::to_string(s.memory_mib) + " MiB\n";
    }
  }
  return out;
}

// Replies come from the network: read every field type-checked.
std::string InspectText(const nlohmann::json& j) {
  auto field = [](const nlohmann::json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
  };
  auto str = [&](const char* k) { return field(j, k); };
  auto num = [&](const nlohmann::json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_number() ? o[k].get<double>() : 0.0;
  };
  auto flag = [](const nlohmann::json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_boolean() && o[k].get<bool>();
  };
  std::string out = str("name") + ": " + str("state") + "\n";
  out += "  pid: " + std::to_string(static_cast<int64_t>(num(j, "pid"))) + "  instance: " +
         std::to_string(static_cast<int64_t>(num(j, "instance"))) +
         "  restarts: " + std::to_string(static_cast<int64_t>(num(j, "restarts"))) + "\n";
  if (!str("address").empty()) out += "  address: " + str("address") + "\n";
  if (j.contains("image") && j["image"].is_object()) {
    const auto& img = j["image"];
    out += "  image: " + field(img, "reference");
    if (!field(img, "digest").empty()) out += " (" + field(img, "digest") + ")";
    out += "\n";
  }
  if (j.contains("ports") && j["ports"].is_array() && !j["ports"].empty()) {
    out += "  ports:";
    for (const auto& p : j["ports"]) {
      out += " " + std::to_string(static_cast<int64_t>(num(p, "hostPort"))) + "->" +
             std::to_string(static_cast<int64_t>(num(p, "containerPort"))) + "/" + field(p, "protocol");
    }
    out += "\n";
  }
  out += "  reserved: " + std::to_string(static_cast<int64_t>(num(j, "cpuShares"))) + " CPU shares, " +
         std::to_string(static_cast<int64_t>(num(j, "memory"))) + " MiB\n";
  out += "  used: ~" + Fixed(num(j, "usedCpuShares")) + " CPU shares, " + Fixed(num(j, "usedMemory")) + " MiB\n";
  if (j.contains("lastExit") && j["lastExit"].is_object()) {
    const auto& e = j["lastExit"];
    out += "  last exit: code " + std::to_string(static_cast<int64_t>(num(e, "code")));
    if (num(e, "signal") != 0) out += ", signal " + std::to_string(static_cast<int64_t>(num(e, "signal")));
    if (flag(e, "oomKilled")) out += ", killed: out of memory";
    out += "\n";
  }
  if (j.contains("events") && j["events"].is_array() && !j["events"].empty()) {
    out += "  events:\n";
    for (const auto& ev : j["events"]) {
      if (!ev.is_object()) continue;
      out += "    " + field(ev, "time") + "  " + field(ev, "kind") + "  " + field(ev, "message") + "\n";
    }
  }
  return out;
}

}  // namespace sp::cli
