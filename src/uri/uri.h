// Spawnpoint URIs and their NATS subjects.
//
// A URI is a list of '/'-separated segments, e.g.
//   oski/spawnpoint/alpha/s.spawnpoint/daemon/i.spawnpoint/slot/config
// Segments are non-empty and use only A-Z a-z 0-9 - _ . ~ : @ =.
// The NATS subject of a URI is the root token "sp" followed by the segments,
// all joined with '.', writing a '.' that is part of a segment as "%2E":
//   sp.oski.spawnpoint.alpha.s%2Espawnpoint.daemon.i%2Espawnpoint.slot.config
// Because '%' may not appear in a segment, the mapping is reversible. The
// fixed root keeps every Spawnpoint subject apart from the router's own
// ($JS.API..., $SYS..., _INBOX...): the streams' wildcard patterns
// ("sp.*.*.s%2Espawnpoint...") can never capture an API request.
//
// A URI *pattern* (used in grants and scans) may end with a '*' segment,
// matching any depth below (NATS '>'), and may use '+' for exactly one
// segment (NATS '*').
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sp {

inline constexpr std::string_view kSubjectRoot = "sp";

// Checks a concrete URI (no wildcards). Returns the segments.
Result<std::vector<std::string>> ParseUri(std::string_view uri);
// Same check as ParseUri, as a Status; `what` names the URI in the message.
Status ValidateUri(std::string_view uri, std::string_view what = "URI");
// Checks a URI pattern ('+' segments, an optional trailing '*').
Result<std::vector<std::string>> ParseUriPattern(std::string_view pattern);

// REQUIRES: ParseUri(uri) succeeds (checked; an invalid URI aborts).
std::string UriToSubject(std::string_view uri);
// REQUIRES: ParseUriPattern(pattern) succeeds.
std::string PatternToSubject(std::string_view pattern);
// Inverse of UriToSubject; InvalidArgument for a subject no URI maps to.
Result<std::string> SubjectToUri(std::string_view subject);

// The Spawnpoint hierarchy below a daemon's base URI (PRODUCT.md §2).
class SpawnpointUris {
 public:
  // REQUIRES: base is a valid URI.
  explicit SpawnpointUris(std::string base) : base_(std::move(base)) {}
  const std::string& base() const { return base_; }
  std::string Alias() const;  // last segment of the base

  std::string DaemonHeartbeat() const;  // <base>/s.spawnpoint/daemon/i.spawnpoint/signal/heartbeat
  std::string DaemonConfigSlot() const;  // <base>/s.spawnpoint/daemon/i.spawnpoint/slot/config
  std::string DaemonSlot(std::string_view kind) const;  // .../daemon/i.spawnpoint/slot/<kind> (images, pull, prune)
  std::string DaemonProgress() const;   // .../daemon/i.spawnpoint/signal/progress (image pulls)
  std::string ServicePrefix(std::string_view svc) const;  // <base>/s.spawnpoint/<svc>/i.spawnable
  std::string ServiceHeartbeat(std::string_view svc) const;
  std::string ServiceLog(std::string_view svc) const;
  std::string ServiceProgress(std::string_view svc) const;  // <prefix>/signal/progress (deploy progress)
  std::string ServiceRestartSlot(std::string_view svc) const;
  std::string ServiceStopSlot(std::string_view svc) const;
  std::string ServiceInspectSlot(std::string_view svc) const;

 private:
  std::string base_;
};

// JetStream keeps what daemons publish, captured straight from the URI
// subjects: the heartbeat stream (last message per subject) holds
// <base>/s.spawnpoint/+/+/signal/heartbeat, the log stream
// <base>/s.spawnpoint/+/i.spawnable/signal/log, for bases of 1 to
// kMaxBaseDepth segments: one subject pattern per depth, because a stream's
// patterns cannot express "any depth, then this tail".
inline constexpr std::string_view kHeartbeatStream = "SPAWNPOINT_HEARTBEATS";
inline constexpr std::string_view kLogStream = "SPAWNPOINT_LOGS";
inline constexpr int kMaxBaseDepth = 8;
std::vector<std::string> HeartbeatStreamSubjects();
std::vector<std::string> LogStreamSubjects();
// Filters selecting the heartbeats of every host whose base URI is `prefix`
// or lies below it (one per possible base depth).
// REQUIRES: ParseUri(prefix) succeeds.
std::vector<std::string> HeartbeatScanFilters(std::string_view prefix);

}  // namespace sp
