// NKey encoding over libsodium's Ed25519.
#include "auth/nkeys.h"

#include <sodium.h>

#include <cstdint>

#include "auth/base32.h"
#include "auth/crc16.h"

namespace sp {
namespace {

constexpr unsigned char kSeedPrefix = 18 << 3;  // 'S'

unsigned char PrefixByte(KeyType type) {
  switch (type) {
    case KeyType::kOperator:
      return 14 << 3;  // 'O'
    case KeyType::kAccount:
      return 0;  // 'A'
    case KeyType::kUser:
      return 20 << 3;  // 'U'
    case KeyType::kServer:
      return 13 << 3;  // 'N'
  }
  SP_CHECK(false);
}

Result<KeyType> TypeFromPrefix(unsigned char prefix) {
  for (KeyType t : {KeyType::kOperator, KeyType::kAccount, KeyType::kUser, KeyType::kServer}) {
    if (PrefixByte(t) == prefix) return t;
  }
  return Err(Status::InvalidArgument("nkey: unknown key type prefix"));
}

// libsodium must be initialised once before use; a function-local static
// makes that thread-safe.
void EnsureSodium() {
  static const int rc = sodium_init();
  SP_CHECK(rc >= 0);
}

// Appends the CRC16 (little-endian) and encodes.
std::string EncodeWithCrc(std::string raw) {
  uint16_t crc = Crc16Xmodem(raw);
  raw.push_back(static_cast<char>(crc & 0xff));
  raw.push_back(static_cast<char>(crc >> 8));
  std::string out = Base32Encode(raw);
  sodium_memzero(raw.data(), raw.size());
  return out;
}

// Decodes base32 and checks and strips the CRC16. `what` names the input in
// messages ("public key", "seed") without echoing secrets.
Result<std::string> DecodeWithCrc(std::string_view text, size_t expected_size, std::string_view what) {
  auto raw = Base32Decode(text);
  if (!raw) return Err(raw.error().Annotate("nkey " + std::string(what)));
  if (raw->size() != expected_size) {
    sodium_memzero(raw->data(), raw->size());
    return Err(Status::InvalidArgument("nkey " + std::string(what) + ": wrong length"));
  }
  uint16_t stored = static_cast<uint16_t>(static_cast<unsigned char>((*raw)[expected_size - 2]) |
                                          static_cast<unsigned char>((*raw)[expected_size - 1]) << 8);
  raw->resize(expected_size - 2);
  if (Crc16Xmodem(*raw) != stored) {
    sodium_memzero(raw->data(), raw->size());
    return Err(Status::InvalidArgument("nkey " + std::string(what) +
                                       ": checksum mismatch (mistyped or damaged key)"));
  }
  return raw;
}

// Returns the 32 raw Ed25519 public key bytes and the key's type.
Result<std::pair<KeyType, std::string>> DecodePublic(std::string_view public_key) {
  SP_ASSIGN_OR_RETURN(std::string raw, DecodeWithCrc(public_key, 1 + 32 + 2, "public key"));
  SP_ASSIGN_OR_RETURN(KeyType type, TypeFromPrefix(static_cast<unsigned char>(raw[0])));
  return std::make_pair(type, raw.substr(1));
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kOperator:
      return "operator";
    case KeyType::kAccount:
      return "account";
    case KeyType::kUser:
      return "user";
    case KeyType::kServer:
      return "server";
  }
  return "unknown";
}

KeyPair::KeyPair(KeyType type, const unsigned char* seed) : type_(type) {
  std::copy(seed, seed + seed_.size(), seed_.begin());
  SP_CHECK(crypto_sign_seed_keypair(public_.data(), secret_.data(), seed_.data()) == 0);
}

KeyPair::~KeyPair() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(secret_.data(), secret_.size());
}

Result<KeyPair> KeyPair::Generate(KeyType type) {
  EnsureSodium();
  unsigned char seed[32];
  randombytes_buf(seed, sizeof seed);
  KeyPair kp(type, seed);
  sodium_memzero(seed, sizeof seed);
  return kp;
}

Result<KeyPair> KeyPair::FromSeed(std::string_view seed) {
  EnsureSodium();
  SP_ASSIGN_OR_RETURN(std::string raw, DecodeWithCrc(seed, 2 + 32 + 2, "seed"));
  auto b0 = static_cast<unsigned char>(raw[0]);
  auto b1 = static_cast<unsigned char>(raw[1]);
  if ((b0 & 0xf8) != kSeedPrefix || (b1 & 7) != 0) {
    sodium_memzero(raw.data(), raw.size());
    return Err(Status::InvalidArgument("nkey seed: not a seed (expected it to start with 'S')"));
  }
  auto type = TypeFromPrefix(static_cast<unsigned char>(((b0 & 7) << 5) | (b1 >> 3)));
  if (!type) {
    sodium_memzero(raw.data(), raw.size());
    return Err(type.error().Annotate("nkey seed"));
  }
  KeyPair kp(*type, reinterpret_cast<const unsigned char*>(raw.data()) + 2);
  sodium_memzero(raw.data(), raw.size());
  return kp;
}

std::string KeyPair::PublicKey() const {
  std::string raw(1, static_cast<char>(PrefixByte(type_)));
  raw.append(reinterpret_cast<const char*>(public_.data()), public_.size());
  return EncodeWithCrc(std::move(raw));
}

std::string KeyPair::Seed() const {
  unsigned char p = PrefixByte(type_);
  std::string raw;
  raw.reserve(36);
  raw.push_back(static_cast<char>(kSeedPrefix | (p >> 5)));
  raw.push_back(static_cast<char>((p & 31) << 3));
  raw.append(reinterpret_cast<const char*>(seed_.data()), seed_.size());
  return EncodeWithCrc(std::move(raw));
}

std::string KeyPair::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return sig;
}

Result<KeyType> PublicKeyType(std::string_view public_key) {
  SP_ASSIGN_OR_RETURN(auto decoded, DecodePublic(public_key));
  return decoded.first;
}

Status Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  EnsureSodium();
  SP_ASSIGN_OR_RETURN(auto decoded, DecodePublic(public_key));
  if (signature.size() != crypto_sign_BYTES)
    return Status::InvalidArgument("signature: expected " + std::to_string(crypto_sign_BYTES) +
                                   " bytes, got " + std::to_string(signature.size()));
  int rc = crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                       reinterpret_cast<const unsigned char*>(decoded.second.data()));
  if (rc != 0) return Status::PermissionDenied("signature does not match key " + std::string(public_key));
  return Status::Ok();
}

}  // namespace sp
