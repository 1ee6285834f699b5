// spawnd: start-up phases, bus handlers, heartbeats and the event loop.
#include "daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <climits>
#include <chrono>
#include <random>

#include "auth/creds.h"
#include "auth/delegation.h"
#include "bus/protocol.h"
#include "daemon/identity.h"
#include "daemon/progress_publisher.h"
#include "util/base64.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr Millis kHeartbeatKeep{7LL * 24 * 3600 * 1000};
constexpr int kWorkers = 8;
constexpr int64_t kLogMessagesKept = 1000;  // per service: batches of lines, for tails that reconnect
constexpr Millis kLogKeep{24LL * 3600 * 1000};

void Log(const std::string& line) {
  std::string out = Rfc3339Millis(WallClockMs()) + " spawnd: " + line + "\n";
  (void)!::write(2, out.data(), out.size());
}

Permissions FullPermissions() {
  Permissions p;  // empty allow lists: the router applies no restriction (the namespace owner)
  p.allow_responses = false;
  return p;
}

// Requests come from clients, whose replies go to an inbox. A message without
// a reply, or with a reply into the JetStream API ("$JS.ACK..." from a
// consumer someone pointed at a slot), is not a request: it is ignored.
bool IsClientRequest(const BusMessage& m) { return !m.reply.empty() && m.reply[0] != '$'; }

// The port of the first router URL if it names this host's loopback, else 0.
int LoopbackRouterPort(const std::string& urls) {
  std::string url = urls.substr(0, urls.find(','));
  auto scheme = url.find("://");
  std::string hostport = scheme == std::string::npos ? url : url.substr(scheme + 3);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) return 0;
  std::string host = hostport.substr(0, colon);
  bool loopback = host == "localhost" || host.rfind("127.", 0) == 0;
  return loopback ? std::atoi(hostport.c_str() + colon + 1) : 0;
}

std::string RandomHex(int bytes) {
  std::random_device rd;
  std::string out;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < bytes; ++i) {
    unsigned v = rd() & 0xff;
    out += hex[v >> 4];
    out += hex[v & 15];
  }
  return out;
}

}  // namespace

void BlockDaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

DaemonPaths::DaemonPaths(const std::string& s)
    : state(s),
      auth(JoinPath(s, "auth")),
      router(JoinPath(s, "router")),
      services(JoinPath(s, "services")),
      volumes(JoinPath(s, "volumes")),
      netns(JoinPath(s, "netns")),
      cni(JoinPath(s, "cni")),
      runc(JoinPath(s, "runc")),
      images(JoinPath(s, "images")),
      db(JoinPath(s, "spawnd.db")),
      lock(JoinPath(s, "spawnd.lock")),
      client_json(JoinPath(s, "client.json")) {}

Daemon::Daemon(DaemonConfig cfg, std::string monitor_binary)
    : cfg_(std::move(cfg)), paths_(cfg_.state_dir), monitor_binary_(std::move(monitor_binary)), uris_(cfg_.path) {
  host_info_ = {kVersion, uris_.Alias(), cfg_.path, cfg_.heartbeat_interval.count()};
  service_slot_prefix_ = UriToSubject(cfg_.path + "/s.spawnpoint") + ".";
}

