// Host and puller options from the daemon configuration (see host_setup.h).
#include "daemon/host_setup.h"

#include <cstdlib>
#include <random>

#include "net/cni.h"
#include "util/fs.h"

namespace sp {
namespace {

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

}  // namespace

Result<std::string> LoadOrCreateDaemonId(const DaemonPaths& paths) {
  if (auto text = ReadFileCapped(paths.daemon_id, 64); text && !text->empty()) return *text;
  std::string id = RandomHex(6);
  SP_RETURN_IF_ERROR(WriteFileAtomic(paths.daemon_id, id, 0644));
  return id;
}

Result<LinuxHostOptions> LinuxHostOptionsFor(const DaemonConfig& cfg, const DaemonPaths& paths,
                                             const std::string& daemon_id, const std::string& monitor_binary,
                                             int embedded_router_port) {
  LinuxHostOptions ho;
  ho.services_dir = paths.services;
  ho.volumes_dir = paths.volumes;
  ho.netns_dir = paths.netns;
  ho.daemon_id = daemon_id;
  ho.monitor_binary = monitor_binary;
  ho.init_binary = JoinPath(monitor_binary.substr(0, monitor_binary.rfind('/')), "spawn-init");
  ho.runtime.binary = cfg.runtime;
  ho.runtime.root = paths.runc;
  ho.network.bridge = cfg.bridge_name;
  ho.network.subnet = cfg.bridge_subnet;
  ho.network.ipam_dir = paths.cni;
  ho.base_uri = cfg.path;
  ho.log_max_bytes = cfg.log_max_bytes;
  ho.log_max_files = cfg.log_max_files;
  ho.allow_local_sources = cfg.allow_local_sources;
  // Services reach a router on this host's loopback through the bridge gateway (DNAT).
  int loopback_port = embedded_router_port > 0 ? embedded_router_port : LoopbackRouterPort(cfg.router);
  if (loopback_port > 0) {
    BridgeNetwork probe(ho.network);
    SP_RETURN_IF_ERROR(probe.Validate());
    ho.service_router_url = "nats://" + probe.gateway() + ":" + std::to_string(loopback_port);
    ho.router_access_port = loopback_port;
  } else {
    ho.service_router_url = cfg.router;
  }
  return ho;
}

PullerOptions PullerOptionsFor(const DaemonConfig& cfg) {
  PullerOptions po;
  po.registry.insecure_registries = cfg.insecure_registries;
  po.registry.auth_file = cfg.registry_auth;
  if (po.registry.auth_file.empty()) {
    const char* env = std::getenv("REGISTRY_AUTH_FILE");
    if (env && *env) po.registry.auth_file = env;
  }
  po.allow_local = cfg.allow_local_sources;
  return po;
}

}  // namespace sp
