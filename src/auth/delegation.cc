// Scoped signing keys: the template, the signer file, and users that carry
// their grants as tags.
#include "auth/delegation.h"

#include <sodium.h>

#include <algorithm>

#include "auth/account_edit.h"
#include "auth/jwt.h"
#include "uri/uri.h"
#include "util/fs.h"

namespace sp {
namespace {

using nlohmann::json;

constexpr size_t kMaxSignerFile = 64 * 1024;
constexpr std::string_view kScopeKind = "user_scope";
constexpr std::string_view kRolePrefix = "spawnpoint-delegate:";

Status CheckDelegationSubtree(std::string_view subtree) {
  SP_RETURN_IF_ERROR(ValidateUri(subtree, "delegation subtree"));
  return ValidateGrantUri(subtree).Annotate("delegation subtree");
}

// "pub:<rel>" / "sub:<rel>" tags of one grant, with rel its subject below `base` ("P").
Result<std::vector<std::string>> GrantTags(const Delegation& d, const std::string& base, const UriGrant& g) {
  SP_RETURN_IF_ERROR(ValidateGrantUri(g.uri));
  if (g.perms == 0 || (g.perms & ~(kPublish | kConsume)) != 0)
    return Err(Status::InvalidArgument("grant on \"" + g.uri + "\": permissions must be P, C or PC"));
  if (!g.uri.starts_with(d.subtree + "/"))
    return Err(Status::InvalidArgument("grant on \"" + g.uri + "\" is outside the delegated subtree \"" +
                                       d.subtree + "\": it must start with \"" + d.subtree + "/\""));
  std::string rel = PatternToSubject(g.uri).substr(base.size() + 1);
  std::vector<std::string> tags;
  if (g.perms & kPublish) tags.push_back("pub:" + rel);
  if (g.perms & kConsume) tags.push_back("sub:" + rel);
  return tags;
}

Status CheckDelegationKeys(const Delegation& d) {
  if (d.key.type() != KeyType::kAccount)
    return Status::InvalidArgument("delegation: the signing key is not an account key");
  auto type = PublicKeyType(d.account_pub);
  if (!type || *type != KeyType::kAccount)
    return Status::InvalidArgument("delegation: \"" + d.account_pub + "\" is not an account public key");
  return CheckDelegationSubtree(d.subtree);
}

Result<std::string> StringField(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return Err(Status::InvalidArgument(path + ": missing string field \"" + key + "\""));
  return it->get<std::string>();
}

Result<Delegation> ParseDelegation(const std::string& text, const std::string& path) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Err(Status::InvalidArgument(path + ": not a JSON object (a delegation file)"));
  SP_ASSIGN_OR_RETURN(std::string seed, StringField(j, "seed", path));
  auto key = KeyPair::FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  auto& parsed_seed = j["seed"].get_ref<std::string&>();  // a string: StringField checked
  sodium_memzero(parsed_seed.data(), parsed_seed.size());
  if (!key) return Err(Status::InvalidArgument(path + ": seed: " + key.error().message()));
  SP_ASSIGN_OR_RETURN(std::string account, StringField(j, "account", path));
  SP_ASSIGN_OR_RETURN(std::string subtree, StringField(j, "subtree", path));
  Delegation d{std::move(*key), std::move(account), std::move(subtree)};
  Status ok = CheckDelegationKeys(d);
  if (!ok.ok()) return Err(ok.Annotate(path));
  return d;
}

}  // namespace

json DelegationScope(std::string_view signing_pub, std::string_view subtree) {
  const std::string p = UriToSubject(subtree);
  const std::string pub_tag = p + ".{{tag(pub)}}", sub_tag = p + ".{{tag(sub)}}";
  json pub = json::array({pub_tag});
  for (const std::string& api : ConsumeApiSubjects(sub_tag)) pub.push_back(api);
  // resp: a user may answer each request it received once (a delegated service
  // answering its slots), as ServicePermissions allow.
  json tmpl = {{"pub", {{"allow", pub}}},
               {"sub", {{"allow", {sub_tag, "_INBOX.{{subject()}}.>"}}}},
               {"resp", {{"max", 1}, {"ttl", 0}}},
               {"subs", -1},
               {"data", -1},
               {"payload", -1}};
  return {{"kind", kScopeKind},
          {"key", signing_pub},
          {"role", std::string(kRolePrefix) + std::string(subtree)},
          {"template", tmpl}};
}

