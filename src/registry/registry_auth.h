// Answering a registry's 401 challenge: the Authorization header value to retry with, from the
// auth file's credentials and (for Bearer) a token service; and the cache of those answers.
//
// Bearer: GET <realm>?service=<service>&scope=repository:<repo>:pull, with HTTP Basic credentials
// when the auth file has a user and password for the registry, or POST an OAuth2 refresh-token
// grant when it has an identity token; the reply's "token" (or "access_token") is cached per
// registry and scope until "expires_in" (default 60 s) runs out. A token realm over plain HTTP is
// used only when its host[:port] is listed as insecure. Basic: the user and password, cached per
// registry. Failures are PermissionDenied saying what was tried and what to fix (a missing or
// refused credential, naming the user and the auth file, never the password), or Unavailable
// when the token service cannot be reached (the caller may retry). Internal to the registry
// module.
//
// Thread-safe: the cache is guarded by a mutex; the auth file is re-read when credentials are
// needed, so a login after start-up is picked up.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry/auth_file.h"
#include "registry/challenge.h"
#include "registry/http_transport.h"
#include "util/status.h"

namespace sp::registry_internal {

// Where a request goes, as the authenticator needs to know it.
struct AuthScope {
  std::string registry;    // as the user wrote it ("docker.io", "127.0.0.1:5000"): auth file key
  std::string repository;  // "library/busybox"; empty for registry-wide requests (ping)
  std::string Scope() const { return repository.empty() ? "" : "repository:" + repository + ":pull"; }
};

// An Authorization header value and, for error messages, how it was obtained.
struct Authorization {
  std::string header;  // "Bearer ...", "Basic ..."; empty = anonymous
  std::string how;     // "a bearer token from https://auth.example.com/token as user \"bob\""
};

class Authenticator {
 public:
  // `is_insecure` says whether a host[:port] may be spoken to over plain HTTP.
  Authenticator(HttpTransport& http, std::string auth_file,
                std::function<bool(const std::string&)> is_insecure);

  // A cached answer for this scope (empty header when there is none).
  Authorization Cached(const AuthScope& scope);
  // Drops the cached answer (it was refused).
  void Forget(const AuthScope& scope);
  // Answers the challenges of a 401 (all WWW-Authenticate values) and caches the answer.
  Result<Authorization> Answer(const AuthScope& scope, const std::vector<std::string>& www_authenticate);

  // "credentials for <registry> from auth file F" or why there are none, for error messages.
  std::string DescribeCredentialSource(const AuthScope& scope);

 private:
  struct CachedEntry {
    Authorization auth;
    std::chrono::steady_clock::time_point expires;
  };
  Result<std::optional<RegistryCredentials>> Credentials(const AuthScope& scope);
  Result<Authorization> AnswerBasic(const AuthScope& scope);
  Result<Authorization> AnswerBearer(const AuthScope& scope, const AuthChallenge& challenge);
  Result<HttpRequest> TokenRequest(const AuthScope& scope, const AuthChallenge& challenge,
                                   const std::optional<RegistryCredentials>& creds, std::string* realm_shown);
  void Store(const std::string& key, Authorization auth, std::chrono::seconds ttl);

  HttpTransport& http_;
  const std::string auth_file_;
  const std::function<bool(const std::string&)> is_insecure_;
  std::mutex mu_;
  std::map<std::string, CachedEntry> cache_;  // GUARDED_BY(mu_); key: registry + " " + scope
};

// The text of a registry error reply ({"errors":[{"code":..,"message":..}]}), else "HTTP <status>"
// with the start of a plain-text body. Control characters removed, at most ~300 characters.
std::string RegistryErrorText(const HttpResponse& response);

}  // namespace sp::registry_internal
