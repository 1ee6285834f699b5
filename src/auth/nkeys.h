// NKeys: Ed25519 key pairs spelled the way NATS expects them.
//
// A public key is base32(prefix byte + 32-byte Ed25519 key + CRC16) and starts
// with 'O' (operator), 'A' (account), 'U' (user) or 'N' (server); a seed is
// base32(two prefix bytes + 32-byte Ed25519 seed + CRC16) and starts with
// "SO", "SA", "SU" or "SN". Operators sign accounts, accounts sign users, and
// nats-server checks those signatures, so these keys are the identities of
// Spawnpoint.
//
// A KeyPair owns secret material: it wipes its seed and secret key from
// memory when destroyed (copies wipe their own). Never log Seed(). A KeyPair
// is immutable after construction, so const methods are safe to call from
// several threads. The free functions are thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

enum class KeyType { kOperator, kAccount, kUser, kServer };

// "operator", "account", "user", "server": for messages.
std::string_view KeyTypeName(KeyType type);

class KeyPair {
 public:
  // A fresh random key pair of the given type.
  static Result<KeyPair> Generate(KeyType type);
  // Parses a seed ("SO...", "SA...", "SU...", "SN..."); InvalidArgument if the
  // text is not base32, the checksum or the prefix is wrong.
  static Result<KeyPair> FromSeed(std::string_view seed);

  KeyPair(const KeyPair& other) = default;
  KeyPair& operator=(const KeyPair& other) = default;
  ~KeyPair();

  KeyType type() const { return type_; }
  // "O...", "A...", "U..." or "N...", 56 characters.
  std::string PublicKey() const;
  // The secret seed text. Never log it; write it only to 0600 files.
  std::string Seed() const;
  // Raw 64-byte Ed25519 signature of `message`.
  std::string Sign(std::string_view message) const;

 private:
  KeyPair(KeyType type, const unsigned char* seed);

  KeyType type_;
  std::array<unsigned char, 32> seed_;
  std::array<unsigned char, 32> public_;
  std::array<unsigned char, 64> secret_;  // libsodium's secret key: seed followed by public key
};

// The type of a public key; InvalidArgument if it is malformed (length,
// alphabet, checksum, unknown prefix).
Result<KeyType> PublicKeyType(std::string_view public_key);

// OK if `signature` (raw 64 bytes) is a valid signature of `message` by
// `public_key`; InvalidArgument for a malformed key, PermissionDenied for a
// wrong signature.
Status Verify(std::string_view public_key, std::string_view message, std::string_view signature);

}  // namespace sp
