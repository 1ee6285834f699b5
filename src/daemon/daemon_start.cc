// spawnd's start-up: the phases Daemon::Start runs in order (see daemon.h).
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <unistd.h>

#include <climits>
#include <chrono>

#include "auth/delegation.h"
#include "daemon/daemon.h"
#include "daemon/daemon_log.h"
#include "daemon/host_setup.h"
#include "daemon/identity.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr Millis kHeartbeatKeep{7LL * 24 * 3600 * 1000};
constexpr int kWorkers = 8;
constexpr int64_t kLogMessagesKept = 1000;  // per service: batches of lines, for tails that reconnect
constexpr Millis kLogKeep{24LL * 3600 * 1000};

Permissions FullPermissions() {
  Permissions p;  // empty allow lists: the router applies no restriction (the namespace owner)
  p.allow_responses = false;
  return p;
}

}  // namespace

Daemon::Daemon(DaemonConfig cfg, std::string monitor_binary)
    : cfg_(std::move(cfg)), paths_(cfg_.state_dir), monitor_binary_(std::move(monitor_binary)), uris_(cfg_.path) {
  host_info_ = {kVersion, uris_.Alias(), cfg_.path, cfg_.heartbeat_interval.count()};
}

Daemon::~Daemon() {
  subs_.clear();  // no new requests (waits for handlers running now)
  work_.reset();  // finish requests in flight before the supervisor goes
  if (host_) host_->StopWatching();  // no exit reports into a supervisor being destroyed
  slots_.reset();
  heartbeats_.reset();
  supervisor_.reset();
  describer_.reset();
  usage_.reset();
  host_.reset();
  shipper_.reset();
  bus_.reset();
  router_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<Daemon>> Daemon::Start(DaemonConfig cfg, std::string monitor_binary) {
  // One canonical path: runc refuses a rootfs reached through a symlink, and re-adoption
  // recognises monitors by the exact paths on their command lines.
  SP_RETURN_IF_ERROR(MakeDirs(cfg.state_dir, 0711).Annotate("state directory"));
  char real[PATH_MAX];
  if (!::realpath(cfg.state_dir.c_str(), real)) return Err(Status::FromErrno("realpath " + cfg.state_dir, errno));
  cfg.state_dir = real;
  std::unique_ptr<Daemon> d(new Daemon(std::move(cfg), std::move(monitor_binary)));
  struct Phase {
    const char* name;
    Status (Daemon::*run)();
  };
  const Phase phases[] = {
      {"lock state directory", &Daemon::LockStateDir},
      {"open state database", &Daemon::OpenStore},
      {"identity and router", &Daemon::StartRouterAndIdentity},
      {"connect to router", &Daemon::ConnectBus},
      {"write client info", &Daemon::WriteClientInfo},
      {"host", &Daemon::CreateHost},
      {"supervisor", &Daemon::CreateSupervisor},
      {"subscribe", &Daemon::Subscribe},
  };
  for (const Phase& p : phases) {
    auto t0 = std::chrono::steady_clock::now();
    Status st = (d.get()->*p.run)();
    if (!st.ok()) return Err(st.Annotate(p.name));
    auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count();
    DaemonLog(std::string(p.name) + ": ok (" + std::to_string(ms) + " ms)");
  }
  return d;
}

Status Daemon::LockStateDir() {
  for (const std::string& dir : {paths_.state, paths_.services, paths_.volumes, paths_.netns, paths_.cni, paths_.runc})
    SP_RETURN_IF_ERROR(MakeDirs(dir, 0711));
  lock_fd_ = ::open(paths_.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return Status::FromErrno("open " + paths_.lock, errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    auto pid = ReadFileCapped(paths_.lock, 64);
    return Status::FailedPrecondition("another spawnd is running with state directory " + paths_.state +
                                      (pid && !pid->empty() ? " (pid " + *pid + ")" : ""));
  }
  std::string pid = std::to_string(::getpid());
  (void)!::ftruncate(lock_fd_, 0);
  (void)!::pwrite(lock_fd_, pid.data(), pid.size(), 0);
  return Status::Ok();
}

Status Daemon::OpenStore() {
  SP_ASSIGN_OR_RETURN(store_, Store::Open(paths_.db));
  return Status::Ok();
}

Status Daemon::StartRouterAndIdentity() {
  if (!cfg_.router.empty()) {
    router_url_ = cfg_.router;
    return Status::Ok();
  }
  SP_RETURN_IF_ERROR(MakeDirs(paths_.auth, 0700));
  SP_ASSIGN_OR_RETURN(Namespace ns, LoadOrCreateNamespace(paths_.auth));
  ns_ = std::make_unique<Namespace>(std::move(ns));
  // The daemon's own entity may do only what a daemon needs; minted afresh at every start.
  SP_ASSIGN_OR_RETURN(std::string daemon_creds, MintDaemonCreds(*ns_, cfg_.path));
  SP_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(paths_.auth, "daemon.creds"), daemon_creds, 0600));
  SP_RETURN_IF_ERROR(EnsureUserCreds(*ns_, JoinPath(paths_.auth, "admin.creds"), "admin", FullPermissions()));
  RouterOptions ro;
  ro.dir = paths_.router;
  ro.listen = cfg_.router_listen;
  SP_ASSIGN_OR_RETURN(router_, EmbeddedRouter::Start(ro, *ns_));
  router_url_ = router_->url();
  return Status::Ok();
}