Daemon::~Daemon() {
  subs_.clear();  // no new requests (waits for handlers running now)
  work_.reset();  // finish requests in flight before the supervisor goes
  if (host_) host_->StopWatching();  // no exit reports into a supervisor being destroyed
  supervisor_.reset();
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
      {"host and supervisor", &Daemon::CreateHostAndSupervisor},
      {"subscribe", &Daemon::Subscribe},
  };
  for (const Phase& p : phases) {
    auto t0 = std::chrono::steady_clock::now();
    Status st = (d.get()->*p.run)();
    if (!st.ok()) return Err(st.Annotate(p.name));
    auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count();
    Log(std::string(p.name) + ": ok (" + std::to_string(ms) + " ms)");
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

Status Daemon::CreateHostAndSupervisor() {
  // A random id names this daemon's cgroups (/spawnpoint/<id>/<service>) so two daemons never collide.
  std::string id_file = JoinPath(paths_.state, "daemon.id");
  std::optional<std::string> id;
  if (auto text = ReadFileCapped(id_file, 64); text && !text->empty()) id = *text;
  if (!id) {
    id = RandomHex(6);
    SP_RETURN_IF_ERROR(WriteFileAtomic(id_file, *id, 0644));
  }
  LinuxHostOptions ho;
  ho.services_dir = paths_.services;
  ho.volumes_dir = paths_.volumes;
  ho.netns_dir = paths_.netns;
  ho.daemon_id = *id;
  ho.monitor_binary = monitor_binary_;
  ho.init_binary = JoinPath(monitor_binary_.substr(0, monitor_binary_.rfind('/')), "spawn-init");
  ho.runtime.binary = cfg_.runtime;
  ho.runtime.root = paths_.runc;
  ho.network.bridge = cfg_.bridge_name;
  ho.network.subnet = cfg_.bridge_subnet;
  ho.network.ipam_dir = paths_.cni;
  ho.base_uri = cfg_.path;
  ho.log_max_bytes = cfg_.log_max_bytes;
  ho.log_max_files = cfg_.log_max_files;
  if (ns_) {
    ho.mint_service_creds = [this](const std::string& service) {
      std::lock_guard<std::mutex> lock(ns_mu_);
      return MintServiceCreds(*ns_, cfg_.path, service);
    };
  } else if (!cfg_.signer.empty()) {
    SP_ASSIGN_OR_RETURN(Delegation signer, ReadDelegation(cfg_.signer));
    ho.mint_service_creds = [this, signer](const std::string& service) {
      return MintDelegatedServiceCreds(signer, cfg_.path, service);
    };
  }
  // Services reach a router on this host's loopback through the bridge gateway (DNAT).
  int loopback_port = router_ ? router_->port() : LoopbackRouterPort(cfg_.router);
  if (loopback_port > 0) {
    BridgeNetwork probe(ho.network);
    SP_RETURN_IF_ERROR(probe.Validate());
    ho.service_router_url = "nats://" + probe.gateway() + ":" + std::to_string(loopback_port);
    ho.router_access_port = loopback_port;
  } else {
    ho.service_router_url = cfg_.router;
  }
  SP_ASSIGN_OR_RETURN(images_, ImageStore::Open(paths_.images));
  PullerOptions po;
  po.registry.insecure_registries = cfg_.insecure_registries;
  po.registry.auth_file = cfg_.registry_auth;
  if (po.registry.auth_file.empty()) {
    const char* env = std::getenv("REGISTRY_AUTH_FILE");
    if (env && *env) po.registry.auth_file = env;
  }
  po.allow_local = cfg_.allow_local_sources;
  SP_ASSIGN_OR_RETURN(puller_, ImagePuller::Create(*images_, po));
  ho.images = puller_.get();
  ho.allow_local_sources = cfg_.allow_local_sources;
  SP_ASSIGN_OR_RETURN(host_, LinuxHost::Create(ho));

  shipper_ = std::make_unique<LogShipper>(
      [this](const std::string& svc, const std::string& payload) {
        return bus_->Publish(UriToSubject(uris_.ServiceLog(svc)), payload);
      },
      [this](const std::string& svc, int64_t seg, int64_t off) { (void)store_->SetLogPosition(svc, seg, off); });
  SupervisorOptions so;
  so.enable_host_networking = cfg_.enable_host_networking;
  so.enable_device_mapping = cfg_.enable_device_mapping;
  supervisor_ = std::make_unique<Supervisor>(*host_, *store_, Resources{cfg_.cpu_shares, cfg_.memory_mib}, so, this);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  work_ = std::make_unique<WorkQueue>(kWorkers);
  return supervisor_->Recover();
}

Status Daemon::Subscribe() {
  auto deploy = bus_->Subscribe(UriToSubject(uris_.DaemonConfigSlot()), [this](BusMessage m) {
    work_->Submit([this, m = std::move(m)] { HandleDeploy(m); });
  });
  if (!deploy) return deploy.error();
  subs_.push_back(std::move(*deploy));
  for (const char* kind : {"images", "pull", "prune"}) {
    auto sub = bus_->Subscribe(UriToSubject(uris_.DaemonSlot(kind)), [this](BusMessage m) {
      work_->Submit([this, m = std::move(m)] { HandleDaemonSlot(m); });
    });
    if (!sub) return sub.error();
    subs_.push_back(std::move(*sub));
  }
  // One subscription for the slots of every service: <base>.s%2Espawnpoint.*.i%2Espawnable.slot.*
  std::string pattern = service_slot_prefix_ + "*.i%2Espawnable.slot.*";
  auto slots = bus_->Subscribe(pattern, [this](BusMessage m) {
    work_->Submit([this, m = std::move(m)] { HandleServiceSlot(m); });
  });
  if (!slots) return slots.error();
  subs_.push_back(std::move(*slots));
  SP_RETURN_IF_ERROR(bus_->Flush(Millis(5000)));
  // The router reports a refused subscription asynchronously; the flush's round trip has seen it.
  std::string refused = bus_->LastAsyncError();
  if (refused.find("Permissions Violation for Subscription") != std::string::npos)
    return Status::PermissionDenied("the router refused this daemon's subscriptions (" + refused +
                                    "): its entity's grant does not cover " + cfg_.path +
                                    " (spawnctl grant --daemon " + cfg_.path + ")");
  return Status::Ok();
}

void Daemon::Reply(const BusMessage& msg, const std::string& payload) {
  if (msg.reply.empty()) return;  // a publish without a reply subject gets no answer
  Status st = bus_->Publish(msg.reply, payload);
  if (!st.ok()) Log("reply failed: " + st.message());
}

void Daemon::HandleDeploy(const BusMessage& msg) {
  if (!IsClientRequest(msg)) return;
  auto fail = [&](const Status& st) {
    Log("deploy refused: " + st.message());
    Reply(msg, EncodeReply(st));
  };
  auto body = ParseJsonObject(msg.data, "deploy request");
  if (!body) return fail(body.error());
  auto str = [&](const char* k) {
    return body->contains(k) && (*body)[k].is_string() ? (*body)[k].get<std::string>() : std::string();
  };
  std::string file = str("configFile").empty() ? "deploy.yaml" : str("configFile");
  auto cfg = ParseServiceConfig(str("config"), file, str("name"));
  if (!cfg) return fail(cfg.error());
  auto files = DecodeBase64(str("files"));
  if (!files) return fail(files.error().Annotate("deploy request: files"));
  std::string entity = str("entity");
  if (!entity.empty()) {
    auto creds = ParseCreds(entity);
    if (!creds) return fail(creds.error().Annotate("deploy request: entity"));
  }
  if (cfg->image.empty()) cfg->image = cfg_.default_image.empty() ? "host" : cfg_.default_image;
  const std::string name = cfg->name;
  const std::string progress_subject = UriToSubject(uris_.ServiceProgress(name));
  bool tracking = false;
  ProgressPublisher publisher([this, progress_subject](const std::string& payload) {
    (void)bus_->Publish(progress_subject, payload);
  });
  DeployRequest req{*cfg, str("config"), file, std::move(*files), std::move(entity), nullptr};
  req.progress = [&](const DeployProgress& p) {
    if (p.phase == "building" && !tracking) {
      tracking = true;  // build output is the service's log: ship it from the first line
      shipper_->Track(name, host_->LogDir(name), 0, 0);
    }
    publisher.Update(p);
  };
  auto view = supervisor_->Deploy(std::move(req));
  if (!view) return fail(view.error());
  Log("deployed " + view->name + " (pid " + std::to_string(view->pid) + ")");
  Reply(msg, EncodeReply(Describe(*view, false)));
}

void Daemon::HandleServiceSlot(const BusMessage& msg) {
  if (!IsClientRequest(msg)) return;
  // <prefix><service>.i%2Espawnable.slot.<kind>
  std::string rest = msg.subject.substr(service_slot_prefix_.size());
  auto dot = rest.find('.');
  std::string kind = rest.substr(rest.rfind('.') + 1);
  auto name = SubjectToUri(std::string(kSubjectRoot) + "." + rest.substr(0, dot));  // one segment
  if (!name) return Reply(msg, EncodeReply(Status::InvalidArgument("bad service name in subject")));
  if (kind == "restart") {
    auto v = supervisor_->Restart(*name);
    return Reply(msg, v ? EncodeReply(Describe(*v, false)) : EncodeReply(v.error()));
  }
  if (kind == "stop") {
    Status st = supervisor_->Stop(*name);
    return Reply(msg, st.ok() ? EncodeReply(nlohmann::json{{"name", *name}, {"state", "stopped"}}) : EncodeReply(st));
  }
  if (kind == "inspect") {
    auto v = supervisor_->Get(*name);
    return Reply(msg, v ? EncodeReply(Describe(*v, true)) : EncodeReply(v.error()));
  }
  Reply(msg, EncodeReply(Status::InvalidArgument("unknown slot \"" + kind + "\"")));
}

nlohmann::json Daemon::DescribeImage(const ImageRecord& rec,
                                     const std::map<std::string, std::vector<std::string>>& users) {
  int64_t disk = 0;
  for (const Digest& l : rec.layers) disk += DiskUsage(images_->LayerDir(l));
  auto it = users.find(rec.manifest.str());
  nlohmann::json used = it == users.end() ? nlohmann::json::array() : nlohmann::json(it->second);
  return {{"reference", rec.reference}, {"digest", rec.digest.str()}, {"manifest", rec.manifest.str()},
          {"size", rec.size},           {"diskSize", disk},           {"pulledAt", Rfc3339Millis(rec.pulled_ms)},
          {"usedBy", used}};
}

void Daemon::HandleDaemonSlot(const BusMessage& msg) {
  if (!IsClientRequest(msg)) return;
  std::string kind = msg.subject.substr(msg.subject.rfind('.') + 1);
  if (kind == "images") {
    auto users = host_->ImageUsers();
    nlohmann::json list = nlohmann::json::array();
    for (const ImageRecord& rec : images_->List()) list.push_back(DescribeImage(rec, users));
    return Reply(msg, EncodeReply(nlohmann::json{{"images", list}, {"diskSize", DiskUsage(paths_.images)}}));
  }
  if (kind == "pull") {
    auto body = ParseJsonObject(msg.data, "pull request");
    if (!body) return Reply(msg, EncodeReply(body.error()));
    if (!body->contains("reference") || !(*body)["reference"].is_string())
      return Reply(msg, EncodeReply(Status::InvalidArgument("pull request: missing \"reference\"")));
    std::string ref = (*body)["reference"].get<std::string>();
    const std::string subject = UriToSubject(uris_.DaemonProgress());
    ProgressPublisher publisher([this, subject](const std::string& payload) { (void)bus_->Publish(subject, payload); });
    auto no_prune = images_->GuardPull();
    auto pulled = puller_->Pull(ref, "always", [&](const PullSnapshot& s) {
      publisher.Update(DeployProgress{"", s.phase, ref, s.message, WallClockMs(), s.layers});
    });
    if (!pulled) {
      Log("pull " + ref + " failed: " + pulled.error().message());
      return Reply(msg, EncodeReply(pulled.error().Annotate("pull " + ref)));
    }
    Log("pulled " + pulled->record.reference + " (" + pulled->record.digest.str() + ")");
    return Reply(msg, EncodeReply(DescribeImage(pulled->record, host_->ImageUsers())));
  }
  if (kind == "prune") {
    auto report = images_->Prune([this] {
      std::set<std::string> in_use;
      for (const auto& [manifest, names] : host_->ImageUsers()) in_use.insert(manifest);
      return in_use;
    });
    if (!report) return Reply(msg, EncodeReply(report.error().Annotate("prune")));
    Log("pruned " + std::to_string(report->images.size()) + " images, " + std::to_string(report->layers) +
        " layers, " + std::to_string(report->blobs) + " blobs");
    return Reply(msg, EncodeReply(nlohmann::json{{"images", report->images},
                                                 {"blobs", report->blobs},
                                                 {"layers", report->layers},
                                                 {"bytes", report->bytes}}));
  }
  Reply(msg, EncodeReply(Status::InvalidArgument("unknown slot \"" + kind + "\"")));
}

nlohmann::json Daemon::Describe(const ServiceView& v, bool with_events) {
  nlohmann::json j = {{"name", v.name},
                      {"host", cfg_.path},
                      {"state", ServiceStateName(v.state)},
                      {"pid", v.pid},
                      {"monitorPid", v.monitor_pid},
                      {"instance", v.instance},
                      {"restarts", v.restarts},
                      {"address", v.address},
                      {"cpuShares", v.reserved.cpu_shares},
                      {"memory", v.reserved.memory_mib},
                      {"autoRestart", v.auto_restart},
                      {"cgroupsPath", host_->CgroupsPath(v.name)},
                      {"createdAt", Rfc3339Millis(v.created_ms)},
                      {"startedAt", Rfc3339Millis(v.started_ms)},
                      {"lastExit", nullptr}};
  if (v.state == ServiceState::kBackoff) j["nextStartAt"] = Rfc3339Millis(v.next_start_ms);
  if (auto img = host_->ImageOf(v.name)) {
    j["image"] = {{"reference", img->reference}, {"digest", img->digest.str()}, {"manifest", img->manifest.str()}};
  } else {
    j["image"] = {{"reference", "host"}};
  }
  j["ports"] = PortMappingsJson(host_->PortsOf(v.name));
  if (v.last_exit) {
    j["lastExit"] = {{"code", v.last_exit->code},
                     {"signal", v.last_exit->signal},
                     {"oomKilled", v.last_exit->oom_killed},
                     {"at", Rfc3339Millis(v.last_exit_ms)}};
  }
  double used_cpu = 0, used_mem = 0;
  if (v.pid) {
    if (auto u = host_->Usage(v.name)) {
      used_mem = static_cast<double>(u->memory_bytes) / (1 << 20);
      std::lock_guard<std::mutex> lock(hb_mu_);
      used_cpu = cpu_rate_.Peek(v.name, u->cpu_usage_ns, WallClockMs(), v.started_ms);
    }
  }
  j["usedCpuShares"] = used_cpu;
  j["usedMemory"] = used_mem;
  if (with_events) {
    nlohmann::json evs = nlohmann::json::array();
    if (auto events = store_->Events(v.name, 20)) {
      for (const auto& e : *events)
        evs.push_back({{"time", Rfc3339Millis(e.at_ms)}, {"kind", e.kind}, {"message", e.message}});
    }
    j["events"] = evs;
  }
  return j;
}

void Daemon::OnEvent(const EventRecord& ev) {
  std::string payload = EncodeLogMessage(ev.service, {{Rfc3339Millis(ev.at_ms), "spawnd", ev.kind + ": " + ev.message}});
  (void)bus_->Publish(UriToSubject(uris_.ServiceLog(ev.service)), payload);
  MarkDirty(ev.service);
}

void Daemon::OnStarted(const std::string& name) {
  auto rec = store_->Get(name);
  int64_t seg = 0, off = 0;
  if (rec && *rec) {
    seg = (*rec)->log_segment;
    off = (*rec)->log_offset;
  }
  shipper_->Track(name, host_->LogDir(name), seg, off);
  MarkDirty(name);
}

void Daemon::OnRemoved(const std::string& name) {
  shipper_->Untrack(name);  // ships the last lines now, before the files go
  {
    std::lock_guard<std::mutex> lock(hb_mu_);
    cpu_rate_.Forget(name);
    dirty_.erase(name);
    daemon_dirty_ = true;
    removed_.push_back(name);  // purged by the loop, after it published this round's heartbeats
  }
  Wake();
}

void Daemon::PurgeRemovedHeartbeats() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(hb_mu_);
    names.swap(removed_);
  }
  for (const auto& n : names) {
    Status st = bus_->PurgeSubject(kHeartbeatStream, UriToSubject(uris_.ServiceHeartbeat(n)));
    if (!st.ok()) Log("could not remove the kept heartbeat of " + n + ": " + st.message());
  }
}

