// Helpers shared by the net module's tests (header-only, test code only).
//
// They run real networking checks against the test's own namespaces: a TCP
// greeting server on 127.0.0.1, a TCP/UDP greeting server inside a test
// namespace, a connect-and-read client and a UDP request client (meant to run
// in the host or inside a namespace via RunInNetns), readers for addresses,
// link flags and the default route as seen from the calling thread's
// namespace, temp dirs, and random names so parallel or leftover runs do not
// collide.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/ipv4.h"
#include "net/netns.h"
#include "util/fs.h"
#include "util/status.h"
#include "util/subprocess.h"

namespace sp::testing {

inline std::string RandomHex(int digits) {
  static std::mt19937 gen{std::random_device{}()};
  const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < digits; ++i) s += hex[gen() % 16];
  return s;
}

inline int RandomInt(int lo, int hi) {
  static std::mt19937 gen{std::random_device{}()};
  return std::uniform_int_distribution<int>(lo, hi)(gen);
}

// A directory under /tmp, removed (with everything in it) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/sp-net-test-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Accepts TCP connections on 127.0.0.1:<ephemeral port> on its own thread, writes the greeting to each
// and closes it. Stopped (and joined) on destruction. With reuse_address the socket sets SO_REUSEADDR, as
// most servers do.
class LoopbackGreeter {
 public:
  explicit LoopbackGreeter(std::string greeting, bool reuse_address = false)
      : greeting_(std::move(greeting)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd_ >= 0 && reuse_address) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::pipe2(stop_, O_CLOEXEC) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackGreeter() {
    if (thread_.joinable()) {
      (void)!::write(stop_[1], "x", 1);
      thread_.join();
    }
    for (int fd : {fd_, stop_[0], stop_[1]})
      if (fd >= 0) ::close(fd);
  }
  LoopbackGreeter(const LoopbackGreeter&) = delete;
  LoopbackGreeter& operator=(const LoopbackGreeter&) = delete;
  int port() const { return port_; }  // 0 if the server could not start

 private:
  void Serve() {
    for (;;) {
      pollfd pf[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(pf, 2, -1) < 0 && errno != EINTR) return;
      if (pf[1].revents) return;
      if (!pf[0].revents) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      (void)!::write(c, greeting_.data(), greeting_.size());
      ::close(c);
    }
  }

  std::string greeting_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
};

