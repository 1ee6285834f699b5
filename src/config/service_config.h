// The service configuration (`deploy.yaml`): what to run, with which resources and files.
//
// Every field of the seed's deploy.yaml is accepted with its seed spelling (cpuShares, memory,
// run, bw2Entity, image, source, build, autoRestart, includedFiles, includedDirectories, volumes,
// useHostNet, devices), so an existing file works unchanged; Spawnpoint adds name, entity, env,
// ports, restartPolicy and stopTimeout. Parsing is strict, like the daemon configuration: every
// mistake is an error naming the file, line and key. docs/configuration.md lists every key.
//
// All functions are thread-safe (no shared state) and never throw.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/duration.h"
#include "util/status.h"

namespace sp {

// Exponential backoff between automatic restarts: the first restart waits initial_delay, each
// following one twice as long up to max_delay; a run that lasted stable_after resets the delay.
struct RestartPolicy {
  Millis initial_delay{1000};
  Millis max_delay{60000};
  Millis stable_after{30000};
};

// A published port: "8080:80/tcp" maps host 8080 to container 80; "80" lets the daemon choose.
struct PortMapping {
  int host_port = 0;  // 0 = the daemon chooses a free port
  int container_port = 0;
  std::string protocol = "tcp";  // "tcp" or "udp"
};

struct ServiceConfig {
  std::string name;                // [A-Za-z0-9][A-Za-z0-9_.-]{0,62}, not "daemon"
  int64_t cpu_shares = 0;          // reserved CPU shares; 1024 = one core
  int64_t memory_mib = 0;          // reserved (and limited) memory
  std::vector<std::string> run;    // argv of the service's process; with an image, replaces its Cmd
  std::string entity;              // "entity" or seed "bw2Entity": a path on the deploying host
  std::string image;               // empty = the daemon's default; "host" = the host's own system
  // When to contact the registry: always | missing (use the local copy if there is one) | never;
  // empty = "always" for a :latest or untagged reference, "missing" otherwise (as Kubernetes).
  std::string pull_policy;
  std::string source;              // git+https:// (or git+file:// where allowed) repository, optional #ref
  std::vector<std::string> build;  // shell commands run after fetching the source
  bool auto_restart = false;
  RestartPolicy restart_policy;
  Millis stop_timeout{10000};                     // SIGTERM, then SIGKILL after this long
  std::vector<std::string> included_files;        // paths on the deploying host
  std::vector<std::string> included_directories;  // paths on the deploying host
  std::vector<std::string> volumes;               // persistent volumes, mounted at /srv/<name>
  bool use_host_net = false;
  std::vector<std::string> devices;        // absolute paths under /dev
  std::map<std::string, std::string> env;  // environment variables
  std::vector<PortMapping> ports;
  bool publish_exposed_ports = false;  // also publish the image's ExposedPorts on daemon-chosen ports
};

// Parses a service configuration; `file_name` names the file in error messages. A non-empty
// `name_override` (spawnctl -n) wins over the file's "name"; one of them must give a name.
Result<ServiceConfig> ParseServiceConfig(std::string_view yaml, std::string_view file_name,
                                         std::string_view name_override = {});
// Reads (at most kMaxConfigBytes) and parses the file at `path`.
Result<ServiceConfig> LoadServiceConfig(const std::string& path, std::string_view name_override = {});

// Checks a service name: 1 to 63 of A-Z a-z 0-9 _ . -, starting with a letter or digit, and not
// the reserved "daemon". Used for names that arrive from files, flags and bus requests.
Status ValidateServiceName(std::string_view name);

// Parses "HOST:CONTAINER[/tcp|udp]" or "CONTAINER[/tcp|udp]", ports 1 to 65535.
Result<PortMapping> ParsePortMapping(std::string_view text);

// Checks an image reference as deploy.yaml's "image" and the daemon's "defaultImage" give it (or
// "host"): not empty, no spaces or control characters. Returns it unchanged.
Result<std::string> CheckImageReference(const std::string& text);

}  // namespace sp
