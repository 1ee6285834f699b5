// Client: spawnctl's operations as a library. Requests go to the slots of
// the Spawnpoint URI hierarchy; replies use the envelope in bus/protocol.h.
#include "spawnpoint/client.h"

#include "bus/bus.h"
#include "bus/protocol.h"
#include "uri/uri.h"
#include "util/base64.h"
#include "util/clock.h"

namespace sp {

Client::Client(std::unique_ptr<Bus> bus) : bus_(std::move(bus)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const Endpoint& ep) {
  BusOptions o;
  o.url = ep.router;
  o.creds_file = ep.creds;
  o.name = "spawnctl";
  SP_ASSIGN_OR_RETURN(auto bus, Bus::Connect(o));
  return std::unique_ptr<Client>(new Client(std::move(bus)));
}

Status Client::Flush(Millis timeout) { return bus_->Flush(timeout); }

Result<nlohmann::json> Client::Call(const std::string& uri, const nlohmann::json& body, Millis timeout) {
  auto reply = bus_->Request(UriToSubject(uri), body.dump(), timeout);
  if (!reply) {
    Status e = reply.error();
    if (e.code() == Code::kUnavailable)
      return Err(Status::Unavailable("no daemon answered on " + uri + " (is the host URI right, and is spawnd up?)"));
    if (e.code() == Code::kDeadlineExceeded)
      return Err(Status::DeadlineExceeded("no reply on " + uri + " within " + FormatDuration(timeout)));
    return Err(e);
  }
  return DecodeReply(reply->data);
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

Result<nlohmann::json> Client::Deploy(std::string_view host_uri, const DeployArgs& args, Millis timeout) {
  SP_RETURN_IF_ERROR(ValidateUri(host_uri, "host URI"));
  nlohmann::json body = {{"name", args.name}, {"config", args.yaml}, {"configFile", args.file_name}};
  // JSON cannot carry bytes: the archive travels base64-encoded.
  if (!args.files.empty()) body["files"] = EncodeBase64(args.files);
  return Call(SpawnpointUris(std::string(host_uri)).DaemonConfigSlot(), body, timeout);
}

Result<nlohmann::json> Client::Restart(std::string_view host_uri, std::string_view name, Millis timeout) {
  SP_RETURN_IF_ERROR(CheckHostAndName(host_uri, name));
  return Call(SpawnpointUris(std::string(host_uri)).ServiceRestartSlot(name), nlohmann::json::object(), timeout);
}

Result<nlohmann::json> Client::Stop(std::string_view host_uri, std::string_view name, Millis timeout) {
  SP_RETURN_IF_ERROR(CheckHostAndName(host_uri, name));
  return Call(SpawnpointUris(std::string(host_uri)).ServiceStopSlot(name), nlohmann::json::object(), timeout);
}

Result<nlohmann::json> Client::Inspect(std::string_view host_uri, std::string_view name, Millis timeout) {
  SP_RETURN_IF_ERROR(CheckHostAndName(host_uri, name));
  return Call(SpawnpointUris(std::string(host_uri)).ServiceInspectSlot(name), nlohmann::json::object(), timeout);
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
  SP_ASSIGN_OR_RETURN(auto msgs, bus_->LastPerSubject(kHeartbeatStream, HeartbeatScanFilters(base), timeout));
  std::vector<std::pair<std::string, std::string>> hbs;
  for (auto& m : msgs) hbs.emplace_back(std::move(m.subject), std::move(m.data));
  return AssembleHosts(hbs, WallClockMs());
}

}  // namespace sp
