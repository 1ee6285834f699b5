// Deploy progress: what a daemon publishes while it prepares a service (pulling its image,
// cloning its source, running its build), and what spawnctl shows from it.
//
// Messages go on `<base>/s.spawnpoint/<svc>/i.spawnable/signal/progress` as plain (not stored)
// publishes; a client subscribes before it sends the deploy request. Each message is a full
// snapshot, so a client that misses some still shows the right state. The daemon sends one at
// every state change and otherwise at most every 250 ms, and at least every 5 s while a deploy is
// in progress (a keepalive: a deploy whose progress stops is presumed lost). See docs/protocol.md.
//
// Encoding and parsing are pure and thread-safe. Parsing is defensive: the message comes from the
// network, so a malformed one is an error, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spawnpoint/status.h"

namespace sp {

// One blob of an image being fetched.
struct LayerProgress {
  std::string digest;       // "sha256:..."
  std::string kind;         // "layer" or "config"
  int64_t size = 0;         // bytes, as the manifest gives it (0 = unknown)
  int64_t done = 0;         // bytes fetched so far
  std::string state;        // waiting | downloading | verifying | unpacking | cached | done | failed

  bool operator==(const LayerProgress&) const = default;
};

struct DeployProgress {
  std::string service;
  // resolving | pulling | cloning | building | starting | done | failed
  std::string phase;
  std::string image;        // the reference as deployed ("127.0.0.1:5000/web:1.0"), may be empty
  std::string message;      // a human-readable line about the current step, may be empty
  int64_t time_ms = 0;      // daemon's wall clock when the snapshot was taken
  std::vector<LayerProgress> layers;

  bool operator==(const DeployProgress&) const = default;
};

std::string EncodeProgress(const DeployProgress& p);
// InvalidArgument for anything that is not a well-formed progress message (at most 1000 layers).
Result<DeployProgress> ParseProgress(std::string_view data);

}  // namespace sp
