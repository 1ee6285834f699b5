// How spawnd sets up its host from its configuration: the options of the
// Linux host (directories, runtime, network, how services reach the router)
// and of the image puller. Pure functions of the configuration, except the
// daemon id, which is made once and kept in the state directory.
#pragma once

#include <string>

#include "config/daemon_config.h"
#include "daemon/daemon_paths.h"
#include "host/linux_host.h"
#include "image/puller.h"

namespace sp {

// The random id that names this daemon's cgroups (/spawnpoint/<id>/<service>), so two daemons
// never collide: read from <state>/daemon.id, or made and written there.
Result<std::string> LoadOrCreateDaemonId(const DaemonPaths& paths);

// `embedded_router_port`: the port of the router this daemon started, 0 if it joined one.
// mint_service_creds and images are left for the caller to set.
Result<LinuxHostOptions> LinuxHostOptionsFor(const DaemonConfig& cfg, const DaemonPaths& paths,
                                             const std::string& daemon_id, const std::string& monitor_binary,
                                             int embedded_router_port);

// The registry settings (registryAuth, else $REGISTRY_AUTH_FILE), insecure registries, local sources.
PullerOptions PullerOptionsFor(const DaemonConfig& cfg);

}  // namespace sp
