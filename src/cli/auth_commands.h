// spawnctl's identity commands: make entities, grant them URI permissions,
// delegate granting for a subtree, revoke, and print the router's auth
// config. Granting with the namespace key, revoking and delegating happen on
// the host that holds the namespace (the embedded daemon's state dir, or a
// namespace dir made for an external router); they then ask the local spawnd
// to reload (SIGHUP) so the router applies the change at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/duration.h"

namespace sp::cli {

struct GrantFlags {
  std::string to;                 // public key of the entity receiving the grant
  std::vector<std::string> uris;  // URI patterns
  std::string perm = "PC";        // P, C or PC, for every URI
  std::optional<Millis> expires;  // none: no expiry
  std::string out;                // -o: creds file (with the seed if it is there) or JWT file
  std::string signer;             // --signer: a delegation file instead of the namespace key
  std::string daemon;             // --daemon BASE: a daemon's entity instead of URI grants
  std::string name;
};

int EntityNew(const std::string& out);
int Grant(const GrantFlags& f);
int Revoke(const std::string& pub);
int Delegate(const std::string& subtree, const std::string& out);
int RouterConfig();

// The namespace directory: <SPAWNPOINT_STATE_DIR or /var/lib/spawnpoint>/auth.
std::string NamespaceDir();

}  // namespace sp::cli
