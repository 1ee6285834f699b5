// LinuxHost, starting containers: the OCI spec of a service (root, mounts,
// process, environment, resources), its network namespace on the bridge, the
// bundle and the spawn-monitor that runs it; and build steps, each run to
// completion in the service's own container. See linux_host.h.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include <poll.h>

#include "host/exit_watcher.h"
#include "host/host_files.h"
#include "host/linux_host.h"
#include "host/service_image.h"
#include "monitor/cri_log.h"
#include "monitor/launcher.h"
#include "monitor/log_segments.h"
#include "monitor/params.h"
#include "net/netns.h"
#include "runtime/host_rootfs.h"
#include "runtime/image_rootfs.h"
#include "runtime/image_user.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr const char* kInitPath = "/.spawnpoint/init";
constexpr Millis kLaunchTimeout{30000};
constexpr int64_t kPidsLimit = 4096;

Mount Bind(const std::string& src, const std::string& dst, bool read_only) {
  std::vector<std::string> opts = {"rbind", "nosuid", "nodev"};
  opts.push_back(read_only ? "ro" : "rw");
  return Mount{dst, "bind", src, opts};
}

// Waits until process `pid` (not our child) has exited; false if `timeout` passed first.
bool WaitForExit(pid_t pid, Millis timeout) {
  auto gone = [pid] { return ::kill(pid, 0) != 0 && errno == ESRCH; };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int fd = PidfdOpen(pid);  // -1 if it is already gone (or no descriptor): then poll kill(0)
  bool exited = false;
  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (fd >= 0) {
      struct pollfd p {fd, POLLIN, 0};
      exited = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30))) > 0;
    } else {
      exited = gone();
      if (!exited) ::usleep(50000);
    }
  }
  if (fd >= 0) ::close(fd);
  return exited || gone();
}

}  // namespace

Status LinuxHost::RunBuild(const std::string& name, const ServiceConfig& cfg, const ProgressSink& progress) {
  const size_t n = cfg.build.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& step = cfg.build[i];
    std::string what = "build step " + std::to_string(i + 1) + "/" + std::to_string(n) + " (" + step + ")";
    if (progress) progress(DeployProgress{name, "building", cfg.image, what, WallClockMs(), {}});
    SP_ASSIGN_OR_RETURN(ExitStatus ex, RunToCompletion(name, cfg, {"/bin/sh", "-c", step}));
    if (ex.code == 0 && ex.signal == 0) continue;
    std::string how = ex.oom_killed ? "was killed: out of memory"
                      : ex.signal   ? "was killed by signal " + std::to_string(ex.signal)
                                    : "exited with code " + std::to_string(ex.code);
    if (!ex.detail.empty()) how += " (" + ex.detail + ")";
    std::string tail = LastLogLines(name, 20);
    return Status::FailedPrecondition(what + " " + how + (tail.empty() ? "" : "; its last output:\n" + tail));
  }
  return Status::Ok();
}

Result<ExitStatus> LinuxHost::RunToCompletion(const std::string& name, const ServiceConfig& cfg,
                                              const std::vector<std::string>& command) {
  SP_ASSIGN_OR_RETURN(ContainerSpec spec, BuildSpec(name, cfg, &command));
  spec.cwd = "/srv/spawnpoint";  // where the source is
  SP_ASSIGN_OR_RETURN(Launched launched, StartContainer(name, cfg, std::move(spec)));
  if (!WaitForExit(static_cast<pid_t>(launched.monitor_pid), opts_.build_timeout)) {
    (void)runtime_.Kill(name, SIGKILL, true);  // the monitor records the exit and ends
    if (!WaitForExit(static_cast<pid_t>(launched.monitor_pid), Millis(30000))) KillOrphanedMonitor(name);
    ExitStatus ex = CollectExit(name);
    ex.detail = "stopped: it ran longer than " + FormatDuration(opts_.build_timeout);
    return ex;
  }
  return CollectExit(name);
}

std::string LinuxHost::LastLogLines(const std::string& name, size_t n) const {
  auto segments = ListSegments(LogDirOf(name));
  if (!segments || segments->empty()) return "";
  auto text = ReadFileCapped(SegmentPath(LogDirOf(name), segments->back()), 64 << 20);
  if (!text) return "";
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    auto rec = ParseCriRecord(std::string_view(*text).substr(start, end - start));
    if (rec) lines.push_back(rec->text);
    start = end + 1;
  }
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  std::string out;
  for (const std::string& l : lines) out += "    " + l + "\n";
  if (!out.empty()) out.pop_back();
  return out;
}

