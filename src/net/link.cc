// Link helpers over SIOCGIFFLAGS/SIOCSIFFLAGS and SIOCBRADDBR/SIOCBRDELBR.
#include "net/link.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sp {
namespace {

// A datagram socket for interface ioctls, closed on scope exit. The socket belongs to the network
// namespace of the thread that creates it, which is what makes these helpers per-thread.
class IoctlSocket {
 public:
  IoctlSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~IoctlSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  IoctlSocket(const IoctlSocket&) = delete;
  IoctlSocket& operator=(const IoctlSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

ifreq RequestFor(const std::string& name) {
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return req;
}

}  // namespace

Status ValidateLinkName(std::string_view name) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid interface name \"" + std::string(name) + "\": " + why);
  };
  if (name.empty() || name.size() >= IFNAMSIZ) return bad("must be 1 to 15 characters");
  if (name == "." || name == "..") return bad("must not be \".\" or \"..\"");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    if (!ok) return bad("only letters, digits, '_', '-' and '.' are allowed");
  }
  return Status::Ok();
}

bool LinkExists(const std::string& name) { return ::if_nametoindex(name.c_str()) != 0; }

Status SetLinkUp(const std::string& name, bool up) {
  SP_RETURN_IF_ERROR(ValidateLinkName(name));
  IoctlSocket sock;
  if (sock.fd() < 0) return Status::FromErrno("socket for interface ioctl", errno);
  ifreq req = RequestFor(name);
  if (::ioctl(sock.fd(), SIOCGIFFLAGS, &req) != 0) {
    if (errno == ENODEV) return Status::NotFound("network interface " + name + " does not exist");
    return Status::FromErrno("read flags of interface " + name, errno);
  }
  if (up) {
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  } else {
    req.ifr_flags = static_cast<short>(req.ifr_flags & ~IFF_UP);
  }
  if (::ioctl(sock.fd(), SIOCSIFFLAGS, &req) != 0)
    return Status::FromErrno(std::string("set interface ") + name + (up ? " up" : " down"), errno);
  return Status::Ok();
}

Status EnsureBridge(const std::string& name) {
  SP_RETURN_IF_ERROR(ValidateLinkName(name));
  if (LinkExists(name)) {
    SP_ASSIGN_OR_RETURN(bool bridge, IsBridge(name));
    if (!bridge)
      return Status::FailedPrecondition("network interface " + name +
                                        " exists and is not a bridge; choose another bridge name");
  } else {
    IoctlSocket sock;
    if (sock.fd() < 0) return Status::FromErrno("socket for bridge ioctl", errno);
    if (::ioctl(sock.fd(), SIOCBRADDBR, name.c_str()) != 0 && errno != EEXIST)
      return Status::FromErrno("create bridge " + name, errno);
  }
  return SetLinkUp(name, true).Annotate("bridge " + name);
}

Status DeleteBridge(const std::string& name) {
  SP_RETURN_IF_ERROR(ValidateLinkName(name));
  if (!LinkExists(name)) return Status::Ok();
  SP_ASSIGN_OR_RETURN(bool bridge, IsBridge(name));
  if (!bridge)
    return Status::FailedPrecondition("network interface " + name + " is not a bridge; not deleting it");
  Status down = SetLinkUp(name, false);
  if (!down.ok() && down.code() != Code::kNotFound) return down;
  IoctlSocket sock;
  if (sock.fd() < 0) return Status::FromErrno("socket for bridge ioctl", errno);
  if (::ioctl(sock.fd(), SIOCBRDELBR, name.c_str()) != 0 && errno != ENXIO && errno != ENODEV)
    return Status::FromErrno("delete bridge " + name, errno);
  return Status::Ok();
}

// Asks the driver for its name (ETHTOOL_GDRVINFO): unlike /sys/class/net, this answers for the calling
// thread's network namespace.
Result<bool> IsBridge(const std::string& name) {
  SP_RETURN_IF_ERROR(ValidateLinkName(name));
  IoctlSocket sock;
  if (sock.fd() < 0) return Err(Status::FromErrno("socket for ethtool ioctl", errno));
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq req = RequestFor(name);
  req.ifr_data = reinterpret_cast<char*>(&info);
  if (::ioctl(sock.fd(), SIOCETHTOOL, &req) != 0) {
    if (errno == ENODEV) return Err(Status::NotFound("network interface " + name + " does not exist"));
    if (errno == EOPNOTSUPP) return false;  // drivers without ethtool support are not bridges
    return Err(Status::FromErrno("query driver of interface " + name, errno));
  }
  return std::string_view(info.driver) == "bridge";
}

}  // namespace sp
