// JWT encoding with nlohmann::json (never throwing: dumps replace invalid
// UTF-8, parses report errors by value) and libsodium hashes.
#include "auth/jwt.h"

#include <sodium.h>

#include <chrono>

#include "auth/base32.h"
#include "auth/base64url.h"

namespace sp {
namespace {

using nlohmann::json;

constexpr std::string_view kHeader = R"({"typ":"JWT","alg":"ed25519-nkey"})";
constexpr size_t kMaxTokenSize = 1 << 20;

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

// InvalidArgument unless `key` is a well-formed public key of type `want`.
Status CheckKey(std::string_view what, std::string_view key, KeyType want) {
  auto type = PublicKeyType(key);
  if (!type) return type.error().Annotate(what);
  if (*type != want)
    return Status::InvalidArgument(std::string(what) + ": expected an " + std::string(KeyTypeName(want)) +
                                   " key, got an " + std::string(KeyTypeName(*type)) + " key");
  return Status::Ok();
}

Status CheckKeys(std::string_view what, const std::vector<std::string>& keys, KeyType want) {
  for (const auto& k : keys) SP_RETURN_IF_ERROR(CheckKey(what, k, want));
  return Status::Ok();
}

// {"allow": [...], "deny": [...]}, each only when non-empty.
json SubjectRule(const std::vector<std::string>& allow, const std::vector<std::string>& deny) {
  json rule = json::object();
  if (!allow.empty()) rule["allow"] = allow;
  if (!deny.empty()) rule["deny"] = deny;
  return rule;
}

json AccountLimits(const std::optional<JetStreamLimits>& js) {
  json limits = {{"subs", -1},    {"data", -1},        {"payload", -1}, {"imports", -1},
                 {"exports", -1}, {"wildcards", true}, {"conn", -1},    {"leaf", -1}};
  if (js) {
    limits["mem_storage"] = js->mem_storage;
    limits["disk_storage"] = js->disk_storage;
    limits["streams"] = js->streams;
    limits["consumer"] = js->consumer;
  }
  return limits;
}

Result<json> ParsePart(std::string_view part, std::string_view what) {
  auto text = Base64UrlDecode(part);
  if (!text) return Err(text.error().Annotate("jwt " + std::string(what)));
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Err(Status::InvalidArgument("jwt " + std::string(what) + ": not a JSON object"));
  return j;
}

Status CheckHeader(const json& header) {
  auto typ = header.find("typ");
  auto alg = header.find("alg");
  if (typ == header.end() || !typ->is_string() || (*typ != "JWT" && *typ != "jwt"))
    return Status::InvalidArgument("jwt header: typ must be \"JWT\"");
  if (alg == header.end() || !alg->is_string() || *alg != "ed25519-nkey")
    return Status::InvalidArgument("jwt header: alg must be \"ed25519-nkey\" (NATS JWT version 2)");
  return Status::Ok();
}

Status CheckValidityWindow(const json& claims) {
  int64_t now = NowUnix();
  auto exp = claims.find("exp");
  if (exp != claims.end() && exp->is_number_integer() && exp->get<int64_t>() != 0 &&
      exp->get<int64_t>() < now)
    return Status::PermissionDenied("jwt expired at unix time " + std::to_string(exp->get<int64_t>()));
  auto nbf = claims.find("nbf");
  if (nbf != claims.end() && nbf->is_number_integer() && nbf->get<int64_t>() > now)
    return Status::PermissionDenied("jwt not valid before unix time " + std::to_string(nbf->get<int64_t>()));
  return Status::Ok();
}

}  // namespace

std::string EncodeJwt(const KeyPair& issuer, json claims) {
  SP_CHECK(claims.is_object());
  claims.erase("jti");
  claims["iss"] = issuer.PublicKey();
  claims["iat"] = NowUnix();
  claims["jti"] = Base32Encode(Sha256(Dump(claims)));
  std::string signing_input = Base64UrlEncode(kHeader) + "." + Base64UrlEncode(Dump(claims));
  return signing_input + "." + Base64UrlEncode(issuer.Sign(signing_input));
}

Result<std::string> OperatorJwt(const KeyPair& op, std::string_view name, std::string_view system_account_pub,
                                const std::vector<std::string>& signing_keys) {
  if (op.type() != KeyType::kOperator)
    return Err(Status::InvalidArgument("operator JWT: issuer is not an operator"));
  SP_RETURN_IF_ERROR(CheckKey("operator JWT: system account", system_account_pub, KeyType::kAccount));
  SP_RETURN_IF_ERROR(CheckKeys("operator JWT: signing key", signing_keys, KeyType::kOperator));
  json nats = {{"type", "operator"}, {"version", 2}, {"system_account", system_account_pub}};
  if (!signing_keys.empty()) nats["signing_keys"] = signing_keys;
  return EncodeJwt(op, {{"sub", op.PublicKey()}, {"name", name}, {"nats", nats}});
}

Result<std::string> AccountJwt(const KeyPair& issuer, std::string_view account_pub, std::string_view name,
                               std::optional<JetStreamLimits> js,
                               const std::vector<std::string>& signing_keys,
                               const std::map<std::string, int64_t>& revocations) {
  if (issuer.type() != KeyType::kOperator)
    return Err(Status::InvalidArgument("account JWT: issuer must be an operator key"));
  SP_RETURN_IF_ERROR(CheckKey("account JWT: subject", account_pub, KeyType::kAccount));
  SP_RETURN_IF_ERROR(CheckKeys("account JWT: signing key", signing_keys, KeyType::kAccount));
  for (const auto& [key, unused] : revocations) {
    if (key != "*") SP_RETURN_IF_ERROR(CheckKey("account JWT: revocation", key, KeyType::kUser));
  }
  json nats = {{"type", "account"}, {"version", 2}, {"limits", AccountLimits(js)}};
  if (!signing_keys.empty()) nats["signing_keys"] = signing_keys;
  if (!revocations.empty()) nats["revocations"] = revocations;
  return EncodeJwt(issuer, {{"sub", account_pub}, {"name", name}, {"nats", nats}});
}

Result<std::string> UserJwt(const KeyPair& issuer, std::string_view user_pub, std::string_view name,
                            const Permissions& perms, std::optional<int64_t> expires_unix,
                            std::string_view issuer_account) {
  if (issuer.type() != KeyType::kAccount)
    return Err(Status::InvalidArgument("user JWT: issuer must be an account key or an account signing key"));
  SP_RETURN_IF_ERROR(CheckKey("user JWT: subject", user_pub, KeyType::kUser));
  if (!issuer_account.empty())
    SP_RETURN_IF_ERROR(CheckKey("user JWT: issuer account", issuer_account, KeyType::kAccount));
  json nats = {{"type", "user"}, {"version", 2}, {"subs", -1}, {"data", -1}, {"payload", -1}};
  json pub = SubjectRule(perms.pub_allow, perms.pub_deny);
  json sub = SubjectRule(perms.sub_allow, perms.sub_deny);
  if (!pub.empty()) nats["pub"] = pub;
  if (!sub.empty()) nats["sub"] = sub;
  if (perms.allow_responses) nats["resp"] = {{"max", 1}, {"ttl", 0}};
  if (!issuer_account.empty()) nats["issuer_account"] = issuer_account;
  json claims = {{"sub", user_pub}, {"name", name}, {"nats", nats}};
  if (expires_unix) claims["exp"] = *expires_unix;
  return EncodeJwt(issuer, std::move(claims));
}

std::string JsonString(const json& object, std::string_view key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

Result<json> DecodeAndVerify(std::string_view jwt) {
  if (jwt.size() > kMaxTokenSize) return Err(Status::InvalidArgument("jwt: larger than 1 MiB"));
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos)
    return Err(Status::InvalidArgument("jwt: expected three dot-separated parts"));
  SP_ASSIGN_OR_RETURN(json header, ParsePart(jwt.substr(0, dot1), "header"));
  SP_RETURN_IF_ERROR(CheckHeader(header));
  SP_ASSIGN_OR_RETURN(json claims, ParsePart(jwt.substr(dot1 + 1, dot2 - dot1 - 1), "claims"));
  std::string iss = JsonString(claims, "iss");
  if (iss.empty()) return Err(Status::InvalidArgument("jwt claims: missing \"iss\""));
  auto sig = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!sig) return Err(sig.error().Annotate("jwt signature"));
  Status verified = Verify(iss, jwt.substr(0, dot2), *sig);
  if (!verified.ok()) return Err(verified.Annotate("jwt"));
  SP_RETURN_IF_ERROR(CheckValidityWindow(claims));
  return claims;
}

}  // namespace sp
