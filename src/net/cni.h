// The service network: CNI plugins (loopback, bridge + host-local IPAM) run directly.
//
// Spawnpoint is its own CNI runtime: for each service it executes the plugin
// binaries from `plugin_dir` with the CNI_* environment variables and the
// network configuration on stdin, as the CNI specification describes, and
// reads their JSON results. Attach gives the namespace a working `lo` and an
// `eth0` on the bridge with an address from the subnet and a default route via
// the bridge (the gateway). Detach runs DEL in reverse order; it is
// idempotent and also works when the namespace is already gone (host-local
// then still frees the address).
//
// The ADD results are cached in `<ipam_dir>/.results/<network>/<id>.json`;
// DEL gets them back as `prevResult`, and Lookup reads them (a restarted
// daemon finds the addresses of services it re-adopts).
//
// Thread safety: a BridgeNetwork is immutable after construction. Calls for
// different container ids may run concurrently (host-local locks its store);
// calls for the same container id must not overlap, as the CNI specification
// requires of a runtime.
// REQUIRES: root (the plugins create links and move them between namespaces).
#pragma once

#include <string>

#include "net/ipv4.h"
#include "util/duration.h"
#include "util/status.h"

namespace sp {

struct BridgeNetworkOptions {
  std::string network_name = "spawnpoint";  // CNI network name; also names host-local's store
  std::string bridge = "spawn0";            // Linux bridge; created by the plugin if missing
  std::string subnet = "10.213.0.0/16";     // IPv4 CIDR, prefix 8..30, host bits zero
  std::string ipam_dir;                     // host-local dataDir (under the daemon's state dir); required
  std::string plugin_dir = "/usr/lib/cni";  // where the plugin binaries live (CNI_PATH)
  Millis plugin_timeout = Millis(30000);    // per plugin invocation
  // Extension point for published ports (a later issue): add `std::vector<PortMapping> ports` here and
  // append a `portmap` plugin with `runtimeConfig.portMappings` to the eth0 chain in cni.cc
  // (EthChain). ADD already passes each plugin the previous one's result as prevResult, and DEL runs the
  // chain in reverse with the cached result, which is all portmap needs.
};

struct Attachment {
  std::string address;  // "10.88.0.5"
  std::string gateway;  // "10.88.0.1"
};

class BridgeNetwork {
 public:
  explicit BridgeNetwork(BridgeNetworkOptions opts);

  // Whether the options are usable (subnet, names, directories). Attach, Detach and Lookup return this
  // error when they are not.
  Status Validate() const;
  const BridgeNetworkOptions& options() const { return opts_; }
  // First host address of the subnet, which the bridge plugin gives the bridge ("" if the subnet is invalid).
  std::string gateway() const;

  // Runs loopback ADD (lo) and bridge ADD (eth0) for the namespace at netns_path. On failure whatever was
  // set up is removed again (DEL). The error carries the plugin's own message.
  // AlreadyExists if the container is attached (Detach first); nothing is changed then.
  // REQUIRES: container_id matches [A-Za-z0-9][A-Za-z0-9_.-]* (at most 200 characters).
  Result<Attachment> Attach(const std::string& container_id, const std::string& netns_path);

  // Runs DEL for eth0 and lo. Idempotent; a namespace path that no longer exists (or is no longer a
  // mounted namespace) is fine: the plugins then only release what lives on the host (the address).
  Status Detach(const std::string& container_id, const std::string& netns_path);

  // The attachment recorded by the last successful Attach; NotFound if none.
  Result<Attachment> Lookup(const std::string& container_id) const;

 private:
  std::string CachePath(const std::string& container_id) const;
  Status CheckCall(const std::string& container_id) const;

  BridgeNetworkOptions opts_;
  Status valid_;
  Ipv4Subnet subnet_;
};

}  // namespace sp
