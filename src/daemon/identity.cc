// Minting of daemon and service entities (see identity.h).
#include "daemon/identity.h"

#include "auth/creds.h"
#include "auth/grant.h"
#include "auth/jwt.h"
#include "auth/nkeys.h"

#include <functional>

namespace sp {
namespace {

Result<std::string> Mint(const Namespace& ns, const std::string& name,
                         const std::function<Permissions(std::string_view pub)>& perms) {
  SP_ASSIGN_OR_RETURN(KeyPair user, KeyPair::Generate(KeyType::kUser));
  SP_ASSIGN_OR_RETURN(std::string jwt, UserJwt(ns.account, user.PublicKey(), name, perms(user.PublicKey())));
  return FormatCreds(jwt, user.Seed());
}

}  // namespace

Result<std::string> MintDaemonCreds(const Namespace& ns, const std::string& base) {
  return Mint(ns, "spawnd " + base, [&](std::string_view pub) { return DaemonPermissions(base, pub); });
}

Result<std::string> MintServiceCreds(const Namespace& ns, const std::string& base, const std::string& service) {
  return Mint(ns, "service " + service + " on " + base,
              [&](std::string_view pub) { return ServicePermissions(base, service, pub); });
}

Result<std::string> MintDelegatedServiceCreds(const Delegation& signer, const std::string& base,
                                              const std::string& service) {
  SP_ASSIGN_OR_RETURN(KeyPair user, KeyPair::Generate(KeyType::kUser));
  std::vector<UriGrant> grants = {{base + "/s.spawnpoint/" + service + "/i.spawnable/*", kPublish | kConsume}};
  SP_ASSIGN_OR_RETURN(std::string jwt, IssueDelegatedGrantJwt(signer, user.PublicKey(),
                                                              "service " + service + " on " + base, grants, {}));
  return FormatCreds(jwt, user.Seed());
}

Result<std::string> InboxPrefixOfCreds(const std::string& creds_path) {
  SP_ASSIGN_OR_RETURN(Creds c, ReadCredsFile(creds_path));
  return InboxPrefix(c.key.PublicKey());
}

}  // namespace sp
