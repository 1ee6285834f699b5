// The identities of one Spawnpoint installation: an operator, the SYS
// (system) account nats-server needs, and the Spawnpoint account whose users
// are the entities (daemon, admin, grants). The operator signs both account
// JWTs; the Spawnpoint account signs user JWTs; nats-server trusts the
// operator through RouterAuthConfig().
//
// On disk (`dir`, 0700): operator.seed, sys.seed, account.seed (0600) and
// operator.jwt, sys.jwt, account.jwt (0644). The first call creates them;
// later calls load them, so keys survive restarts. The Spawnpoint account's
// JWT carries unlimited JetStream limits so its users can use JetStream.
//
// A Namespace holds secrets (the seeds, wiped when it is destroyed); it is
// immutable once loaded and safe to read from several threads. The functions
// are not safe against two processes creating the same dir at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "auth/nkeys.h"
#include "util/status.h"

namespace sp {

struct Namespace {
  KeyPair op, sys, account;
  std::string operator_jwt, sys_jwt, account_jwt;
};

// Creates (first run) or loads the namespace in `dir`. A seed or JWT that is
// damaged, or a JWT that does not belong to the stored keys, is an error
// (FailedPrecondition) rather than silently replaced: the JWTs may carry
// revocations.
Result<Namespace> LoadOrCreateNamespace(const std::string& dir);

// Issues a new user of the Spawnpoint account and returns the .creds text
// (a secret).
Result<std::string> IssueUserCreds(const Namespace& ns, std::string_view name, const Permissions& perms,
                                   std::optional<int64_t> expires_unix = {});

// Makes sure `path` holds creds of a user of this namespace's account: keeps
// an existing valid file (so an identity survives restarts), otherwise issues
// a user and writes the file 0600. A file that cannot work with this
// namespace (damaged, expired, issued by another account) is replaced.
Status EnsureUserCreds(const Namespace& ns, const std::string& path, std::string_view name,
                       const Permissions& perms);

// The nats-server configuration fragment that trusts this namespace:
// `operator`, `system_account`, `resolver: MEMORY` and `resolver_preload`
// with both account JWTs.
std::string RouterAuthConfig(const Namespace& ns);

}  // namespace sp
