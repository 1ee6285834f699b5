// The slot table and its handlers (see slots.h).
#include "daemon/slots.h"

#include <set>

#include "auth/creds.h"
#include "daemon/daemon_log.h"
#include "daemon/progress_publisher.h"
#include "protocol/envelope.h"
#include "protocol/image_messages.h"
#include "protocol/requests.h"
#include "protocol/service_messages.h"
#include "util/clock.h"

namespace sp {
namespace {

// Requests come from clients, whose replies go to an inbox. A message without
// a reply, or with a reply into the JetStream API ("$JS.ACK..." from a
// consumer someone pointed at a slot), is not a request: it is ignored.
bool IsClientRequest(const BusMessage& m) { return !m.reply.empty() && m.reply[0] != '$'; }

std::string Refuse(const std::string& what, const Status& st) {
  DaemonLog(what + " refused: " + st.message());
  return protocol::EncodeReply(st);
}

}  // namespace

const Slots::Route Slots::kRoutes[] = {
    {"config", false, true, &Slots::Deploy},   {"images", false, false, &Slots::Images},
    {"pull", false, true, &Slots::Pull},       {"prune", false, false, &Slots::Prune},
    {"restart", true, false, &Slots::Restart}, {"stop", true, false, &Slots::Stop},
    {"inspect", true, false, &Slots::Inspect},
};

Slots::Slots(SlotDeps deps)
    : d_(deps), uris_(d_.cfg.path), service_slot_prefix_(UriToSubject(d_.cfg.path + "/s.spawnpoint") + ".") {}

Status Slots::Subscribe(WorkQueue& work, std::vector<std::unique_ptr<Subscription>>* subs) {
  for (const Route& r : kRoutes) {
    if (r.per_service) continue;
    std::string kind = r.kind;
    auto sub = d_.bus.Subscribe(UriToSubject(uris_.DaemonSlot(kind)), [this, &work, kind](BusMessage m) {
      if (IsClientRequest(m)) work.Submit([this, kind, m = std::move(m)] { Reply(m, Handle(kind, "", m)); });
    });
    if (!sub) return sub.error();
    subs->push_back(std::move(*sub));
  }
  // One subscription for the slots of every service: <base>.s%2Espawnpoint.*.i%2Espawnable.slot.*
  auto slots = d_.bus.Subscribe(service_slot_prefix_ + "*.i%2Espawnable.slot.*", [this, &work](BusMessage m) {
    if (IsClientRequest(m)) work.Submit([this, m = std::move(m)] { Dispatch(m); });
  });
  if (!slots) return slots.error();
  subs->push_back(std::move(*slots));
  SP_RETURN_IF_ERROR(d_.bus.Flush(Millis(5000)));
  // The router reports a refused subscription asynchronously; the flush's round trip has seen it.
  std::string refused = d_.bus.LastAsyncError();
  if (refused.find("Permissions Violation for Subscription") != std::string::npos)
    return Status::PermissionDenied("the router refused this daemon's subscriptions (" + refused +
                                    "): its entity's grant does not cover " + d_.cfg.path +
                                    " (spawnctl grant --daemon " + d_.cfg.path + ")");
  return Status::Ok();
}

void Slots::Dispatch(const BusMessage& msg) {
  // <prefix><service>.i%2Espawnable.slot.<kind>
  std::string rest = msg.subject.substr(service_slot_prefix_.size());
  std::string kind = rest.substr(rest.rfind('.') + 1);
  auto name = SubjectToUri(std::string(kSubjectRoot) + "." + rest.substr(0, rest.find('.')));  // one segment
  if (!name) return Reply(msg, protocol::EncodeReply(Status::InvalidArgument("bad service name in subject")));
  Reply(msg, Handle(kind, *name, msg));
}

std::string Slots::Handle(const std::string& kind, const std::string& service, const BusMessage& msg) {
  for (const Route& r : kRoutes) {
    if (kind != r.kind || r.per_service == service.empty()) continue;
    if (!r.has_body) {  // the slot takes no parameters: its request is empty or {"v": N}
      Status st = protocol::DecodeEmptyRequest(msg.data, kind + " request");
      if (!st.ok()) return protocol::EncodeReply(st);
    }
    return (this->*r.handler)(service, msg);
  }
  return protocol::EncodeReply(Status::InvalidArgument("unknown slot \"" + kind + "\""));
}

void Slots::Reply(const BusMessage& msg, const std::string& payload) {
  Status st = d_.bus.Publish(msg.reply, payload);
  if (!st.ok()) DaemonLog("reply failed: " + st.message());
}

std::string Slots::Deploy(const std::string&, const BusMessage& msg) {
  auto req = protocol::DecodeDeployRequest(msg.data);
  if (!req) return Refuse("deploy", req.error());
  std::string file = req->config_file.empty() ? "deploy.yaml" : req->config_file;
  auto cfg = ParseServiceConfig(req->config, file, req->name);
  if (!cfg) return Refuse("deploy", cfg.error());
  if (!req->entity.empty()) {
    if (auto creds = ParseCreds(req->entity); !creds) return Refuse("deploy", creds.error().Annotate("deploy request: entity"));
  }
  if (cfg->image.empty()) cfg->image = d_.cfg.default_image.empty() ? "host" : d_.cfg.default_image;
  const std::string name = cfg->name, subject = UriToSubject(uris_.ServiceProgress(name));
  bool tracking = false;
  ProgressPublisher publisher([this, subject](const std::string& payload) { (void)d_.bus.Publish(subject, payload); });
  DeployOrder order{*cfg, std::move(req->config), file, std::move(req->files), std::move(req->entity), nullptr};
  order.progress = [&](const DeployProgress& p) {
    if (p.phase == "building" && !tracking) {
      tracking = true;  // build output is the service's log: ship it from the first line
      d_.shipper.Track(name, d_.host.LogDir(name), 0, 0);
    }
    publisher.Update(p);
  };
  auto view = d_.supervisor.Deploy(std::move(order));
  if (!view) return Refuse("deploy", view.error());
  DaemonLog("deployed " + view->name + " (pid " + std::to_string(view->pid) + ")");
  return protocol::EncodeReply(protocol::ToJson(d_.describer.Describe(*view, false)));
}

std::string Slots::Images(const std::string&, const BusMessage&) {
  return protocol::EncodeReply(protocol::ToJson(d_.describer.ListImages()));
}

std::string Slots::Pull(const std::string&, const BusMessage& msg) {
  auto req = protocol::DecodePullRequest(msg.data);
  if (!req) return protocol::EncodeReply(req.error());
  const std::string& ref = req->reference;
  const std::string subject = UriToSubject(uris_.DaemonProgress());
  ProgressPublisher publisher([this, subject](const std::string& payload) { (void)d_.bus.Publish(subject, payload); });
  auto no_prune = d_.images.GuardPull();
  auto pulled = d_.puller.Pull(ref, "always", [&](const PullSnapshot& s) {
    publisher.Update(DeployProgress{"", s.phase, ref, s.message, WallClockMs(), s.layers});
  });
  if (!pulled) {
    DaemonLog("pull " + ref + " failed: " + pulled.error().message());
    return protocol::EncodeReply(pulled.error().Annotate("pull " + ref));
  }
  DaemonLog("pulled " + pulled->record.reference + " (" + pulled->record.digest.str() + ")");
  return protocol::EncodeReply(protocol::ToJson(d_.describer.DescribeImage(pulled->record, d_.host.ImageUsers())));
}

std::string Slots::Prune(const std::string&, const BusMessage&) {
  auto report = d_.images.Prune([this] {
    std::set<std::string> in_use;
    for (const auto& [manifest, names] : d_.host.ImageUsers()) in_use.insert(manifest);
    return in_use;
  });
  if (!report) return protocol::EncodeReply(report.error().Annotate("prune"));
  DaemonLog("pruned " + std::to_string(report->images.size()) + " images, " + std::to_string(report->layers) +
            " layers, " + std::to_string(report->blobs) + " blobs");
  return protocol::EncodeReply(protocol::ToJson(*report));
}

std::string Slots::Restart(const std::string& service, const BusMessage&) {
  auto v = d_.supervisor.Restart(service);
  return v ? protocol::EncodeReply(protocol::ToJson(d_.describer.Describe(*v, false))) : protocol::EncodeReply(v.error());
}

std::string Slots::Stop(const std::string& service, const BusMessage&) {
  Status st = d_.supervisor.Stop(service);
  return st.ok() ? protocol::EncodeReply(protocol::ToJson(StopResult{service, "stopped"})) : protocol::EncodeReply(st);
}

std::string Slots::Inspect(const std::string& service, const BusMessage&) {
  auto v = d_.supervisor.Get(service);
  return v ? protocol::EncodeReply(protocol::ToJson(d_.describer.Describe(*v, true))) : protocol::EncodeReply(v.error());
}

}  // namespace sp
