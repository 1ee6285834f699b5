// Address parsing, probing by bind(2), and the record file.
#include "router/router_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "util/fs.h"

namespace sp {
namespace {

// Binds a socket to host:port; returns the fd (caller closes) or an error.
Result<int> BindSocket(const std::string& host, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1)
    return Err(Status::InvalidArgument("not an IPv4 address: " + host));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(Status::FromErrno("socket", errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    ::close(fd);
    return Err(Status::FromErrno("bind " + host + ":" + std::to_string(port), e));
  }
  return fd;
}

Result<ListenAddress> ChooseAddress(std::string_view listen, bool strict) {
  SP_ASSIGN_OR_RETURN(ListenAddress addr, ParseListenAddress(listen));
  if (addr.port != 0 && (strict || PortIsFree(addr))) return addr;
  SP_ASSIGN_OR_RETURN(addr.port, PickFreePort(addr.host));
  return addr;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return Err(
        Status::InvalidArgument("router listen address \"" + std::string(text) + "\": expected host:port"));
  ListenAddress addr{std::string(text.substr(0, colon)), 0};
  if (addr.host == "localhost") addr.host = "127.0.0.1";
  in_addr unused;
  if (::inet_pton(AF_INET, addr.host.c_str(), &unused) != 1)
    return Err(Status::InvalidArgument("router listen address \"" + std::string(text) +
                                       "\": host must be an IPv4 address such as 127.0.0.1"));
  std::string_view port = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), addr.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || addr.port < 0 ||
      addr.port > 65535)
    return Err(Status::InvalidArgument("router listen address \"" + std::string(text) +
                                       "\": port must be a number from 0 to 65535"));
  return addr;
}

bool PortIsFree(const ListenAddress& addr) {
  auto fd = BindSocket(addr.host, addr.port);
  if (!fd) return false;
  ::close(*fd);
  return true;
}

Result<int> PickFreePort(const std::string& host) {
  SP_ASSIGN_OR_RETURN(int fd, BindSocket(host, 0));
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  int rc = ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  int e = errno;
  ::close(fd);
  if (rc != 0) return Err(Status::FromErrno("getsockname", e));
  return static_cast<int>(ntohs(sa.sin_port));
}

Result<ListenAddress> ResolveRouterAddress(const std::string& address_file, std::string_view listen,
                                           bool strict) {
  if (!strict && PathExists(address_file)) {
    SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(address_file, 256));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    auto recorded = ParseListenAddress(text);
    if (!recorded)
      return Err(recorded.error().Annotate(address_file + " (remove it to choose a new address)"));
    if (recorded->port != 0) return recorded;
  }
  SP_ASSIGN_OR_RETURN(ListenAddress addr, ChooseAddress(listen, strict));
  SP_RETURN_IF_ERROR(WriteFileAtomic(address_file, addr.ToString() + "\n", 0644));
  return addr;
}

}  // namespace sp
