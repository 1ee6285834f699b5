// LinuxHost: services as runc containers on this machine (see linux_host.h).
#include "daemon/linux_host.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include <ftw.h>
#include <nlohmann/json.hpp>
#include <poll.h>

#include "archive/include_archive.h"
#include "daemon/service_image.h"
#include "monitor/cri_log.h"
#include "monitor/log_segments.h"
#include "monitor/exit_record.h"
#include "monitor/launcher.h"
#include "monitor/params.h"
#include "net/link.h"
#include "net/netns.h"
#include "net/router_access.h"
#include "runtime/bundle.h"
#include "runtime/cgroups.h"
#include "runtime/host_rootfs.h"
#include "runtime/image_rootfs.h"
#include "runtime/image_user.h"
#include "source/fetch_source.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr const char* kInitPath = "/.spawnpoint/init";
constexpr const char* kEntityFile = "entity.key";
constexpr Millis kLaunchTimeout{30000};
constexpr int64_t kPidsLimit = 4096;

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

Mount Bind(const std::string& src, const std::string& dst, bool read_only) {
  std::vector<std::string> opts = {"rbind", "nosuid", "nodev"};
  opts.push_back(read_only ? "ro" : "rw");
  return Mount{dst, "bind", src, opts};
}

constexpr const char* kPortsFile = "ports.json";

std::vector<PublishedPort> ToPublished(const std::vector<PortMapping>& ports) {
  std::vector<PublishedPort> out;
  for (const PortMapping& p : ports) out.push_back(PublishedPort{p.host_port, p.container_port, p.protocol});
  return out;
}

// ports.json: the service's published ports (a corrupt file publishes nothing: it is rewritten at
// the next deploy).
std::vector<PublishedPort> ReadPortsFile(const std::string& path) {
  auto text = ReadFileCapped(path, 1 << 20);
  if (!text) return {};
  auto ports = PortMappingsFromJson(nlohmann::json::parse(*text, nullptr, false));
  return ports ? *ports : std::vector<PublishedPort>{};
}

// Gives a tree to the service's user (lchown: links are not followed).
uid_t g_chown_uid;
gid_t g_chown_gid;
int ChownEntry(const char* path, const struct stat*, int, struct FTW*) {
  return ::lchown(path, g_chown_uid, g_chown_gid) == 0 ? 0 : -1;
}
std::mutex g_chown_mu;
Status ChownTree(const std::string& dir, uid_t uid, gid_t gid) {
  std::lock_guard<std::mutex> lock(g_chown_mu);  // nftw's callback has no context argument
  g_chown_uid = uid;
  g_chown_gid = gid;
  if (::nftw(dir.c_str(), ChownEntry, 32, FTW_PHYS | FTW_MOUNT) != 0)
    return Status::FromErrno("give " + dir + " to the image's user", errno);
  return Status::Ok();
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
  if (auto names = ListDir(h->opts_.services_dir)) {  // ports published before a restart stay taken
    for (const std::string& n : *names) {
      auto ports = ReadPortsFile(JoinPath(JoinPath(h->opts_.services_dir, n), kPortsFile));
      if (!ports.empty()) h->ports_[n] = std::move(ports);
    }
  }
  h->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  h->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (h->epoll_fd_ < 0 || h->wake_fd_ < 0) return Err(Status::FromErrno("epoll/eventfd", errno));
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = h->wake_fd_;
  ::epoll_ctl(h->epoll_fd_, EPOLL_CTL_ADD, h->wake_fd_, &ev);
  LinuxHost* raw = h.get();
  h->watcher_ = std::thread([raw] { raw->WatchLoop(); });
  return h;
}

