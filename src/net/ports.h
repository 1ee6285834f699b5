// Published ports: host ports that forward to a port of a service's network namespace.
//
// A service publishes `ports: ["8080:80/tcp", "53/udp", "80"]`; the config
// module parses those strings into PublishedPort values (this module does not
// depend on it). Before a service is attached, ResolvePorts checks the list
// and fills in the host ports the daemon chooses (host port 0). The CNI
// `portmap` plugin then installs the forwarding as iptables DNAT rules
// (BridgeNetwork::Attach in net/cni.h).
//
// A DNAT rule holds no socket, so the kernel does not stop a second service
// (or a later host process) from claiming the same host port: the daemon
// tracks the ports its services publish and passes them to ResolvePorts as
// `taken_by_services`. A host process that already listens on a port would
// silently lose its traffic to the container (DNAT happens before local
// delivery), so ResolvePorts refuses such ports too.
//
// Races: both the listener check and the choice of a free port bind a probe
// socket and release it at once. Nothing reserves the port afterwards, so a
// host process may bind it between the check and the portmap ADD (it then
// receives no new connections: the DNAT rule wins). The daemon should resolve
// and attach promptly and serialise ResolvePorts with the bookkeeping of
// `taken_by_services`.
//
// All functions are thread-safe (they hold no state); IPv4 only.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spawnpoint/messages.h"
#include "util/status.h"

namespace sp {

// The protocol's ServicePort: host_port 1..65535 (0 = chosen by the daemon, ResolvePorts),
// container_port 1..65535, protocol "tcp" or "udp".
using PublishedPort = ServicePort;

// "8080:80/tcp", or "80/tcp" while the host port is still to be chosen.
std::string FormatPort(const PublishedPort& port);

// Checks every entry (ports in 1..65535, host port 0 only when !require_host_port, protocol "tcp" or
// "udp") and that no host port/protocol pair appears twice. InvalidArgument naming the entry otherwise.
Status ValidatePorts(const std::vector<PublishedPort>& ports, bool require_host_port);

// A port of the kernel's ephemeral range (net.ipv4.ip_local_port_range) that is free for the protocol on
// 0.0.0.0 right now and not in `avoid`. ResourceExhausted when none is found after a bounded number of
// tries. See the race note above: the port is free when returned, not reserved.
Result<int> ChooseHostPort(std::string_view protocol, const std::set<int>& avoid);

// OK if port/protocol can be bound on 0.0.0.0, i.e. no socket on the host listens on (tcp) or is bound
// to (udp) that port on any address. AlreadyExists "host port 8080/tcp is already in use on this host"
// otherwise. TCP probes with SO_REUSEADDR, so connections of an earlier listener that linger in
// TIME_WAIT do not count as "in use", while a listening socket always does; UDP has no listening state
// and probes without SO_REUSEADDR, so any bound socket counts.
Status CheckHostPortFree(int port, std::string_view protocol);

// Checks `wanted` (ValidatePorts), refuses host ports that other services already publish
// (taken_by_services holds {host port, protocol} pairs; AlreadyExists) or that a host process uses
// (CheckHostPortFree), and chooses free host ports for entries with host port 0 (avoiding every port in
// `wanted` and in taken_by_services). Returns the list in the same order with every host port set.
Result<std::vector<PublishedPort>> ResolvePorts(
    const std::vector<PublishedPort>& wanted, const std::set<std::pair<int, std::string>>& taken_by_services);

// The JSON form of published ports, [{"hostPort", "containerPort", "protocol"}]: CNI's
// `runtimeConfig.portMappings` convention, also used in Spawnpoint's own records and replies.
nlohmann::json PortMappingsJson(const std::vector<PublishedPort>& ports);
// Reads that form back; InvalidArgument for anything but a list of such objects with every host
// port set (ValidatePorts with require_host_port).
Result<std::vector<PublishedPort>> PortMappingsFromJson(const nlohmann::json& mappings);

}  // namespace sp
