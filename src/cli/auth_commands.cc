// spawnctl entity/grant/revoke/delegate/router-config (see auth_commands.h).
#include "cli/auth_commands.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "auth/account_edit.h"
#include "auth/creds.h"
#include "auth/delegation.h"
#include "auth/grant.h"
#include "auth/namespace.h"
#include "auth/nkeys.h"
#include "cli/context.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sp::cli {
namespace {

std::string StateDir() {
  const char* d = std::getenv("SPAWNPOINT_STATE_DIR");
  return d && *d ? d : "/var/lib/spawnpoint";
}

// Asks the spawnd that owns the state dir (if one runs) to reload the namespace.
void SignalDaemonReload() {
  auto pid_text = ReadFileCapped(JoinPath(StateDir(), "spawnd.lock"), 64);
  if (!pid_text || pid_text->empty()) return;
  pid_t pid = static_cast<pid_t>(std::atoll(pid_text->c_str()));
  auto cmdline = ReadFileCapped("/proc/" + std::to_string(pid) + "/cmdline", 1 << 16);
  if (pid <= 0 || !cmdline || cmdline->find("spawnd") == std::string::npos) return;
  if (::kill(pid, SIGHUP) == 0) PrintError("spawnctl: asked spawnd (pid " + std::to_string(pid) + ") to reload");
}

Result<Namespace> LocalNamespace() {
  std::string dir = NamespaceDir();
  if (!PathExists(JoinPath(dir, "account.jwt")))
    return Err(Status::NotFound("no namespace in " + dir +
                                " (run this on the daemon's host, set SPAWNPOINT_STATE_DIR, or use --signer)"));
  return LoadOrCreateNamespace(dir);
}

Result<std::vector<UriGrant>> ParseGrants(const GrantFlags& f) {
  if (f.uris.empty()) return Err(Status::InvalidArgument("at least one --uri is required"));
  SP_ASSIGN_OR_RETURN(unsigned perms, ParsePerms(f.perm));
  std::vector<UriGrant> out;
  for (const auto& u : f.uris) {
    SP_RETURN_IF_ERROR(ValidateGrantUri(u));
    out.push_back({u, perms});
  }
  return out;
}

Result<std::string> SignGrant(const GrantFlags& f, std::optional<int64_t> exp) {
  std::string name = f.name.empty() ? "grant for " + f.to.substr(0, 8) : f.name;
  if (!f.daemon.empty()) {
    if (!f.signer.empty()) return Err(Status::InvalidArgument("--daemon grants are signed with the namespace key"));
    SP_ASSIGN_OR_RETURN(Namespace ns, LocalNamespace());
    return UserJwt(ns.account, f.to, "spawnd " + f.daemon, DaemonPermissions(f.daemon, f.to), exp);
  }
  SP_ASSIGN_OR_RETURN(auto grants, ParseGrants(f));
  if (!f.signer.empty()) {
    SP_ASSIGN_OR_RETURN(Delegation d, ReadDelegation(f.signer));
    return IssueDelegatedGrantJwt(d, f.to, name, grants, exp);
  }
  SP_ASSIGN_OR_RETURN(Namespace ns, LocalNamespace());
  return IssueGrantJwt(ns, f.to, name, grants, exp);
}

// Writes the grant: next to the entity's seed when -o holds it (a usable .creds), else the JWT alone.
Status WriteGrant(const GrantFlags& f, const std::string& jwt) {
  if (f.out.empty()) {
    PrintLine(jwt);
    return Status::Ok();
  }
  if (PathExists(f.out)) {
    auto key = ReadSeedFile(f.out);
    if (key && key->PublicKey() == f.to) return WriteCredsFile(f.out, jwt, key->Seed());
    if (key) return Status::InvalidArgument(f.out + " holds the seed of another entity (" + key->PublicKey() + ")");
  }
  SP_RETURN_IF_ERROR(WriteFileAtomic(f.out, "-----BEGIN NATS USER JWT-----\n" + jwt + "\n------END NATS USER JWT------\n", 0644));
  PrintError("spawnctl: " + f.out + " holds the JWT only; the entity combines it with its seed");
  return Status::Ok();
}

}  // namespace

std::string NamespaceDir() { return JoinPath(StateDir(), "auth"); }

int EntityNew(const std::string& out) {
  if (out.empty()) return Fail(Status::InvalidArgument("-o FILE is required"), "entity new");
  if (PathExists(out)) return Fail(Status::AlreadyExists(out + " exists; refusing to overwrite a key"), "entity new");
  auto key = KeyPair::Generate(KeyType::kUser);
  if (!key) return Fail(key.error(), "entity new");
  Status st = WriteSeedFile(out, *key);
  if (!st.ok()) return Fail(st, "entity new");
  PrintLine(key->PublicKey());
  return 0;
}

int Grant(const GrantFlags& f) {
  if (!PublicKeyType(f.to) || *PublicKeyType(f.to) != KeyType::kUser)
    return Fail(Status::InvalidArgument("--to must be an entity's public key (U...)"), "grant");
  std::optional<int64_t> exp;
  if (f.expires) exp = WallClockMs() / 1000 + f.expires->count() / 1000;
  auto jwt = SignGrant(f, exp);
  if (!jwt) return Fail(jwt.error(), "grant");
  Status st = WriteGrant(f, *jwt);
  if (!st.ok()) return Fail(st, "grant");
  return 0;
}

int Revoke(const std::string& pub) {
  if (!PublicKeyType(pub) || *PublicKeyType(pub) != KeyType::kUser)
    return Fail(Status::InvalidArgument("revoke takes an entity's public key (U...)"), "revoke");
  auto ns = LocalNamespace();
  if (!ns) return Fail(ns.error(), "revoke");
  Status st = RevokeUser(*ns, NamespaceDir(), pub, WallClockMs() / 1000);
  if (!st.ok()) return Fail(st, "revoke");
  SignalDaemonReload();
  PrintLine("revoked " + pub);
  return 0;
}

int Delegate(const std::string& subtree, const std::string& out) {
  if (out.empty()) return Fail(Status::InvalidArgument("-o FILE is required"), "delegate");
  auto ns = LocalNamespace();
  if (!ns) return Fail(ns.error(), "delegate");
  auto d = CreateDelegation(*ns, NamespaceDir(), subtree);
  if (!d) return Fail(d.error(), "delegate");
  Status st = WriteDelegation(out, *d);
  if (!st.ok()) return Fail(st, "delegate");
  SignalDaemonReload();
  PrintLine(d->key.PublicKey());
  return 0;
}

int RouterConfig() {
  auto ns = LoadOrCreateNamespace(NamespaceDir());  // creates the namespace on first use
  if (!ns) return Fail(ns.error(), "router-config");
  PrintLine(RouterAuthConfig(*ns));
  return 0;
}

}  // namespace sp::cli