Status Daemon::ConnectBus() {
  BusOptions o;
  o.url = router_url_;
  o.creds_file = cfg_.router.empty() ? JoinPath(paths_.auth, "daemon.creds") : cfg_.entity;
  o.name = "spawnd " + cfg_.path;
  o.reconnect_forever = true;
  SP_ASSIGN_OR_RETURN(o.inbox_prefix, InboxPrefixOfCreds(o.creds_file));
  SP_ASSIGN_OR_RETURN(bus_, Bus::Connect(o));
  SP_RETURN_IF_ERROR(bus_->Flush(Millis(10000)));
  StreamSpec hb{std::string(kHeartbeatStream), HeartbeatStreamSubjects(), 1, kHeartbeatKeep, false, true};
  SP_RETURN_IF_ERROR(bus_->EnsureStream(hb));
  StreamSpec logs{std::string(kLogStream), LogStreamSubjects(), kLogMessagesKept, kLogKeep, false, true};
  return bus_->EnsureStream(logs);
}

Status Daemon::WriteClientInfo() {
  nlohmann::json j = {{"router", router_url_}, {"uri", cfg_.path}};
  if (cfg_.router.empty()) j["creds"] = JoinPath(paths_.auth, "admin.creds");
  return WriteFileAtomic(paths_.client_json, j.dump(2) + "\n", 0644);
}

Result<std::function<Result<std::string>(const std::string&)>> Daemon::ServiceCredsMinter() {
  using Minter = std::function<Result<std::string>(const std::string&)>;
  if (ns_) {
    return Minter([this](const std::string& service) {
      std::lock_guard<std::mutex> lock(ns_mu_);
      return MintServiceCreds(*ns_, cfg_.path, service);
    });
  }
  if (cfg_.signer.empty()) return Minter();
  SP_ASSIGN_OR_RETURN(Delegation signer, ReadDelegation(cfg_.signer));
  return Minter([this, signer](const std::string& service) {
    return MintDelegatedServiceCreds(signer, cfg_.path, service);
  });
}

Status Daemon::CreateHost() {
  SP_ASSIGN_OR_RETURN(std::string id, LoadOrCreateDaemonId(paths_));
  SP_ASSIGN_OR_RETURN(LinuxHostOptions ho,
                      LinuxHostOptionsFor(cfg_, paths_, id, monitor_binary_, router_ ? router_->port() : 0));
  SP_ASSIGN_OR_RETURN(ho.mint_service_creds, ServiceCredsMinter());
  SP_ASSIGN_OR_RETURN(images_, ImageStore::Open(paths_.images));
  SP_ASSIGN_OR_RETURN(puller_, ImagePuller::Create(*images_, PullerOptionsFor(cfg_)));
  ho.images = puller_.get();
  SP_ASSIGN_OR_RETURN(host_, LinuxHost::Create(ho));
  return Status::Ok();
}

Status Daemon::CreateSupervisor() {
  shipper_ = std::make_unique<LogShipper>(
      [this](const std::string& svc, const std::string& payload) {
        return bus_->Publish(UriToSubject(uris_.ServiceLog(svc)), payload);
      },
      [this](const std::string& svc, int64_t seg, int64_t off) { (void)store_->SetLogPosition(svc, seg, off); });
  SupervisorOptions so;
  so.enable_host_networking = cfg_.enable_host_networking;
  so.enable_device_mapping = cfg_.enable_device_mapping;
  usage_ = std::make_unique<UsageMeter>(*host_);
  describer_ = std::make_unique<Describer>(cfg_.path, *host_, *store_, *usage_, *images_);
  supervisor_ = std::make_unique<Supervisor>(*host_, *store_, Resources{cfg_.cpu_shares, cfg_.memory_mib}, so, this);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  heartbeats_ = std::make_unique<HeartbeatPublisher>(host_info_, *bus_, *supervisor_, *host_, *usage_, [this] { Wake(); });
  work_ = std::make_unique<WorkQueue>(kWorkers);
  return supervisor_->Recover();
}

Status Daemon::Subscribe() {
  slots_ = std::make_unique<Slots>(SlotDeps{cfg_, *bus_, *supervisor_, *host_, *images_, *puller_, *shipper_, *describer_});
  return slots_->Subscribe(*work_, &subs_);
}

}  // namespace sp
