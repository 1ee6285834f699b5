// Content digests (see digest.h).
#include "registry/digest.h"

#include <fcntl.h>
#include <unistd.h>

namespace sp {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  if (text.substr(0, kSha256Prefix.size()) != kSha256Prefix) {
    size_t colon = text.find(':');
    if (colon != std::string_view::npos && colon > 0)
      return Err(Status::InvalidArgument("digest \"" + std::string(text.substr(0, 80)) + "\": algorithm \"" +
                                         std::string(text.substr(0, colon)) + "\" is not supported (only sha256)"));
    return Err(Status::InvalidArgument("\"" + std::string(text.substr(0, 80)) +
                                       "\" is not a digest (expected sha256:<64 hex digits>)"));
  }
  std::string_view hex = text.substr(kSha256Prefix.size());
  if (hex.size() != 64 || !IsLowerHex(hex))
    return Err(Status::InvalidArgument("digest \"" + std::string(text.substr(0, 80)) +
                                       "\": expected sha256: followed by 64 lowercase hex digits"));
  return Digest(std::string(text));
}

Sha256Hasher::Sha256Hasher() {
  (void)sodium_init();  // idempotent; the hash functions need no initialisation but keep it uniform
  crypto_hash_sha256_init(&state_);
}

void Sha256Hasher::Update(const void* data, size_t size) {
  crypto_hash_sha256_update(&state_, static_cast<const unsigned char*>(data), size);
}

Digest Sha256Hasher::Finish() {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state_, out);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(kSha256Prefix);
  for (unsigned char b : out) {
    text.push_back(kHex[b >> 4]);
    text.push_back(kHex[b & 15]);
  }
  return *Digest::Parse(text);
}

Digest DigestOf(std::string_view data) {
  Sha256Hasher h;
  h.Update(data);
  return h.Finish();
}

Result<Digest> DigestOfFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err(Status::FromErrno("open " + path, errno));
  Sha256Hasher h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Err(Status::FromErrno("read " + path, err));
    }
    if (n == 0) break;
    h.Update(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return h.Finish();
}

Status VerifyDigest(std::string_view data, const Digest& expected, std::string_view what) {
  Digest actual = DigestOf(data);
  if (actual == expected) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + ": content does not match its digest (expected " + expected.str() +
                          ", got " + actual.str() + ")");
}

}  // namespace sp
