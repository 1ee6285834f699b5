// Client: spawnctl's operations as a library. Requests go to the slots of
// the Spawnpoint URI hierarchy, encoded and decoded by src/protocol.
#include "spawnpoint/client.h"

#include <algorithm>
#include <atomic>
#include <memory>

#include "bus/bus.h"
#include "auth/creds.h"
#include "auth/grant.h"
#include "config/service_config.h"
#include "protocol/envelope.h"
#include "protocol/image_messages.h"
#include "protocol/requests.h"
#include "protocol/service_messages.h"
#include "uri/uri.h"
#include "util/clock.h"

namespace sp {

Client::Client(std::unique_ptr<Bus> bus) : bus_(std::move(bus)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const Endpoint& ep) {
  BusOptions o;
  o.url = ep.router;
  o.creds_file = ep.creds;
  o.name = "spawnctl";
  std::vector<std::string> pub_allow;
  if (!ep.creds.empty()) {
    auto creds = ReadCredsFile(ep.creds);
    if (!creds) return Err(creds.error().Annotate("entity " + ep.creds));
    o.inbox_prefix = InboxPrefix(creds->key.PublicKey());  // the only inbox this entity may read
    pub_allow = EffectivePubAllow(creds->claims);
  }
  SP_ASSIGN_OR_RETURN(auto bus, Bus::Connect(o));
  std::unique_ptr<Client> c(new Client(std::move(bus)));
  c->pub_allow_ = std::move(pub_allow);
  return c;
}

Status Client::Flush(Millis timeout) { return bus_->Flush(timeout); }

namespace {

// What a failed request means to the user: the router's "no responders" and a timeout, said plainly.
Status RequestFailed(const Status& e, const std::string& uri, const std::string& no_reply) {
  if (e.code() == Code::kUnavailable)
    return Status::Unavailable("no daemon answered on " + uri + " (is the host URI right, and is spawnd up?)");
  if (e.code() == Code::kDeadlineExceeded) return Status::DeadlineExceeded(no_reply);
  return e;
}

// The typed result of a reply, or its error.
template <typename T>
Result<T> Typed(Result<nlohmann::json> result, Result<T> (*decode)(const nlohmann::json&)) {
  if (!result) return Err(result.error());
  return decode(*result);
}

}  // namespace

Result<nlohmann::json> Client::Call(const std::string& uri, const std::string& body, Millis timeout) {
  auto reply = bus_->Request(UriToSubject(uri), body, timeout);
  if (!reply) return Err(RequestFailed(reply.error(), uri, "no reply on " + uri + " within " + FormatDuration(timeout)));
  return protocol::DecodeReply(reply->data);
}

namespace {
// "$JS.API.CONSUMER.CREATE.SPAWNPOINT_HEARTBEATS.*.": how grants allow reading heartbeats (auth/grant.h).
const std::string kHeartbeatCreate = "$JS.API.CONSUMER.CREATE." + std::string(kHeartbeatStream) + ".*.";
}  // namespace

// The publish allow list in a user JWT's claims. A user issued under a
// delegation carries no permissions of its own but tags ("root:<subtree
// subject>", "sub:<relative subject>") from which the scope's template
// (auth/grant.h) derives them; they are expanded the same way here.
std::vector<std::string> EffectivePubAllow(const nlohmann::json& claims) {
  std::vector<std::string> out;
  if (!claims.is_object() || !claims.contains("nats") || !claims["nats"].is_object()) return out;
  const auto& n = claims["nats"];
  if (n.contains("pub") && n["pub"].is_object() && n["pub"].contains("allow") && n["pub"]["allow"].is_array()) {
    for (const auto& a : n["pub"]["allow"])
      if (a.is_string()) out.push_back(a.get<std::string>());
  }
  if (n.contains("tags") && n["tags"].is_array()) {
    std::string root;
    std::vector<std::string> subs;
    for (const auto& t : n["tags"]) {
      if (!t.is_string()) continue;
      std::string tag = t.get<std::string>();
      if (tag.rfind("root:", 0) == 0) root = tag.substr(5);
      if (tag.rfind("sub:", 0) == 0) subs.push_back(tag.substr(4));
    }
    for (const auto& s : subs)
      if (!root.empty()) out.push_back(std::string(kHeartbeatCreate) + root + "." + s);
    if (out.empty() && !subs.empty()) out.push_back("_SP.NOTHING");  // restricted, scope unknown
  }
  return out;
}

std::vector<std::string> ScanFiltersFor(std::string_view base, const std::vector<std::string>& pub_allow) {
  std::vector<std::string> broad = HeartbeatScanFilters(base);
  if (pub_allow.empty()) return broad;  // unrestricted
  std::vector<std::string> out;
  auto add = [&](std::string f) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(std::move(f));
  };
  for (const std::string& f : broad) {
    std::string probe = kHeartbeatCreate.substr(0, kHeartbeatCreate.size() - 2) + "c." + f;  // any consumer name
    bool whole = std::any_of(pub_allow.begin(), pub_allow.end(),
                             [&](const std::string& a) { return SubjectMatches(a, probe); });
    if (whole) {
      add(f);
      continue;
    }
    for (const std::string& a : pub_allow) {
      if (a.rfind(kHeartbeatCreate, 0) != 0) continue;
      if (auto narrowed = IntersectSubjects(a.substr(kHeartbeatCreate.size()), f)) add(*narrowed);
    }
  }
  return out;
}

