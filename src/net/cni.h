// The service network: CNI plugins (loopback, bridge + host-local IPAM, portmap) run directly.
//
// Spawnpoint is its own CNI runtime: for each service it executes the plugin
// binaries from `plugin_dir` with the CNI_* environment variables and the
// network configuration on stdin, as the CNI specification describes, and
// reads their JSON results. Attach gives the namespace a working `lo` and an
// `eth0` on the bridge with an address from the subnet and a default route via
// the bridge (the gateway). Published ports (net/ports.h) add the `portmap`
// plugin to the eth0 chain: iptables DNAT rules forward host port -> container
// port for traffic arriving from outside and for the host's own connections,
// including to 127.0.0.1 (with `snat`, portmap marks those connections for
// masquerading and sets route_localnet on the bridge). Detach runs DEL in
// reverse order; it is idempotent and also works when the namespace is already
// gone (host-local then still frees the address, portmap removes its rules).
//
// Each attachment has a record in `<ipam_dir>/.results/<network>/<id>.json`:
// the published ports, written before any plugin runs, and the ADD results,
// added when Attach succeeds. DEL gets the results back as `prevResult` and
// portmap DEL gets the ports (it does nothing without them), so a daemon that
// restarts, even in the middle of an Attach, still removes the rules. Lookup
// reads the record (a restarted daemon finds the addresses and ports of the
// services it re-adopts).
//
// Thread safety: a BridgeNetwork is immutable after construction. Calls for
// different container ids may run concurrently (host-local locks its store);
// calls for the same container id must not overlap, as the CNI specification
// requires of a runtime.
// REQUIRES: root (the plugins create links and move them between namespaces).
#pragma once

#include <string>
#include <vector>

#include "net/ipv4.h"
#include "net/ports.h"
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
  // Published ports are per container: see Attach.
};

struct Attachment {
  std::string address;               // "10.88.0.5"
  std::string gateway;               // "10.88.0.1"
  std::vector<PublishedPort> ports;  // as given to Attach (host ports resolved)
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

  // Runs loopback ADD (lo) and bridge ADD (eth0) for the namespace at netns_path, then portmap ADD when
  // ports is non-empty. On failure whatever was set up is removed again (DEL). The error carries the
  // plugin's own message.
  // AlreadyExists if the container is attached, or an earlier Attach of it did not finish (Detach first);
  // nothing is changed then. InvalidArgument if ports fails ValidatePorts(ports, true).
  // Ports are not checked against other services or host listeners here: call ResolvePorts first.
  // REQUIRES: container_id matches [A-Za-z0-9][A-Za-z0-9_.-]* (at most 200 characters).
  Result<Attachment> Attach(const std::string& container_id, const std::string& netns_path,
                            const std::vector<PublishedPort>& ports = {});

  // Runs DEL for eth0 (portmap, then bridge) and lo. Idempotent; a namespace path that no longer exists
  // (or is no longer a mounted namespace) is fine: the plugins then only release what lives on the host
  // (the address, the port forwarding rules). The record is removed once every DEL succeeded.
  // Without a record nothing runs: Attach writes it before its first ADD, so no plugin ever added
  // anything for this container (or a Detach already finished). A service with the host's network
  // thus costs no plugin run when it exits.
  Status Detach(const std::string& container_id, const std::string& netns_path);

  // The attachment recorded by the last successful Attach; NotFound if none. FailedPrecondition if an
  // Attach of the container did not finish (the daemon stopped during it): Detach it.
  Result<Attachment> Lookup(const std::string& container_id) const;

 private:
  std::string CachePath(const std::string& container_id) const;
  Status CheckCall(const std::string& container_id) const;

  BridgeNetworkOptions opts_;
  Status valid_;
  Ipv4Subnet subnet_;
};

}  // namespace sp