LinuxHost::~LinuxHost() {
  StopWatching();
  for (auto& [fd, w] : watched_) ::close(fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void LinuxHost::StopWatching() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
  if (watcher_.joinable()) watcher_.join();
}

std::string LinuxHost::ServiceDir(const std::string& name) const { return JoinPath(opts_.services_dir, name); }
std::string LinuxHost::LogDir(const std::string& name) const { return JoinPath(ServiceDir(name), "logs"); }
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

Status LinuxHost::Prepare(const std::string& name, const ServiceConfig& cfg, std::string_view files,
                          std::string_view entity, const ProgressSink& progress) {
  std::string dir = ServiceDir(name);
  // A redeploy starts from a clean directory (volumes are elsewhere); an earlier image root goes first.
  SP_RETURN_IF_ERROR(ReleaseImageRootfs(dir));
  ReleasePorts(name);
  SP_RETURN_IF_ERROR(RemoveAll(dir));
  std::string data = JoinPath(dir, "data");
  SP_RETURN_IF_ERROR(MakeDirs(data, 0755));
  SP_RETURN_IF_ERROR(MakeDirs(LogDir(name), 0700));
  for (const std::string& v : cfg.volumes) SP_RETURN_IF_ERROR(MakeDirs(JoinPath(opts_.volumes_dir, v), 0755));
  std::optional<PulledImage> image;
  SP_RETURN_IF_ERROR(PullImage(name, cfg, progress, &image));
  SP_RETURN_IF_ERROR(ReservePorts(name, cfg, image ? &image->config : nullptr));
  auto report = [&](const std::string& phase, const std::string& message) {
    if (progress) progress(DeployProgress{name, phase, cfg.image, message, WallClockMs(), {}});
  };
  if (!cfg.source.empty()) {
    report("cloning", "cloning " + cfg.source);
    SourceOptions so;
    so.allow_local = opts_.allow_local_sources;
    so.timeout = opts_.source_timeout;
    SP_RETURN_IF_ERROR(FetchSource(cfg.source, data, so, [&](std::string_view line) {
                         report("cloning", std::string(line));
                       }).Annotate("source"));
  }
  if (!files.empty()) SP_RETURN_IF_ERROR(UnpackIncludes(files, data).Annotate("included files"));
  // The entity goes in last, so an included file of the same name cannot replace it.
  std::string creds(entity);
  if (creds.empty() && opts_.mint_service_creds) {
    SP_ASSIGN_OR_RETURN(creds, opts_.mint_service_creds(name));
  }
  if (!creds.empty()) {
    std::string path = JoinPath(data, kEntityFile);
    ::unlink(path.c_str());  // whatever an archive put there (even a symlink) is replaced, never followed
    SP_RETURN_IF_ERROR(WriteFileAtomic(path, creds, 0600).Annotate("service entity"));
  }
  if (image) {
    // /srv/spawnpoint belongs to the user the image runs as, so the service can write there.
    auto mounted = PrepareImageRootfs(dir, name, image->layer_dirs);
    if (!mounted) return mounted.error();
    SP_ASSIGN_OR_RETURN(ProcessUser user, ResolveImageUser(JoinPath(dir, "rootfs"), image->config.user));
    if (user.uid != 0 || user.gid != 0) SP_RETURN_IF_ERROR(ChownTree(data, user.uid, user.gid));
  }
  if (!cfg.build.empty()) SP_RETURN_IF_ERROR(RunBuild(name, cfg, progress));
  return Status::Ok();
}

Status LinuxHost::PullImage(const std::string& name, const ServiceConfig& cfg, const ProgressSink& progress,
                            std::optional<PulledImage>* pulled) {
  if (cfg.image.empty() || cfg.image == "host") return Status::Ok();
  if (!opts_.images) return Status::Unimplemented("this daemon has no image store; use image: host");
  auto on_pull = [&](const PullSnapshot& snap) {
    if (progress) progress(DeployProgress{name, snap.phase, cfg.image, snap.message, WallClockMs(), snap.layers});
  };
  auto no_prune = opts_.images->store().GuardPull();  // until image.json marks the image as used
  SP_ASSIGN_OR_RETURN(PulledImage img, opts_.images->Pull(cfg.image, cfg.pull_policy, on_pull));
  SP_RETURN_IF_ERROR(WriteServiceImage(ServiceDir(name), img.record).Annotate("image record"));
  *pulled = std::move(img);
  return Status::Ok();
}

Status LinuxHost::ReservePorts(const std::string& name, const ServiceConfig& cfg, const ImageConfig* image) {
  std::vector<PublishedPort> wanted = ToPublished(WantedPorts(cfg, image));
  if (wanted.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(ports_mu_);
  std::set<std::pair<int, std::string>> taken;
  for (const auto& [other, ports] : ports_) {
    if (other == name) continue;
    for (const PublishedPort& p : ports) taken.insert({p.host_port, p.protocol});
  }
  auto resolved = ResolvePorts(wanted, taken);
  if (!resolved) return resolved.error().Annotate("ports");
  SP_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(ServiceDir(name), kPortsFile), PortMappingsJson(*resolved).dump(), 0600));
  ports_[name] = std::move(*resolved);
  return Status::Ok();
}

