// .creds parsing: find the line after each BEGIN marker, check the END marker
// follows, then validate the contents cryptographically.
#include "auth/creds.h"

#include <sodium.h>

#include <vector>

#include "auth/jwt.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr size_t kMaxCredsSize = 1 << 20;

std::string_view TrimLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return line;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(TrimLine(text.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

// The single line between "-----BEGIN <label>-----" and "------END <label>------".
Result<std::string> Block(const std::vector<std::string_view>& lines, std::string_view label) {
  const std::string begin = "BEGIN " + std::string(label);
  const std::string end = "END " + std::string(label);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].starts_with("---") || lines[i].find(begin) == std::string_view::npos) continue;
    if (i + 2 >= lines.size() || lines[i + 1].empty() || !lines[i + 2].starts_with("---") ||
        lines[i + 2].find(end) == std::string_view::npos)
      return Err(Status::InvalidArgument("creds: " + std::string(label) +
                                         " block is not one line followed by the END line"));
    return std::string(lines[i + 1]);
  }
  return Err(Status::InvalidArgument("creds: no \"" + begin + "\" block"));
}

// The user key pair of the seed block in `lines`; errors name the path, never the seed.
Result<KeyPair> UserKey(const std::vector<std::string_view>& lines, const std::string& path) {
  auto seed = Block(lines, "USER NKEY SEED");
  if (!seed) return Err(seed.error().Annotate(path));
  auto key = KeyPair::FromSeed(*seed);
  sodium_memzero(seed->data(), seed->size());
  if (!key) return Err(key.error().Annotate(path));
  if (key->type() != KeyType::kUser)
    return Err(Status::InvalidArgument(path + ": the seed is an " + std::string(KeyTypeName(key->type())) +
                                       " seed, expected a user seed (SU...)"));
  return key;
}

}  // namespace

std::string FormatCreds(std::string_view jwt, std::string_view seed) {
  std::string out;
  out += "-----BEGIN NATS USER JWT-----\n";
  out += jwt;
  out += "\n------END NATS USER JWT------\n\n";
  out += "************************* IMPORTANT *************************\n";
  out += "NKEY Seed printed below can be used to sign and prove identity.\n";
  out += "NKEYs are sensitive and should be treated as secrets.\n\n";
  out += "-----BEGIN USER NKEY SEED-----\n";
  out += seed;
  out += "\n------END USER NKEY SEED------\n\n";
  out += "*************************************************************\n";
  return out;
}

Result<Creds> ParseCreds(std::string_view text) {
  if (text.size() > kMaxCredsSize) return Err(Status::InvalidArgument("creds: larger than 1 MiB"));
  auto lines = SplitLines(text);
  SP_ASSIGN_OR_RETURN(std::string jwt, Block(lines, "NATS USER JWT"));
  SP_ASSIGN_OR_RETURN(std::string seed, Block(lines, "USER NKEY SEED"));
  auto key = KeyPair::FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  if (!key) return Err(key.error().Annotate("creds"));
  if (key->type() != KeyType::kUser)
    return Err(Status::InvalidArgument("creds: the seed is an " + std::string(KeyTypeName(key->type())) +
                                       " seed, expected a user seed (SU...)"));
  auto claims = DecodeAndVerify(jwt);
  if (!claims) return Err(claims.error().Annotate("creds"));
  if (JsonString(*claims, "sub") != key->PublicKey())
    return Err(
        Status::InvalidArgument("creds: the JWT's subject is not the seed's public key " + key->PublicKey()));
  return Creds{std::move(jwt), std::move(*key), std::move(*claims)};
}

Result<Creds> ReadCredsFile(const std::string& path) {
  auto text = ReadFileCapped(path, kMaxCredsSize);
  if (!text) return Err(text.error());
  auto creds = ParseCreds(*text);
  sodium_memzero(text->data(), text->size());
  if (!creds) return Err(creds.error().Annotate(path));
  return creds;
}

Status WriteCredsFile(const std::string& path, std::string_view jwt, std::string_view seed) {
  std::string text = FormatCreds(jwt, seed);
  Status written = WriteFileAtomic(path, text, 0600);
  sodium_memzero(text.data(), text.size());
  return written;
}

Status WriteSeedFile(const std::string& path, const KeyPair& key) {
  if (key.type() != KeyType::kUser)
    return Status::InvalidArgument("seed file " + path + ": expected a user key, got an " +
                                   std::string(KeyTypeName(key.type())) + " key");
  std::string text = "-----BEGIN USER NKEY SEED-----\n" + key.Seed() +
                     "\n------END USER NKEY SEED------\n\n"
                     "NKEY seed of a Spawnpoint entity (" +
                     key.PublicKey() + "). It proves the entity's identity: keep it secret.\n";
  Status written = WriteFileAtomic(path, text, 0600);
  sodium_memzero(text.data(), text.size());
  return written;
}

Result<KeyPair> ReadSeedFile(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, kMaxCredsSize));
  auto key = UserKey(SplitLines(text), path);
  sodium_memzero(text.data(), text.size());
  return key;
}

Result<ClientCreds> ReadClientCreds(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, kMaxCredsSize));
  auto lines = SplitLines(text);
  auto jwt = Block(lines, "NATS USER JWT");
  auto key = UserKey(lines, path);
  sodium_memzero(text.data(), text.size());
  if (!jwt) return Err(jwt.error().Annotate(path));
  if (!key) return Err(key.error());
  return ClientCreds{std::move(*jwt), std::move(*key)};
}

}  // namespace sp
