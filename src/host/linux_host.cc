// LinuxHost: services as runc containers on this machine (see linux_host.h).
// This file: creation, exits, and the small Host methods.
#include "host/linux_host.h"

#include <signal.h>
#include <unistd.h>

#include <random>

#include "host/host_files.h"
#include "host/service_image.h"
#include "monitor/exit_record.h"
#include "net/link.h"
#include "net/netns.h"
#include "net/router_access.h"
#include "runtime/cgroups.h"
#include "runtime/image_rootfs.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sp {

LinuxHost::LinuxHost(LinuxHostOptions opts, OciRuntime runtime)
    : opts_(std::move(opts)), runtime_(std::move(runtime)), network_(opts_.network) {}

Result<std::unique_ptr<LinuxHost>> LinuxHost::Create(LinuxHostOptions opts) {
  SP_ASSIGN_OR_RETURN(OciRuntime rt, OciRuntime::Open(opts.runtime));
  for (const std::string* bin : {&opts.monitor_binary, &opts.init_binary}) {
    if (::access(bin->c_str(), X_OK) != 0) return Err(Status::NotFound("helper program not found: " + *bin));
  }
  std::unique_ptr<LinuxHost> h(new LinuxHost(std::move(opts), std::move(rt)));
  SP_RETURN_IF_ERROR(h->network_.Validate());
  if (h->opts_.router_access_port > 0) {
    // Once, up front: creates the bridge if needed and lets services reach the loopback-only router.
    SP_RETURN_IF_ERROR(EnsureRouterAccess(h->opts_.network.bridge, h->network_.gateway(), h->opts_.router_access_port)
                           .Annotate("router access for services"));
  }
  h->LoadPublishedPorts();
  SP_ASSIGN_OR_RETURN(h->watcher_, ExitWatcher::Start());
  return h;
}

LinuxHost::~LinuxHost() { StopWatching(); }

void LinuxHost::StopWatching() {
  if (watcher_) watcher_->Stop();
}

void LinuxHost::Watch(const std::string& name, int64_t monitor_pid, ExitSink sink) {
  watcher_->Watch(name, monitor_pid, std::move(sink));
}

std::string LinuxHost::ServiceDir(const std::string& name) const { return JoinPath(opts_.services_dir, name); }
std::string LinuxHost::LogDirOf(const std::string& name) const { return JoinPath(ServiceDir(name), "logs"); }
std::string LinuxHost::LogDir(const std::string& name) { return LogDirOf(name); }
std::string LinuxHost::CgroupsPath(const std::string& name) const {
  return "/spawnpoint/" + opts_.daemon_id + "/" + name;
}

int64_t LinuxHost::NowMs() {
  return WallClockMs();
}

double LinuxHost::Random() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool LinuxHost::MonitorAlive(const std::string& name, int64_t monitor_pid) {
  auto cmdline = ReadFileCapped("/proc/" + std::to_string(monitor_pid) + "/cmdline", 1 << 16);
  if (!cmdline) return false;
  std::string params_file = JoinPath(ServiceDir(name), "monitor.json");
  return cmdline->find("spawn-monitor") != std::string::npos && cmdline->find(params_file) != std::string::npos;
}

ExitStatus LinuxHost::CollectExit(const std::string& name) {
  ExitStatus ex;
  auto rec = ReadExitRecord(JoinPath(ServiceDir(name), "exit.json"));
  if (rec) {
    ex.code = rec->exit_code;
    ex.signal = rec->signal;
    ex.oom_killed = rec->oom_killed;
    ex.detail = rec->error;
  } else {
    ex.detail = "its monitor ended without recording an exit status";
  }
  // If the monitor was killed, its container may still run: it must not outlive its record. A
  // monitor that finished deleted the container itself; the runtime (runc and crun alike) then has
  // no state directory for it, and asking it again would cost two runtime starts (~10 ms) on every
  // restart's path.
  if (opts_.runtime.root.empty() || PathExists(JoinPath(opts_.runtime.root, name))) {
    if (auto state = runtime_.State(name); state && state->status != "stopped") {
      (void)runtime_.Kill(name, SIGKILL, true);
    }
    (void)runtime_.Delete(name, true);
  }
  TearDownNetwork(name);
  return ex;
}

Status LinuxHost::Kill(const std::string& name, int signal) { return runtime_.Kill(name, signal, signal == SIGKILL); }

Status LinuxHost::Remove(const std::string& name) {
  SP_RETURN_IF_ERROR(ReleaseImageRootfs(ServiceDir(name)));
  ReleasePorts(name);
  return RemoveAll(ServiceDir(name));
}

ServiceDetails LinuxHost::Details(const std::string& name) {
  ServiceDetails d;
  if (auto rec = ReadServiceImage(ServiceDir(name)); rec && *rec)
    d.image = {(*rec)->reference, (*rec)->digest.str(), (*rec)->manifest.str()};
  d.ports = PortsOf(name);
  d.cgroups_path = CgroupsPath(name);
  return d;
}

Result<ServiceUsage> LinuxHost::Usage(const std::string& name) {
  SP_ASSIGN_OR_RETURN(CgroupUsage u, ReadCgroupUsage(CgroupsPath(name)));
  return ServiceUsage{u.cpu_usage_ns, u.memory_bytes};
}

Status LinuxHost::Decommission() {
  Status first;
  auto keep = [&](Status st) {
    if (first.ok() && !st.ok()) first = st;
  };
  if (opts_.router_access_port > 0)
    keep(RemoveRouterAccess(opts_.network.bridge, network_.gateway(), opts_.router_access_port));
  if (LinkExists(opts_.network.bridge)) keep(DeleteBridge(opts_.network.bridge));
  keep(ReleaseNetnsDir(opts_.netns_dir));
  keep(RemoveCgroup("/spawnpoint/" + opts_.daemon_id));
  return first;
}

}  // namespace sp