void LinuxHost::ReleasePorts(const std::string& name) {
  std::lock_guard<std::mutex> lock(ports_mu_);
  ports_.erase(name);
}

std::vector<PublishedPort> LinuxHost::PortsOf(const std::string& name) const {
  std::lock_guard<std::mutex> lock(ports_mu_);
  auto it = ports_.find(name);
  return it == ports_.end() ? std::vector<PublishedPort>{} : it->second;
}

std::optional<ImageRecord> LinuxHost::ImageOf(const std::string& name) const {
  auto rec = ReadServiceImage(ServiceDir(name));
  return rec ? *rec : std::nullopt;
}

std::map<std::string, std::vector<std::string>> LinuxHost::ImageUsers() const {
  std::map<std::string, std::vector<std::string>> users;
  auto names = ListDir(opts_.services_dir);
  if (!names) return users;
  for (const std::string& n : *names) {
    auto rec = ReadServiceImage(ServiceDir(n));
    if (rec && *rec) users[(*rec)->manifest.str()].push_back(n);
  }
  return users;
}

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
  auto segments = ListSegments(LogDir(name));
  if (!segments || segments->empty()) return "";
  auto text = ReadFileCapped(SegmentPath(LogDir(name), segments->back()), 64 << 20);
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

Result<Launched> LinuxHost::Launch(const std::string& name, const ServiceConfig& cfg, int64_t instance) {
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
  p.log_dir = LogDir(name);
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

void LinuxHost::Watch(const std::string& name, int64_t monitor_pid, ExitSink sink) {
  int fd = PidfdOpen(static_cast<pid_t>(monitor_pid));
  int err = errno;
  std::lock_guard<std::mutex> lock(mu_);
  Watched w{name, monitor_pid, std::move(sink)};
  if (fd >= 0) {
    watched_[fd] = std::move(w);
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    return;
  }
  // Reports always come from the watcher thread, never from the caller's (which holds locks).
  if (err == ESRCH) {
    exited_.push_back(std::move(w));  // already gone
  } else {
    polled_.push_back(std::move(w));  // out of descriptors or memory: fall back to polling
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void LinuxHost::WatchLoop() {
  for (;;) {
    struct epoll_event events[16];
    bool polling;
    {
      std::lock_guard<std::mutex> lock(mu_);
      polling = !polled_.empty();
    }
    int n = ::epoll_wait(epoll_fd_, events, 16, polling ? 1000 : -1);
    if (n < 0 && errno == EINTR) continue;
    std::vector<Watched> report;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_fd_) {
          uint64_t v;
          (void)!::read(wake_fd_, &v, sizeof v);
          continue;
        }
        auto it = watched_.find(fd);
        if (it == watched_.end()) continue;
        report.push_back(std::move(it->second));
        watched_.erase(it);
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
      }
      for (auto& w : exited_) report.push_back(std::move(w));
      exited_.clear();
      for (auto it = polled_.begin(); it != polled_.end();) {
        if (::kill(static_cast<pid_t>(it->pid), 0) != 0 && errno == ESRCH) {
          report.push_back(std::move(*it));
          it = polled_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Watched& w : report) w.sink(w.name, w.pid);
  }
}

// After a failed launch: a monitor left running (e.g. a launch that timed out) must not outlive it.
void LinuxHost::KillOrphanedMonitor(const std::string& name) {
  auto text = ReadFileCapped(JoinPath(ServiceDir(name), "monitor.pid"), 64);
  if (!text) return;
  int64_t pid = std::atoll(text->c_str());
  if (pid > 0 && MonitorAlive(name, pid)) ::kill(static_cast<pid_t>(pid), SIGKILL);
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

Result<ServiceUsage> LinuxHost::Usage(const std::string& name) {
  SP_ASSIGN_OR_RETURN(CgroupUsage u, ReadCgroupUsage(CgroupsPath(name)));
  return ServiceUsage{u.cpu_usage_ns, u.memory_bytes};
}

}  // namespace sp

namespace sp {

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
