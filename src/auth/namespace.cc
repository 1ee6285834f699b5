// Namespace persistence: each key and JWT is loaded if present, else made and
// written atomically (seeds before the JWTs that name them).
#include "auth/namespace.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <functional>

#include "auth/creds.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr size_t kMaxSeedFile = 4096;

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

Result<KeyPair> LoadKey(const std::string& path, KeyType type) {
  if (::chmod(path.c_str(), 0600) != 0) return Err(Status::FromErrno("chmod " + path, errno));
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, kMaxSeedFile));
  std::string seed = Trim(text);
  sodium_memzero(text.data(), text.size());
  auto key = KeyPair::FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  if (!key) return Err(Status::FailedPrecondition(path + ": " + key.error().message()));
  if (key->type() != type)
    return Err(Status::FailedPrecondition(path + ": holds an " + std::string(KeyTypeName(key->type())) +
                                          " seed, expected an " + std::string(KeyTypeName(type)) + " seed"));
  return key;
}

Result<KeyPair> LoadOrCreateKey(const std::string& path, KeyType type) {
  if (PathExists(path)) return LoadKey(path, type);
  SP_ASSIGN_OR_RETURN(KeyPair key, KeyPair::Generate(type));
  std::string seed = key.Seed() + "\n";
  Status written = WriteFileAtomic(path, seed, 0600);
  sodium_memzero(seed.data(), seed.size());
  if (!written.ok()) return Err(written);
  return key;
}

// Loads the JWT at `path` and checks it names `subject` and was signed by
// `issuer`; or mints one with `mint` and writes it.
Result<std::string> LoadOrMintJwt(const std::string& path, const std::string& subject,
                                  const std::string& issuer,
                                  const std::function<Result<std::string>()>& mint) {
  if (!PathExists(path)) {
    SP_ASSIGN_OR_RETURN(std::string jwt, mint());
    SP_RETURN_IF_ERROR(WriteFileAtomic(path, jwt + "\n", 0644));
    return jwt;
  }
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 1 << 20));
  std::string jwt = Trim(text);
  auto claims = DecodeAndVerify(jwt);
  if (!claims) return Err(Status::FailedPrecondition(path + ": " + claims.error().message()));
  if (JsonString(*claims, "sub") != subject || JsonString(*claims, "iss") != issuer)
    return Err(
        Status::FailedPrecondition(path + ": JWT does not belong to the keys stored beside it (sub \"" +
                                   JsonString(*claims, "sub") + "\", iss \"" + JsonString(*claims, "iss") +
                                   "\"); restore the matching files or remove this directory to start over"));
  return jwt;
}

bool IssuedByAccount(const nlohmann::json& claims, const std::string& account_pub) {
  if (JsonString(claims, "iss") == account_pub) return true;
  auto nats = claims.find("nats");
  return nats != claims.end() && JsonString(*nats, "issuer_account") == account_pub;
}

}  // namespace

Result<Namespace> LoadOrCreateNamespace(const std::string& dir) {
  SP_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  if (::chmod(dir.c_str(), 0700) != 0) return Err(Status::FromErrno("chmod " + dir, errno));
  SP_ASSIGN_OR_RETURN(KeyPair op, LoadOrCreateKey(JoinPath(dir, "operator.seed"), KeyType::kOperator));
  SP_ASSIGN_OR_RETURN(KeyPair sys, LoadOrCreateKey(JoinPath(dir, "sys.seed"), KeyType::kAccount));
  SP_ASSIGN_OR_RETURN(KeyPair account, LoadOrCreateKey(JoinPath(dir, "account.seed"), KeyType::kAccount));
  const std::string op_pub = op.PublicKey(), sys_pub = sys.PublicKey(), account_pub = account.PublicKey();

  SP_ASSIGN_OR_RETURN(std::string operator_jwt,
                      LoadOrMintJwt(JoinPath(dir, "operator.jwt"), op_pub, op_pub,
                                    [&] { return OperatorJwt(op, "spawnpoint", sys_pub); }));
  SP_ASSIGN_OR_RETURN(std::string sys_jwt, LoadOrMintJwt(JoinPath(dir, "sys.jwt"), sys_pub, op_pub, [&] {
                        return AccountJwt(op, sys_pub, "SYS", std::nullopt);
                      }));
  SP_ASSIGN_OR_RETURN(std::string account_jwt,
                      LoadOrMintJwt(JoinPath(dir, "account.jwt"), account_pub, op_pub, [&] {
                        return AccountJwt(op, account_pub, "spawnpoint", JetStreamLimits{});
                      }));
  return Namespace{std::move(op),           std::move(sys),     std::move(account),
                   std::move(operator_jwt), std::move(sys_jwt), std::move(account_jwt)};
}

Result<std::string> IssueUserCreds(const Namespace& ns, std::string_view name, const Permissions& perms,
                                   std::optional<int64_t> expires_unix) {
  SP_ASSIGN_OR_RETURN(KeyPair user, KeyPair::Generate(KeyType::kUser));
  SP_ASSIGN_OR_RETURN(std::string jwt, UserJwt(ns.account, user.PublicKey(), name, perms, expires_unix));
  std::string seed = user.Seed();
  std::string creds = FormatCreds(jwt, seed);
  sodium_memzero(seed.data(), seed.size());
  return creds;
}

Status EnsureUserCreds(const Namespace& ns, const std::string& path, std::string_view name,
                       const Permissions& perms) {
  if (PathExists(path)) {
    auto existing = ReadCredsFile(path);
    if (existing && IssuedByAccount(existing->claims, ns.account.PublicKey())) return Status::Ok();
  }
  SP_ASSIGN_OR_RETURN(std::string creds, IssueUserCreds(ns, name, perms));
  Status written = WriteFileAtomic(path, creds, 0600);
  sodium_memzero(creds.data(), creds.size());
  return written;
}

std::string RouterAuthConfig(const Namespace& ns) {
  std::string out;
  out += "operator: \"" + ns.operator_jwt + "\"\n";
  out += "system_account: \"" + ns.sys.PublicKey() + "\"\n";
  out += "resolver: MEMORY\n";
  out += "resolver_preload: {\n";
  out += "  \"" + ns.sys.PublicKey() + "\": \"" + ns.sys_jwt + "\"\n";
  out += "  \"" + ns.account.PublicKey() + "\": \"" + ns.account_jwt + "\"\n";
  out += "}\n";
  return out;
}

}  // namespace sp
