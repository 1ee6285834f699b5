// The messages of Spawnpoint's wire protocol, as C++ types (docs/protocol.md).
//
// Daemons, libspawnclient, spawnctl and every later front end (gateway, fleet
// coordinator) exchange exactly these. Each has one encoder and one decoder in
// src/protocol/; nothing else builds or reads the JSON. The structs are plain
// values: copy them, compare them, keep them.
//
// Versions: every top-level message carries "v", the protocol's major version.
// Fields are only ever added within a version (decoders ignore fields they do
// not know and default the ones that are missing), so a newer peer of the same
// version is always readable. A message whose "v" is greater than
// kProtocolVersion is refused with Code::kUnimplemented and a message that says
// which side to upgrade. A message without "v" is version 1 (daemons before
// the field existed).
//
// Times are RFC 3339 strings in UTC with milliseconds, as on the wire, except
// the `*_ms` fields (milliseconds since the epoch).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spawnpoint/progress.h"

namespace sp {

inline constexpr int kProtocolVersion = 1;

// Request on the daemon's slot/config: deploy (or redeploy) a service.
struct DeployRequest {
  std::string name;         // overrides the YAML's `name`; may be empty if the YAML names the service
  std::string config;       // the deploy.yaml text
  std::string config_file;  // its file name, for error messages ("deploy.yaml" when empty)
  std::string files;        // raw bytes of a tar.gz of includedFiles/includedDirectories; may be empty
  std::string entity;       // .creds text of the entity named by `entity`/`bw2Entity`; may be empty

  bool operator==(const DeployRequest&) const = default;
};

// Request on the daemon's slot/pull.
struct PullRequest {
  std::string reference;

  bool operator==(const PullRequest&) const = default;
};

// The image a service runs. `reference` is "host" (and the digests empty) for `image: host`.
struct ServiceImage {
  std::string reference = "host";
  std::string digest;    // of the image config ("sha256:...")
  std::string manifest;  // of the manifest

  bool operator==(const ServiceImage&) const = default;
};

// A published port, host port resolved.
struct ServicePort {
  int host_port = 0;
  int container_port = 0;
  std::string protocol = "tcp";  // tcp | udp

  bool operator==(const ServicePort&) const = default;
};

struct ExitDescription {
  int64_t code = -1;  // 128+signal when killed, as shells report it
  int64_t signal = 0;
  bool oom_killed = false;
  std::string at;  // RFC 3339

  bool operator==(const ExitDescription&) const = default;
};

struct ServiceEvent {
  std::string time;  // RFC 3339
  std::string kind;  // deployed | started | exited | oom | restarting | backoff | adopted | stopping | stopped | failed
  std::string message;

  bool operator==(const ServiceEvent&) const = default;
};

// The result of deploy, restart and inspect.
struct ServiceDescription {
  std::string name;
  std::string host;   // the daemon's base URI
  std::string state;  // starting | running | restarting | backoff | exited | stopping
  int64_t pid = 0;    // host PID of the container's main process, 0 if not running
  int64_t monitor_pid = 0;
  int64_t instance = 0;
  int64_t restarts = 0;
  std::string address;  // on the bridge; empty with host networking
  ServiceImage image;
  std::vector<ServicePort> ports;
  int64_t cpu_shares = 0;  // reserved; 1024 = one core
  int64_t memory_mib = 0;  // reserved
  double used_cpu_shares = 0;
  double used_memory_mib = 0;
  bool auto_restart = false;
  std::string cgroups_path;
  std::string created_at;
  std::string started_at;
  std::optional<std::string> next_start_at;  // in backoff
  std::optional<ExitDescription> last_exit;
  std::optional<std::vector<ServiceEvent>> events;  // inspect only: the most recent first-to-last

  bool operator==(const ServiceDescription&) const = default;
};

// The result of stop.
struct StopResult {
  std::string name;
  std::string state = "stopped";

  bool operator==(const StopResult&) const = default;
};

// One image in a host's store.
struct ImageDescription {
  std::string reference;
  std::string digest;
  std::string manifest;
  int64_t size = 0;       // bytes, as the registry gave them (compressed)
  int64_t disk_size = 0;  // bytes its unpacked layers take on the host
  std::string pulled_at;  // RFC 3339
  std::vector<std::string> used_by;  // names of the services running it

  bool operator==(const ImageDescription&) const = default;
};

// The result of slot/images.
struct ImageList {
  std::vector<ImageDescription> images;
  int64_t disk_size = 0;  // the whole image store

  bool operator==(const ImageList&) const = default;
};

// The result of slot/prune.
struct PruneReport {
  std::vector<std::string> images;  // removed references
  int64_t blobs = 0;
  int64_t layers = 0;
  int64_t bytes = 0;

  bool operator==(const PruneReport&) const = default;
};

struct ServiceSummary {
  std::string name;
  std::string state;

  bool operator==(const ServiceSummary&) const = default;
};

// Published on <base>/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat.
struct DaemonHeartbeat {
  std::string version;  // spawnd's
  std::string alias;
  std::string uri;
  std::string time;  // RFC 3339
  int64_t time_ms = 0;
  int64_t interval_ms = 0;
  int64_t cpu_total = 0, cpu_available = 0;
  int64_t memory_total = 0, memory_available = 0;  // MiB
  std::vector<ServiceSummary> services;

  bool operator==(const DaemonHeartbeat&) const = default;
};

// Published on <base>/s.spawnpoint/<svc>/i.spawnable/signal/heartbeat.
struct ServiceHeartbeat {
  std::string name;
  std::string host;
  std::string time;
  int64_t time_ms = 0;
  int64_t interval_ms = 0;
  std::string state;
  int64_t pid = 0;
  int64_t restarts = 0;
  int64_t cpu_shares = 0;
  int64_t memory_mib = 0;
  double used_cpu_shares = 0;  // over the last period; 1024 = one core busy
  double used_memory_mib = 0;
  std::string image;  // the reference, "host" for image: host
  std::vector<ServicePort> ports;

  bool operator==(const ServiceHeartbeat&) const = default;
};

struct LogLine {
  std::string time;    // RFC 3339 with nanoseconds, UTC
  std::string stream;  // stdout | stderr | spawnd (lifecycle events)
  std::string text;

  bool operator==(const LogLine&) const = default;
};

// Published on <base>/s.spawnpoint/<svc>/i.spawnable/signal/log.
struct LogMessage {
  std::string service;
  std::vector<LogLine> entries;

  bool operator==(const LogMessage&) const = default;
};

}  // namespace sp
