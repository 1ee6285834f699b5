// Store: the daemon's durable state in SQLite (WAL mode).
//
// Two tables: `services` (one row per deployed service: its deploy.yaml, the
// lifecycle state, the current instance's monitor and container PIDs, restart
// counters, the last exit, how far its log has been shipped) and `events`
// (append-only history of state changes). Every state change is written with
// its event in one transaction, so after a crash the two agree.
//
// Thread safety: a Store may be used from several threads; calls are
// serialised by an internal mutex. The caller owns the Store.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

struct sqlite3;

namespace sp {

struct ServiceRecord {
  std::string name;
  std::string config_yaml;  // the deploy.yaml text as received
  std::string config_file;  // its file name, for error messages
  // The lifecycle state by name: starting|running|restarting|backoff|exited|stopping. The Store
  // keeps it as text and does not interpret it; the Supervisor writes ServiceStateName() and
  // parses it back on recovery (supervisor/service_state.h).
  std::string state;
  int64_t instance = 0;     // incremented on every start
  int64_t restarts = 0;     // restarts after the first start
  int64_t fast_failures = 0;
  int64_t monitor_pid = 0;
  int64_t container_pid = 0;
  std::string address;      // IPv4 address on the bridge, empty with host networking
  int64_t created_ms = 0;
  int64_t started_ms = 0;   // current instance
  int64_t next_start_ms = 0;  // backoff: when to start again
  bool has_exit = false;
  int64_t exit_code = 0;
  int64_t exit_signal = 0;
  bool exit_oom = false;
  int64_t exit_ms = 0;
  int64_t log_segment = 0;  // log shipping position
  int64_t log_offset = 0;
};

struct EventRecord {
  int64_t id = 0;
  std::string service;
  int64_t at_ms = 0;
  std::string kind;  // deployed|started|exited|restarting|backoff|stopped|adopted|failed|oom
  std::string message;
};

class Store {
 public:
  // Opens (creating if needed) the database at `path`.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();

  // Inserts the record, or updates every field of an existing one except the
  // log position (owned by SetLogPosition); appends `event` (if given) in the
  // same transaction.
  Status Put(const ServiceRecord& rec, const EventRecord* event = nullptr);
  // Deletes the record (events are kept); appends `event` in the same transaction.
  Status Remove(const std::string& name, const EventRecord* event = nullptr);
  Result<std::optional<ServiceRecord>> Get(const std::string& name);
  Result<std::vector<ServiceRecord>> List();
  // The most recent `limit` events of a service, oldest first.
  Result<std::vector<EventRecord>> Events(const std::string& service, int limit);
  Status SetLogPosition(const std::string& name, int64_t segment, int64_t offset);
  // Small key/value table for daemon-wide settings.
  Result<std::optional<std::string>> GetSetting(const std::string& key);
  Status PutSetting(const std::string& key, const std::string& value);

 private:
  Store() = default;
  Status Exec(const char* sql);
  Status PutLocked(const ServiceRecord& rec);
  Status AppendEventLocked(const EventRecord& ev);

  std::mutex mu_;
  sqlite3* db_ = nullptr;  // GUARDED_BY(mu_)
};

}  // namespace sp