// Restarts whose backoff expired run on the work queue, not on the loop.
void Daemon::StartDueServices(int64_t* next_ms) {
  for (const std::string& name : supervisor_->TakeDueStarts(next_ms))
    work_->Submit([this, name] { supervisor_->StartDue(name); });
}

void Daemon::Wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void Daemon::MarkDirty(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(hb_mu_);
    dirty_.insert(name);
    daemon_dirty_ = true;
  }
  Wake();
}

void Daemon::PublishServiceHeartbeat(const ServiceView& v, int64_t now) {
  ServiceUsageView usage;
  if (v.pid) {
    if (auto u = host_->Usage(v.name)) {
      usage.used_memory_mib = static_cast<double>(u->memory_bytes) / (1 << 20);
      std::lock_guard<std::mutex> lock(hb_mu_);
      usage.used_cpu_shares = cpu_rate_.Update(v.name, u->cpu_usage_ns, now, v.started_ms);
    }
  }
  nlohmann::json hb = ServiceHeartbeat(host_info_, now, v, usage);
  hb["ports"] = PortMappingsJson(host_->PortsOf(v.name));
  auto img = host_->ImageOf(v.name);
  hb["image"] = img ? img->reference : "host";
  (void)bus_->Publish(UriToSubject(uris_.ServiceHeartbeat(v.name)), hb.dump());
}