namespace {
Status CheckHostAndName(std::string_view host_uri, std::string_view name) {
  SP_RETURN_IF_ERROR(ValidateUri(host_uri, "host URI"));
  if (name.empty()) return Status::InvalidArgument("a service name is required (-n)");
  auto seg = ParseUri(std::string(host_uri) + "/" + std::string(name));
  if (!seg || name.find('/') != std::string_view::npos)
    return Status::InvalidArgument("invalid service name \"" + std::string(name) + "\"");
  return Status::Ok();
}
}  // namespace

Result<nlohmann::json> Client::CallWithProgress(const std::string& uri, const std::string& body,
                                                const std::string& progress_uri, Millis idle_timeout,
                                                const ProgressHandler& on_progress) {
  using Clock = std::chrono::steady_clock;
  auto last = std::make_shared<std::atomic<Clock::rep>>(Clock::now().time_since_epoch().count());
  // Subscribed before the request goes out, so no snapshot is missed.
  auto sub = bus_->Subscribe(UriToSubject(progress_uri), [last, on_progress](BusMessage m) {
    auto p = ParseProgress(m.data);
    if (!p) return;  // not a progress message: ignored, and it does not count as a sign of life
    last->store(Clock::now().time_since_epoch().count());
    if (on_progress) on_progress(*p);
  });
  if (!sub) return Err(sub.error());
  SP_RETURN_IF_ERROR(bus_->Flush(idle_timeout));
  auto reply = bus_->Request(UriToSubject(uri), body, idle_timeout,
                             [last] { return Clock::time_point(Clock::duration(last->load())); });
  sub->reset();  // no more callbacks once this returns
  if (!reply)
    return Err(RequestFailed(reply.error(), uri,
                             "no reply and no progress on " + uri + " for " + FormatDuration(idle_timeout)));
  return protocol::DecodeReply(reply->data);
}

Result<ServiceDescription> Client::Deploy(std::string_view host_uri, const DeployRequest& req, Millis idle_timeout,
                                          const ProgressHandler& on_progress) {
  SP_RETURN_IF_ERROR(ValidateUri(host_uri, "host URI"));
  DeployRequest named = req;
  if (named.name.empty()) {
    SP_ASSIGN_OR_RETURN(ServiceConfig cfg, ParseServiceConfig(req.config, req.config_file));
    named.name = cfg.name;
  }
  SP_RETURN_IF_ERROR(ValidateServiceName(named.name));
  SpawnpointUris uris{std::string(host_uri)};
  return Typed(CallWithProgress(uris.DaemonConfigSlot(), protocol::EncodeDeployRequest(named),
                                uris.ServiceProgress(named.name), idle_timeout, on_progress),
               protocol::DecodeServiceDescription);
}