// A greeting server whose socket lives in a test namespace: it is created there (RunInNetns) and bound to
// address:port of the namespace, but served by a thread of the test process (a socket stays in the
// namespace it was made in). TCP: each connection gets the greeting and is closed. UDP: each datagram is
// answered with the greeting. Stopped (and joined) on destruction.
class NamespaceGreeter {
 public:
  NamespaceGreeter(const std::string& ns, const std::string& address, int port, const std::string& protocol,
                   std::string greeting)
      : udp_(protocol == "udp"), greeting_(std::move(greeting)) {
    auto ip = ParseIpv4(address);
    if (!ip || ::pipe2(stop_, O_CLOEXEC) != 0) return;
    Status st = RunInNetns(ns, [&]() -> Status { return Open(*ip, port); });
    if (!st.ok()) {
      error_ = st.ToString();
      return;
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~NamespaceGreeter() {
    if (thread_.joinable()) {
      (void)!::write(stop_[1], "x", 1);
      thread_.join();
    }
    for (int fd : {fd_, stop_[0], stop_[1]})
      if (fd >= 0) ::close(fd);
  }
  NamespaceGreeter(const NamespaceGreeter&) = delete;
  NamespaceGreeter& operator=(const NamespaceGreeter&) = delete;
  bool ok() const { return thread_.joinable(); }
  const std::string& error() const { return error_; }

 private:
  Status Open(uint32_t ip, int port) {
    fd_ = ::socket(AF_INET, (udp_ ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Status::FromErrno("socket", errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(ip);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return Status::FromErrno("bind", errno);
    if (!udp_ && ::listen(fd_, 16) != 0) return Status::FromErrno("listen", errno);
    return Status::Ok();
  }
  void Serve() {
    for (;;) {
      pollfd pf[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(pf, 2, -1) < 0 && errno != EINTR) return;
      if (pf[1].revents) return;
      if (pf[0].revents) udp_ ? AnswerDatagram() : AnswerConnection();
    }
  }
  void AnswerConnection() {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    (void)!::write(c, greeting_.data(), greeting_.size());
    ::close(c);
  }
  void AnswerDatagram() {
    char buf[512];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    if (::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len) < 0) return;
    (void)!::sendto(fd_, greeting_.data(), greeting_.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  }

  bool udp_;
  std::string greeting_;
  std::string error_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

// Sends a datagram to address:port (from the calling thread's namespace) and returns the first reply.
// Sends again every 200 ms for up to 3 s (UDP may lose a datagram); fails when nothing answers.
inline Result<std::string> UdpRequest(const std::string& address, int port) {
  SP_ASSIGN_OR_RETURN(uint32_t ip, ParseIpv4(address));
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(Status::FromErrno("socket", errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(ip);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string target = address + ":" + std::to_string(port) + "/udp";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return Err(Status::FromErrno("connect " + target, e));
  }
  for (int attempt = 0; attempt < 15; ++attempt) {
    (void)!::send(fd, "ping", 4, 0);
    pollfd pf = {fd, POLLIN, 0};
    if (::poll(&pf, 1, 200) <= 0) continue;
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == ECONNREFUSED) {
      ::close(fd);
      return Err(Status::FromErrno("udp request to " + target, ECONNREFUSED));
    }
    if (n < 0) continue;
    ::close(fd);
    return std::string(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Err(Status::DeadlineExceeded("no answer from " + target + " within 3s"));
}

// Connects to address:port (from the calling thread's namespace) and reads until EOF. Fails with the
// connect error (e.g. "Connection refused") when nothing answers.
inline Result<std::string> ConnectAndRead(const std::string& address, int port) {
  SP_ASSIGN_OR_RETURN(uint32_t ip, ParseIpv4(address));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Err(Status::FromErrno("socket", errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(ip);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string target = address + ":" + std::to_string(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    int e = errno;
    ::close(fd);
    return Err(Status::FromErrno("connect " + target, e));
  }
  std::string out;
  for (;;) {
    pollfd pf = {fd, POLLIN | POLLOUT, 0};
    if (::poll(&pf, 1, 5000) <= 0) {
      ::close(fd);
      return Err(Status::DeadlineExceeded("no answer from " + target + " within 5s"));
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr != 0) {
      ::close(fd);
      return Err(Status::FromErrno("connect " + target, soerr));
    }
    if (!(pf.revents & (POLLIN | POLLHUP))) continue;  // connected; wait for data
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// IPv4 addresses of an interface in the calling thread's namespace.
inline std::vector<std::string> Ipv4AddressesOf(const std::string& ifname) {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || ifname != a->ifa_name) continue;
    out.push_back(FormatIpv4(ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr)));
  }
  ::freeifaddrs(list);
  return out;
}

// Whether an interface in the calling thread's namespace is up.
inline bool LinkIsUp(const std::string& ifname) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq req{};
  std::snprintf(req.ifr_name, IFNAMSIZ, "%s", ifname.c_str());
  bool up = fd >= 0 && ::ioctl(fd, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP);
  if (fd >= 0) ::close(fd);
  return up;
}

// The first IPv4 address of the interface that carries the default route ("" if there is none).
inline std::string PrimaryHostAddress() {
  std::ifstream in("/proc/thread-self/net/route");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, dest;
    fields >> iface >> dest;
    if (dest != "00000000") continue;
    auto addresses = Ipv4AddressesOf(iface);
    return addresses.empty() ? "" : addresses.front();
  }
  return "";
}

// Gateway of the IPv4 default route in the calling thread's namespace, "" if there is none.
inline std::string DefaultGateway() {
  std::ifstream in("/proc/thread-self/net/route");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, dest, gw;
    fields >> iface >> dest >> gw;
    if (dest == "00000000") return FormatIpv4(ntohl(static_cast<uint32_t>(std::stoul(gw, nullptr, 16))));
  }
  return "";
}

// Polls cond every 10 ms until it holds or 5 s have passed; returns its last value.
inline bool EventuallyTrue(const std::function<bool()>& cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Host-side ports of a bridge (from /sys, the daemon's namespace).
inline std::vector<std::string> BridgePorts(const std::string& bridge) {
  auto ports = ListDir("/sys/class/net/" + bridge + "/brif");
  return ports ? *ports : std::vector<std::string>{};
}

// Number of nat PREROUTING rules that DNAT bridge traffic for port with the spawnpoint comment.
inline int CountRouterRules(const std::string& bridge, int port) {
  auto r = RunCommand({"iptables", "-w", "5", "-t", "nat", "-S", "PREROUTING"});
  if (!r || !r->ok()) return -1;
  std::istringstream lines(r->out);
  std::string line;
  int n = 0;
  std::string p = std::to_string(port);
  while (std::getline(lines, line)) {
    if (line.find("-i " + bridge + " ") != std::string::npos &&
        line.find("--dport " + p + " ") != std::string::npos &&
        line.find("--comment spawnpoint") != std::string::npos &&
        line.find("127.0.0.1:" + p) != std::string::npos)
      ++n;
  }
  return n;
}

}  // namespace sp::testing
