// Service and image descriptions (see describe.h).
#include "daemon/describe.h"

#include "util/clock.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr int kEventsShown = 20;

std::vector<ServiceEvent> RecentEvents(Store& store, const std::string& name) {
  std::vector<ServiceEvent> out;
  if (auto events = store.Events(name, kEventsShown)) {
    for (const auto& e : *events) out.push_back({Rfc3339Millis(e.at_ms), e.kind, e.message});
  }
  return out;
}

}  // namespace

ServiceDescription Describer::Describe(const ServiceView& v, bool with_events) {
  ServiceDetails details = host_.Details(v.name);
  ServiceDescription d;
  d.name = v.name;
  d.host = host_uri_;
  d.state = ServiceStateName(v.state);
  d.pid = v.pid;
  d.monitor_pid = v.monitor_pid;
  d.instance = v.instance;
  d.restarts = v.restarts;
  d.address = v.address;
  d.image = details.image;
  d.ports = details.ports;
  d.cpu_shares = v.reserved.cpu_shares;
  d.memory_mib = v.reserved.memory_mib;
  ServiceUsageView used = usage_.Measure(v, WallClockMs(), /*record=*/false);
  d.used_cpu_shares = used.used_cpu_shares;
  d.used_memory_mib = used.used_memory_mib;
  d.auto_restart = v.auto_restart;
  d.cgroups_path = details.cgroups_path;
  d.created_at = Rfc3339Millis(v.created_ms);
  d.started_at = Rfc3339Millis(v.started_ms);
  if (v.state == ServiceState::kBackoff) d.next_start_at = Rfc3339Millis(v.next_start_ms);
  if (v.last_exit) {
    d.last_exit = ExitDescription{v.last_exit->code, v.last_exit->signal, v.last_exit->oom_killed,
                                  Rfc3339Millis(v.last_exit_ms)};
  }
  if (with_events) d.events = RecentEvents(store_, v.name);
  return d;
}

ImageDescription Describer::DescribeImage(const ImageRecord& rec,
                                          const std::map<std::string, std::vector<std::string>>& users) {
  int64_t disk = 0;
  for (const Digest& l : rec.layers) disk += DiskUsage(images_.LayerDir(l));
  auto it = users.find(rec.manifest.str());
  return {rec.reference, rec.digest.str(), rec.manifest.str(), rec.size, disk, Rfc3339Millis(rec.pulled_ms),
          it == users.end() ? std::vector<std::string>{} : it->second};
}

ImageList Describer::ListImages() {
  auto users = host_.ImageUsers();
  ImageList list;
  for (const ImageRecord& rec : images_.List()) list.images.push_back(DescribeImage(rec, users));
  list.disk_size = DiskUsage(images_.dir());
  return list;
}

}  // namespace sp
