// The daemon configuration: what `spawnd run -c FILE` reads, and the embedded default.
//
// The file is YAML (docs/configuration.md lists every key). Parsing is strict: unknown keys,
// missing required keys, wrong types and out-of-range values are errors naming the file, line and
// key, and the daemon does not start. The seed-era spellings `bw2Entity` and `bw2Agent` are
// accepted for `entity` and `router`.
//
// All functions are thread-safe (no shared state) and never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct DaemonConfig {
  // Base URI of this daemon ("oski/spawnpoint/alpha"); its last segment is the alias.
  std::string path;
  // Path to this daemon's .creds file ("entity", seed "bw2Entity"). Required with `router`;
  // with the embedded router the daemon makes its own when empty.
  std::string entity;
  // With `router`: a delegation file (`spawnctl delegate --uri <path>`) with which the daemon
  // mints each service's own entity. Without it, services get no entity.
  std::string signer;
  int64_t cpu_shares = 0;  // size of the CPU pool; 1024 = one core
  int64_t memory_mib = 0;  // size of the memory pool
  // NATS URL(s) of an existing router ("router", seed "bw2Agent"); empty = run the embedded router.
  std::string router;
  bool enable_host_networking = false;
  bool enable_device_mapping = false;
  std::string state_dir = "/var/lib/spawnpoint";
  std::string router_listen = "127.0.0.1:4222";  // embedded router; loopback only, port 0 = any free
  std::string runtime = "runc";                  // "runc", "crun" or an absolute path to a runtime
  std::string default_image;                     // empty = the host view ("image: host")
  std::vector<std::string> insecure_registries;  // "host[:port]" reached over plain HTTP
  // Docker-style auth.json with registry credentials; empty = $REGISTRY_AUTH_FILE if set, else none.
  std::string registry_auth;
  // Lets deploys name paths on this host: images from oci:/oci-archive: and git+file:// sources.
  bool allow_local_sources = false;
  Millis heartbeat_interval{10000};
  std::string bridge_name = "spawn0";
  std::string bridge_subnet = "10.213.0.0/16";  // not podman's 10.88.0.0/16 nor docker's 172.17.0.0/16
  int64_t log_max_bytes = 10 << 20;  // per log segment
  int64_t log_max_files = 5;         // segments kept per service

  // Last segment of `path` ("alpha" for "oski/spawnpoint/alpha").
  std::string alias() const;
};

// Parses a daemon configuration; `file_name` names the file in error messages.
Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml, std::string_view file_name);
// Reads (at most kMaxConfigBytes) and parses `path`. A relative `entity` is taken relative to the
// directory of `path`.
Result<DaemonConfig> LoadDaemonConfig(const std::string& path);

// The configuration `spawnd run` uses without -c: path "local/spawnpoint/<alias>", where the
// alias is `hostname` reduced to the characters a URI segment allows ("host" if none remain);
// cpuShares = 1024 * cpus; memory = 90% of mem_total_mib. Other fields keep their defaults.
DaemonConfig DefaultDaemonConfig(std::string_view hostname, int cpus, int64_t mem_total_mib);

// Checks a base URI: a valid URI (uri/uri.h: non-empty segments of A-Z a-z 0-9 - _ . ~ : @ =) of
// at most 8 segments, not starting with '_'.
Status ValidateBaseUri(std::string_view uri);

}  // namespace sp
