// Text and JSON rendering for spawnctl scan and inspect.
#include "cli/format.h"

#include <cstdio>
#include <ctime>

#include "cli/progress_view.h"
#include "protocol/service_messages.h"
#include "util/clock.h"
#include "util/duration.h"

namespace sp::cli {
namespace {

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string ShortDigest(const std::string& d) {
  return d.rfind("sha256:", 0) == 0 && d.size() >= 19 ? d.substr(7, 12) : d;
}

std::string Ago(int64_t then_ms, int64_t now_ms) {
  if (then_ms <= 0) return "never seen";
  return "seen " + FormatWhen(then_ms) + " (" + FormatDuration(Millis(now_ms - then_ms)) + ") ago";
}

void HostHeader(std::string& out, const HostStatus& h, int64_t now_ms) {
  if (!h.problem.empty()) {
    out += "[" + h.alias + "] at " + h.uri + ": " + h.problem + "\n";
    return;
  }
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
                      {"image", s.image.empty() ? nlohmann::json() : nlohmann::json(s.image)},
                      {"ports", protocol::PortsToJson(s.ports)}});
    }
    nlohmann::json host = {{"alias", h.alias},
                   {"uri", h.uri},
                   {"version", h.version},
                   {"lastSeen", Rfc3339Millis(h.last_seen_ms)},
                   {"up", h.up},
                   {"heartbeatIntervalMs", h.interval_ms},
                   {"cpuShares", {{"total", h.cpu_total}, {"available", h.cpu_available}}},
                   {"memory", {{"total", h.memory_total}, {"available", h.memory_available}}},
                   {"services", svcs}};
    if (!h.problem.empty()) host["problem"] = h.problem;
    arr.push_back(std::move(host));
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

std::string InspectText(const ServiceDescription& d) {
  std::string out = d.name + ": " + d.state + "\n";
  out += "  pid: " + std::to_string(d.pid) + "  instance: " + std::to_string(d.instance) +
         "  restarts: " + std::to_string(d.restarts) + "\n";
  if (!d.address.empty()) out += "  address: " + d.address + "\n";
  out += "  image: " + d.image.reference;
  if (!d.image.digest.empty()) out += " (" + d.image.digest + ")";
  out += "\n";
  if (!d.ports.empty()) {
    out += "  ports:";
    for (const ServicePort& p : d.ports)
      out += " " + std::to_string(p.host_port) + "->" + std::to_string(p.container_port) + "/" + p.protocol;
    out += "\n";
  }
  out += "  reserved: " + std::to_string(d.cpu_shares) + " CPU shares, " + std::to_string(d.memory_mib) + " MiB\n";
  out += "  used: ~" + Fixed(d.used_cpu_shares) + " CPU shares, " + Fixed(d.used_memory_mib) + " MiB\n";
  if (d.last_exit) {
    out += "  last exit: code " + std::to_string(d.last_exit->code);
    if (d.last_exit->signal != 0) out += ", signal " + std::to_string(d.last_exit->signal);
    if (d.last_exit->oom_killed) out += ", killed: out of memory";
    out += "\n";
  }
  if (d.events && !d.events->empty()) {
    out += "  events:\n";
    for (const ServiceEvent& ev : *d.events) out += "    " + ev.time + "  " + ev.kind + "  " + ev.message + "\n";
  }
  return out;
}

std::string ImagesText(const ImageList& list) {
  std::string out = Pad("REFERENCE", 44) + Pad("DIGEST", 14) + Pad("SIZE", 10) + Pad("ON DISK", 10) +
                    Pad("PULLED", 22) + "USED BY\n";
  for (const ImageDescription& img : list.images) {
    std::string used;
    for (const std::string& u : img.used_by) used += (used.empty() ? "" : ",") + u;
    out += Pad(img.reference, 43) + " " + Pad(ShortDigest(img.digest), 14) + Pad(FormatBytes(img.size), 10) +
           Pad(FormatBytes(img.disk_size), 10) + Pad(img.pulled_at, 22) + (used.empty() ? "-" : used) + "\n";
  }
  return out + "total on disk: " + FormatBytes(list.disk_size);
}

std::string PruneText(const PruneReport& r) {
  std::string out;
  for (const std::string& ref : r.images) out += "removed " + ref + "\n";
  return out + "removed " + std::to_string(r.blobs) + " blobs and " + std::to_string(r.layers) + " layers, freed " +
         FormatBytes(r.bytes);
}

}  // namespace sp::cli
