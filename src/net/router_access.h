// Router access: services on the bridge reach a loopback-only TCP port of the host.
//
// The embedded NATS router listens on 127.0.0.1 only, so it is never exposed
// on a routable address. A service reaches it at `<gateway>:<port>` (the
// bridge's own address) through one DNAT rule in the nat PREROUTING chain:
//
//   -i <bridge> -d <gateway>/32 -p tcp --dport <port> -m comment --comment spawnpoint
//       -j DNAT --to-destination 127.0.0.1:<port>
//
// plus `net.ipv4.conf.<bridge>.route_localnet=1`, without which the kernel
// drops packets routed to 127.0.0.0/8 from a non-loopback interface. The
// comment marks the rule as ours. Rules are managed with the iptables binary
// (iptables-nft works).
//
// Thread-safe: calls are serialised within the process, so concurrent Ensure
// calls cannot add the rule twice. REQUIRES: root (CAP_NET_ADMIN).
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace sp {

// The comment on every iptables rule Spawnpoint adds.
inline constexpr const char* kRuleComment = "spawnpoint";

// Makes 127.0.0.1:port reachable from the bridge at gateway:port. Idempotent (`iptables -C` before
// `-A`). Creates the bridge (and sets it up) if it does not exist yet, and sets route_localnet on it.
Status EnsureRouterAccess(const std::string& bridge, const std::string& gateway, int port);

// Removes the rule (every copy of it); a missing rule or bridge is not an error. route_localnet is left
// as it is (it is harmless without the rule and disappears with the bridge).
Status RemoveRouterAccess(const std::string& bridge, const std::string& gateway, int port);

// The iptables arguments after the operation flag ("-A"/"-C"/"-D") that describe the rule; exposed so
// tests and diagnostics can look for it.
std::vector<std::string> RouterAccessRuleSpec(const std::string& bridge, const std::string& gateway,
                                              int port);

}  // namespace sp
