// Changes to the Spawnpoint account's JWT after the namespace exists:
// revoking users and adding or removing signing keys (auth/delegation.h).
//
// The account JWT is the router's source of truth for who may connect: its
// `revocations` map and `signing_keys` list are read by nats-server from the
// config (`resolver: MEMORY` + `resolver_preload`, auth/namespace.h). An edit
// re-signs the JWT with the operator key and rewrites <dir>/account.jwt; the
// running router applies it when its config is rewritten from the namespace
// (RouterAuthConfig) and it is sent SIGHUP. Connected clients whose JWT is
// revoked are then disconnected within milliseconds.
//
// Each edit starts from the JWT on disk (not the copy in `ns`), under an
// exclusive lock on <dir>/account.lock, so edits by several processes
// (spawnctl, spawnd) are never lost; `ns.account_jwt` is updated to the
// result. The Namespace itself is not locked: callers that share one
// Namespace between threads serialize edits themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "auth/namespace.h"
#include "util/status.h"

namespace sp {

// Reads <dir>/account.jwt (which must verify and belong to ns's account and
// operator: FailedPrecondition otherwise), lets `edit` change its `nats`
// object, re-signs it with ns.op, writes it back (0644) and updates
// ns.account_jwt. Nothing is written if `edit` fails.
// REQUIRES: ns was loaded from `dir` by LoadOrCreateNamespace.
Status EditAccountJwt(Namespace& ns, const std::string& dir,
                      const std::function<Status(nlohmann::json& nats)>& edit);

// Revokes every JWT of `user_pub` (a user key, or "*" for all users) issued
// at or before `at_unix`: sets revocations[user_pub] to at_unix, or keeps an
// existing later time (revoking never un-revokes). NATS's rule is that a JWT
// is revoked when its `iat` <= the revocation time, so a grant issued later
// (iat > at_unix, i.e. in a later second) for the same key is valid again.
Status RevokeUser(Namespace& ns, const std::string& dir, std::string_view user_pub, int64_t at_unix);

// The revocation time of `user_pub` in an account JWT's claims, if any.
std::optional<int64_t> RevokedAt(const nlohmann::json& account_claims, std::string_view user_pub);

}  // namespace sp
