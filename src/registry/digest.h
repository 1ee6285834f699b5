// Content digests: "sha256:<64 lowercase hex>" names, and incremental SHA-256 hashing.
//
// Every blob Spawnpoint takes from a registry, an OCI layout or an archive is named by a digest
// and checked against it before use. Only sha256 is supported (the algorithm every registry and
// tool produces); a digest with another algorithm is refused with a clear error rather than
// trusted unchecked. Hashing uses libsodium's SHA-256.
//
// Digest values are immutable and thread-safe. A Sha256Hasher is not thread-safe.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

class Digest {
 public:
  Digest() = default;
  // Parses "sha256:<64 lowercase hex>". InvalidArgument for anything else (other algorithms,
  // upper case, wrong length).
  static Result<Digest> Parse(std::string_view text);

  const std::string& str() const { return text_; }  // "sha256:..."
  std::string_view hex() const { return std::string_view(text_).substr(7); }
  std::string_view algorithm() const { return std::string_view(text_).substr(0, 6); }
  bool empty() const { return text_.empty(); }
  // The first 12 hex digits, as tools print them.
  std::string Short() const { return std::string(hex().substr(0, 12)); }

  friend bool operator==(const Digest& a, const Digest& b) { return a.text_ == b.text_; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.text_ < b.text_; }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

class Sha256Hasher {
 public:
  Sha256Hasher();
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // The digest of everything passed to Update. The hasher must not be used afterwards.
  Digest Finish();

 private:
  crypto_hash_sha256_state state_;
};

Digest DigestOf(std::string_view data);

// Hashes the file at `path`.
Result<Digest> DigestOfFile(const std::string& path);

// Ok if `data` hashes to `expected`; otherwise InvalidArgument naming `what`, the expected and the actual
// digest.
Status VerifyDigest(std::string_view data, const Digest& expected, std::string_view what);

}  // namespace sp
