// EmbeddedRouter: writes the config, clears a stale server, spawns
// nats-server and polls until it accepts connections.
#include "router/embedded_router.h"

#include <signal.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "router/server_config.h"
#include "router/server_process.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

constexpr Millis kStartDeadline(10000);
constexpr Millis kStopGrace(5000);
constexpr Millis kReadyPoll(20);
constexpr size_t kLogExcerpt = 2000;
constexpr off_t kLogRotateSize = 16 << 20;

bool AcceptsTcp(const ListenAddress& addr) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(addr.port));
  if (::inet_pton(AF_INET, addr.host.c_str(), &sa.sin_addr) != 1) return false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

off_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

// What the server logged since `offset` (at most its last kLogExcerpt bytes).
std::string LogSince(const std::string& path, off_t offset) {
  off_t size = FileSize(path);
  if (size <= offset) return "(nothing logged)";
  off_t from = std::max<off_t>(offset, size - static_cast<off_t>(kLogExcerpt));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "(log unreadable)";
  std::string tail(static_cast<size_t>(size - from), '\0');
  ssize_t n = ::pread(fd, tail.data(), tail.size(), from);
  ::close(fd);
  tail.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return from > offset ? "..." + tail : tail;
}

// Keeps one previous log (<log>.1) once the log has grown past kLogRotateSize,
// so the router's log stays bounded across restarts.
void RotateLogIfLarge(const std::string& path) {
  if (FileSize(path) > kLogRotateSize) ::rename(path.c_str(), (path + ".1").c_str());
}

Result<std::string> AbsoluteProgram(const std::string& name) {
  SP_ASSIGN_OR_RETURN(std::string found, FindProgram(name));
  char* resolved = ::realpath(found.c_str(), nullptr);
  if (!resolved) return Err(Status::FromErrno("realpath " + found, errno));
  std::string out = resolved;
  std::free(resolved);
  return out;
}

}  // namespace

EmbeddedRouter::EmbeddedRouter(RouterOptions opts, ListenAddress addr, std::string binary,
                               std::string config_text)
    : opts_(std::move(opts)),
      addr_(std::move(addr)),
      binary_(std::move(binary)),
      config_text_(std::move(config_text)) {}

EmbeddedRouter::~EmbeddedRouter() {
  std::lock_guard lock(mu_);
  (void)StopLocked();
}

std::string EmbeddedRouter::RenderConfig(const RouterOptions& opts, const ListenAddress& addr, const Namespace& ns) {
  ServerConfig config{.server_name = opts.server_name,
                      .listen = addr,
                      .max_payload = opts.max_payload,
                      .store_dir = opts.dir,  // nats-server keeps its store in <store_dir>/jetstream
                      .pid_file = JoinPath(opts.dir, "nats-server.pid"),
                      .log_file = JoinPath(opts.dir, "nats-server.log"),
                      .auth = RouterAuthConfig(ns)};
  return RenderServerConfig(config);
}

Status EmbeddedRouter::Reload(const Namespace& ns) {
  std::lock_guard lock(mu_);
  config_text_ = RenderConfig(opts_, addr_, ns);
  SP_RETURN_IF_ERROR(WriteFileAtomic(Path("nats-server.conf"), config_text_, 0600));
  if (pid_ <= 0) return Status::Ok();  // the next launch reads the new file
  if (::kill(pid_, SIGHUP) != 0) return Status::FromErrno("signal router to reload", errno);
  return Status::Ok();
}

Result<std::unique_ptr<EmbeddedRouter>> EmbeddedRouter::Start(const RouterOptions& opts,
                                                              const Namespace& ns) {
  if (opts.dir.empty()) return Err(Status::InvalidArgument("embedded router: no directory given"));
  SP_RETURN_IF_ERROR(MakeDirs(opts.dir, 0700));
  auto binary = AbsoluteProgram(opts.server_binary);
  if (!binary) return Err(binary.error().Annotate("embedded router (install the nats-server package)"));
  SP_ASSIGN_OR_RETURN(ListenAddress addr, ResolveRouterAddress(JoinPath(opts.dir, "address"), opts.listen,
                                                               opts.prefer_listen_port_only));
  std::unique_ptr<EmbeddedRouter> router(new EmbeddedRouter(opts, addr, *binary, RenderConfig(opts, addr, ns)));
  std::lock_guard lock(router->mu_);
  Status launched = router->LaunchLocked();
  if (!launched.ok()) return Err(launched.Annotate("start embedded router"));
  return router;
}

std::string EmbeddedRouter::Path(const char* name) const { return JoinPath(opts_.dir, name); }

std::string EmbeddedRouter::url() const { return "nats://" + addr_.ToString(); }

int EmbeddedRouter::port() const { return addr_.port; }

pid_t EmbeddedRouter::pid() const {
  std::lock_guard lock(mu_);
  return pid_;
}

bool EmbeddedRouter::Alive() {
  std::lock_guard lock(mu_);
  if (pid_ > 0 && !ChildAlive(pid_)) pid_ = -1;
  return pid_ > 0;
}

Status EmbeddedRouter::Restart() {
  std::lock_guard lock(mu_);
  SP_RETURN_IF_ERROR(StopLocked());
  Status launched = LaunchLocked();
  return launched.ok() ? launched : launched.Annotate("restart embedded router");
}

Status EmbeddedRouter::Stop() {
  std::lock_guard lock(mu_);
  return StopLocked();
}

Status EmbeddedRouter::LaunchLocked() {
  const std::string config_path = Path("nats-server.conf");
  const std::string log_path = Path("nats-server.log");
  SP_RETURN_IF_ERROR(WriteFileAtomic(config_path, config_text_, 0600));
  SP_RETURN_IF_ERROR(StopStaleServer(Path("nats-server.pid"), binary_, config_path, kStopGrace));
  if (!PortIsFree(addr_))
    return Status::Unavailable("router address " + addr_.ToString() + " (recorded in " + Path("address") +
                               ") is in use by another process; stop that process, or remove " +
                               Path("address") + " to choose a new address (clients then need the new URL)");
  RotateLogIfLarge(log_path);
  off_t log_offset = FileSize(log_path);
  SP_ASSIGN_OR_RETURN(pid_, SpawnChild({binary_, "-c", config_path}, log_path));
  Status ready = WaitReadyLocked(log_offset);
  if (!ready.ok()) (void)StopLocked();
  return ready;
}

Status EmbeddedRouter::WaitReadyLocked(off_t log_offset) {
  auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!ChildAlive(pid_)) {
      pid_ = -1;
      return Status::Unavailable("nats-server exited during startup; its log (" + Path("nats-server.log") +
                                 ") says: " + LogSince(Path("nats-server.log"), log_offset));
    }
    if (AcceptsTcp(addr_)) return Status::Ok();
    std::this_thread::sleep_for(kReadyPoll);
  }
  return Status::DeadlineExceeded("nats-server did not accept connections on " + addr_.ToString() +
                                  " within " + FormatDuration(kStartDeadline) +
                                  "; its log says: " + LogSince(Path("nats-server.log"), log_offset));
}

Status EmbeddedRouter::StopLocked() {
  if (pid_ <= 0) return Status::Ok();
  Status stopped = StopChild(pid_, kStopGrace);
  // A killed server leaves its pid file; remove it so it cannot name a reused PID.
  auto recorded = ReadFileCapped(Path("nats-server.pid"), 64);
  if (recorded && recorded->substr(0, recorded->find_first_of(" \n")) == std::to_string(pid_))
    ::unlink(Path("nats-server.pid").c_str());
  pid_ = -1;
  return stopped;
}

}  // namespace sp
