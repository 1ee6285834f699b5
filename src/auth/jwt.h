// NATS JWTs (version 2): minting operator, account and user claims, and
// decoding and verifying any of them.
//
// A JWT is base64url(header) "." base64url(claims) "." base64url(signature),
// header {"typ":"JWT","alg":"ed25519-nkey"}, signature = Ed25519 of the first
// two parts by the issuer's key. Claims carry `iss` (the signer's public key),
// `sub` (the identity described), `name`, `iat` (now), `jti` (base32 of the
// SHA-256 of the claims without `jti`), optional `exp`, and the NATS-specific
// part under `nats`. nats-server verifies the chain operator -> account ->
// user, so what these builders write is what the router enforces.
//
// Builders return InvalidArgument when a key has the wrong type (say, a user
// JWT for an account key), so keys from users are safe to pass in. All
// functions are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/nkeys.h"
#include "util/status.h"

namespace sp {

// JetStream limits of an account; -1 = unlimited. An account JWT without them
// has JetStream disabled.
struct JetStreamLimits {
  int64_t mem_storage = -1;
  int64_t disk_storage = -1;
  int64_t streams = -1;
  int64_t consumer = -1;
};

// Subjects (NATS wildcards allowed) a user may publish / subscribe to. An
// empty allow list means "everything not denied"; empty lists are left out
// of the JWT so the router applies no restriction for them.
// `allow_responses` lets the user publish one reply to the reply subject of
// each request it received, even outside pub_allow.
struct Permissions {
  std::vector<std::string> pub_allow = {};
  std::vector<std::string> pub_deny = {};
  std::vector<std::string> sub_allow = {};
  std::vector<std::string> sub_deny = {};
  bool allow_responses = false;
};

// Self-signed operator JWT naming the system account.
Result<std::string> OperatorJwt(const KeyPair& op, std::string_view name, std::string_view system_account_pub,
                                const std::vector<std::string>& signing_keys = {});

// Account JWT signed by the operator. Connection, subscription and payload
// limits are unlimited; `js` enables JetStream. `signing_keys` (account keys)
// may sign users of this account; `revocations` maps a user public key (or
// "*") to a unix time before which its JWTs are no longer accepted.
Result<std::string> AccountJwt(const KeyPair& issuer, std::string_view account_pub, std::string_view name,
                               std::optional<JetStreamLimits> js,
                               const std::vector<std::string>& signing_keys = {},
                               const std::map<std::string, int64_t>& revocations = {});

// User JWT signed by an account key, or by one of its signing keys, in which
// case `issuer_account` must be the account's public key. Subscription, data
// and payload limits are unlimited.
Result<std::string> UserJwt(const KeyPair& issuer, std::string_view user_pub, std::string_view name,
                            const Permissions& perms, std::optional<int64_t> expires_unix = {},
                            std::string_view issuer_account = "");

// Signs arbitrary claims: sets `iss` to the issuer's public key, `iat` to now
// and `jti`, and encodes the token. The builders above use it.
// REQUIRES: claims is a JSON object.
std::string EncodeJwt(const KeyPair& issuer, nlohmann::json claims);

// Decodes a token, checks the header, the signature against the key named by
// `iss`, and the validity window (`exp`, `nbf`) against the current time.
// Returns the claims. InvalidArgument for a malformed token,
// PermissionDenied for a bad signature or an expired token.
Result<nlohmann::json> DecodeAndVerify(std::string_view jwt);

// The string at `key` of a JSON object (for reading claims), or "" when
// `object` is not an object or the value is absent or not a string. Never
// throws.
std::string JsonString(const nlohmann::json& object, std::string_view key);

}  // namespace sp
