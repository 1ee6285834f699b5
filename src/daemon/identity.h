// Identities the daemon mints with the namespace's account key (embedded
// router): its own least-privilege entity, fresh at every start, and one
// entity per service that may act only under the service's own URI subtree.
// Pure functions over the Namespace; thread-safe.
#pragma once

#include <string>

#include "auth/delegation.h"
#include "auth/namespace.h"
#include "util/status.h"

namespace sp {

// .creds text of a new daemon entity for base URI `base` (auth/grant.h DaemonPermissions).
Result<std::string> MintDaemonCreds(const Namespace& ns, const std::string& base);
// .creds text of a new entity for `service` (auth/grant.h ServicePermissions).
Result<std::string> MintServiceCreds(const Namespace& ns, const std::string& base, const std::string& service);
// .creds text of a new entity for `service`, issued under a delegation scoped
// to the daemon's base (a daemon joined to an external router).
Result<std::string> MintDelegatedServiceCreds(const Delegation& signer, const std::string& base,
                                              const std::string& service);
// The inbox prefix belonging to the entity in a .creds file.
Result<std::string> InboxPrefixOfCreds(const std::string& creds_path);

}  // namespace sp
