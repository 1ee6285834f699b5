// What every spawnctl command shares: the global flags, the connection to
// the router, the default host URI (both at once as a Session, the preamble
// of every command that talks to a daemon), output helpers and Ctrl-C
// handling.
// Single-threaded use, except Printer, which log callbacks use from the
// client library's thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "spawnpoint/client.h"
#include "util/duration.h"

namespace sp::cli {

// How long a command waits for a daemon's reply to a request.
inline constexpr Millis kRequestTimeout{60000};

struct GlobalFlags {
  std::string router;  // -r/--router, env SPAWNPOINT_ROUTER
  std::string entity;  // -e/--entity, env SPAWNPOINT_ENTITY
};

// What a command that talks to a daemon works with. `client` is owned by the Context that made it.
struct Session {
  Client* client = nullptr;
  std::string uri;  // base URI of the host the command acts on
};

class Context {
 public:
  explicit Context(GlobalFlags flags) : flags_(std::move(flags)) {}
  // Connects on first use.
  Result<Client*> Connect();
  // `uri` if given, else SPAWNPOINT_DEFAULT_URI, else the local daemon's base URI.
  Result<std::string> HostUri(const std::string& uri);
  // The connect preamble: HostUri(uri), then Connect(). A command reports a failure as its own
  // (Fail(s.error(), "scan")). The session's client lives as long as this Context.
  Result<Session> Open(const std::string& uri);
  const GlobalFlags& flags() const { return flags_; }

 private:
  Result<Endpoint> GetEndpoint();
  GlobalFlags flags_;
  std::optional<Endpoint> endpoint_;
  std::unique_ptr<Client> client_;
};

// Serialises lines written from several threads.
void PrintLine(const std::string& line);
void PrintError(const std::string& line);
// Prints a service log entry as spawnctl shows it.
void PrintLogEntry(const LogEntry& e);
std::string FormatLogEntry(const LogEntry& e);  // "[spawnd] ..." for lifecycle events

// Blocks until Ctrl-C, or `timeout` if set (a zero duration returns at once).
void WaitForInterruptOr(std::optional<Millis> timeout);
void InstallInterruptHandler();

// Reports a failed operation and returns the exit status for it.
int Fail(const Status& s, const std::string& what);

}  // namespace sp::cli
