// Docker/Podman auth files (see auth_file.h).
#include "registry/auth_file.h"

#include <cctype>

#include "registry/json_fields.h"
#include "util/base64.h"
#include "util/fs.h"

namespace sp {
namespace {

using registry_internal::Json;

constexpr size_t kMaxAuthFileBytes = 1 << 20;
constexpr size_t kMaxSecretBytes = 16 << 10;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Decodes the "auth" field, base64 of "user:password" (padding optional, as some tools drop it).
Result<RegistryCredentials> DecodeAuthField(std::string_view encoded, const std::string& where) {
  std::string padded(encoded);
  while (padded.size() % 4 != 0) padded += '=';
  auto decoded = DecodeBase64(padded);
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (!decoded || colon == std::string::npos)
    return Err(Status::InvalidArgument(where + ".auth: expected base64 of \"user:password\""));
  RegistryCredentials c;
  c.username = decoded->substr(0, colon);
  c.password = decoded->substr(colon + 1);
  return c;
}

// One entry of "auths"; nullopt when it holds no credentials (e.g. a credential-helper placeholder).
Result<std::optional<RegistryCredentials>> ParseEntry(const Json& entry, const std::string& where) {
  if (!entry.is_object())
    return Err(Status::InvalidArgument(where + ": expected an object, got " +
                                       std::string(registry_internal::JsonTypeName(entry))));
  SP_ASSIGN_OR_RETURN(std::string auth, registry_internal::ReadString(entry, "auth", where + ".auth"));
  SP_ASSIGN_OR_RETURN(std::string username,
                      registry_internal::ReadString(entry, "username", where + ".username"));
  SP_ASSIGN_OR_RETURN(std::string password,
                      registry_internal::ReadString(entry, "password", where + ".password"));
  SP_ASSIGN_OR_RETURN(std::string token,
                      registry_internal::ReadString(entry, "identitytoken", where + ".identitytoken"));
  if (auth.size() > kMaxSecretBytes || password.size() > kMaxSecretBytes || token.size() > kMaxSecretBytes)
    return Err(Status::InvalidArgument(where + ": credentials longer than " +
                                       std::to_string(kMaxSecretBytes) + " bytes"));
  RegistryCredentials c;
  if (!auth.empty()) {
    SP_ASSIGN_OR_RETURN(c, DecodeAuthField(auth, where));
  } else {
    c.username = std::move(username);
    c.password = std::move(password);
  }
  c.identity_token = std::move(token);
  if (c.username.empty() && c.password.empty() && c.identity_token.empty()) return std::nullopt;
  return std::optional<RegistryCredentials>(std::move(c));
}

}  // namespace

std::string NormalizeRegistryKey(std::string_view key) {
  bool url = false;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (Lower(key.substr(0, scheme.size())) == scheme) {
      key.remove_prefix(scheme.size());
      url = true;
    }
  }
  size_t slash = key.find('/');
  std::string host = Lower(key.substr(0, slash));
  std::string rest = slash == std::string_view::npos || url ? "" : std::string(key.substr(slash));
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
  return host + rest;
}

Result<AuthFile> AuthFile::Parse(std::string_view content, const std::string& path) {
  std::string what = "auth file " + path;
  SP_ASSIGN_OR_RETURN(Json doc, registry_internal::ParseJson(content, kMaxAuthFileBytes, what));
  if (!doc.is_object()) return Err(Status::InvalidArgument(what + ": expected a JSON object"));
  SP_ASSIGN_OR_RETURN(const Json* auths, registry_internal::ReadObject(doc, "auths", what + ": auths"));
  AuthFile file;
  file.path_ = path;
  if (!auths) return file;
  for (const auto& [key, entry] : auths->items()) {
    std::string where = what + ": auths[\"" + key.substr(0, 200) + "\"]";
    SP_ASSIGN_OR_RETURN(std::optional<RegistryCredentials> creds, ParseEntry(entry, where));
    std::string normalized = NormalizeRegistryKey(key);
    if (creds && !normalized.empty()) file.entries_[normalized] = std::move(*creds);
  }
  return file;
}

std::optional<RegistryCredentials> AuthFile::For(std::string_view registry_host,
                                                 std::string_view repository) const {
  std::string key = NormalizeRegistryKey(registry_host);
  if (!repository.empty()) key += "/" + std::string(repository);
  for (;;) {
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    size_t slash = key.rfind('/');
    if (slash == std::string::npos) return std::nullopt;
    key.resize(slash);
  }
}

Result<AuthFile> LoadAuthFile(const std::string& path) {
  auto content = ReadFileCapped(path, kMaxAuthFileBytes);
  if (!content) {
    if (content.error().code() == Code::kNotFound)
      return Err(Status::NotFound("auth file " + path + " does not exist"));
    return Err(content.error().Annotate("auth file"));
  }
  return AuthFile::Parse(*content, path);
}

}  // namespace sp
