// Registry credentials from a Docker/Podman style auth file (`auth.json`, `~/.docker/config.json`).
//
// The file maps registries to credentials:
//   {"auths": {"registry.example.com:5000": {"auth": "<base64 of user:password>"},
//              "https://index.docker.io/v1/": {"username": "u", "password": "p"},
//              "ghcr.io": {"identitytoken": "<OAuth2 refresh token>"},
//              "quay.io/team": {"auth": "..."}}}
// Keys may be "host[:port]", a URL ("https://host/v1/": scheme and path are ignored), or
// "host/namespace[/repo]" (Podman: credentials for part of a registry; the longest match wins).
// docker.io, index.docker.io and registry-1.docker.io are the same registry. Credential helpers
// ("credsStore", "credHelpers") are not supported; entries without credentials are ignored.
//
// Credentials are secrets: nothing here logs them or puts them in an error message. An AuthFile is
// an immutable value once loaded: thread-safe to share.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

struct RegistryCredentials {
  std::string username, password;
  std::string identity_token;  // OAuth2 refresh token, used instead of the password when set
};

class AuthFile {
 public:
  AuthFile() = default;
  // The credentials for a registry ("127.0.0.1:5000", "docker.io" or its host
  // "registry-1.docker.io"), preferring an entry for `repository` or one of its namespaces.
  std::optional<RegistryCredentials> For(std::string_view registry_host,
                                         std::string_view repository = {}) const;
  const std::string& path() const { return path_; }
  bool empty() const { return entries_.empty(); }

  // Parses the file's content; `path` names it in errors.
  static Result<AuthFile> Parse(std::string_view content, const std::string& path);

 private:
  std::string path_;
  std::map<std::string, RegistryCredentials> entries_;  // normalised key -> credentials
};

// NotFound when the file does not exist; InvalidArgument naming the path when it is malformed.
Result<AuthFile> LoadAuthFile(const std::string& path);

// "docker.io" for every name of Docker Hub; other names lower-cased and stripped of a scheme and,
// for URLs, of the path.
std::string NormalizeRegistryKey(std::string_view key);

}  // namespace sp