Result<Delegation> CreateDelegation(Namespace& ns, const std::string& dir, std::string_view subtree) {
  SP_RETURN_IF_ERROR(CheckDelegationSubtree(subtree));
  SP_ASSIGN_OR_RETURN(KeyPair key, KeyPair::Generate(KeyType::kAccount));
  SP_RETURN_IF_ERROR(EditAccountJwt(ns, dir, [&](json& nats) {
    json& keys = nats["signing_keys"];
    if (!keys.is_array()) keys = json::array();
    keys.push_back(DelegationScope(key.PublicKey(), subtree));
    return Status::Ok();
  }));
  return Delegation{std::move(key), ns.account.PublicKey(), std::string(subtree)};
}

Status RemoveDelegation(Namespace& ns, const std::string& dir, std::string_view signing_pub) {
  return EditAccountJwt(ns, dir, [&](json& nats) {
    auto keys = nats.find("signing_keys");
    auto named = [&](const json& k) {
      return (k.is_string() && k.get<std::string>() == signing_pub) ||
             (k.is_object() && JsonString(k, "key") == signing_pub);
    };
    if (keys == nats.end() || !keys->is_array() || std::none_of(keys->begin(), keys->end(), named))
      return Status::NotFound("the account has no signing key " + std::string(signing_pub));
    keys->erase(std::remove_if(keys->begin(), keys->end(), named), keys->end());
    if (keys->empty()) nats.erase("signing_keys");
    return Status::Ok();
  });
}

Status WriteDelegation(const std::string& path, const Delegation& d) {
  SP_RETURN_IF_ERROR(CheckDelegationKeys(d));
  json j = {{"seed", d.key.Seed()}, {"account", d.account_pub}, {"subtree", d.subtree}};
  std::string text = j.dump(2) + "\n";
  auto& seed = j["seed"].get_ref<std::string&>();
  sodium_memzero(seed.data(), seed.size());
  Status written = WriteFileAtomic(path, text, 0600);
  sodium_memzero(text.data(), text.size());
  return written;
}

Result<Delegation> ReadDelegation(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, kMaxSignerFile));
  auto d = ParseDelegation(text, path);
  sodium_memzero(text.data(), text.size());
  return d;
}

Result<std::string> IssueDelegatedGrantJwt(const Delegation& d, std::string_view user_pub,
                                           std::string_view name, const std::vector<UriGrant>& grants,
                                           std::optional<int64_t> expires_unix) {
  SP_RETURN_IF_ERROR(CheckDelegationKeys(d));
  auto type = PublicKeyType(user_pub);
  if (!type || *type != KeyType::kUser)
    return Err(
        Status::InvalidArgument("grant: \"" + std::string(user_pub) + "\" is not a user public key (U...)"));
  if (grants.empty()) return Err(Status::InvalidArgument("a grant needs at least one URI"));
  const std::string base = UriToSubject(d.subtree);
  // "root:" is not used by the scope's template; it tells the entity's own tools (spawnctl scan)
  // what its tags are relative to, since the template lives in the account JWT they cannot read.
  std::vector<std::string> tags = {"root:" + base};
  for (const UriGrant& g : grants) {
    SP_ASSIGN_OR_RETURN(std::vector<std::string> more, GrantTags(d, base, g));
    for (auto& t : more)
      if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(std::move(t));
  }
  // A scoped user carries no permissions or limits: the router refuses it if it does.
  json nats = {{"type", "user"}, {"version", 2}, {"issuer_account", d.account_pub}, {"tags", tags}};
  json claims = {{"sub", user_pub}, {"name", name}, {"nats", nats}};
  if (expires_unix) claims["exp"] = *expires_unix;
  return EncodeJwt(d.key, std::move(claims));
}

}  // namespace sp