void Daemon::PublishHeartbeats(bool all) {
  std::set<std::string> dirty;
  bool daemon_due = all;
  {
    std::lock_guard<std::mutex> lock(hb_mu_);
    dirty.swap(dirty_);
    daemon_due = daemon_due || daemon_dirty_;
    daemon_dirty_ = false;
  }
  if (!all && dirty.empty() && !daemon_due) return;
  int64_t now = WallClockMs();
  std::vector<ServiceView> views = supervisor_->List();
  for (const auto& v : views)
    if (all || dirty.count(v.name)) PublishServiceHeartbeat(v, now);
  std::string payload =
      DaemonHeartbeat(host_info_, now, supervisor_->Total(), supervisor_->Available(), views).dump();
  (void)bus_->Publish(UriToSubject(uris_.DaemonHeartbeat()), payload);
}

// SIGHUP: the namespace changed on disk (spawnctl revoke, delegate): reload it
// and make the router apply it (revoked entities are cut off at once).
void Daemon::ReloadIdentities() {
  if (!router_) return;
  auto ns = LoadOrCreateNamespace(paths_.auth);
  if (!ns) {
    Log("reload: " + ns.error().message());
    return;
  }
  std::lock_guard<std::mutex> lock(ns_mu_);
  *ns_ = std::move(*ns);
  Status st = router_->Reload(*ns_);
  Log(st.ok() ? "reload: router reloaded the namespace" : "reload: " + st.message());
}

