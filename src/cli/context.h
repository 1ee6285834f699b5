// What every spawnctl command shares: the global flags, the connection to
// the router, the default host URI, output helpers and Ctrl-C handling.
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

struct GlobalFlags {
  std::string router;  // -r/--router, env SPAWNPOINT_ROUTER
  std::string entity;  // -e/--entity, env SPAWNPOINT_ENTITY
};

class Context {
 public:
  explicit Context(GlobalFlags flags) : flags_(std::move(flags)) {}
  // Connects on first use.
  Result<Client*> Connect();
  // `uri` if given, else SPAWNPOINT_DEFAULT_URI, else the local daemon's base URI.
  Result<std::string> HostUri(const std::string& uri);
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