Result<std::vector<std::string>> LinuxHost::ContainerEnv(const std::string& name, const ServiceConfig& cfg,
                                                         const ImageConfig* image) const {
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", "/srv/spawnpoint"},
  };
  if (image) MergeImageEnv(*image, env);
  for (const auto& [k, v] : cfg.env) env[k] = v;
  // Spawnpoint's own variables win over the service's.
  env["SPAWNPOINT_SERVICE"] = name;
  env["SPAWNPOINT_HOST_URI"] = opts_.base_uri;
  env["SPAWNPOINT_URI"] = opts_.base_uri + "/s.spawnpoint/" + name + "/i.spawnable";
  if (!opts_.service_router_url.empty()) env["SPAWNPOINT_ROUTER"] = opts_.service_router_url;
  if (PathExists(JoinPath(JoinPath(ServiceDir(name), "data"), kEntityFile))) {
    env["SPAWNPOINT_ENTITY"] = std::string("/srv/spawnpoint/") + kEntityFile;
    env["BW2_DEFAULT_ENTITY"] = env["SPAWNPOINT_ENTITY"];  // the seed's name for it
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

Status LinuxHost::SetUpNetwork(const std::string& name, const ServiceConfig& cfg, std::string* netns,
                               std::string* address) {
  if (cfg.use_host_net) return Status::Ok();
  SP_ASSIGN_OR_RETURN(*netns, CreateNetns(opts_.netns_dir, name));
  auto attached = network_.Attach(name, *netns, PortsOf(name));
  if (!attached) {
    (void)DeleteNetns(*netns);
    return attached.error().Annotate("network");
  }
  *address = attached->address;
  return Status::Ok();
}

void LinuxHost::TearDownNetwork(const std::string& name) {
  std::string netns = JoinPath(opts_.netns_dir, name);
  (void)network_.Detach(name, netns);
  (void)DeleteNetns(netns);
}

Result<Launched> LinuxHost::Launch(const std::string& name, const ServiceConfig& cfg) {
  SP_ASSIGN_OR_RETURN(ContainerSpec spec, BuildSpec(name, cfg, nullptr));
  return StartContainer(name, cfg, std::move(spec));
}

Result<ContainerSpec> LinuxHost::BuildSpec(const std::string& name, const ServiceConfig& cfg,
                                           const std::vector<std::string>* command) {
  std::string dir = ServiceDir(name);
  SP_ASSIGN_OR_RETURN(std::optional<ImageRecord> record, ReadServiceImage(dir));
  std::optional<PulledImage> image;
  if (record) {
    if (!opts_.images) return Err(Status::Unimplemented("this daemon has no image store"));
    SP_ASSIGN_OR_RETURN(image, opts_.images->Load(*record));
  }
  ContainerSpec spec;
  spec.id = name;
  spec.hostname = name;
  std::vector<std::string> argv;
  if (command) {
    argv = *command;
  } else if (image) {
    SP_ASSIGN_OR_RETURN(argv, ImageCommand(image->config, cfg));
  } else {
    argv = cfg.run;
  }
  spec.args = {kInitPath};
  spec.args.insert(spec.args.end(), argv.begin(), argv.end());
  SP_ASSIGN_OR_RETURN(spec.env, ContainerEnv(name, cfg, image ? &image->config : nullptr));
  spec.rootfs = JoinPath(dir, "rootfs");
  if (image) {
    SP_ASSIGN_OR_RETURN(spec.mounts, PrepareImageRootfs(dir, name, image->layer_dirs));
    spec.readonly_root = false;  // the overlay's upper directory holds the service's changes
    SP_ASSIGN_OR_RETURN(ProcessUser user, ResolveImageUser(spec.rootfs, image->config.user));
    spec.uid = user.uid;
    spec.gid = user.gid;
    spec.additional_gids = user.additional_gids;
    if (!image->config.working_dir.empty()) spec.cwd = image->config.working_dir;
  } else {
    SP_ASSIGN_OR_RETURN(spec.mounts, PrepareHostRootfs(dir, name));
  }
  spec.mounts.push_back(Bind(JoinPath(dir, "data"), "/srv/spawnpoint", false));
  for (const std::string& v : cfg.volumes) spec.mounts.push_back(Bind(JoinPath(opts_.volumes_dir, v), "/srv/" + v, false));
  spec.mounts.push_back(Bind(opts_.init_binary, kInitPath, true));
  spec.cpu_shares = cfg.cpu_shares;
  spec.memory_bytes = cfg.memory_mib << 20;
  spec.pids_limit = kPidsLimit;
  spec.cgroups_path = CgroupsPath(name);
  spec.host_network = cfg.use_host_net;
  spec.devices = cfg.devices;
  return spec;
}

Result<Launched> LinuxHost::StartContainer(const std::string& name, const ServiceConfig& cfg, ContainerSpec spec) {
  std::string dir = ServiceDir(name);
  std::string bundle = JoinPath(dir, "bundle");
  SP_RETURN_IF_ERROR(RemoveAll(bundle));
  SP_RETURN_IF_ERROR(MakeDirs(bundle, 0700));
  ::unlink(JoinPath(dir, "exit.json").c_str());

  std::string address;
  SP_RETURN_IF_ERROR(SetUpNetwork(name, cfg, &spec.netns_path, &address));
  auto fail = [&](Status st) -> Result<Launched> {
    KillOrphanedMonitor(name);
    (void)runtime_.Delete(name, true);
    TearDownNetwork(name);
    return Err(st);
  };
  Status st = WriteBundle(bundle, spec);
  if (!st.ok()) return fail(st);

  MonitorParams p;
  p.id = name;
  p.bundle = bundle;
  p.runtime_binary = runtime_.binary_path();
  p.runtime_root = opts_.runtime.root;
  p.cgroups_path = spec.cgroups_path;
  p.log_dir = LogDirOf(name);
  p.log_max_bytes = opts_.log_max_bytes;
  p.log_max_files = opts_.log_max_files;
  p.exit_file = JoinPath(dir, "exit.json");
  p.pid_file = JoinPath(dir, "container.pid");
  std::string params_file = JoinPath(dir, "monitor.json");
  st = WriteMonitorParams(params_file, p);
  if (!st.ok()) return fail(st);
  auto launched = LaunchMonitor(opts_.monitor_binary, params_file, kLaunchTimeout);
  if (!launched) return fail(launched.error().Annotate("start container"));
  return Launched{launched->monitor_pid, launched->container_pid, address};
}

// After a failed launch: a monitor left running (e.g. a launch that timed out) must not outlive it.
void LinuxHost::KillOrphanedMonitor(const std::string& name) {
  auto text = ReadFileCapped(JoinPath(ServiceDir(name), "monitor.pid"), 64);
  if (!text) return;
  int64_t pid = std::atoll(text->c_str());
  if (pid > 0 && MonitorAlive(name, pid)) ::kill(static_cast<pid_t>(pid), SIGKILL);
}

}  // namespace sp