void Daemon::CheckRouter() {
  if (!router_ || router_->Alive()) return;
  Log("router (nats-server) exited; restarting it on " + router_->url());
  Status st = router_->Restart();
  if (!st.ok()) Log("router restart failed: " + st.message());
}

Status Daemon::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return Status::FromErrno("signalfd", errno);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return Status::FromErrno("epoll", errno);
  for (int fd : {signal_fd_, shipper_->fd(), wake_fd_}) {
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  Log("serving " + cfg_.path + " on " + router_url_);
  auto steady = [] {
    return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  int64_t next_heartbeat = 0, next_housekeeping = 0;
  int64_t next_tick = 0;
  for (;;) {
    int64_t now = steady();
    int64_t wait = std::min({next_heartbeat - now, next_housekeeping - now, next_tick < 0 ? 1000 : next_tick});
    struct epoll_event events[8];
    int n = ::epoll_wait(ep, events, 8, static_cast<int>(std::clamp<int64_t>(wait, 0, 1000)));
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == signal_fd_) {
        struct signalfd_siginfo si;
        if (::read(signal_fd_, &si, sizeof si) != sizeof si) continue;
        if (si.ssi_signo == SIGHUP) {
          ReloadIdentities();
          continue;
        }
        Log("signal " + std::to_string(si.ssi_signo) + ": exiting; services keep running");
        ::close(ep);
        return Status::Ok();
      } else if (fd == shipper_->fd()) {
        shipper_->HandleEvents();
      } else if (fd == wake_fd_) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
      }
    }
    StartDueServices(&next_tick);
    now = steady();
    bool full = now >= next_heartbeat;
    PublishHeartbeats(full);
    PurgeRemovedHeartbeats();
    if (full) next_heartbeat = now + cfg_.heartbeat_interval.count();
    if (now >= next_housekeeping) {
      shipper_->PollAll();
      CheckRouter();
      next_housekeeping = now + 1000;
    }
  }
}

Status Daemon::Decommission() {
  for (const ServiceView& v : supervisor_->List()) {
    Status st = supervisor_->Stop(v.name);
    if (!st.ok()) return st.Annotate("stop " + v.name);
    Log("stopped " + v.name);
  }
  PurgeRemovedHeartbeats();  // no loop runs here to do it
  SP_RETURN_IF_ERROR(host_->Decommission().Annotate("clean up host"));
  return bus_->PurgeSubject(kHeartbeatStream, UriToSubject(uris_.DaemonHeartbeat()));
}

}  // namespace sp
