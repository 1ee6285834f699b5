// Published ports: validation, host port probes (bind and release) and resolution of a service's list.
#include "net/ports.h"

#include "protocol/service_messages.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace sp {
namespace {

constexpr int kMaxPort = 65535;
// bind(0) rarely returns a port to avoid twice in a row; this only bounds a pathological avoid set.
constexpr int kChooseAttempts = 64;

bool ValidProtocol(std::string_view protocol) { return protocol == "tcp" || protocol == "udp"; }

std::string PortName(int port, std::string_view protocol) {
  return std::to_string(port) + "/" + std::string(protocol);
}

Status ValidateEntry(const PublishedPort& p, bool require_host_port) {
  std::string what = "published port " + FormatPort(p);
  if (!ValidProtocol(p.protocol))
    return Status::InvalidArgument(what + ": protocol must be \"tcp\" or \"udp\", got \"" + p.protocol +
                                   "\"");
  if (p.container_port < 1 || p.container_port > kMaxPort)
    return Status::InvalidArgument(what + ": container port " + std::to_string(p.container_port) +
                                   " is not in 1..65535");
  if (p.host_port < 0 || p.host_port > kMaxPort)
    return Status::InvalidArgument(what + ": host port " + std::to_string(p.host_port) +
                                   " is not in 1..65535 (or 0 to let the daemon choose)");
  if (p.host_port == 0 && require_host_port)
    return Status::InvalidArgument(what + ": host port not chosen yet (resolve the ports first)");
  return Status::Ok();
}

// A socket of the protocol bound to 0.0.0.0:port (port 0 = kernel's choice); the caller closes it.
Result<int> BindProbe(int port, std::string_view protocol, bool reuse_address) {
  int fd = ::socket(AF_INET, (protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(Status::FromErrno("socket", errno));
  int one = 1;
  if (reuse_address && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    int e = errno;
    ::close(fd);
    return Err(Status::FromErrno("setsockopt SO_REUSEADDR", e));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EADDRINUSE)
      return Err(
          Status::AlreadyExists("host port " + PortName(port, protocol) + " is already in use on this host"));
    return Err(Status::FromErrno("bind 0.0.0.0:" + PortName(port, protocol), e));
  }
  return fd;
}

Result<int> BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return Err(Status::FromErrno("getsockname", errno));
  return static_cast<int>(ntohs(addr.sin_port));
}

// Ports of `protocol` that ResolvePorts must not choose.
std::set<int> PortsToAvoid(const std::vector<PublishedPort>& wanted,
                           const std::set<std::pair<int, std::string>>& taken, std::string_view protocol) {
  std::set<int> avoid;
  for (const PublishedPort& p : wanted)
    if (p.host_port != 0 && p.protocol == protocol) avoid.insert(p.host_port);
  for (const auto& [port, proto] : taken)
    if (proto == protocol) avoid.insert(port);
  return avoid;
}

Status CheckExplicitHostPort(const PublishedPort& p, const std::set<std::pair<int, std::string>>& taken) {
  if (taken.count({p.host_port, p.protocol}))
    return Status::AlreadyExists("host port " + PortName(p.host_port, p.protocol) +
                                 " is already published by another service");
  return CheckHostPortFree(p.host_port, p.protocol);
}

}  // namespace

std::string FormatPort(const PublishedPort& p) {
  std::string container = PortName(p.container_port, p.protocol);
  return p.host_port == 0 ? container : std::to_string(p.host_port) + ":" + container;
}

Status ValidatePorts(const std::vector<PublishedPort>& ports, bool require_host_port) {
  std::set<std::pair<int, std::string>> seen;
  for (const PublishedPort& p : ports) {
    SP_RETURN_IF_ERROR(ValidateEntry(p, require_host_port));
    if (p.host_port != 0 && !seen.insert({p.host_port, p.protocol}).second)
      return Status::InvalidArgument("host port " + PortName(p.host_port, p.protocol) +
                                     " is published more than once (each host port can forward to one "
                                     "container port only)");
  }
  return Status::Ok();
}

Result<int> ChooseHostPort(std::string_view protocol, const std::set<int>& avoid) {
  if (!ValidProtocol(protocol))
    return Err(Status::InvalidArgument("protocol must be \"tcp\" or \"udp\", got \"" + std::string(protocol) +
                                       "\""));
  for (int i = 0; i < kChooseAttempts; ++i) {
    SP_ASSIGN_OR_RETURN(int fd, BindProbe(0, protocol, /*reuse_address=*/false));
    auto port = BoundPort(fd);
    ::close(fd);
    if (!port) return Err(port.error());
    if (!avoid.count(*port)) return *port;
  }
  return Err(Status::ResourceExhausted("no free " + std::string(protocol) + " host port found in " +
                                       std::to_string(kChooseAttempts) +
                                       " tries (is net.ipv4.ip_local_port_range nearly exhausted?)"));
}

Status CheckHostPortFree(int port, std::string_view protocol) {
  if (!ValidProtocol(protocol))
    return Status::InvalidArgument("protocol must be \"tcp\" or \"udp\", got \"" + std::string(protocol) +
                                   "\"");
  if (port < 1 || port > kMaxPort)
    return Status::InvalidArgument("host port " + std::to_string(port) + " is not in 1..65535");
  SP_ASSIGN_OR_RETURN(int fd, BindProbe(port, protocol, /*reuse_address=*/protocol == "tcp"));
  ::close(fd);
  return Status::Ok();
}

Result<std::vector<PublishedPort>> ResolvePorts(
    const std::vector<PublishedPort>& wanted,
    const std::set<std::pair<int, std::string>>& taken_by_services) {
  SP_RETURN_IF_ERROR(ValidatePorts(wanted, /*require_host_port=*/false));
  for (const PublishedPort& p : wanted) {
    if (p.host_port != 0)
      SP_RETURN_IF_ERROR(CheckExplicitHostPort(p, taken_by_services).Annotate("publish " + FormatPort(p)));
  }
  std::vector<PublishedPort> resolved = wanted;
  for (PublishedPort& p : resolved) {
    if (p.host_port != 0) continue;
    std::set<int> avoid = PortsToAvoid(resolved, taken_by_services, p.protocol);
    auto chosen = ChooseHostPort(p.protocol, avoid);
    if (!chosen) return Err(chosen.error().Annotate("publish " + FormatPort(p)));
    p.host_port = *chosen;
  }
  return resolved;
}

nlohmann::json PortMappingsJson(const std::vector<PublishedPort>& ports) { return protocol::PortsToJson(ports); }

Result<std::vector<PublishedPort>> PortMappingsFromJson(const nlohmann::json& mappings) {
  if (!mappings.is_array()) return Err(Status::InvalidArgument("port mappings: not a list"));
  auto int_field = [](const nlohmann::json& m, const char* key) {
    auto it = m.find(key);
    return it != m.end() && it->is_number_integer() ? it->get<int>() : 0;
  };
  std::vector<PublishedPort> ports;
  for (const nlohmann::json& m : mappings) {
    if (!m.is_object()) return Err(Status::InvalidArgument("port mappings: an entry is not an object"));
    auto proto = m.find("protocol");
    ports.push_back({int_field(m, "hostPort"), int_field(m, "containerPort"),
                     proto != m.end() && proto->is_string() ? proto->get<std::string>() : ""});
  }
  SP_RETURN_IF_ERROR(ValidatePorts(ports, /*require_host_port=*/true));
  return ports;
}

}  // namespace sp
