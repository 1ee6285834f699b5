// Delegation: the namespace owner lets someone else grant access to one URI
// subtree, and nothing outside it.
//
// CreateDelegation adds a *scoped* signing key to the Spawnpoint account
// (NATS "user_scope"): users signed by it get exactly the permissions of the
// key's template, never their own. The template, with P the subject of the
// subtree, lets a user publish on "P.<its pub tags>", subscribe to
// "P.<its sub tags>", read the heartbeat and log streams inside
// "P.<its sub tags>" (consumer create, direct get), and subscribe to its own
// inbox "_INBOX.<its public key>.>", and answer each request it received
// once (as ServicePermissions allow a service). The delegate (who holds the signing
// seed) issues users with IssueDelegatedGrantJwt, which writes grants as
// tags: "pub:<subject relative to P>" and "sub:<subject relative to P>".
//
// The router enforces the bound, not this code: a tag is pasted after "P.",
// so even a hand-made JWT with tag "pub:>" only reaches "P.>", and a
// delegate-signed JWT that carries its own permissions or limits is refused
// at connect. The delegate can still give any subject inside its subtree,
// including ones IssueDelegatedGrantJwt would refuse (a trailing '*'),
// because tag values are pasted unescaped.
//
// Tag values keep their case and '%' (checked against nats-server 2.9.10),
// so the "%2E" of URI subjects survives.
//
// The delegate's signer file (0600) is JSON:
//   {"seed": "SA...", "account": "A...", "subtree": "oski/spawnpoint/alpha"}
// It is a secret. Functions are thread-safe except that CreateDelegation and
// RemoveDelegation modify `ns` (see auth/account_edit.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/grant.h"
#include "auth/namespace.h"
#include "auth/nkeys.h"
#include "util/status.h"

namespace sp {

struct Delegation {
  KeyPair key;              // the scoped signing key (an account key pair)
  std::string account_pub;  // the account it signs for
  std::string subtree;      // a concrete URI
};

// The scoped-signing-key entry of `signing_pub` for `subtree` as it appears in
// the account JWT's `signing_keys`. REQUIRES: subtree is a valid URI.
nlohmann::json DelegationScope(std::string_view signing_pub, std::string_view subtree);

// Adds a new scoped signing key for `subtree` (a concrete URI that a grant
// could name: ValidateGrantUri) to the account JWT in `dir`, re-signed by the
// operator (ns.account_jwt updated), and returns the delegation. The router
// accepts the delegate's users once its config is rewritten and reloaded.
Result<Delegation> CreateDelegation(Namespace& ns, const std::string& dir, std::string_view subtree);

// Removes the scoped signing key `signing_pub` from the account JWT in `dir`;
// users it signed can no longer connect once the router reloads.
// NotFound if the account has no such key.
Status RemoveDelegation(Namespace& ns, const std::string& dir, std::string_view signing_pub);

// Writes the signer file, 0600.
Status WriteDelegation(const std::string& path, const Delegation& d);
// Reads and checks a signer file (size, JSON shape, an account seed, an
// account public key, a valid subtree). Errors name the path, never the seed.
Result<Delegation> ReadDelegation(const std::string& path);

// A user JWT signed by the delegate for `user_pub` carrying `grants` as tags
// and nothing else (no permissions, no limits: the router would refuse it).
// InvalidArgument for an empty list, a bad URI or perms (see grant.h), or a
// grant URI that is not strictly inside the subtree (it must start with
// "<subtree>/").
Result<std::string> IssueDelegatedGrantJwt(const Delegation& d, std::string_view user_pub,
                                           std::string_view name, const std::vector<UriGrant>& grants,
                                           std::optional<int64_t> expires_unix);

}  // namespace sp