Result<ImageList> Client::Images(std::string_view host_uri, Millis timeout) {
  SP_RETURN_IF_ERROR(ValidateUri(host_uri, "host URI"));
  return Typed(Call(SpawnpointUris(std::string(host_uri)).DaemonSlot("images"), protocol::EncodeEmptyRequest(), timeout),
               protocol::DecodeImageList);
}

Result<ImageDescription> Client::Pull(std::string_view host_uri, std::string_view reference, Millis idle_timeout,
                                      const ProgressHandler& on_progress) {
  SP_RETURN_IF_ERROR(ValidateUri(host_uri, "host URI"));
  SpawnpointUris uris{std::string(host_uri)};
  std::string body = protocol::EncodePullRequest({std::string(reference)});
  return Typed(CallWithProgress(uris.DaemonSlot("pull"), body, uris.DaemonProgress(), idle_timeout, on_progress),
               protocol::DecodeImageDescription);
}

Result<PruneReport> Client::PruneImages(std::string_view host_uri, Millis timeout) {
  SP_RETURN_IF_ERROR(ValidateUri(host_uri, "host URI"));
  return Typed(Call(SpawnpointUris(std::string(host_uri)).DaemonSlot("prune"), protocol::EncodeEmptyRequest(), timeout),
               protocol::DecodePruneReport);
}

Result<ServiceDescription> Client::Restart(std::string_view host_uri, std::string_view name, Millis timeout) {
  SP_RETURN_IF_ERROR(CheckHostAndName(host_uri, name));
  std::string uri = SpawnpointUris(std::string(host_uri)).ServiceRestartSlot(name);
  return Typed(Call(uri, protocol::EncodeEmptyRequest(), timeout), protocol::DecodeServiceDescription);
}

Result<StopResult> Client::Stop(std::string_view host_uri, std::string_view name, Millis timeout) {
  SP_RETURN_IF_ERROR(CheckHostAndName(host_uri, name));
  std::string uri = SpawnpointUris(std::string(host_uri)).ServiceStopSlot(name);
  return Typed(Call(uri, protocol::EncodeEmptyRequest(), timeout), protocol::DecodeStopResult);
}

Result<ServiceDescription> Client::Inspect(std::string_view host_uri, std::string_view name, Millis timeout) {
  SP_RETURN_IF_ERROR(CheckHostAndName(host_uri, name));
  std::string uri = SpawnpointUris(std::string(host_uri)).ServiceInspectSlot(name);
  return Typed(Call(uri, protocol::EncodeEmptyRequest(), timeout), protocol::DecodeServiceDescription);
}

Result<std::unique_ptr<Follower>> Client::Tail(std::string_view host_uri, std::string_view name,
                                                   std::function<void(const LogEntry&)> on_entry) {
  SP_RETURN_IF_ERROR(CheckHostAndName(host_uri, name));
  std::string subject = UriToSubject(SpawnpointUris(std::string(host_uri)).ServiceLog(name));
  return bus_->Follow(kLogStream, subject, [on_entry](BusMessage m) {
    for (const LogEntry& e : ParseLogMessage(m.data)) on_entry(e);
  });
}

Result<std::vector<HostStatus>> Client::Scan(std::string_view base, Millis timeout) {
  SP_RETURN_IF_ERROR(ValidateUri(base, "scan URI"));
  SP_ASSIGN_OR_RETURN(auto msgs, bus_->LastPerSubject(kHeartbeatStream, ScanFiltersFor(base, pub_allow_), timeout));
  std::vector<std::pair<std::string, std::string>> hbs;
  for (auto& m : msgs) hbs.emplace_back(std::move(m.subject), std::move(m.data));
  return AssembleHosts(hbs, WallClockMs());
}

}  // namespace sp
