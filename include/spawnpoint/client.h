// libspawnclient: talk to Spawnpoint daemons from C++ programs.
//
// The same capabilities as spawnctl: find hosts (Scan), deploy a service,
// restart, stop, inspect, and follow a service's log. A Client holds one
// connection to the router; it is safe to use from several threads.
//
//   auto ep = sp::ResolveEndpoint({});            // flags/env/local daemon
//   auto client = sp::Client::Connect(*ep);
//   auto hosts = (*client)->Scan("oski/spawnpoint", sp::Millis(2000));
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spawnpoint/messages.h"
#include "spawnpoint/progress.h"
#include "spawnpoint/status.h"

namespace sp {

class Bus;
class Follower;
using Millis = std::chrono::milliseconds;

// Where the router is and who we are. Empty fields are filled from the
// environment (SPAWNPOINT_ROUTER, SPAWNPOINT_ENTITY, SPAWNPOINT_DEFAULT_URI)
// and then from the local daemon's <stateDir>/client.json, where stateDir is
// SPAWNPOINT_STATE_DIR or /var/lib/spawnpoint.
struct Endpoint {
  std::string router;       // nats://host:port
  std::string creds;        // .creds file of the entity to act as
  std::string default_uri;  // base URI used when a command names none
};
Result<Endpoint> ResolveEndpoint(Endpoint given);

struct ServiceStatus {
  std::string name;
  std::string state;
  bool up = false;
  int64_t last_seen_ms = 0;
  int64_t cpu_shares = 0;
  int64_t memory_mib = 0;
  double used_cpu_shares = 0;
  double used_memory_mib = 0;
  int64_t restarts = 0;
  std::string image;  // reference, "host" for image: host
  std::vector<ServicePort> ports;
};

struct HostStatus {
  std::string alias;
  std::string uri;
  std::string version;
  bool up = false;
  int64_t last_seen_ms = 0;
  int64_t interval_ms = 0;
  int64_t cpu_total = 0, cpu_available = 0;
  int64_t memory_total = 0, memory_available = 0;
  std::vector<ServiceStatus> services;
  // Set when the host's heartbeat could not be read (a newer protocol version): says why.
  std::string problem;
};

struct LogEntry {
  std::string service;
  std::string time;    // RFC 3339 with nanoseconds, UTC
  std::string stream;  // stdout | stderr | spawnd (lifecycle events)
  std::string text;
};

// A heartbeat older than this many periods marks its host or service down.
inline constexpr double kDownAfterPeriods = 2.5;

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const Endpoint& ep);
  ~Client();

  // Hosts (and their services) whose base URI is `base` or lies below it,
  // from the last heartbeats kept by the router: answers at once.
  Result<std::vector<HostStatus>> Scan(std::string_view base, Millis timeout);
  using ProgressHandler = std::function<void(const DeployProgress&)>;
  // Deploys `req` (its `files` are the raw bytes of PackIncludes' archive) and returns the service's
  // description. Shows what the daemon does first (pulling the image, cloning the source, running
  // the build): `on_progress` gets every progress snapshot, on a library thread. A deploy may take
  // long; it fails only when neither a reply nor progress arrived for `idle_timeout`.
  Result<ServiceDescription> Deploy(std::string_view host_uri, const DeployRequest& req, Millis idle_timeout,
                                    const ProgressHandler& on_progress);
  // The host's local images.
  Result<ImageList> Images(std::string_view host_uri, Millis timeout);
  // Pulls `reference` into the host's store (progress as for Deploy); returns the image's entry.
  Result<ImageDescription> Pull(std::string_view host_uri, std::string_view reference, Millis idle_timeout,
                                const ProgressHandler& on_progress);
  // Removes the images no service uses and every blob and layer no image needs.
  Result<PruneReport> PruneImages(std::string_view host_uri, Millis timeout);
  Result<ServiceDescription> Restart(std::string_view host_uri, std::string_view name, Millis timeout);
  Result<StopResult> Stop(std::string_view host_uri, std::string_view name, Millis timeout);
  // The description with the service's recent events.
  Result<ServiceDescription> Inspect(std::string_view host_uri, std::string_view name, Millis timeout);
  // Calls `on_entry` for every log line of the service from now on, until
  // the returned follower is destroyed: in order, each line once, also
  // across reconnects and router restarts. Runs on a library thread.
  // REQUIRES: the follower is destroyed before this Client.
  Result<std::unique_ptr<Follower>> Tail(std::string_view host_uri, std::string_view name,
                                             std::function<void(const LogEntry&)> on_entry);
  // Waits until everything sent so far reached the router.
  Status Flush(Millis timeout);

 private:
  explicit Client(std::unique_ptr<Bus> bus);
  // Sends `body` (an encoded request) to the slot `uri`; returns the reply's result.
  Result<nlohmann::json> Call(const std::string& uri, const std::string& body, Millis timeout);
  // A request whose progress arrives on `progress_uri` meanwhile (see Deploy).
  Result<nlohmann::json> CallWithProgress(const std::string& uri, const std::string& body,
                                          const std::string& progress_uri, Millis idle_timeout,
                                          const ProgressHandler& on_progress);
  std::unique_ptr<Bus> bus_;
  std::vector<std::string> pub_allow_;  // from the entity's JWT; empty = unrestricted
};

// The heartbeat filters a scan of `base` uses, given the entity's publish
// allow list (empty: unrestricted). A restricted entity only asks for what
// its grants let it read, narrowed to heartbeat subjects.
std::vector<std::string> ScanFiltersFor(std::string_view base, const std::vector<std::string>& pub_allow);
// The publish allow list an entity's JWT claims amount to (see client.cc).
std::vector<std::string> EffectivePubAllow(const nlohmann::json& claims);

// Parses a log message published by a daemon; garbage yields no entries, a message of a newer
// protocol version one "spawnd" entry that says so.
std::vector<LogEntry> ParseLogMessage(std::string_view data);
// Turns the kept heartbeats (subject, payload) into hosts; `now_ms` decides up/down.
std::vector<HostStatus> AssembleHosts(const std::vector<std::pair<std::string, std::string>>& heartbeats,
                                      int64_t now_ms);

}  // namespace sp
